"""The loader against hostile deliveries (real PostgreSQL): corrections that cannot erase what they do not
carry, a failing file that never stops its feed, batches that never stay `running`, symlinks refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest import loader
from ingest.run import confirm_batch, ingest_feed, retry_batch
from tests.integration.test_loader import HEADER, deliver, query

pytestmark = pytest.mark.integration

ROW = "{id},{day:02d}/{month:02d}/{year},Nam,C,3100,{province},00001,01,CSYT\n"


def births(count: int, *, year=2025, month=2, province="01", prefix="E") -> str:
    return "".join(ROW.format(id=f"{prefix}{i}", day=1 + i % 28, month=month, year=year, province=province)
                   for i in range(count))


def current(url: str) -> list[tuple]:
    return query(url, "select source_file, period_key, count(*) from raw.y_te_sinh where superseded_by_batch is null"
                      " group by 1, 2 order by 1, 2")


def test_misdated_row_of_a_correction_is_quarantined_and_leaves_the_other_period_alone(fresh_warehouse, tmp_path):
    deliver(tmp_path, "y_te_sinh_01_2024-H2.csv", births(40, year=2024, month=9))
    deliver(tmp_path, "y_te_sinh_01_2025-H1.csv", births(30, year=2025, month=3))
    ingest_feed("y_te_sinh", tmp_path)
    # The 2025-H1 correction carries one row dated 15/12/2024.
    deliver(tmp_path, "y_te_sinh_01_2025-H1_v2.csv",
            births(30, year=2025, month=4, prefix="C") + "M1,15/12/2024,Nữ,C,3000,01,00001,01,CSYT\n")
    *_, result = ingest_feed("y_te_sinh", tmp_path)
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("loaded", 31, 30, 1)
    assert result.rows_superseded == 30
    assert current(fresh_warehouse) == [("y_te_sinh_01_2024-H2.csv", "2024-H2", 40),
                                        ("y_te_sinh_01_2025-H1_v2.csv", "2025-H1", 30)]
    (row,) = query(fresh_warehouse, "select line_number, column_name, reason, record->>'event_id'"
                                    " from quarantine.rejected_rows")
    assert row[:2] == (32, "Ngày sinh") and row[3] == "M1"
    assert "2024-H2, outside the delivery's period (2025-H1, as the file name says)" in row[2]
    assert query(fresh_warehouse, "select bool_and(rows_read = rows_loaded + rows_quarantined), count(*)"
                                  " from audit.load_batches") == [(True, 5)]  # 3 files, then 2 skipped


def test_without_a_period_in_the_name_a_stray_row_is_outside_the_delivery(fresh_warehouse, tmp_path):
    deliver(tmp_path, "first.csv", births(40, year=2024, month=9))
    ingest_feed("y_te_sinh", tmp_path)
    deliver(tmp_path, "second.csv", births(60, year=2025, month=2) + births(1, year=2024, month=12, prefix="M"))
    *_, result = ingest_feed("y_te_sinh", tmp_path)
    assert (result.rows_loaded, result.rows_quarantined, result.rows_superseded) == (60, 1, 0)
    assert ("first.csv", "2024-H2", 40) in current(fresh_warehouse)


def test_a_correction_that_would_erase_most_of_a_cell_waits_for_confirmation(fresh_warehouse, tmp_path):
    deliver(tmp_path, "y_te_sinh_01_2025-H1.csv", births(1453))
    ingest_feed("y_te_sinh", tmp_path)
    deliver(tmp_path, "y_te_sinh_01_2025-H1_fix.csv", births(5, prefix="F"))
    *_, result = ingest_feed("y_te_sinh", tmp_path)
    assert (result.status, result.rows_loaded, result.rows_superseded) == ("loaded", 5, 0)
    assert "5 row(s) would replace 1,453" in result.reason and f"make confirm BATCH={result.batch_id}" in result.reason
    assert current(fresh_warehouse) == [("y_te_sinh_01_2025-H1.csv", "2025-H1", 1453)]

    from ingest.supersession import pending_confirmations
    from warehouse.connection import connect

    with connect() as conn:
        assert len(pending_confirmations(conn)) == 1
    lines = confirm_batch(result.batch_id, "Nguyễn Thị Thống Kê")
    assert "1,453 earlier row(s) replaced" in lines[0]
    assert current(fresh_warehouse) == [("y_te_sinh_01_2025-H1_fix.csv", "2025-H1", 5)]
    assert query(fresh_warehouse, "select confirmed_by, awaiting_confirmation from audit.batch_coverage"
                                  " where batch_id = %s", result.batch_id) == [("Nguyễn Thị Thống Kê", False)]
    assert confirm_batch(result.batch_id, "x") == [f"batch {result.batch_id}: nothing waits for confirmation"]


def test_a_newer_delivery_replaces_a_held_correction_too(fresh_warehouse, tmp_path):
    deliver(tmp_path, "y_te_sinh_01_2025-H1.csv", births(100))
    deliver(tmp_path, "y_te_sinh_01_2025-H1_fix.csv", births(3, prefix="F"))
    deliver(tmp_path, "y_te_sinh_01_2025-H1_v3.csv", births(90, prefix="G"))
    ingest_feed("y_te_sinh", tmp_path)
    assert current(fresh_warehouse) == [("y_te_sinh_01_2025-H1_v3.csv", "2025-H1", 90)]


def test_an_exception_fails_one_file_and_the_feed_goes_on(fresh_warehouse, tmp_path, monkeypatch):
    deliver(tmp_path, "a.csv", births(3, prefix="A"))
    deliver(tmp_path, "b-poison.csv", births(3, prefix="B"))
    deliver(tmp_path, "c.csv", births(3, prefix="C", month=8))
    real = loader._stream_into_batch

    def explode_on_poison(conn, spec, path, *args):
        if "poison" in path.name:
            raise MemoryError("simulated: the file exhausted memory")
        return real(conn, spec, path, *args)

    monkeypatch.setattr(loader, "_stream_into_batch", explode_on_poison)
    results = {r.file_name: r for r in ingest_feed("y_te_sinh", tmp_path)}
    assert [results[name].status for name in ("a.csv", "b-poison.csv", "c.csv")] == ["loaded", "failed", "loaded"]
    failed = results["b-poison.csv"]
    assert "b-poison.csv: the loader failed (MemoryError: simulated" in failed.reason

    # The next night does not retry the unchanged file...
    again = {r.file_name: r for r in ingest_feed("y_te_sinh", tmp_path)}
    assert again["b-poison.csv"].status == "skipped"
    assert f"make retry BATCH={failed.batch_id}" in again["b-poison.csv"].reason
    # ...but does on request, once the cause is fixed.
    monkeypatch.setattr(loader, "_stream_into_batch", real)
    retried = retry_batch(failed.batch_id)
    assert (retried.status, retried.rows_loaded) == ("loaded", 3)
    assert query(fresh_warehouse, "select retry_of_batch from audit.load_batches where batch_id = %s",
                 retried.batch_id) == [(failed.batch_id,)]


def test_header_only_is_empty_and_a_file_like_a_rejected_one_says_why(fresh_warehouse, tmp_path):
    deliver(tmp_path, "a-header-only.csv", "")
    folder = tmp_path / "y_te_sinh"
    (folder / "b-legacy.csv").write_bytes(HEADER.encode() + b"E1,01/02/2024,N\xe6,C,,01,00001,01,CSYT\n")
    first = {r.file_name: r for r in ingest_feed("y_te_sinh", tmp_path)}
    assert first["a-header-only.csv"].status == "empty"
    assert first["b-legacy.csv"].status == "rejected"
    (folder / "c-legacy-again.csv").write_bytes((folder / "b-legacy.csv").read_bytes())
    again = {r.file_name: r for r in ingest_feed("y_te_sinh", tmp_path)}
    reason = again["c-legacy-again.csv"].reason
    assert again["c-legacy-again.csv"].status == "skipped"
    assert f"identical to the file rejected in batch {first['b-legacy.csv'].batch_id}: " in reason
    assert "not valid UTF-8" in reason


def test_a_symlink_is_refused_without_reading_its_target(fresh_warehouse, tmp_path):
    secret = tmp_path / "secret.key"
    secret.write_text("TOP-SECRET-KEY-MATERIAL\n")
    folder = tmp_path / "landing" / "y_te_sinh"
    folder.mkdir(parents=True)
    (folder / "births.csv").symlink_to(secret)
    (result,) = ingest_feed("y_te_sinh", tmp_path / "landing")
    assert result.status == "rejected" and "symbolic link" in result.reason
    assert "TOP-SECRET" not in str(query(fresh_warehouse, "select * from audit.load_batches"))
    (again,) = ingest_feed("y_te_sinh", tmp_path / "landing")
    assert again.status == "skipped"


def test_a_batch_whose_process_died_is_interrupted_and_the_file_loads_again(fresh_warehouse, tmp_path):
    """kill -9 of the loader in the middle of its COPY; the rerun gives the rows of a clean load."""
    rows = 400_000
    deliver(tmp_path, "y_te_sinh_01_2025-H1.csv", births(rows))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen([sys.executable, "-m", "ingest", "y_te_sinh", "--landing", str(tmp_path)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until its batch is open and copying
        if query(fresh_warehouse, "select count(*) from audit.load_batches where status = 'running'")[0][0]:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert query(fresh_warehouse, "select status from audit.load_batches") == [("running",)]

    (result,) = ingest_feed("y_te_sinh", tmp_path)
    assert (result.status, result.rows_loaded) == ("loaded", rows)
    assert query(fresh_warehouse, "select status, rows_read from audit.load_batches order by batch_id") \
        == [("interrupted", 0), ("loaded", rows)]
    assert query(fresh_warehouse, "select count(*), count(distinct event_id) from raw.y_te_sinh") == [(rows, rows)]


def test_an_unchanged_file_is_not_read_again_and_a_file_rewritten_in_place_is(fresh_warehouse, tmp_path, monkeypatch):
    path = deliver(tmp_path, "y_te_sinh_01_2025-H1.csv", births(20))
    ingest_feed("y_te_sinh", tmp_path)
    hashed = []
    real_sha256 = loader.file_sha256
    monkeypatch.setattr(loader, "file_sha256", lambda p: hashed.append(p.name) or real_sha256(p))

    (quiet,) = ingest_feed("y_te_sinh", tmp_path)  # a quiet night: the file's stat signature is known
    assert quiet.status == "skipped" and hashed == []

    # The same name, the same size and the same modification time, other bytes: its change time moved.
    stat = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("E1,", "F1,"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    (rewritten,) = ingest_feed("y_te_sinh", tmp_path)
    assert hashed == [path.name] and rewritten.status == "loaded" and rewritten.rows_superseded == 20
