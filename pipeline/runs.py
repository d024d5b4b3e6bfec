"""audit.pipeline_runs and audit.pipeline_events: what the nightly runs did, written from the DAG's first
task and its callbacks (Airflow notifiers, pipeline.notify)."""

from __future__ import annotations

import json
import os
from datetime import datetime

from warehouse.connection import connect


def _text(value) -> str | None:
    """An Airflow enum or string as plain text ('DagRunType.MANUAL' → 'manual')."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


# What started a run, by its type: tasks see the run type, not Airflow's triggered_by (only the DAG callbacks
# of `airflow dags test` do, and they overwrite this with it).
TRIGGER_BY_RUN_TYPE = {"scheduled": "timetable", "asset_triggered": "asset", "backfill": "backfill",
                       "manual": "manual"}


def record_run_start(dag_id: str, run_id: str, run_type=None, triggering_user: str | None = None,
                     logical_date: datetime | None = None, params: dict | None = None) -> None:
    run_type = _text(run_type)
    with connect(autocommit=True) as conn:
        conn.execute(
            """insert into audit.pipeline_runs (run_id, dag_id, run_type, triggered_by, triggering_user,
                                                logical_date, params)
               values (%s, %s, %s, %s, %s, %s, %s)
               on conflict (run_id) do update set state = 'running', ended_at = null, started_at = clock_timestamp()""",
            (run_id, dag_id, run_type,
             os.environ.get("PIPELINE_TRIGGERED_BY") or TRIGGER_BY_RUN_TYPE.get(run_type, run_type), triggering_user,
             logical_date,
             json.dumps(params or {}, default=str)))


def record_run_end(run_id: str, state: str, dag_id: str | None = None, run_type=None,
                   triggered_by=None) -> str | None:
    """Close the run's row with its state and the release it made or kept; returns that release. (Who
    triggered the run is known here, in the DAG callback, and not to the tasks.)"""
    with connect(autocommit=True) as conn:
        release = conn.execute(
            "select release_id from published.releases where run_id = %s order by created_at desc limit 1",
            (run_id,)).fetchone()
        release_id = release[0] if release else None
        if release_id is None and state == "success":  # a night with no change keeps the latest release
            latest = conn.execute("select release_id from published.latest_release").fetchone()
            release_id = latest[0] if latest else None
        conn.execute(
            """insert into audit.pipeline_runs (run_id, dag_id, state, ended_at, release_id, run_type, triggered_by)
               values (%s, coalesce(%s, 'child_stats_nightly'), %s, clock_timestamp(), %s, %s, %s)
               on conflict (run_id) do update set state = excluded.state, ended_at = excluded.ended_at,
                                                  release_id = excluded.release_id,
                                                  run_type = coalesce(excluded.run_type, pipeline_runs.run_type),
                                                  triggered_by = coalesce(excluded.triggered_by,
                                                                          pipeline_runs.triggered_by)""",
            (run_id, dag_id, state, release_id, _text(run_type), _text(triggered_by)))
    return release_id


def record_event(event: str, severity: str, message: str, dag_id: str | None = None, run_id: str | None = None,
                 task_id: str | None = None, notified: str | None = None) -> None:
    with connect(autocommit=True) as conn:
        conn.execute(
            """insert into audit.pipeline_events (dag_id, run_id, task_id, event, severity, message, notified)
               values (%s, %s, %s, %s, %s, %s, %s)""",
            (dag_id, run_id, task_id, event, severity, message, notified))
