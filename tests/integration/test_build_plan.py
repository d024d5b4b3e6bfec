"""The night's build plan against a real warehouse (pipeline/incremental.py): which feeds changed, and when rows
changed in raw without a change of any cell's loads, a full build."""

from __future__ import annotations

import time

import psycopg
import pytest

from ingest.run import ingest_feed
from pipeline.incremental import plan_build, record_state
from synthetic import write_births_csv

pytestmark = pytest.mark.integration

FEEDS = ["y_te_sinh", "y_te_tu_vong"]


def deliver(landing, province: str, period: str, seed: int, suffix: str = "") -> None:
    folder = landing / "y_te_sinh"
    folder.mkdir(parents=True, exist_ok=True)
    write_births_csv(folder / f"y_te_sinh_{province}_{period}{suffix}.csv", 200, seed, period=period,
                     provinces=[province])


def test_a_correction_is_incremental_and_a_hand_edit_of_raw_is_a_full_build(fresh_warehouse, tmp_path):
    deliver(tmp_path, "01", "2025-H1", seed=1)
    deliver(tmp_path, "15", "2025-H1", seed=2)
    ingest_feed("y_te_sinh", tmp_path, run_id="night-1")
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        conn.execute("create schema if not exists marts; create table marts.fct_published_values (x int)")
        first = plan_build(conn, FEEDS)
        assert first.mode == "full" and set(first.feed_cells["y_te_sinh"]) == {"01|2025-H1", "15|2025-H1"}
        record_state(conn, "night-1", "build", first, 1.0)
        assert plan_build(conn, FEEDS).mode == "none"

    deliver(tmp_path, "15", "2025-H1", seed=3, suffix="_r2")
    ingest_feed("y_te_sinh", tmp_path, run_id="night-2")
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        second = plan_build(conn, FEEDS)
        assert (second.mode, second.changed_feeds) == ("incremental", ("y_te_sinh",))
        changed = {cell for cell, state in second.feed_cells["y_te_sinh"].items()
                   if first.feed_cells["y_te_sinh"].get(cell) != state}
        assert changed == {"15|2025-H1"}
        record_state(conn, "night-2", "build", second, 1.0)

    with psycopg.connect(fresh_warehouse, autocommit=True) as editor:  # rows changed by hand, not by the loader
        editor.execute("update raw.y_te_sinh set sex = 'female' where province_code = '01'")
        if editor.info.server_version >= 150000:  # its write counters reach pg_stat when it idles (14: within 0.5 s)
            editor.execute("select pg_stat_force_next_flush()")
    time.sleep(1.5)
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        third = plan_build(conn, FEEDS)
        assert third.mode == "full" and "outside the loader" in third.reason
