"""The loader against a real PostgreSQL: COPY into raw, quarantine, audit accounting, re-delivery,
supersession and whole-file rejection."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest

from ingest.run import ingest_feed

pytestmark = pytest.mark.integration

HEADER = "Mã sự kiện,Ngày sinh,Giới tính,Sinh sống,Cân nặng (g),Mã tỉnh,Mã xã,Mã dân tộc mẹ,Nơi sinh\n"


def deliver(landing: Path, name: str, body: str, feed: str = "y_te_sinh", header: str = HEADER) -> Path:
    folder = landing / feed
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(header + body, encoding="utf-8")
    # Delivery order is file time order: make each new file strictly newer.
    stamp = time.time() + len(list(folder.iterdir()))
    os.utime(path, (stamp, stamp))
    return path


def query(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_rows_are_copied_with_batch_metadata_and_every_row_is_accounted_for(fresh_warehouse, tmp_path):
    deliver(tmp_path, "hn_2024h1.csv",
            "E1,01/02/2024,Nam,C,3100,01,00001,01,CSYT\n"
            "E2,31/02/2024,Nữ,C,,01,00001,01,CSYT\n"
            "E3,03/02/2024,Nữ,K,,1,1,1,NHA\n")
    (result,) = ingest_feed("y_te_sinh", tmp_path, run_id="run-1")
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("loaded", 3, 2, 1)

    batch = query(fresh_warehouse, "select feed, file_name, file_sha256, rows_read, rows_loaded, rows_quarantined,"
                                   " status, run_id from audit.load_batches")
    assert batch[0][:2] == ("y_te_sinh", "hn_2024h1.csv") and len(batch[0][2]) == 64
    assert batch[0][3:] == (3, 2, 1, "loaded", "run-1")

    raw = query(fresh_warehouse, "select batch_id, source_file, file_sha256, loaded_at is not null, line_number, event_id,"
                                 " birth_date::text, province_code, commune_code from raw.y_te_sinh order by line_number")
    assert [(r[1], r[4], r[5], r[6], r[7], r[8]) for r in raw] == [
        ("hn_2024h1.csv", 2, "E1", "2024-02-01", "01", "00001"),
        ("hn_2024h1.csv", 4, "E3", "2024-02-03", "01", "00001"),
    ]
    assert all(r[2] == batch[0][2] and r[3] for r in raw)

    (bad,) = query(fresh_warehouse, "select feed, file_name, line_number, column_name, reason, record->>'Ngày sinh'"
                                    " from quarantine.rejected_rows")
    assert bad == ("y_te_sinh", "hn_2024h1.csv", 3, "Ngày sinh", "date '31/02/2024' does not exist", "31/02/2024")


def test_identical_re_delivery_under_another_name_is_skipped(fresh_warehouse, tmp_path):
    body = "E1,01/02/2024,Nam,C,3100,01,00001,01,CSYT\n"
    deliver(tmp_path, "first.csv", body)
    ingest_feed("y_te_sinh", tmp_path)
    deliver(tmp_path, "copy-of-first.csv", body)
    results = ingest_feed("y_te_sinh", tmp_path)
    assert [(r.file_name, r.status) for r in results] == [("first.csv", "skipped"), ("copy-of-first.csv", "skipped")]
    assert query(fresh_warehouse, "select count(*) from raw.y_te_sinh") == [(1,)]
    statuses = query(fresh_warehouse, "select status, duplicate_of_batch is not null from audit.load_batches order by batch_id")
    assert statuses == [("loaded", False), ("skipped", True), ("skipped", True)]


def test_newer_file_for_same_province_and_period_supersedes_the_older(fresh_warehouse, tmp_path):
    deliver(tmp_path, "v1.csv", "E1,01/02/2024,Nam,C,,01,00001,01,CSYT\nE2,01/03/2024,Nam,C,,01,00001,01,CSYT\n"
                                "E3,01/08/2024,Nam,C,,01,00001,01,CSYT\n")
    ingest_feed("y_te_sinh", tmp_path)
    # The correction covers Hà Nội 2024-H1 only: H2 rows of the first file stay current.
    deliver(tmp_path, "v2-correction.csv", "E1,01/02/2024,Nữ,C,,01,00001,01,CSYT\n")
    results = ingest_feed("y_te_sinh", tmp_path)
    assert results[-1].rows_superseded == 2
    current = query(fresh_warehouse, "select event_id, sex, source_file from raw.y_te_sinh"
                                     " where superseded_by_batch is null order by event_id")
    assert current == [("E1", "female", "v2-correction.csv"), ("E3", "male", "v1.csv")]
    assert query(fresh_warehouse, "select count(*) from raw.y_te_sinh") == [(4,)]  # nothing deleted


def test_unreadable_file_is_a_rejected_batch_and_the_run_goes_on(fresh_warehouse, tmp_path):
    folder = tmp_path / "y_te_sinh"
    folder.mkdir()
    (folder / "a-legacy.csv").write_bytes(HEADER.encode() + b"E1,01/02/2024,N\xe6,C,,01,00001,01,CSYT\n")
    deliver(tmp_path, "b-no-date.csv", "E1,Nam\n", header="Mã sự kiện,Giới tính\n")
    deliver(tmp_path, "c-good.csv", "E1,01/02/2024,Nam,C,,01,00001,01,CSYT\n")
    results = {r.file_name: r for r in ingest_feed("y_te_sinh", tmp_path)}
    assert results["a-legacy.csv"].status == "rejected"
    assert "not valid UTF-8 at line 2" in results["a-legacy.csv"].reason
    assert results["b-no-date.csv"].status == "rejected"
    assert "missing required column(s) 'Ngày sinh'" in results["b-no-date.csv"].reason
    assert results["c-good.csv"].status == "loaded"
    # A rejected file leaves nothing half-loaded.
    assert query(fresh_warehouse, "select source_file, count(*) from raw.y_te_sinh group by 1") == [("c-good.csv", 1)]
    reasons = query(fresh_warehouse, "select file_name, status, reason is not null from audit.load_batches order by file_name")
    assert reasons == [("a-legacy.csv", "rejected", True), ("b-no-date.csv", "rejected", True), ("c-good.csv", "loaded", False)]


def test_large_file_streams_in_chunks_and_accounting_holds(fresh_warehouse, tmp_path, monkeypatch):
    from ingest import readers

    monkeypatch.setattr(readers, "BLOCK_BYTES", 4096)  # force many blocks on a small file
    rows = "".join(f"E{i},{1 + i % 28:02d}/03/2024,{'Nam' if i % 2 else 'Nữ'},C,,01,00001,01,CSYT\n" for i in range(1000))
    bad = "".join(f"X{i},31/02/2024,Nam,C,,01,00001,01,CSYT\n" for i in range(37))
    deliver(tmp_path, "big.csv", rows + bad)
    (result,) = ingest_feed("y_te_sinh", tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (1037, 1000, 37)
    assert query(fresh_warehouse, "select count(*) from raw.y_te_sinh") == [(1000,)]
    assert query(fresh_warehouse, "select count(*) from quarantine.rejected_rows") == [(37,)]


def test_raw_tables_carry_column_comments(fresh_warehouse):
    comments = query(fresh_warehouse, """
        select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a
         where a.attrelid = 'raw.y_te_tu_vong'::regclass and a.attnum > 0 and not a.attisdropped""")
    assert comments and all(description for _, description in comments)
