"""What the release's comparison, its insert of new versions and dbt's work_mem cost, on the warehouse as it is
(after `make run`). Everything runs in a transaction that is rolled back, or on scratch tables; the dbt part
rebuilds the three biggest marts as a night would.

    .venv/bin/python -m bench.publish_release            # all three
    .venv/bin/python -m bench.publish_release --no-dbt   # the release only (seconds, not minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import time

MARTS = ("fct_indicator_values", "fct_published_values", "fct_indicator_absent_zeros")


def _seconds(conn, statement: str) -> float:
    started = time.perf_counter()
    conn.execute(statement)
    return time.perf_counter() - started


def release_steps() -> None:
    """The comparison of the candidates with the latest release, by merge join (the planner's choice) and by
    hash join (publish/versions.py); then inserting every open version again into a scratch copy of
    published.value_versions with its indexes, as a first release does, in the candidates' order and in key order."""
    import psycopg

    from publish.release import CANDIDATES
    from publish.versions import CONTENT_COLUMNS, KEY_COLUMNS, compare_with_latest
    from publish.withholding import build_candidates
    from warehouse.connection import owner_url

    keys = ", ".join(KEY_COLUMNS)
    with psycopg.connect(owner_url()) as conn:
        latest = conn.execute("select run_id from published.latest_release").fetchone()
        if latest is None:
            raise SystemExit("no release yet: run `make run` first")
        build_candidates(conn, latest[0], CANDIDATES)
        conn.execute("analyze release_candidates")
        for join in ("mergejoin", "hashjoin"):
            conn.execute(f"set local enable_{'hashjoin' if join == 'mergejoin' else 'mergejoin'} = off")
            conn.execute(f"set local enable_{join} = on")
            started = time.perf_counter()
            changed = _compare(conn) if join == "mergejoin" else compare_with_latest(conn)
            print(f"comparison by {join}: {time.perf_counter() - started:.1f} s ({changed:,} values changed)")
            conn.execute("reset enable_hashjoin; reset enable_mergejoin")
        # a first release: every candidate becomes a version, in the order the candidates come or in key order
        columns = ", ".join(KEY_COLUMNS + CONTENT_COLUMNS)
        count = conn.execute("select count(*) from release_candidates").fetchone()[0]
        for order in ("the candidates' order", "key order"):
            conn.execute("create temporary table scratch_versions (like published.value_versions) on commit drop")
            conn.execute(f"alter table scratch_versions add primary key ({keys}, first_release_seq)")
            conn.execute(f"create unique index on scratch_versions ({keys}) where last_release_seq is null")
            conn.execute("create index on scratch_versions (period, admin_level, province_code)")
            took = _seconds(conn, f"insert into scratch_versions ({columns}, first_release_seq)"
                                  f" select {columns}, 1 from release_candidates"
                                  + (f" order by {keys}" if order == "key order" else ""))
            print(f"insert of {count:,} versions in {order}: {took:.1f} s")
            conn.execute("drop table scratch_versions")
        conn.rollback()


def _compare(conn) -> int:
    """compare_with_latest's query as the planner would run it (without its hint)."""
    from publish.versions import CHANGES_TABLE, CONTENT_COLUMNS, KEY_COLUMNS, _listed

    keys = ", ".join(KEY_COLUMNS)
    conn.execute(f"drop table if exists {CHANGES_TABLE}")
    conn.execute(
        f"""create temporary table {CHANGES_TABLE} as
            select {keys} from release_candidates as c
              full join (select * from published.value_versions where last_release_seq is null) as o using ({keys})
             where ({_listed(CONTENT_COLUMNS, "c")}) is distinct from ({_listed(CONTENT_COLUMNS, "o")})""")
    return conn.execute(f"select count(*) from {CHANGES_TABLE}").fetchone()[0]


def dbt_work_mem(settings: tuple[str, ...]) -> None:
    """The three biggest marts and their data tests, one thread, at each work_mem (pipeline/dbt.py)."""
    from pipeline.dbt import DBT_PROJECT_DIR, run_dbt

    for work_mem in settings:
        os.environ["DBT_WORK_MEM"] = work_mem
        run_dbt("build", "-s", *MARTS, "--exclude", "test_type:unit", "--threads", "1", "--quiet")
        results = json.loads((DBT_PROJECT_DIR / "target" / "run_results.json").read_text())["results"]
        total = sum(r["execution_time"] for r in results)
        slowest = sorted(results, key=lambda r: -r["execution_time"])[:3]
        print(f"dbt marts with work_mem {work_mem}: {total:.1f} s ("
              + ", ".join(f"{r['unique_id'].split('.')[2]} {r['execution_time']:.1f} s" for r in slowest) + ")")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.publish_release", description=__doc__.splitlines()[0])
    parser.add_argument("--no-dbt", action="store_true", help="skip the dbt work_mem comparison")
    parser.add_argument("--work-mem", nargs="+", default=["4MB", "64MB"], help="work_mem settings for dbt")
    args = parser.parse_args(argv)
    release_steps()
    if not args.no_dbt:
        dbt_work_mem(tuple(args.work_mem))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
