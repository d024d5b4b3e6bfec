"""`python -m warehouse start|stop|url|psql` — manage the project's embedded PostgreSQL."""

from __future__ import annotations

import argparse
import os
import sys

from warehouse import embedded
from warehouse.connection import warehouse_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "url", "psql", "bootstrap"])
    args, rest = parser.parse_known_args(argv)
    if args.command == "stop":
        embedded.stop()
    elif args.command in ("start", "url"):
        print(warehouse_url())
    elif args.command == "bootstrap":
        from warehouse.schema import bootstrap

        bootstrap()
        print("warehouse schemas are in place")
    elif args.command == "psql":
        os.execv(str(embedded.psql_path()), ["psql", warehouse_url(), *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main())
