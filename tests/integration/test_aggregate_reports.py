"""Issue 14: the aggregate-report feed (bao_cao_tong_hop) round-trips: `make template` writes the workbook, a
person fills it in Excel (here openpyxl), it is dropped in the landing folder and loads through the same
loader, rules, quarantine and audit as every feed, as the loader role. Impossible figures are quarantined
with the file, line, column and reason; a row left empty is a commune that has not reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import psycopg
import pytest

from ingest.template import DATA_SHEET, HEADER_ROW, HEADERS, file_name
from pipeline import steps
from synthetic.dan_so import generate_population_feed

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]
PROVINCE, YEAR = "15", 2025
COLUMN = {header: index + 1 for index, header in enumerate(HEADERS)}  # openpyxl columns are 1-based


def _fill(sheet, row: int, **figures) -> None:
    for header, value in figures.items():
        sheet.cell(row=row, column=COLUMN[header], value=value)


FULL = {"Số thôn, tổ dân phố": 12, "Số thôn, tổ dân phố có điểm văn hóa, thể thao cho trẻ em": 5,
        "Xã có điểm vui chơi cho trẻ em": "Có", "Số trẻ em từ 7 tuổi trở lên được lấy ý kiến": 3,
        "Số trẻ em được trang bị kiến thức, kỹ năng an toàn trên môi trường mạng": 2, "Số trường hợp tảo hôn": 0,
        "Số trẻ em bị tai nạn, thương tích không tử vong": 1, "Xã được công nhận phù hợp với trẻ em": "Có",
        "Số quyết định công nhận": "123/QĐ-UBND", "Năm công nhận": 2023}


def test_the_template_round_trips_and_impossible_figures_are_quarantined(fresh_warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    monkeypatch.setenv("LANDING_DIR", str(landing))
    generate_population_feed(landing, scale=0.01, seed=3, years=(YEAR,), provinces=[PROVINCE])
    templates = tmp_path / "templates"
    made = subprocess.run([sys.executable, "-m", "ingest", "template", "--year", str(YEAR), "--out", str(templates),
                           "--province", PROVINCE], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert "1 workbook(s)" in made.stdout
    path = templates / str(YEAR) / file_name(PROVINCE, YEAR)

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [DATA_SHEET, "Hướng dẫn"]
    sheet = book[DATA_SHEET]
    first = HEADER_ROW + 2  # Excel row of the first commune (the header is on row HEADER_ROW + 1)
    assert [cell.value for cell in sheet[HEADER_ROW + 1]] == list(HEADERS)
    communes = [sheet.cell(row=row, column=COLUMN["Mã xã"]).value for row in range(first, sheet.max_row + 1)]
    assert len(communes) > 10 and all(len(code) == 5 for code in communes)
    assert {v.type for v in sheet.data_validations.dataValidation} >= {"whole", "list", "custom", "textLength"}

    _fill(sheet, first, **FULL)                                                  # valid, recognised
    _fill(sheet, first + 1, **{**FULL, "Xã được công nhận phù hợp với trẻ em": "Không",
                               "Số quyết định công nhận": None, "Năm công nhận": None})  # valid
    _fill(sheet, first + 2, **{**FULL, "Số thôn, tổ dân phố có điểm văn hóa, thể thao cho trẻ em": 13})
    _fill(sheet, first + 3, **{**FULL, "Số trường hợp tảo hôn": None})           # a blank among figures
    _fill(sheet, first + 4, **{**FULL, "Số trẻ em từ 7 tuổi trở lên được lấy ý kiến": 100_000})  # more than the children
    _fill(sheet, first + 5, **{**FULL, "Số quyết định công nhận": None})          # recognised without a decision
    sheet.delete_rows(sheet.max_row)  # a commune's row deleted from the template: the raw suite warns
    communes = communes[:-1]
    delivered = landing / "bao_cao_tong_hop" / path.name
    delivered.parent.mkdir(parents=True)
    book.save(delivered)

    steps.ingest("dan_so", "i14-template")
    loaded = steps.ingest("bao_cao_tong_hop", "i14-template")
    assert loaded["rows_loaded"] == len(communes) - 4 and loaded["rows_quarantined"] == 4

    with psycopg.connect(fresh_warehouse) as conn:
        rows = {code: (reported, villages, facilities, play, friendly, decision, year) for
                code, reported, villages, facilities, play, friendly, decision, year in conn.execute(
                    """select commune_code, is_reported, villages, villages_with_child_facilities, has_play_point,
                              is_child_friendly, recognition_decision, recognition_year
                         from raw.bao_cao_tong_hop""")}
        quarantined = conn.execute(
            """select line_number, column_name, reason from quarantine.rejected_rows
                where feed = 'bao_cao_tong_hop' order by line_number""").fetchall()
        batch = conn.execute("select rows_read, rows_loaded, rows_quarantined from audit.load_batches"
                             " where feed = 'bao_cao_tong_hop'").fetchone()
    assert rows[communes[0]] == (True, 12, 5, True, True, "123/QĐ-UBND", 2023)
    assert rows[communes[1]] == (True, 12, 5, True, False, None, None)
    assert sum(1 for row in rows.values() if not row[0]) == len(communes) - 6  # the rows left empty: not reported
    assert batch == (len(communes), len(communes) - 4, 4)
    assert [(line, column) for line, column, _ in quarantined] == [
        (first + 2, "Số thôn, tổ dân phố có điểm văn hóa, thể thao cho trẻ em"),
        (first + 3, "Số trường hợp tảo hôn"),
        (first + 4, "Số trẻ em từ 7 tuổi trở lên được lấy ý kiến"),
        (first + 5, "Số quyết định công nhận")]
    reasons = [reason for _, _, reason in quarantined]
    assert reasons[0] == "13 villages with a children's facility, more than the commune's 12 villages"
    assert reasons[1].startswith("the commune's row is incomplete (Số trường hợp tảo hôn empty)")
    assert reasons[2].startswith("100000 child(ren), more than the commune's ") and "aged 7–15" in reasons[2]
    assert reasons[3] == "a commune recognised as child-friendly needs the decision number and its year"

    steps.load_reference()
    steps.validate(["raw_bao_cao_tong_hop"], "i14-template")
    with psycopg.connect(fresh_warehouse) as conn:
        results = conn.execute(
            """select expectation, severity, success, admin_code, period, message from audit.quality_results
                where run_id = 'i14-template' and suite = 'raw_bao_cao_tong_hop' and not success""").fetchall()
    assert [(severity, code, period) for _, severity, _, code, period, _ in results] == [("warning", PROVINCE, str(YEAR))]
    assert f"has {len(communes)} rows for the province's {len(communes) + 1} communes" in results[0][5]
