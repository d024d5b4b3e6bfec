"""Checks whose inputs did not change keep their results: an incremental night carries them instead of running
them again (pipeline/incremental.py says what the inputs are).

- A suite run is recorded with the fingerprint of its inputs (audit.quality_runs.input_fingerprint). A later
  pipeline run whose suite has the same fingerprint copies that run and its results under its own run id,
  with `carried_from` naming the run whose results they are; the gate and the release read them like any other.
- The dbt data tests of a build that selected only some models: the tests the build did not run keep their
  latest recorded result (`carried_tests`), if they still exist in the project.
"""

from __future__ import annotations

import psycopg

from quality.results import CheckResult

RESULT_COLUMNS = ("suite, expectation, expectation_type, severity, success, pinned, admin_code, period, observed, "
                  "failing_rows, message")


def run_with_inputs(conn: psycopg.Connection, suite: str, fingerprint: str) -> int | None:
    """The latest run of the suite that checked exactly these inputs, if any."""
    row = conn.execute(
        """select quality_run_id from audit.quality_runs
            where suite = %s and input_fingerprint = %s order by quality_run_id desc limit 1""",
        (suite, fingerprint)).fetchone()
    return None if row is None else row[0]


def carry_suite_run(conn: psycopg.Connection, run_id: str, source_run: int) -> int:
    """Copy a suite run and its results to `run_id` (one transaction, like a suite run that ran)."""
    with conn.transaction():
        (quality_run_id,) = conn.execute(
            """insert into audit.quality_runs (run_id, suite, started_at, finished_at, success, error_failures,
                                               blocking_failures, warning_failures, input_fingerprint, carried_from,
                                               input_cells, cells_context, checked_cells)
               select %s, suite, clock_timestamp(), clock_timestamp(), success, error_failures, blocking_failures,
                      warning_failures, input_fingerprint, coalesce(carried_from, quality_run_id),
                      input_cells, cells_context, checked_cells
                 from audit.quality_runs where quality_run_id = %s
               returning quality_run_id""", (run_id, source_run)).fetchone()
        conn.execute(
            f"""insert into audit.quality_results (quality_run_id, run_id, {RESULT_COLUMNS})
                select %s, %s, {RESULT_COLUMNS} from audit.quality_results
                 where quality_run_id = %s order by quality_result_id""", (quality_run_id, run_id, source_run))
    return quality_run_id


def carry_latest_run(conn: psycopg.Connection, run_id: str, suite: str) -> int | None:
    """Carry the suite's latest run to `run_id` (a night whose build had nothing to rebuild: the dbt data tests
    keep their results); None when the suite never ran."""
    latest = conn.execute(
        "select quality_run_id from audit.quality_runs where suite = %s order by quality_run_id desc limit 1",
        (suite,)).fetchone()
    return None if latest is None else carry_suite_run(conn, run_id, latest[0])


def carried_tests(conn: psycopg.Connection, suite: str, ran: set[str], existing: set[str]) -> list[CheckResult]:
    """The data tests a partial build did not run, with their latest recorded results: those of the latest run
    of the suite, for every test that still exists in the project and was not run now."""
    from quality.run import recorded_run  # quality.run imports this module

    latest = conn.execute(
        "select quality_run_id from audit.quality_runs where suite = %s order by quality_run_id desc limit 1",
        (suite,)).fetchone()
    if latest is None:
        return []
    checks = recorded_run(conn, latest[0])
    return [check for check in checks
            if (test := (check.observed or {}).get("dbt_test")) and test not in ran and test in existing]
