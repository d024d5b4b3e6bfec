"""Crash safety of the night: PostgreSQL stopped immediately (as by a power cut) in the middle of `dbt build`,
restarted, and the night run again publishes exactly the values of a clean night."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from pipeline import steps
from synthetic import generate_health_feeds, generate_population_feed

pytestmark = pytest.mark.e2e

VALUES = """select indicator_id, admin_level, admin_code, period, sex, age_group, ethnicity, category, numerator,
                   denominator, value
              from published.indicator_values order by 1, 2, 3, 4, 5, 6, 7, 8"""


def test_an_immediate_server_stop_during_dbt_build_changes_no_published_value(fresh_warehouse, tmp_path, monkeypatch):
    from warehouse import embedded

    state = embedded._load_state()
    if state is None or str(state.port) not in fresh_warehouse:
        pytest.skip("the tests do not run on the embedded server: it is not ours to stop")
    landing = tmp_path / "landing"
    generate_health_feeds(landing, scale=0.002, seed=5, provinces=("01",), periods=("2025-H1",))
    generate_population_feed(landing, scale=0.002, seed=5, provinces=("01",), years=(2025,))
    monkeypatch.setenv("LANDING_DIR", str(landing))
    feeds = ["y_te_sinh", "y_te_tu_vong", "dan_so"]

    steps.bootstrap()
    for feed in feeds:
        steps.ingest(feed, "clean")
    steps.load_reference()
    steps.transform()
    steps.validate([*steps.RAW_SUITES.values(), *steps.MART_SUITES], "clean")
    steps.publish("clean")
    with psycopg.connect(fresh_warehouse) as conn:
        clean = conn.execute(VALUES).fetchall()
    assert clean

    # The next night's dbt build (a full rebuild, so that it builds every model) is cut by an immediate stop
    # once it is building models.
    outcome: dict = {}

    def build():
        try:
            steps.transform(full_refresh=True)
            outcome["result"] = "finished"
        except Exception as error:  # noqa: BLE001 - the crash is the point
            outcome["result"] = error

    builder = threading.Thread(target=build)
    builder.start()
    database = fresh_warehouse.rsplit("/", 1)[1]
    deadline = time.monotonic() + 300
    with psycopg.connect(fresh_warehouse, autocommit=True) as watcher:
        while time.monotonic() < deadline and builder.is_alive():
            busy = watcher.execute("""select count(*) from pg_stat_activity where datname = %s and state = 'active'
                                        and query ~* '(create|insert|alter).*(intermediate|marts)'""",
                                   (database,)).fetchone()[0]
            if busy:
                break
            time.sleep(0.1)
    assert builder.is_alive(), "dbt build ended before it could be interrupted"
    embedded._pg_ctl(state, "stop", "-m", "immediate")
    builder.join(timeout=300)
    assert outcome["result"] != "finished"

    embedded._start(state)  # on the same port (the session's URLs hold it), crash recovery included
    embedded._wait_for_connections(state)
    steps.bootstrap()
    steps.transform()  # the failed step and what follows it (the seeds had committed before the crash); it
    # rebuilds what changed since the last build that succeeded (pipeline/incremental.py)
    steps.validate([*steps.RAW_SUITES.values(), *steps.MART_SUITES], "after-crash")
    steps.publish("after-crash")
    with psycopg.connect(fresh_warehouse) as conn:
        assert conn.execute(VALUES).fetchall() == clean
        assert conn.execute("select count(*) from audit.load_batches where status = 'running'").fetchone() == (0,)
