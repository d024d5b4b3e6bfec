"""`python -m warehouse start|stop|url|psql|bootstrap` — manage the project's embedded PostgreSQL.

`url` prints the owner's URL, with its password (on purpose: that is what it is asked for). `url --role
report_reader|analyst|approver|loader|transformer` prints a URL for that least-privilege role (with its
password, see warehouse/roles.py). Neither runs any DDL on a warehouse that exists, so neither can wait on, or
deadlock with, a running load or reader: the role's password is set only when it differs from the
configured one (a catalog change, no table lock). A database never bootstrapped is bootstrapped first.

`bootstrap [--force]` applies the warehouse DDL if it changed (warehouse/schema.py); `--force` re-applies it."""

from __future__ import annotations

import argparse
import os
import sys

from warehouse import embedded
from warehouse.connection import owner_url
from warehouse.roles import ROLES


def _ensure_role(role: str) -> None:
    from warehouse.connection import connect
    from warehouse.roles import ensure_role_passwords
    from warehouse.schema import bootstrap, is_bootstrapped

    with connect(owner_url(), autocommit=True) as conn:
        if not is_bootstrapped(conn):
            bootstrap(conn)  # a new warehouse: nothing running to lock against
        elif ensure_role_passwords(conn, (role,)):
            raise SystemExit(f"role {role} does not exist in this warehouse yet: the next bootstrap creates it and "
                             "its grants (make run, or python -m warehouse bootstrap); url runs no DDL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "url", "psql", "bootstrap"])
    parser.add_argument("--role", choices=ROLES, help="with url: connect as this role instead of the owner")
    parser.add_argument("--force", action="store_true", help="with bootstrap: apply the DDL even if unchanged")
    args, rest = parser.parse_known_args(argv)
    if args.command == "stop":
        embedded.stop()
    elif args.command == "url" and args.role:
        from warehouse.roles import role_url

        _ensure_role(args.role)
        print(role_url(args.role))
    elif args.command == "url":
        print(owner_url())
    elif args.command == "start":
        from warehouse.connection import masked

        print(f"running: {masked(owner_url())}  (`make db-url` prints a URL with the password)")
    elif args.command == "bootstrap":
        from warehouse.schema import bootstrap

        changed = bootstrap(force=args.force)
        print("warehouse schemas are in place" + ("" if changed else " (unchanged: nothing to do)"))
    elif args.command == "psql":
        # the password through the environment, not the command line (which `ps` shows to every user)
        from urllib.parse import unquote, urlparse, urlunparse

        parsed = urlparse(owner_url())
        env = dict(os.environ)
        if parsed.password is not None:
            env["PGPASSWORD"] = unquote(parsed.password)
            userinfo, _, host = parsed.netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            parsed = parsed._replace(netloc=f"{user}@{host}" if user else host)
        os.execve(str(embedded.psql_path()), ["psql", urlunparse(parsed), *rest], env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
