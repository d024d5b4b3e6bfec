"""`python -m report [--period 2025-H1]` (make report): the workbooks, tidy CSV, SDMX and HTML report of a
published period in reports/<period>/, listed in reports/<period>/manifest.json.

Without --period: the latest half-year and year. Official values where the period is approved for a unit,
provisional values elsewhere. Reads `published` as the report_reader role. Exit 1 when the period is not
published."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--period", action="append", default=[],
                        help="e.g. 2025-H1, 2025, 2025-R6 (repeat for several; default: latest half-year and year)")
    parser.add_argument("--out", type=Path, default=None, help="reports folder (default: REPORTS_DIR or ./reports)")
    args = parser.parse_args(argv)

    from report.data import PeriodNotPublished, latest_periods
    from report.render import render_period, reports_dir
    from warehouse.roles import role_url

    try:
        conn = psycopg.connect(role_url("report_reader"), autocommit=True)
    except psycopg.OperationalError as exc:
        print(f"error: cannot connect as the report_reader role ({str(exc).strip().splitlines()[-1]}); "
              "set the warehouse up first (make run)", file=sys.stderr)
        return 1
    with conn:
        periods = [p for arg in args.period for p in arg.split()] or latest_periods(conn)
        if not periods:
            print("error: nothing is published yet: run the nightly job first (make run)", file=sys.stderr)
            return 1
        for period in periods:
            try:
                rendered = render_period(conn, period, args.out or reports_dir(), force=True)  # asked for: always made
            except PeriodNotPublished as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            counts = ", ".join(f"{n} {kind}" for kind, n in sorted(rendered.counts().items()))
            print(f"{period}: release {rendered.release_id} → {rendered.folder}/ ({counts}; "
                  f"{rendered.seconds:.1f} s); manifest: {rendered.folder / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
