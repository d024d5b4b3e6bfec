"""Values are stored once per version (published.value_versions), not copied into every release.

A release compares its candidates with the latest release's values (the open versions) in one pass, key by
key. A value that is new or differs gets a new version opened at the new release; a value that differs or is
gone has its version closed at the latest release. Values that did not change carry over untouched, so a
night that changes one province writes that province's values only. `published.release_values` shows every
release's values as before (warehouse/sql/003_publish.sql)."""

from __future__ import annotations

import psycopg

from publish.withholding import CANDIDATES_TABLE

KEY_COLUMNS = ("indicator_id", "period", "admin_level", "admin_code", "sex", "age_group", "ethnicity", "category")
CONTENT_COLUMNS = ("period_type", "admin_name", "numerator", "denominator", "value", "unit", "suppression",
                   "withheld", "province_code")
CHANGES_TABLE = "release_changes"


def _listed(columns: tuple[str, ...], alias: str) -> str:
    return ", ".join(f"{alias}.{column}" for column in columns)


def compare_with_latest(conn: psycopg.Connection) -> int:
    """Fill the temporary table of changes (dropped at commit) and return how many values changed: new, changed
    or gone. Every column but the key counts (a renamed unit or a new suppression reason is a new version)."""
    keys = ", ".join(KEY_COLUMNS)
    conn.execute(f"drop table if exists {CHANGES_TABLE}")
    # A hash join: the planner prefers merging along the index, which sorts the candidates on eight text
    # columns first (13.9 s against 7.3 s for 2.6 M values on the 1 % sample: python -m bench.publish_release).
    conn.execute("set local enable_mergejoin = off")
    conn.execute(
        f"""create temporary table {CHANGES_TABLE} on commit drop as
            select {keys},
                   c.indicator_id is not null as opens,   -- a version to add (new or changed value)
                   o.indicator_id is not null as closes,  -- the latest release's version it replaces or drops
                   {_listed(CONTENT_COLUMNS, "c")}
              from {CANDIDATES_TABLE} as c
              full join (select * from published.value_versions where last_release_seq is null) as o
                using ({keys})
             where ({_listed(CONTENT_COLUMNS, "c")}) is distinct from ({_listed(CONTENT_COLUMNS, "o")})""")
    conn.execute("set local enable_mergejoin = on")
    return conn.execute(f"select count(*) from {CHANGES_TABLE}").fetchone()[0]


def apply_changes(conn: psycopg.Connection, latest_seq: int | None, new_seq: int) -> None:
    """Close the replaced versions at the latest release and open the new ones at the new release."""
    if latest_seq is not None:
        matches = " and ".join(f"v.{column} = ch.{column}" for column in KEY_COLUMNS)
        conn.execute(
            f"""update published.value_versions as v set last_release_seq = %s
                  from {CHANGES_TABLE} as ch
                 where ch.closes and v.last_release_seq is null and {matches}""",
            (latest_seq,))
    columns = ", ".join(KEY_COLUMNS + CONTENT_COLUMNS)
    # in key order: the key's two indexes then fill page by page (52.7 s → 25.5 s for a first release of 2.6 M
    # values on the 1 % sample: python -m bench.publish_release)
    conn.execute(
        f"""insert into published.value_versions ({columns}, first_release_seq)
            select {columns}, %s from {CHANGES_TABLE} where opens order by {", ".join(KEY_COLUMNS)}""",
        (new_seq,))
