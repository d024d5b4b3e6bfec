"""Where the raw checks spend their time: every raw suite on the warehouse as it is (after `make run`), each SQL
statement GX sends timed through a SQLAlchemy event hook and grouped by kind. Read-only apart from the suite runs
it records in audit (run id `bench-raw-gate-...`).

    .venv/bin/python -m bench.raw_gate            # every raw suite, whole tables
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict


def _kind(statement: str) -> str:
    text = statement.lstrip()
    if text.startswith("SELECT COUNT(*) as unexpected_row_count"):
        return "custom SQL checks: count"
    if text.startswith("SELECT sum("):
        return "column checks (one bundled scan per suite)"
    return "other (failing rows of failed checks, row counts, catalogue)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.raw_gate", description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", help="raw suites (default: all)")
    args = parser.parse_args(argv)

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from pipeline.steps import RAW_SUITES
    from quality.run import run_suites

    seconds: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001 - SQLAlchemy's signature
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        seconds[_kind(statement)] += time.perf_counter() - conn.info.pop("bench_started")
        counts[_kind(statement)] += 1

    suites = args.suites or list(RAW_SUITES.values())
    started = time.perf_counter()
    outcome = run_suites(suites, run_id=f"bench-raw-gate-{time.strftime('%Y%m%dT%H%M%S')}")
    wall = time.perf_counter() - started
    print(f"{len(suites)} raw suite(s) in {wall:.1f} s wall; SQL {sum(seconds.values()):.1f} s")
    for kind in sorted(seconds, key=seconds.get, reverse=True):
        print(f"  {kind}: {seconds[kind]:.1f} s in {counts[kind]} statement(s)")
    for suite in outcome.suites:
        print(f"  {suite.suite}: {suite.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
