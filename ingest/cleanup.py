"""The child register's clean-up list and the quarantine counts the data-quality mart reads (sql/
register_cleanup.sql). They read the raw register's ID columns, so they are made after the raw tables."""

from __future__ import annotations

from pathlib import Path

import psycopg

CLEANUP_SQL = Path(__file__).resolve().parent / "sql" / "register_cleanup.sql"


def ensure_cleanup_views(conn: psycopg.Connection) -> None:
    conn.execute(CLEANUP_SQL.read_text(encoding="utf-8"))
