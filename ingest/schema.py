"""Raw tables are derived from the feed specs, so a new feed needs no hand-written DDL."""

from __future__ import annotations

import psycopg
from psycopg import sql

from ingest.spec import BATCH_COLUMNS, TRAILING_COLUMNS, FeedSpec


def raw_columns(spec: FeedSpec) -> list[tuple[str, str, str]]:
    own = [(column.name, column.sql_type, column.description) for column in spec.columns]
    return [*BATCH_COLUMNS, *own, *TRAILING_COLUMNS]


def ensure_raw_table(conn: psycopg.Connection, spec: FeedSpec) -> None:
    table = sql.Identifier("raw", spec.name)
    columns = raw_columns(spec)
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(sql_type)) for name, sql_type, _ in columns
    )
    conn.execute(sql.SQL("create table if not exists {} ({})").format(table, definition))
    for name, sql_type, _ in columns:  # feeds gain columns over time: add what is missing
        conn.execute(sql.SQL("alter table {} add column if not exists {} {}").format(
            table, sql.Identifier(name), sql.SQL(sql_type.replace(" not null", ""))))
    conn.execute(sql.SQL("comment on table {} is {}").format(table, sql.Literal(spec.description)))
    for name, _, description in columns:
        conn.execute(sql.SQL("comment on column {}.{} is {}").format(
            table, sql.Identifier(name), sql.Literal(description)))
    conn.execute(sql.SQL("create index if not exists {} on {} (batch_id)").format(
        sql.Identifier(f"{spec.name}_batch"), table))
    conn.execute(sql.SQL("create index if not exists {} on {} (province_code, admin_vintage, period_key)").format(
        sql.Identifier(f"{spec.name}_supersede_key"), table))
