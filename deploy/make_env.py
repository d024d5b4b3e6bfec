"""Write the `.env` of docker-compose.yml: every required secret of deploy/env.example, generated.

    python3 deploy/make_env.py                      # writes .env beside docker-compose.yml (mode 600)
    python3 deploy/make_env.py --pseudonymisation-key-file .warehouse/pseudonymisation.key
    python3 deploy/make_env.py --output - > elsewhere.env

Standard library only (runs with any Python 3.8+, no project install). Refuses to overwrite an existing
file: regenerating would change the keys of a running deployment (the Fernet key, the pseudonymisation key).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import sys
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent
TEMPLATE = DEPLOY_DIR / "env.example"
DEFAULT_OUTPUT = DEPLOY_DIR.parent / ".env"
REQUIRED = re.compile(r"^([A-Z][A-Z0-9_]*)=\s*$")  # a required setting: an uncommented line with no value


def generate(name: str) -> str:
    """A new value for the setting `name`: URL-safe, since passwords are placed inside connection URLs."""
    if name == "AIRFLOW_FERNET_KEY":
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
    if name == "PSEUDONYMISATION_KEY":
        return secrets.token_hex(32)
    return secrets.token_urlsafe(32)


def required_names(template: str) -> list[str]:
    return [match.group(1) for line in template.splitlines() if (match := REQUIRED.match(line))]


def render(template: str, given: dict[str, str] | None = None) -> str:
    """The template with every required setting filled: from `given`, else generated."""
    given = given or {}
    lines = []
    for line in template.splitlines():
        match = REQUIRED.match(line)
        if match:
            name = match.group(1)
            line = f"{name}={given.get(name) or generate(name)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="file to write, or - for stdout")
    parser.add_argument("--pseudonymisation-key-file", type=Path,
                        help="keep this key (e.g. .warehouse/pseudonymisation.key of a `make run` warehouse)")
    args = parser.parse_args(argv)
    given = {}
    if args.pseudonymisation_key_file:
        key = args.pseudonymisation_key_file.read_text(encoding="utf-8").strip()
        if len(key) < 32:
            parser.error(f"{args.pseudonymisation_key_file}: a pseudonymisation key has at least 32 characters")
        given["PSEUDONYMISATION_KEY"] = key
    text = render(TEMPLATE.read_text(encoding="utf-8"), given)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    output = Path(args.output)
    if output.exists():
        print(f"{output} exists: not overwritten (its keys may be in use). Move it away to make a new one.",
              file=sys.stderr)
        return 1
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    names = ", ".join(required_names(TEMPLATE.read_text(encoding="utf-8")))
    print(f"wrote {output} (mode 600) with {names}. Keep a backup of AIRFLOW_FERNET_KEY and PSEUDONYMISATION_KEY.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
