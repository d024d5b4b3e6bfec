"""Create the loader-owned schemas and tables, and the database roles with their grants (idempotent; see
warehouse/roles.py). dbt owns staging, intermediate and marts."""

from __future__ import annotations

from pathlib import Path

import psycopg

from warehouse.connection import connect

SQL_DIR = Path(__file__).resolve().parent / "sql"


def bootstrap(conn: psycopg.Connection | None = None) -> None:
    own = conn is None
    conn = conn or connect(autocommit=True)
    try:
        # Serialise concurrent first runs (parallel ingest tasks) on one advisory lock.
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext('child-stats-bootstrap'))")
            for script in sorted(SQL_DIR.glob("*.sql")):
                conn.execute(script.read_text())
            from ingest.feeds import FEEDS  # registers every feed
            from ingest.schema import ensure_raw_table

            for spec in FEEDS:
                ensure_raw_table(conn, spec)
            from warehouse.roles import ensure_roles  # last: grants cover the tables made above

            ensure_roles(conn)
    finally:
        if own:
            conn.close()
