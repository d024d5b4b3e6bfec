"""A raw suite whose feed changed re-checks only the changed (province, period) cells, and its results are those
of a check of the whole table (quality/cells.py): real loads, real PostgreSQL, real Great Expectations."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from ingest.run import ingest_feed
from pipeline.incremental import suite_cells
from quality import run_suites
from synthetic import write_births_csv

pytestmark = pytest.mark.integration

SUITE = "raw_y_te_sinh"
CELLS = [("01", "2025-H1"), ("01", "2025-H2"), ("15", "2025-H1"), ("15", "2025-H2")]


def deliver(landing: Path, province: str, period: str, seed: int, suffix: str = "") -> None:
    folder = landing / "y_te_sinh"
    folder.mkdir(parents=True, exist_ok=True)
    write_births_csv(folder / f"y_te_sinh_{province}_{period}{suffix}.csv", 300, seed, period=period,
                     provinces=[province])


def gate(url: str, run_id: str, full_refresh: bool = False):
    with psycopg.connect(url) as conn:
        cells = suite_cells(conn, {"y_te_sinh": SUITE}, full_refresh)
    return run_suites([SUITE], run_id=run_id, cells=cells)[SUITE]


def comparable(outcome) -> list[tuple]:
    """What a run found: per check, its success and its failures (place, period, messages; for a check of single
    rows, the failing rows and their examples: its message also says how many rows it read)."""
    return [(check.expectation, check.success,
             (check.observed.get("unexpected_count"), [f.rows for f in check.failures])
             if check.expectation_type.startswith("expect_column") else
             sorted((f.admin_code or "", f.period or "", tuple(f.messages)) for f in check.failures))
            for check in outcome.checks]


def checked_cells(url: str, quality_run_id: int):
    with psycopg.connect(url) as conn:
        return conn.execute("select checked_cells from audit.quality_runs where quality_run_id = %s",
                            (quality_run_id,)).fetchone()[0]


def test_a_correction_rechecks_its_cell_and_keeps_the_failures_of_the_others(fresh_warehouse, tmp_path):
    for number, (province, period) in enumerate(CELLS):
        deliver(tmp_path, province, period, seed=number)
    ingest_feed("y_te_sinh", tmp_path, run_id="night-1")
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        # a defect the loader cannot make: a birth of 01's 2025-H1 rows dated in the second half-year
        conn.execute("""update raw.y_te_sinh set birth_date = date '2025-09-01'
                         where ctid = (select ctid from raw.y_te_sinh
                                        where province_code = '01' and period_key = '2025-H1' limit 1)""")
    first = gate(fresh_warehouse, "night-1")
    assert checked_cells(fresh_warehouse, first.quality_run_id) is None  # no earlier run: the whole table
    (failed,) = [check for check in first.checks if not check.success]
    assert failed.expectation == "period_key and admin_vintage follow the birth date"
    assert [(f.admin_code, f.period) for f in failed.failures] == [("01", "2025-H1")]

    deliver(tmp_path, "15", "2025-H2", seed=99, suffix="_r2")  # a correction of one cell
    ingest_feed("y_te_sinh", tmp_path, run_id="night-2")
    second = gate(fresh_warehouse, "night-2")
    assert checked_cells(fresh_warehouse, second.quality_run_id) == ["15|2025-H2"]
    (failed,) = [check for check in second.checks if not check.success]
    assert [(f.admin_code, f.period) for f in failed.failures] == [("01", "2025-H1")]  # kept from night 1
    assert failed.observed["failures_kept_from_quality_run"] == first.quality_run_id

    whole = gate(fresh_warehouse, "night-2-whole", full_refresh=True)
    assert checked_cells(fresh_warehouse, whole.quality_run_id) is None
    assert comparable(second) == comparable(whole)


def test_a_correction_that_breaks_its_own_cell_fails_there_only(fresh_warehouse, tmp_path):
    for number, (province, period) in enumerate(CELLS):
        deliver(tmp_path, province, period, seed=number)
    ingest_feed("y_te_sinh", tmp_path, run_id="night-1")
    assert gate(fresh_warehouse, "night-1").passed

    deliver(tmp_path, "01", "2025-H2", seed=42, suffix="_r2")
    ingest_feed("y_te_sinh", tmp_path, run_id="night-2")
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        # the correction's rows break a row check and the cell check (written after the load: the loader refuses both)
        conn.execute("""update raw.y_te_sinh set birth_date = date '2025-03-01', sex = null
                         where ctid = (select ctid from raw.y_te_sinh
                                        where source_file like '%\\_r2.csv' and superseded_by_batch is null limit 1)""")
    second = gate(fresh_warehouse, "night-2")
    assert checked_cells(fresh_warehouse, second.quality_run_id) == ["01|2025-H2"]
    failed = {check.expectation: check for check in second.checks if not check.success}
    assert [(f.admin_code, f.period) for f in
            failed["period_key and admin_vintage follow the birth date"].failures] == [("01", "2025-H2")]
    (message,) = failed["sex is present"].messages  # a check of single rows, on the changed cell's rows
    assert "1 of 300 rows of the 1 changed cell(s), e.g. source_file=y_te_sinh_01_2025-H2_r2.csv" in message
    assert comparable(second) == comparable(gate(fresh_warehouse, "night-2-whole", full_refresh=True))

    # the failure of single rows is not per cell: the next night checks the whole table again
    deliver(tmp_path, "15", "2025-H1", seed=43, suffix="_r2")
    ingest_feed("y_te_sinh", tmp_path, run_id="night-3")
    third = gate(fresh_warehouse, "night-3")
    assert checked_cells(fresh_warehouse, third.quality_run_id) is None
