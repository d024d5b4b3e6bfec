"""Nightly child-statistics load: landing files and reference data → raw checks → dbt marts → mart checks → release
→ report outputs (reports/<period>/).

Thin by design: every task calls a function of `pipeline.steps`; see dags/README.md for the timetable,
manual runs, recovery and backfill.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from pipeline.steps import MART_SUITES, RAW_SUITES

default_args = {
    "owner": "data-engineering",
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
}


@dag(
    dag_id="child_stats_nightly",
    schedule="0 1 * * *",  # 01:00 every night, after the sector systems' evening exports
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["child-stats", "tt13", "nightly"],
    doc_md=__doc__,
)
def child_stats_nightly():
    @task(retries=0)
    def ingest(feed: str, run_id: str | None = None) -> dict:
        from pipeline.steps import ingest as ingest_feed

        return ingest_feed(feed, run_id)

    @task
    def load_reference() -> None:
        from pipeline.steps import load_reference as seed

        seed()

    @task(retries=0)
    def validate_raw(run_id: str | None = None) -> None:
        from pipeline.steps import validate

        validate(list(RAW_SUITES.values()), run_id)

    @task
    def dbt_build() -> None:
        from pipeline.steps import transform

        transform()

    @task(retries=0)
    def validate_marts(run_id: str | None = None) -> None:
        from pipeline.steps import validate

        validate(MART_SUITES, run_id)

    @task(retries=0)
    def publish(run_id: str | None = None) -> str:
        from pipeline.steps import publish as make_release

        return make_release(run_id)

    @task
    def render_reports() -> list[str]:
        from pipeline.steps import render_reports as render

        return render()

    loads = [ingest.override(task_id=f"ingest_{feed}")(feed) for feed in RAW_SUITES]
    [*loads, load_reference()] >> validate_raw() >> dbt_build() >> validate_marts() >> publish() >> render_reports()


child_stats_nightly()
