"""The real Airflow deployment of `make up`: api-server, scheduler, dag-processor and triggerer on free ports,
the metadata database on the test server; a run triggered through the REST API loads, publishes and records
itself in audit.pipeline_runs; `make down` leaves no process behind."""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from synthetic import generate_health_feeds, generate_population_feed

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def deployment_env(fresh_warehouse, server_url, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    generate_health_feeds(landing, scale=0.01, seed=5, periods=("2025-H1", "2025-H2"), provinces=("01", "15"),
                          invalid_rate=0)
    generate_population_feed(landing, scale=0.01, seed=5, years=(2025,), provinces=("01", "15"))
    metadata = f"airflow_{uuid.uuid4().hex[:8]}"
    for name, value in {"LANDING_DIR": str(landing), "REPORTS_DIR": str(tmp_path / "reports"),
                        "AIRFLOW_SERVICES_HOME": str(tmp_path / "services"), "AIRFLOW_PORT": str(_free_port()),
                        "AIRFLOW_METADATA_DATABASE": metadata}.items():
        monkeypatch.setenv(name, value)
    yield fresh_warehouse
    from pipeline import services

    services.down()
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{metadata}" with (force)')


def test_services_run_a_triggered_night_and_stop_cleanly(deployment_env, tmp_path):
    from pipeline import services

    deployment = services.up(paused=True)  # no catch-up of last night's schedule: only the run triggered here
    report = services.health(deployment)
    assert services.is_healthy(report), report
    pids = {name: pid for name, (pid, _) in deployment.state()["pids"].items()}
    assert set(pids) == {"api-server", "scheduler", "dag-processor", "triggerer"}

    run_id = services.trigger(feeds=["y_te_sinh", "y_te_tu_vong", "dan_so"])
    assert run_id.startswith("manual__")
    services.set_paused("child_stats_nightly", False)  # the queued run starts (before any scheduled one)
    assert services.wait_for_run(run_id, timeout=900) == "success"

    # the DAG's success callback closes the row; it runs in the dag-processor just after the run ends
    deadline = time.monotonic() + 180
    with psycopg.connect(deployment_env, autocommit=True) as conn:
        while True:
            run = conn.execute("select triggered_by, state, release_id, params, triggering_user, run_type"
                               " from audit.pipeline_runs where run_id = %s", (run_id,)).fetchone()
            if run[1] != "running" or time.monotonic() > deadline:
                break
            time.sleep(3)
        latest = conn.execute("select release_id from published.latest_release").fetchone()
    assert (run[0], run[5], run[4], run[1]) == ("manual", "manual", "admin", "success")  # not a `dags test`
    assert latest is not None and run[2] == latest[0]
    assert run[3]["feeds"] == ["y_te_sinh", "y_te_tu_vong", "dan_so"]
    logs = Path(deployment.home / "logs")
    assert {p.name for p in logs.iterdir()} >= {"api-server.log", "scheduler.log", "dag-processor.log", "triggerer.log"}

    # every process of the deployment, as it stands after the run (a pid with its start time: pids are reused)
    tree = {(p, services.start_time(p)) for pid in pids.values() for p in (pid, *services._descendants(pid))}
    stopped = services.down()
    assert set(stopped) >= {"api-server", "scheduler", "dag-processor", "triggerer"}
    assert [process for process in tree if services._alive(*process)] == []
    assert services.health(deployment, timeout=2) is None
