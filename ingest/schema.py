"""Raw tables are derived from the feed specs, so a new feed needs no hand-written DDL."""

from __future__ import annotations

import psycopg
from psycopg import sql

from ingest.spec import BATCH_COLUMNS, BATCH_DEFAULTS, TRAILING_COLUMNS, FeedSpec


def raw_columns(spec: FeedSpec) -> list[tuple[str, str, str]]:
    own = [(column.name, column.sql_type, column.description) for column in spec.columns]
    return [*BATCH_COLUMNS, *own, *spec.derived_columns, *TRAILING_COLUMNS]


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
    for name, default in BATCH_DEFAULTS.items():
        conn.execute(sql.SQL("alter table {} alter column {} set default {}").format(
            table, sql.Identifier(name), sql.SQL(default)))
    conn.execute(sql.SQL("comment on table {} is {}").format(table, sql.Literal(spec.description)))
    for name, _, description in columns:
        conn.execute(sql.SQL("comment on column {}.{} is {}").format(
            table, sql.Identifier(name), sql.Literal(description)))
    # BRIN, not btree: batch ids only grow, so a block-range index finds a batch's rows at almost no
    # cost to COPY (a btree on raw halves the server's COPY speed; see bench/README.md).
    conn.execute(sql.SQL("create index if not exists {} on {} using brin (batch_id)").format(
        sql.Identifier(f"{spec.name}_batch_brin"), table))


def ensure_raw_tables(conn: psycopg.Connection) -> None:
    """The raw table of every registered feed."""
    from ingest.feeds import FEEDS  # registers every feed

    for spec in FEEDS:
        ensure_raw_table(conn, spec)


def setup_warehouse(conn: psycopg.Connection | None = None) -> None:
    """Everything a load needs in place: the warehouse's schemas, the raw tables of every feed, the roles and
    grants. Run once before loading (the DAG's bootstrap task, the CLIs); loads themselves do no DDL."""
    from warehouse.schema import bootstrap

    bootstrap(conn, extra_ddl=ingest_ddl())


def ingest_ddl() -> tuple:
    """What ingest adds to the warehouse's bootstrap: the raw tables, then the views over them."""
    from ingest.cleanup import ensure_cleanup_views

    return (ensure_raw_tables, ensure_cleanup_views)
