"""Run suites against the warehouse, record the results, and say whether publication is blocked."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from quality.results import CheckResult
from quality.suites import load_suite

if TYPE_CHECKING:
    from quality.cells import SuiteCells

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    run_id: str
    quality_run_id: int
    started_at: datetime
    finished_at: datetime
    checks: tuple[CheckResult, ...]

    @property
    def error_failures(self) -> int:
        return sum(1 for check in self.checks if not check.success and check.severity == "error")

    @property
    def blocking_failures(self) -> int:
        """Error-level failures that cannot be pinned to values: each blocks the release."""
        return sum(1 for check in self.checks if not check.success and check.severity == "error" and not check.pinned)

    @property
    def warning_failures(self) -> int:
        return sum(1 for check in self.checks if not check.success and check.severity == "warning")

    @property
    def passed(self) -> bool:
        """No error-level check failed (warnings do not count)."""
        return self.error_failures == 0

    @property
    def blocks(self) -> bool:
        return self.blocking_failures > 0

    @property
    def messages(self) -> list[str]:
        return [message for check in self.checks for message in check.messages]

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class GateOutcome:
    run_id: str
    suites: tuple[SuiteOutcome, ...]

    @property
    def passed(self) -> bool:
        return all(suite.passed for suite in self.suites)

    @property
    def blocked(self) -> bool:
        """An error-level check failed that cannot be pinned to values: nothing may be published from this
        run. Pinned error-level failures do not block: the release withholds the values they name."""
        return any(suite.blocks for suite in self.suites)

    @property
    def withholding(self) -> list[CheckResult]:
        """Failed error-level checks pinned to values: the release withholds those values."""
        return [check for suite in self.suites for check in suite.checks
                if not check.success and check.severity == "error" and check.pinned]

    @property
    def messages(self) -> list[str]:
        return [message for suite in self.suites for message in suite.messages]

    def __getitem__(self, suite: str) -> SuiteOutcome:
        return next(outcome for outcome in self.suites if outcome.suite == suite)


def run_suite(suite_name: str, run_id: str | None = None) -> SuiteOutcome:
    return run_suites([suite_name], run_id=run_id).suites[0]


def run_suites(names: list[str], run_id: str | None = None, fingerprints: dict[str, str] | None = None,
               cells: dict[str, SuiteCells] | None = None) -> GateOutcome:
    """Validate each suite through a Great Expectations Checkpoint (one context for all of them), write every
    result to audit.quality_runs / audit.quality_results, update the Data Docs once at the end
    (quality.docs.data_docs_index() gives the page), and return the outcome. A suite that cannot run at all
    (its table missing) counts as a failed error-level check; a check that cannot be evaluated (a broken
    query, a missing catalogue table) fails at its own severity. The suite `dbt_data_tests` is the data tests
    of the latest `dbt build` (quality.dbt_tests), recorded the same way.

    `fingerprints` (suite → the fingerprint of what it checks, pipeline.incremental): a suite that already ran
    on the same inputs is not run again; its results are carried to this run (quality.carry)."""
    from quality.carry import carry_suite_run, run_with_inputs
    from quality.cells import cells_condition, merge, plan_cells, recorded_cells
    from quality.context import validator
    from quality.dbt_tests import DBT_SUITE
    from quality.record import record_suite_run
    from warehouse.connection import connect, sqlalchemy_url, warehouse_url

    names = list(dict.fromkeys(names))
    suites = [load_suite(name) for name in names if name != DBT_SUITE]  # a bad name fails before anything runs
    if not names:
        raise ValueError("no suite to run")
    run_id = run_id or datetime.now(UTC).strftime("quality__%Y-%m-%dT%H:%M:%S.%fZ")
    fingerprints = fingerprints or {}
    url = warehouse_url()
    outcomes = {}
    with connect(url, autocommit=True) as conn:
        if DBT_SUITE in names:
            outcomes[DBT_SUITE] = _run_dbt_suite(conn, run_id, record_suite_run)
        to_run = []
        for suite in suites:
            earlier = run_with_inputs(conn, suite.name, fingerprints[suite.name]) \
                if fingerprints.get(suite.name) else None
            if earlier is None:
                to_run.append(suite)
            else:
                carried = carry_suite_run(conn, run_id, earlier)
                outcomes[suite.name] = recorded_suite(conn, run_id, suite.name)
                log.info("%s: inputs unchanged since quality run %s; its results are carried (quality run %s)",
                         suite.name, earlier, carried)
        if to_run:
            with validator(sqlalchemy_url(url)) as gx_validator:
                for suite in to_run:
                    started_at = datetime.now(UTC)
                    inputs = (cells or {}).get(suite.name)
                    plan = plan_cells(conn, suite, inputs) if inputs is not None else None
                    try:
                        if plan is None or plan.whole_table:
                            checks = gx_validator.validate(suite, run_id)
                        else:
                            log.info("%s: %s; checking those only", suite.name, plan.reason)
                            condition = cells_condition(conn, suite, inputs.feed, plan.changed)
                            checks = merge(plan, suite, gx_validator.validate(suite, run_id, cells=condition))
                    except Exception as exc:  # noqa: BLE001 - whatever stops a suite must block, not crash the gate
                        checks = [CheckResult.suite_could_not_run(suite.name, exc)]
                    finished_at = datetime.now(UTC)
                    ran = plan is not None and not any(check.expectation_type == "suite" for check in checks)
                    quality_run_id = record_suite_run(conn, run_id, suite.name, started_at, finished_at, checks,
                                                      fingerprints.get(suite.name),
                                                      recorded_cells(inputs, plan) if ran else None)
                    outcomes[suite.name] = SuiteOutcome(suite.name, run_id, quality_run_id, started_at, finished_at,
                                                        tuple(checks))
                gx_validator.build_data_docs()  # once for all the suites; it never fails the gate
    return GateOutcome(run_id, tuple(outcomes[name] for name in names))


def record_dbt_tests(run_id: str) -> SuiteOutcome:
    """Record the data tests of the `dbt build` that just ran (pipeline.steps.transform) as the suite
    dbt_data_tests of the run: their failing rows are fetched now, from the tables as tested, and the mart gate
    reads the outcome back from audit for the run, on whichever worker it runs. After a partial build (an
    incremental night), the tests it did not run keep their latest recorded results (quality.carry)."""
    from quality.record import record_suite_run
    from warehouse.connection import connect

    with connect(autocommit=True) as conn:
        return _run_dbt_suite(conn, run_id, record_suite_run, reuse=False)


def _run_dbt_suite(conn, run_id: str, record_suite_run, reuse: bool = True) -> SuiteOutcome:
    """The dbt data tests as a suite: as the transform recorded them for the run, or else from the latest build's
    results in dbt/target (the command line). No results of a build block, as a suite that could not run."""
    from quality.carry import carried_tests
    from quality.dbt_tests import DBT_SUITE, build_was_partial, check_results, data_test_names

    if reuse and (recorded := recorded_suite(conn, run_id, DBT_SUITE)) is not None:
        return recorded
    started_at = datetime.now(UTC)
    try:
        checks = check_results(conn)
        if build_was_partial():
            ran = {check.observed.get("dbt_test") for check in checks}
            checks = [*checks, *carried_tests(conn, DBT_SUITE, ran, data_test_names())]
    except Exception as exc:  # noqa: BLE001 - no results of the build must block, not pass
        checks = [CheckResult.suite_could_not_run(DBT_SUITE, exc)]
    finished_at = datetime.now(UTC)
    quality_run_id = record_suite_run(conn, run_id, DBT_SUITE, started_at, finished_at, checks)
    return SuiteOutcome(DBT_SUITE, run_id, quality_run_id, started_at, finished_at, tuple(checks))


def recorded_suite(conn, run_id: str, suite: str) -> SuiteOutcome | None:
    """The latest recorded run of a suite in a pipeline run, read back from audit (None: not run)."""
    run = conn.execute("""select quality_run_id, started_at, finished_at from audit.quality_runs
                           where run_id = %s and suite = %s order by quality_run_id desc limit 1""",
                       (run_id, suite)).fetchone()
    if run is None:
        return None
    return SuiteOutcome(suite, run_id, run[0], run[1], run[2], recorded_run(conn, run[0]))


def recorded_run(conn, quality_run_id: int) -> tuple[CheckResult, ...]:
    """The checks of a recorded suite run, as CheckResults."""
    from quality.results import Failure

    checks: dict[tuple, dict] = {}
    for expectation, kind, severity, success, pinned, observed, admin_code, period, rows, message in conn.execute(
            """select expectation, expectation_type, severity, success, pinned, observed, admin_code, period,
                      failing_rows, message
                 from audit.quality_results where quality_run_id = %s order by quality_result_id""", (quality_run_id,)):
        observed = observed or {}
        check = checks.setdefault((expectation, kind, severity, observed.get("dbt_test")),
                                  {"success": success, "pinned": pinned, "observed": observed, "failures": []})
        if not success and message is not None:
            check["failures"].append(Failure(admin_code, period, rows, message.split("\n"), complete=pinned))
    return tuple(
        CheckResult(expectation=expectation, expectation_type=kind, severity=severity, success=check["success"],
                    observed=check["observed"], failures=tuple(check["failures"]), pinned=check["pinned"])
        for (expectation, kind, severity, _), check in checks.items())
