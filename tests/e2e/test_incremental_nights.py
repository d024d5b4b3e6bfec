"""Incremental nights (pipeline/incremental.py): a sequence of nights with new deliveries and a correction
publishes exactly what a full rebuild of the same deliveries publishes; a night with nothing new rebuilds,
checks and publishes nothing again."""

from __future__ import annotations

import csv
import json
import os
import shutil

import psycopg
import pytest

from pipeline import steps
from pipeline.dbt import DBT_PROJECT_DIR
from synthetic import (
    generate_child_register_feed,
    generate_education_feed,
    generate_health_feeds,
    generate_population_feed,
)

pytestmark = pytest.mark.e2e

FEEDS = ["y_te_sinh", "y_te_tu_vong", "dan_so", "ldxh_tre_em", "giao_duc_hoc_sinh"]
VALUES = """select indicator_id, admin_level, admin_code, period, sex, age_group, ethnicity, category, numerator,
                   denominator, value, suppression, withheld
              from published.indicator_values order by 1, 2, 3, 4, 5, 6, 7, 8"""


def _night(run_id: str, full_refresh: bool = False) -> tuple[str, str]:
    """The DAG's steps in its order; returns the build's mode and the release id."""
    steps.bootstrap()
    for feed in FEEDS:
        steps.ingest(feed, run_id)
    steps.load_reference(run_id, full_refresh)
    steps.validate(list(steps.RAW_SUITES.values()), run_id, full_refresh)
    mode = steps.transform(run_id, full_refresh).split(":")[0]
    steps.validate(steps.MART_SUITES, run_id, full_refresh)
    return mode, steps.publish(run_id, full_refresh)


def _correction(original, dropped_every: int = 20):
    """The province's file delivered again, later, with every 20th record gone (a correction that shrinks the
    province-period by 5 %, applied without confirmation)."""
    corrected = original.with_name(original.stem + "_v2" + original.suffix)
    if original.suffix == ".jsonl":
        lines = original.read_text(encoding="utf-8").splitlines(keepends=True)
        corrected.write_text("".join(line for index, line in enumerate(lines) if index % dropped_every),
                             encoding="utf-8")
    else:
        with open(original, encoding="utf-8-sig", newline="") as source, \
                open(corrected, "w", encoding="utf-8", newline="") as target:
            rows = list(csv.reader(source))
            writer = csv.writer(target)
            writer.writerow(rows[0])
            writer.writerows(row for index, row in enumerate(rows[1:]) if index % dropped_every)
    stat = original.stat()
    os.utime(corrected, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # delivered after the original
    return corrected


def test_nights_with_corrections_publish_what_a_full_rebuild_publishes(fresh_warehouse, tmp_path, monkeypatch):
    generated, landing = tmp_path / "generated", tmp_path / "landing"
    generate_health_feeds(generated, scale=0.002, seed=7, provinces=("01", "15"), periods=("2025-H1", "2025-H2"))
    generate_population_feed(generated, scale=0.002, seed=7, provinces=("01", "15"), years=(2025,))
    generate_child_register_feed(generated, scale=0.002, seed=7, provinces=("01", "15"),
                                 snapshot_dates=("2025-06-30", "2025-12-31"))
    generate_education_feed(generated, scale=0.002, seed=7, provinces=("01", "15"), school_years=("2024-2025",),
                            delivery_variants=False, xlsx_share=0)
    monkeypatch.setenv("LANDING_DIR", str(landing))

    def deliver(feed: str, pattern: str) -> list:
        (landing / feed).mkdir(parents=True, exist_ok=True)
        paths = sorted((generated / feed).glob(pattern))
        for path in paths:
            shutil.copy2(path, landing / feed / path.name)
        return paths

    # Night 1: the first half-year's births and deaths, the population and the register's snapshots.
    deliver("y_te_sinh", "*2025-H1*")
    deliver("y_te_tu_vong", "*2025-H1*")
    deliver("dan_so", "*")
    deliver("ldxh_tre_em", "*")
    deliver("giao_duc_hoc_sinh", "*.csv")
    mode, first = _night("night-1")
    assert mode == "full"

    # Night 2: the second half-year's births, Hà Nội's births of the first half-year corrected, and Hà Nội's
    # register snapshot of December and population estimates corrected (Lào Cai's stay).
    deliver("y_te_sinh", "*2025-H2*")
    _correction(landing / "y_te_sinh" / "y_te_sinh_01_2025-H1.csv")
    _correction(landing / "ldxh_tre_em" / "ldxh_tre_em_01_2025-12-31.jsonl")
    _correction(landing / "dan_so" / "dan_so_01_2025.csv")
    _correction(landing / "giao_duc_hoc_sinh" / "giao_duc_hoc_sinh_01_2024-2025.csv")
    with psycopg.connect(fresh_warehouse) as conn:
        register_rows = conn.execute(
            "select count(*) from intermediate.int_child_register__period_children").fetchone()[0]
        student_rows = conn.execute("select count(*) from intermediate.int_students__enrolment").fetchone()[0]
    mode, second = _night("night-2")
    assert mode == "incremental"
    assert second != first
    with psycopg.connect(fresh_warehouse) as conn:
        build = conn.execute("""select changed_feeds, selection from audit.build_state
                                 where step = 'build' order by build_id desc limit 1""").fetchone()
        # deaths did not change: not rebuilt
        assert sorted(build[0]) == ["dan_so", "giao_duc_hoc_sinh", "ldxh_tre_em", "y_te_sinh"]
        assert "source:health.y_te_sinh+" in build[1] and "y_te_tu_vong" not in build[1]
        # the register's models kept per province rebuilt Hà Nội's rows only (macros/province_increments.sql)
        results = json.loads((DBT_PROJECT_DIR / "target" / "run_results.json").read_text())["results"]
        inserted = next(r["adapter_response"]["rows_affected"] for r in results
                        if r["unique_id"] == "model.child_stats.int_child_register__period_children")
        hanoi = conn.execute("""select count(*) from intermediate.int_child_register__period_children
                                 where current_province_code = '01'""").fetchone()[0]
        assert inserted == hanoi and 0 < hanoi < register_rows
        inserted = next(r["adapter_response"]["rows_affected"] for r in results
                        if r["unique_id"] == "model.child_stats.int_students__enrolment")
        hanoi = conn.execute("""select count(*) from intermediate.int_students__enrolment
                                 where current_province_code = '01'""").fetchone()[0]
        assert inserted == hanoi and 0 < hanoi < student_rows
        # the release stored only the values that changed (publish/versions.py)
        changed, values = conn.execute("select changed_count, row_count from published.releases"
                                       " where release_id = %s", (second,)).fetchone()
        assert 0 < changed < values
        carried = dict(conn.execute("""select suite, carried_from is not null from audit.quality_runs
                                        where run_id = 'night-2'""").fetchall())
        assert carried["raw_y_te_sinh"] is False and carried["raw_y_te_tu_vong"] is True
        assert carried["raw_dan_so"] is False and carried["marts_indicator_values"] is False
        checked = conn.execute("""select checked_cells from audit.quality_runs
                                   where run_id = 'night-2' and suite = 'raw_y_te_sinh'""").fetchone()
        assert checked == (None,)  # 3 of its 4 cells changed: the whole table (quality/cells.py; one cell in
        # tests/integration/test_quality_cells.py)
        superseded = conn.execute("""select count(*) from audit.batch_coverage
                                      where feed = 'y_te_sinh' and superseded_by_batch is not null""").fetchone()[0]
        assert superseded >= 1  # the correction replaced Hà Nội's first delivery
        incremental = conn.execute(VALUES).fetchall()

    # Night 3: nothing new. Nothing is rebuilt or checked again, and the release stays.
    mode, third = _night("night-3")
    assert (mode, third) == ("none", second)
    with psycopg.connect(fresh_warehouse) as conn:
        suites = conn.execute("""select suite, carried_from from audit.quality_runs where run_id = 'night-3'
                                  and suite <> 'dbt_data_tests'""").fetchall()
        assert suites and all(carried_from is not None for _, carried_from in suites)
        assert conn.execute(VALUES).fetchall() == incremental

    # Night 4: a full rebuild of the same deliveries: every model and check again, and the same values, so
    # the release compares equal and stays.
    mode, fourth = _night("night-4", full_refresh=True)
    assert (mode, fourth) == ("full", second)
    with psycopg.connect(fresh_warehouse) as conn:
        assert conn.execute("""select count(*) from audit.quality_runs
                                where run_id = 'night-4' and carried_from is not null""").fetchone() == (0,)
        rebuilt = conn.execute(VALUES).fetchall()
    assert rebuilt == incremental
