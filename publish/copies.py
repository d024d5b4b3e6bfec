"""Published tables that are copies of a mart as it stands (not snapshotted per release): replaced at every
publish, in the publish transaction, with delete and insert (readers see the old rows until it commits)."""

from __future__ import annotations

import psycopg


def replace_published_copy(conn: psycopg.Connection, mart: str, table: str, columns: str) -> int | None:
    """Replace `table`'s rows with `mart`'s; returns the row count, or None (the published rows are left as
    they are) when dbt has not built the mart yet."""
    if conn.execute("select to_regclass(%s) is null", (mart,)).fetchone()[0]:
        return None
    conn.execute(f"delete from {table}")
    return conn.execute(f"insert into {table} ({columns}) select {columns} from {mart}").rowcount
