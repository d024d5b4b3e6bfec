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


def test_an_excel_export_with_a_title_block_loads_like_its_csv(warehouse, tmp_path):
    import datetime as dt

    import xlsxwriter

    folder = tmp_path / "giao_duc_hoc_sinh"
    folder.mkdir()
    book = xlsxwriter.Workbook(str(folder / "truong.xlsx"))
    sheet = book.add_worksheet("DS")
    sheet.merge_range(0, 0, 0, 6, "BỘ GIÁO DỤC VÀ ĐÀO TẠO")
    sheet.write(1, 0, "DANH SÁCH HỌC SINH — Năm học 2024-2025")
    header = HEADER.strip().split(",")
    sheet.write_row(3, 0, header)  # row 3 is blank
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    # Codes stored as numbers (province 1, commune 1, ethnicity 1, status 1); a real date cell and a text date.
    sheet.write_row(4, 0, ["2024-2025", "01001-TH-01", "TH", 3, "HS1", "001215001234", "Trần Thị Bình"])
    sheet.write_datetime(4, 7, dt.datetime(2016, 5, 12), dates)
    sheet.write_row(4, 8, ["Nữ", 1, 1, 1, 1])
    sheet.write_datetime(4, 13, dt.datetime(2024, 9, 5), dates)
    sheet.write_row(4, 14, ["", "K"])
    sheet.write_row(5, 0, ["2024-2025", "01001-TH-01", "TH", 3, "HS2", "", "Lê Văn Cường", "31/02/2016", "Nam",
                           "01", "01", "00001", "01", "05/09/2024", "", "K"])
    book.close()

    (result,) = ingest_feed("giao_duc_hoc_sinh", tmp_path)
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("loaded", 2, 1, 1)
    with psycopg.connect(warehouse) as conn:
        loaded = conn.execute("select line_number, birth_date::text, province_code, commune_code, ethnicity_code,"
                              " status_code from raw.giao_duc_hoc_sinh").fetchone()
        bad = conn.execute("select line_number, column_name, reason from quarantine.rejected_rows").fetchone()
    assert loaded == (5, "2016-05-12", "01", "00001", "01", "01")  # Excel row 5, codes re-padded
    assert bad == (6, "Ngày sinh", "date '31/02/2016' does not exist")
