"""The student feed below dbt: load with pseudonyms and quarantine, and its quality suite, against a
real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from ingest.geography import REFERENCE_DIR
from ingest.pseudonymise import pseudonymisation_key
from ingest.run import ingest_feed
from quality import run_suites

pytestmark = pytest.mark.integration

HEADER = ("Năm học,Mã trường,Cấp học,Khối,Mã học sinh,Mã định danh,Họ và tên,Ngày sinh,Giới tính,Mã dân tộc,"
          "Mã tỉnh,Mã xã,Trạng thái,Ngày trạng thái,Mã lý do thôi học,Khuyết tật\n")


def row(student: str, year: str = "2024-2025", status: str = "01", reason: str = "", commune: str = "00001",
        province: str = "01", personal_id: str = "001215001234") -> str:
    return (f"{year},01001-TH-01,TH,3,{student},{personal_id},Nguyễn Văn An,12/05/2016,Nam,01,{province},{commune},"
            f"{status},05/09/{year[:4]},{reason},K\n")


@pytest.fixture
def warehouse(fresh_warehouse, monkeypatch):
    monkeypatch.setenv("PSEUDONYMISATION_KEY", "test-key-" + "x" * 32)
    pseudonymisation_key.cache_clear()
    with psycopg.connect(fresh_warehouse) as conn:
        conn.execute("create schema reference")
        path = REFERENCE_DIR / "province_conversion_2025.csv"
        conn.execute("create table reference.province_conversion_2025 (old_province_code text, "
                     "old_province_name text, new_province_code text, new_province_name text)")
        with conn.cursor().copy("copy reference.province_conversion_2025 from stdin (format csv, header true)") as copy:
            copy.write(path.read_bytes())
    yield fresh_warehouse
    pseudonymisation_key.cache_clear()


def deliver(tmp_path, name: str, *rows: str) -> None:
    folder = tmp_path / "giao_duc_hoc_sinh"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(HEADER + "".join(rows), encoding="utf-8")


def test_students_load_with_pseudonyms_and_names_stay_in_raw(warehouse, tmp_path):
    deliver(tmp_path, "hn.csv", row("HS1"), row("HS2", status="05", reason=""), row("HS3", personal_id=""))
    (result,) = ingest_feed("giao_duc_hoc_sinh", tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    with psycopg.connect(warehouse) as conn:
        ids = conn.execute("select personal_id_pseudonym from raw.giao_duc_hoc_sinh order by student_code").fetchall()
        quarantined = conn.execute("select column_name, reason, record::text from quarantine.rejected_rows").fetchone()
        key = conn.execute("select pseudonymisation_key_id from audit.load_batches").fetchone()[0]
    assert len(ids[0][0]) == 64 and ids[1][0] is None
    assert quarantined[:2] == ("Mã lý do thôi học", "a reason is required when Trạng thái is 05 (thôi học)")
    assert "001215001234" not in quarantined[2]  # the record keeps the pseudonym only
    assert key is not None and len(key) == 12
    assert run_suites(["raw_giao_duc_hoc_sinh"]).passed


def test_a_student_delivered_twice_fails_naming_province_and_school_year(warehouse, tmp_path):
    deliver(tmp_path, "hn.csv", row("HS1"), row("HS1"))
    ingest_feed("giao_duc_hoc_sinh", tmp_path)
    outcome = run_suites(["raw_giao_duc_hoc_sinh"])
    assert outcome.blocked
    assert any(m.startswith("error: one row per student per school and school year") and "province 01" in m
               and "2024-2025" in m for m in outcome.messages)


def test_a_province_missing_the_next_school_year_is_reported(warehouse, tmp_path):
    # Hà Nội and Lào Cai (old 10 → new 15) deliver 2024-2025; only Hà Nội delivers 2025-2026.
    deliver(tmp_path, "a.csv", row("HS1"), row("HS2", province="10", commune="02644"))
    deliver(tmp_path, "b.csv", row("HS1", year="2025-2026", commune="00004"))
    ingest_feed("giao_duc_hoc_sinh", tmp_path)
    outcome = run_suites(["raw_giao_duc_hoc_sinh"])
    assert outcome.passed
    warnings = [m for m in outcome.messages if m.startswith("warning: every province that reported")]
    assert len(warnings) == 1 and "province 15" in warnings[0] and "2025-2026" in warnings[0]
