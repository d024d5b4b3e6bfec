"""`python -m quality SUITE [SUITE ...] [--run-id ID]` — run data-quality suites; exit 1 when an
error-level check failed that cannot be pinned to values (publication is blocked), 0 otherwise: warnings
and error-level failures pinned to values (the release will withhold those values) are printed."""

from __future__ import annotations

import argparse
import sys

from quality.suites import SuiteError, suite_names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quality", description=__doc__)
    parser.add_argument("suites", nargs="+", metavar="SUITE",
                        help=f"suites: {', '.join(suite_names())}, dbt_data_tests (the data tests of the latest dbt build)")
    parser.add_argument("--run-id", default=None, help="pipeline run id to record (default: a new one)")
    args = parser.parse_args(argv)

    from ingest.schema import setup_warehouse
    from quality.run import run_suites

    setup_warehouse()  # the audit tables the results go to, the raw tables the suites read
    try:
        outcome = run_suites(args.suites, run_id=args.run_id)
    except SuiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for message in outcome.messages:
        print(message)
    for suite in outcome.suites:
        print(f"{suite.suite}: {len(suite.checks)} checks, {suite.error_failures} error(s) "
              f"({suite.blocking_failures} blocking), "
              f"{suite.warning_failures} warning(s) failed in {suite.seconds:.1f} s "
              f"(audit.quality_runs {suite.quality_run_id}, run {suite.run_id})")
    if outcome.blocked:
        print("quality gate: BLOCKED (an error-level check failed that cannot be pinned to values)")
    elif outcome.withholding:
        print(f"quality gate: passed; {len(outcome.withholding)} error-level check(s) failed for named values, "
              "which the release will withhold (with what aggregates them)")
    else:
        print("quality gate: passed")
    from quality.docs import data_docs_index

    if index := data_docs_index():
        print(f"Data Docs: {index}")
    return 1 if outcome.blocked else 0


if __name__ == "__main__":
    sys.exit(main())
