"""The nightly run's steps. Airflow tasks and the CLI call these; they hold the logic, the DAG none."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

def feed_names() -> list[str]:
    """Every feed of the ingest registry, in registration order: the DAG's ingest tasks, the raw suites, the
    sample generator and the tests all derive from it."""
    from ingest.feeds import FEEDS

    return [spec.name for spec in FEEDS]


def load_after() -> dict[str, tuple[str, ...]]:
    """The feeds each feed is loaded after in a night (FeedSpec.after), for the DAG's ingest tasks."""
    from ingest.feeds import FEEDS

    return {spec.name: spec.after for spec in FEEDS if spec.after}


LOAD_AFTER = load_after()
RAW_SUITES = {feed: f"raw_{feed}" for feed in feed_names()}  # each feed has its suite, expectations/raw_<feed>.yml
# dbt_data_tests: the data tests of the night's `dbt build` (quality/dbt_tests.py), judged with the mart suites
MART_SUITES = ["marts_indicator_values", "marts_nutrition_zscores", "dbt_data_tests"]


class QualityGateFailed(RuntimeError):
    """An error-level check that cannot be pinned to values failed: the run stops and the previous release
    stays published. (Failures pinned to values do not stop it: the release withholds those values.)"""


def bootstrap() -> None:
    """Schemas, raw tables of every feed, roles and grants: once, at the head of the run (no other step
    does DDL)."""
    from ingest.schema import setup_warehouse

    setup_warehouse()


def record_run_start(context) -> None:
    """The run's row in audit.pipeline_runs (closed by the DAG's callbacks, pipeline.notify)."""
    from pipeline.runs import record_run_start as record

    dag_run = context["dag_run"]
    record(dag_run.dag_id, dag_run.run_id, dag_run.run_type, getattr(dag_run, "triggering_user_name", None),
           getattr(dag_run, "logical_date", None), dict(context.get("params") or {}))


def check_release_deadline(deadline=None) -> bool:
    """Whether a nightly run succeeded between the deadline's midnight and the deadline; if not, the deadline
    alert goes out. A check of an earlier day (the first start of the scheduler catching up) alerts nobody."""
    import os
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from pipeline.notify import alert
    from warehouse.connection import connect

    local_zone = ZoneInfo(os.environ.get("PIPELINE_TIMEZONE", "Asia/Ho_Chi_Minh"))
    deadline = (deadline or datetime.now(UTC)).astimezone(local_zone)
    if (datetime.now(local_zone) - deadline).total_seconds() > 12 * 3600:
        log.info("deadline of %s is long past: a catch-up run, nothing to alert", deadline)
        return True
    midnight = deadline.replace(hour=0, minute=0, second=0, microsecond=0)
    with connect() as conn:
        made = conn.execute(
            """select count(*) from audit.pipeline_runs
                where dag_id = 'child_stats_nightly' and state = 'success' and ended_at >= %s and ended_at <= %s""",
            (midnight, deadline)).fetchone()[0]
        running = conn.execute("select string_agg(run_id, ', ') from audit.pipeline_runs"
                               " where dag_id = 'child_stats_nightly' and state = 'running'").fetchone()[0]
    if not made:
        alert("deadline_missed", "error",
              f"no nightly run succeeded between {midnight:%d/%m %H:%M} and the deadline {deadline:%H:%M}: no new "
              "release today" + (f" (still running: {running})" if running else ""), "child_stats_deadline")
    return bool(made)


def ingest(feed: str, run_id: str, periods: list[str] | None = None) -> dict:
    from ingest.run import ingest_feed, summarise
    from warehouse.connection import acting_as

    with acting_as("loader"):  # least privilege: the loads connect as the loader role
        results = ingest_feed(feed, run_id=run_id, periods=periods or None)
    log.info("%s: %d file(s)\n%s", feed, len(results), summarise(results))
    _record_file_problems(feed, run_id, results)
    return {
        "files": len(results),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
        "rejected_files": [f"{r.file_name}: {r.reason}" for r in results if r.status == "rejected"],
        "failed_files": [f"{r.file_name}: {r.reason}" for r in results if r.status == "failed"],
        "held_corrections": [f"{r.file_name}: {r.reason}" for r in results if r.held],
    }


def _record_file_problems(feed: str, run_id: str, results) -> None:
    """A file that failed, or a correction held for confirmation, is an event of the run (the summary, the
    alerts), never a failed task: the feed's other files are loaded and the night goes on."""
    from pipeline.runs import record_event

    for result in results:
        if result.status == "failed":
            log.error("%s: %s", feed, result.reason)
            record_event("file_failed", "error", f"{feed}/{result.file_name} (batch {result.batch_id}): {result.reason}",
                         "child_stats_nightly", run_id, f"ingest_{feed}")
        elif result.held:
            record_event("correction_held", "warning",
                         f"{feed}/{result.file_name} (batch {result.batch_id}): {result.reason}",
                         "child_stats_nightly", run_id, f"ingest_{feed}")


def validate(suites: list[str], run_id: str, full_refresh: bool = False) -> None:
    """Run the quality suites of the gate. A suite whose inputs did not change since an earlier run (the same feed
    rows and reference data for a raw suite, the same build for a mart suite; pipeline.incremental) keeps that
    run's results, carried to this run, and a raw suite whose feed changed checks only the (province, period) cells
    that changed (quality.cells), unless a full refresh was asked for."""
    from pipeline.incremental import suite_cells, suite_fingerprints
    from quality import run_suites
    from warehouse.connection import acting_as, connect

    with acting_as("transformer"):
        fingerprints = {}
        with connect() as conn:
            if not full_refresh:
                fingerprints = suite_fingerprints(conn, RAW_SUITES, [s for s in MART_SUITES if s != "dbt_data_tests"])
            cells = suite_cells(conn, {feed: suite for feed, suite in RAW_SUITES.items() if suite in suites},
                                full_refresh)
        outcome = run_suites(suites, run_id=run_id, fingerprints=fingerprints, cells=cells)
    for message in outcome.messages:
        log.warning(message)
    if outcome.blocked:
        blocking = [m for suite in outcome.suites for check in suite.checks
                    if not check.success and check.severity == "error" and not check.pinned for m in check.messages]
        raise QualityGateFailed("quality gate failed:\n" + "\n".join(blocking))
    if outcome.withholding:
        log.warning("%d error-level check(s) failed for named values: the release will withhold them and the "
                    "values that aggregate them", len(outcome.withholding))


def check_source_freshness(run_id: str) -> list[str]:
    """Feeds with no new load for longer than their sources' YAML allows (`freshness`; pipeline.freshness): a
    warning (audit.pipeline_events, the run summary), never a failure."""
    from pipeline.freshness import stale_feeds
    from pipeline.runs import record_event
    from warehouse.connection import connect

    with connect() as conn:
        stale = [item.message for item in stale_feeds(conn, feed_names())]
    for message in stale:
        log.warning("stale feed: %s", message)
        record_event("feed_stale", "warning", message, "child_stats_nightly", run_id, "source_freshness")
    return stale


def load_reference(run_id: str | None = None, full_refresh: bool = False) -> str:
    """Reference data (geography, catalogue) first: the raw checks compare codes with it. Loaded when it changed
    since the last load (or never was), else kept (pipeline.incremental.plan_seed)."""
    import time

    from pipeline.dbt import run_dbt
    from pipeline.incremental import plan_seed, record_state
    from warehouse.connection import acting_as, connect

    with acting_as("transformer"), connect(autocommit=True) as conn:
        plan = plan_seed(conn, full_refresh)
        if plan.mode == "none":
            log.info("reference data: %s; not reloaded", plan.reason)
            return plan.reason
        started = time.monotonic()
        run_dbt("seed")
        record_state(conn, run_id or "manual", "seed", plan, time.monotonic() - started)
    log.info("reference data loaded: %s", plan.reason)
    return plan.reason


def transform(run_id: str | None = None, full_refresh: bool = False) -> str:
    """Models with their data and unit tests; seeds were loaded by load_reference. Rebuilds what changed since the
    last successful build (pipeline.incremental: everything, the models downstream of the changed feeds, or
    nothing), everything with `full_refresh`. Fails for defects of the code only: a compile
    error, a failed unit test, a model that cannot be built, a test that cannot run, a failed test of reference
    data (nothing delivered upstream). A data test that delivered data fails does not stop the build: it is
    recorded for the run (suite dbt_data_tests, in Airflow the task's own run id; the tests a partial build did
    not run keep their latest results) and the mart gate judges it with the other checks (validate;
    dbt/dbt_project.yml)."""
    import os
    import time

    from pipeline.dbt import run_dbt
    from pipeline.incremental import plan_build, record_state
    from quality.dbt_tests import DbtCodeDefect, build_results, code_defects, defect_message
    from warehouse.connection import acting_as, connect

    run_id = run_id or os.environ.get("AIRFLOW_CTX_DAG_RUN_ID")
    with acting_as("transformer"), connect(autocommit=True) as conn:
        plan = plan_build(conn, feed_names(), full_refresh)
        log.info("dbt build: %s (%s)%s", plan.mode, plan.reason,
                 f"; selection: {' '.join(plan.selection)}" if plan.selection else "")
        started = time.monotonic()
        arguments = plan.dbt_build_args()
        if arguments is None:  # nothing to build: the data tests keep their results
            if run_id:
                from quality.carry import carry_latest_run
                from quality.dbt_tests import DBT_SUITE

                carry_latest_run(conn, run_id, DBT_SUITE)
            record_state(conn, run_id or "manual", "build", plan, time.monotonic() - started)
            return f"{plan.mode}: {plan.reason}"
        run_dbt(*arguments)
        seconds = time.monotonic() - started
        _, tests = build_results()
        defects = code_defects(tests)
        if defects:
            raise DbtCodeDefect("dbt build: " + "; ".join(defect_message(test) for test in defects))
        if run_id:
            from quality.run import record_dbt_tests

            outcome = record_dbt_tests(run_id)
            for message in outcome.messages:
                log.warning(message)
        record_state(conn, run_id or "manual", "build", plan, seconds)
    failed = [test for test in tests if test.failed]
    if failed:
        log.warning("%d dbt data test(s) failed on delivered data; the mart gate judges them (suite dbt_data_tests): "
                    "%s", len(failed), ", ".join(test.name for test in failed))
    return f"{plan.mode}: {plan.reason}"


def publish(run_id: str, full_refresh: bool = False) -> str:
    """The release of the night: the candidates checked and compared with the latest release, or, when the
    night's build and quality results are those the latest release was made from, that release kept as it is
    (unless a full refresh was asked for)."""
    from publish.release import create_release
    from warehouse.connection import acting_as

    with acting_as("transformer"):
        release = create_release(run_id, [*RAW_SUITES.values(), *MART_SUITES], recompute=full_refresh)
    if release.is_new:
        log.info("published release %s: %d values for %s (%d added, changed or dropped)", release.release_id,
                 release.row_count, ", ".join(release.periods), release.changed_count)
    else:
        log.info("published release %s stays: the values have not changed", release.release_id)
    for item in release.withheld:
        log.warning("withheld %s value(s): %s", item.get("values_withheld"), _withheld_text(item))
    if release.withheld and release.is_new:
        from pipeline.notify import alert

        alert("values_withheld", "warning",
              f"release {release.release_id} withholds {release.withheld_count} value(s):\n"
              + "\n".join(_withheld_text(item) for item in release.withheld[:20]), "child_stats_nightly", run_id, "publish")
    return release.release_id


def _withheld_text(item: dict) -> str:
    where = ", ".join(str(item[key]) for key in ("indicator_id", "admin_level", "admin_code", "period") if key in item)
    breakdown = ", ".join(f"{key} {item[key]}" for key in ("sex", "age_group", "ethnicity", "category")
                          if item.get(key) not in (None, "total"))
    return f"{where}{', ' + breakdown if breakdown else ''}: {item.get('check')}: {item.get('detail', '')}"


def render_reports() -> list[str]:
    """The report outputs of the latest half-year and year (reports/<period>/, see `make report`), from the
    release just made. Reads published as report_reader, like every report user."""
    import psycopg

    from report.data import latest_periods
    from report.render import render_period
    from warehouse.roles import role_url

    folders = []
    with psycopg.connect(role_url("report_reader"), autocommit=True) as conn:
        for period in latest_periods(conn):
            rendered = render_period(conn, period)
            log.info("rendered %s: %s → %s", period, rendered.counts(), rendered.folder)
            folders.append(str(rendered.folder))
    return folders
