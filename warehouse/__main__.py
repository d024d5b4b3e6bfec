"""`python -m warehouse start|stop|url|psql|bootstrap` — manage the project's embedded PostgreSQL.

`url --role report_reader|analyst|approver|loader` prints a URL for that least-privilege role (with its password,
see warehouse/roles.py), after bootstrapping so the role and its grants exist in the warehouse."""

from __future__ import annotations

import argparse
import os
import sys

from warehouse import embedded
from warehouse.connection import warehouse_url
from warehouse.roles import ROLES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "url", "psql", "bootstrap"])
    parser.add_argument("--role", choices=ROLES, help="with url: connect as this role instead of the owner")
    args, rest = parser.parse_known_args(argv)
    if args.command == "stop":
        embedded.stop()
    elif args.command == "url" and args.role:
        from warehouse.roles import role_url
        from warehouse.schema import bootstrap

        bootstrap()
        print(role_url(args.role))
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
