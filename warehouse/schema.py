"""Create the loader-owned schemas and tables, and the database roles with their grants (idempotent; see
warehouse/roles.py). dbt owns staging, intermediate and marts; ingest owns the raw tables and passes their
DDL in (`extra_ddl`), since the warehouse knows nothing of the feeds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import psycopg

from warehouse.connection import connect

SQL_DIR = Path(__file__).resolve().parent / "sql"


def bootstrap(conn: psycopg.Connection | None = None,
              extra_ddl: Iterable[Callable[[psycopg.Connection], None]] = ()) -> None:
    own = conn is None
    conn = conn or connect(autocommit=True)
    try:
        # Serialise concurrent first runs (parallel ingest tasks) on one advisory lock.
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext('child-stats-bootstrap'))")
            for script in sorted(SQL_DIR.glob("*.sql")):
                conn.execute(script.read_text())
            for ddl in extra_ddl:
                ddl(conn)
            from warehouse.roles import ensure_roles  # last: grants cover the tables made above

            ensure_roles(conn)
    finally:
        if own:
            conn.close()
