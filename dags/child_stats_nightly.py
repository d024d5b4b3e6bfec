"""Nightly child-statistics load: bootstrap → landing files of every feed and reference data → raw checks →
dbt marts → mart checks → release. The release is an asset: `child_stats_reports` renders the report outputs
(reports/<period>/) when it changes, and `child_stats_deadline` alerts when no release was made in time.

Thin by design: every task calls a function of `pipeline.steps`; see dags/README.md for the timetable,
manual runs (`make trigger FEEDS=… PERIODS=…`), recovery and backfill.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from pipeline.notify import PipelineNotifier
from pipeline.steps import LOAD_AFTER, MART_SUITES, RAW_SUITES, feed_names

FEEDS = feed_names()
# Schedules are in Vietnam's time: "01:00" is one in the morning in Hà Nội, not in UTC.
START = pendulum.datetime(2026, 1, 1, tz=os.environ.get("PIPELINE_TIMEZONE", "Asia/Ho_Chi_Minh"))
RELEASE = Asset("warehouse://published/releases", extra={"table": "published.releases"})


def raw_table(feed: str) -> Asset:
    return Asset(f"warehouse://raw/{feed}", extra={"table": f"raw.{feed}"})


default_args = {
    "owner": "data-engineering",
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
    "on_failure_callback": PipelineNotifier("task_failed"),
}


@dag(
    dag_id="child_stats_nightly",
    schedule="0 1 * * *",  # 01:00 every night, after the sector systems' evening exports
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["child-stats", "tt13", "nightly"],
    doc_md=__doc__,
    params={
        "feeds": Param(FEEDS, type="array", items={"type": "string", "enum": FEEDS},
                       title="Feeds to load", description="Landing feeds whose new files this run loads (default: all)."),
        "periods": Param([], type="array", items={"type": "string", "pattern": r"^\d{4}(-H[12])?$"},
                         title="Periods to load",
                         description="Load only the files whose names hold these periods, e.g. 2025-H1 or 2025 "
                                     "(default: every new file)."),
        "full_refresh": Param(False, type="boolean", title="Full rebuild",
                              description="Rebuild every model and run every check, instead of only what the "
                                          "changed feeds touch (pipeline/incremental.py)."),
    },
    on_success_callback=PipelineNotifier("run_succeeded"),
    on_failure_callback=PipelineNotifier("run_failed"),
)
def child_stats_nightly():
    @task(retries=0)
    def bootstrap() -> None:
        from pipeline.steps import bootstrap as set_up, record_run_start

        set_up()
        record_run_start(get_current_context())

    def ingest_task(feed: str):
        # a feed loaded after others (FeedSpec.after: its rules read their rows) runs whatever became of them
        @task(task_id=f"ingest_{feed}", retries=0, outlets=[raw_table(feed)],
              trigger_rule="all_done" if LOAD_AFTER.get(feed) else "all_success")
        def ingest(run_id: str | None = None, params: dict | None = None) -> dict:
            if feed not in params["feeds"]:
                raise AirflowSkipException(f"{feed} is not among this run's feeds")
            from pipeline.steps import ingest as ingest_feed

            return ingest_feed(feed, run_id, params["periods"])

        return ingest()

    @task
    def load_reference(run_id: str | None = None, params: dict | None = None) -> str:
        from pipeline.incremental import full_refresh_requested
        from pipeline.steps import load_reference as seed

        return seed(run_id, full_refresh_requested(params))

    @task(retries=0, trigger_rule="none_failed")
    def source_freshness(run_id: str | None = None) -> list[str]:
        from pipeline.steps import check_source_freshness

        return check_source_freshness(run_id)

    @task(retries=0, trigger_rule="none_failed")  # feeds left out of a run are skipped, not failed
    def validate_raw(run_id: str | None = None, params: dict | None = None) -> None:
        from pipeline.incremental import full_refresh_requested
        from pipeline.steps import validate

        validate(list(RAW_SUITES.values()), run_id, full_refresh_requested(params))

    @task
    def dbt_build(params: dict | None = None) -> str:
        from pipeline.incremental import full_refresh_requested
        from pipeline.steps import transform

        return transform(full_refresh=full_refresh_requested(params))

    @task(retries=0)
    def validate_marts(run_id: str | None = None, params: dict | None = None) -> None:
        from pipeline.incremental import full_refresh_requested
        from pipeline.steps import validate

        validate(MART_SUITES, run_id, full_refresh_requested(params))

    @task(retries=0, outlets=[RELEASE])
    def publish(run_id: str | None = None, params: dict | None = None) -> str:
        from pipeline.incremental import full_refresh_requested
        from pipeline.steps import publish as make_release

        return make_release(run_id, full_refresh_requested(params))

    head = bootstrap()
    by_feed = {feed: ingest_task(feed) for feed in FEEDS}
    for feed, earlier in LOAD_AFTER.items():
        for other in earlier:
            by_feed[other] >> by_feed[feed]
    loads = list(by_feed.values())
    reference = load_reference()
    head >> [*loads, reference]
    checks = validate_raw()
    [*loads, reference] >> checks >> dbt_build() >> validate_marts() >> publish()
    loads >> source_freshness()  # a warning only: the night goes on without waiting for it


@dag(
    dag_id="child_stats_reports",
    schedule=[RELEASE],  # whenever the nightly DAG publishes
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["child-stats", "tt13", "reports"],
    doc_md="Renders the report outputs (workbooks, CSV, SDMX, HTML) of the latest half-year and year into "
           "reports/<period>/ after each release: what `make report` does.",
)
def child_stats_reports():
    @task(retries=0)
    def render_reports() -> list[str]:
        from pipeline.steps import render_reports as render

        return render()

    render_reports()


@dag(
    dag_id="child_stats_deadline",
    # RELEASE_DEADLINE_HOUR (default 6): by then the night's release must be made
    schedule=f"0 {int(os.environ.get('RELEASE_DEADLINE_HOUR', '6'))} * * *",
    start_date=START,
    catchup=False,
    default_args=default_args,
    tags=["child-stats", "alerts"],
    doc_md="Alerts (audit.pipeline_events, webhook, email) when no nightly run has succeeded since the "
           "previous midnight by RELEASE_DEADLINE_HOUR (local time).",
)
def child_stats_deadline():
    @task(retries=0)
    def check_release_made(logical_date=None) -> bool:
        from pipeline.steps import check_release_deadline

        return check_release_deadline(logical_date)

    check_release_made()


child_stats_nightly()
child_stats_reports()
child_stats_deadline()
