"""The XLSX reader: header row under a title block, Excel cells as the parsers' text, Excel row numbers."""

from __future__ import annotations

import unicodedata
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
import xlsxwriter

import ingest.feeds  # noqa: F401  registers the feeds
from ingest import readers
from ingest.geography import admin_units
from ingest.readers import EmptyFile, UnreadableFile, XlsxSource, cell_text, reader_for
from ingest.spec import FEEDS
from ingest.text import header_key
from ingest.validate import RecordValidator

BIRTH_HEADER = ["Mã sự kiện", "Ngày sinh", "Giới tính", "Sinh sống", "Cân nặng (g)", "Mã tỉnh", "Mã xã",
                "Mã dân tộc mẹ", "Nơi sinh"]
# As Excel holds a birth: a real date cell, numbers for the weight and the codes (leading zeros lost).
EXCEL_BIRTH = ["E1", date(2024, 2, 1), "Nam", "C", 3100, 1, 1, 1, "CSYT"]
TEXT_BIRTH = ["E1", "01/02/2024", "Nam", "C", "3100", "1", "1", "1", "CSYT"]


def write_xlsx(path: Path, rows: list[list | None], *, merges=(),
               sheets: dict[str, list[list]] | None = None, first_column: int = 0) -> Path:
    """One row per list (None: no row at all in the file); None cells are not written. `merges` are
    (first_row, first_col, last_row, last_col, text), 0-based, as a title block is laid out."""
    workbook = xlsxwriter.Workbook(str(path))
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    day_time = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    clock = workbook.add_format({"num_format": "hh:mm"})
    for name, content in {"Danh sách": rows, **(sheets or {})}.items():
        sheet = workbook.add_worksheet(name)
        for row, cells in enumerate(content):
            for column, value in enumerate(cells or [], start=first_column):
                if value is None:
                    continue
                if isinstance(value, datetime):
                    sheet.write_datetime(row, column, value, day_time)
                elif isinstance(value, date):
                    sheet.write_datetime(row, column, value, day)
                elif isinstance(value, time):
                    sheet.write_datetime(row, column, value, clock)
                elif isinstance(value, bool):
                    sheet.write_boolean(row, column, value)
                elif isinstance(value, (int, float)):
                    sheet.write_number(row, column, value)
                else:
                    sheet.write_string(row, column, value)
        if name == "Danh sách":
            for first_row, first_col, last_row, last_col, text in merges:
                sheet.merge_range(first_row, first_col, last_row, last_col, text)
    workbook.close()
    return path


def title_block(height: int) -> tuple[list[list | None], list[tuple]]:
    """Rows and merged cells of a title block `height` rows high, like a real export's."""
    lines = ["SỞ Y TẾ THÀNH PHỐ HÀ NỘI", "SỔ ĐĂNG KÝ SINH", "Năm 2024", None,
             "Trạm y tế: Phường Phúc Xá", None, "Ngày xuất", None, "Đơn vị báo cáo: trạm y tế xã",
             "Kỳ báo cáo: 6 tháng đầu năm", None, "Ghi chú: số liệu sơ bộ"]
    rows: list[list | None] = []
    merges = []
    for index in range(height):
        text = lines[index % len(lines)]
        if text is None:
            rows.append(None)  # a blank row
        elif index < 3:
            rows.append(None)  # written by the merge below
            merges.append((index, 0, index, len(BIRTH_HEADER) - 1, text))
        elif text == "Ngày xuất":
            rows.append([text, date(2024, 7, 2)])  # a label and a real date cell
        else:
            rows.append([text])
    return rows, merges


def read_all(source: XlsxSource) -> tuple[list[tuple[int, list[str]]], list[readers.MalformedRecord]]:
    records, malformed = [], []
    for chunk in source.chunks():
        records += [(int(line), chunk.record(i)) for i, line in enumerate(chunk.lines)]
        malformed += chunk.malformed
    return records, malformed


def births_validator(header: list[str], file_name: str = "births.xlsx") -> RecordValidator:
    return RecordValidator(FEEDS["y_te_sinh"], header, admin_units(), file_name)


@pytest.mark.parametrize("height", [0, 3, 12])
def test_the_header_is_found_under_a_title_block_of_any_height(tmp_path, height):
    rows, merges = title_block(height)
    path = write_xlsx(tmp_path / "births.xlsx", rows + [BIRTH_HEADER, EXCEL_BIRTH, TEXT_BIRTH], merges=merges)
    source = XlsxSource(path)
    assert source.header == BIRTH_HEADER
    assert source.header_row == height + 1
    records, malformed = read_all(source)
    assert malformed == []
    expected = ["E1", "01/02/2024", "Nam", "C", "3100", "1", "1", "1", "CSYT"]
    assert records == [(height + 2, expected), (height + 3, expected)]


def test_an_xlsx_file_gets_the_xlsx_reader():
    assert reader_for(Path("Danh sach hoc sinh.XLSX")) is XlsxSource
    assert reader_for(Path("births.csv")) is readers.CsvSource


def test_the_hint_picks_the_row_holding_the_expected_columns(tmp_path):
    legend = ["Chú thích:", "C = sống", "K = chết", "CSYT = cơ sở y tế", "NHA = tại nhà", "KHAC = khác",
              "Nam", "Nữ", "Không xác định", "(1)", "(2)"]  # more text cells than the header has
    path = write_xlsx(tmp_path / "births.xlsx", [["SỔ ĐĂNG KÝ SINH"], legend, None, BIRTH_HEADER, EXCEL_BIRTH])
    assert XlsxSource(path).header == legend  # without a hint: the row with the most text cells
    source = XlsxSource(path, expected_headers={header_key(h) for h in BIRTH_HEADER})
    assert (source.header_row, source.header) == (4, BIRTH_HEADER)
    assert read_all(source)[0] == [(5, ["E1", "01/02/2024", "Nam", "C", "3100", "1", "1", "1", "CSYT"])]


def test_a_hint_that_no_row_matches_falls_back_to_the_text_cell_count(tmp_path):
    path = write_xlsx(tmp_path / "births.xlsx", [["SỔ ĐĂNG KÝ SINH"], BIRTH_HEADER, EXCEL_BIRTH])
    source = XlsxSource(path, expected_headers={"năm học", "mã trường", "cấp học"})
    assert source.header_row == 2  # the validator then names the missing columns


def test_nfd_header_is_kept_as_delivered_and_matches_downstream(tmp_path):
    nfd = [unicodedata.normalize("NFD", h) for h in BIRTH_HEADER]
    assert nfd != BIRTH_HEADER
    rows, merges = title_block(3)
    path = write_xlsx(tmp_path / "births.xlsx", rows + [nfd, EXCEL_BIRTH], merges=merges)
    source = XlsxSource(path, expected_headers={header_key(h) for h in BIRTH_HEADER})  # NFC keys find NFD cells
    assert source.header == nfd  # as delivered: matching is the validator's job
    validator = births_validator(source.header)
    chunk, = source.chunks()
    checked = validator.check_columns(chunk.columns)
    assert checked.errors == {}
    assert checked.columns["birth_date"].to_pylist() == ["2024-02-01"]


def test_real_date_cells_and_text_dates_in_one_column_are_day_month_year(tmp_path):
    rows = [["Mã", "Ngày"], ["a", date(2015, 3, 2)], ["b", "01/02/2024"], ["c", datetime(2024, 9, 5, 8, 30)],
            ["d", datetime(1999, 12, 31)], ["e", "2/1/2024"], ["f", date(1900, 3, 1)]]
    records, _ = read_all(XlsxSource(write_xlsx(tmp_path / "dates.xlsx", rows)))
    assert [cells[1] for _, cells in records] == ["02/03/2015", "01/02/2024", "05/09/2024", "31/12/1999",
                                                  "2/1/2024", "01/03/1900"]


def test_numbers_become_their_digits(tmp_path):
    rows = [["Mã tỉnh", "Mã xã", "Mã định danh", "Cân nặng", "Tỉ lệ", "Cờ", "Giờ"],
            [1, 1234, 31215001234, 3100.0, 1.5, True, time(8, 30)],
            [79, 26734, 123456789012, -0.0, 0.1, False, None]]
    records, _ = read_all(XlsxSource(write_xlsx(tmp_path / "codes.xlsx", rows)))
    assert [cells for _, cells in records] == [
        ["1", "1234", "31215001234", "3100", "1.5", "TRUE", "08:30:00"],
        ["79", "26734", "123456789012", "0", "0.1", "FALSE", ""],
    ]


@pytest.mark.parametrize("value,text", [
    (1.0, "1"), (1234.0, "1234"), (31215001234.0, "31215001234"), (123456789012.0, "123456789012"),
    (1e20, "100000000000000000000"), (1.5, "1.5"), (0.1 + 0.2, "0.30000000000000004"), (-3.0, "-3"),
    (7, "7"), (True, "TRUE"), (False, "FALSE"), ("  01 ", "  01 "), ("", ""), (None, ""),
    (date(2015, 3, 2), "02/03/2015"), (datetime(2024, 9, 5, 23, 59), "05/09/2024"), (time(8, 30), "08:30:00"),
])
def test_cell_text(value, text):
    """What each kind of cell value becomes (upstream python-calamine gives floats for every number)."""
    assert cell_text(value) == text


def test_blank_rows_are_not_records_and_lines_are_excel_rows(tmp_path):
    rows, merges = title_block(3)
    body = [BIRTH_HEADER, EXCEL_BIRTH, None, None, TEXT_BIRTH, ["", "", ""], EXCEL_BIRTH[:3]]
    path = write_xlsx(tmp_path / "births.xlsx", rows + body, merges=merges)
    records, malformed = read_all(XlsxSource(path))
    assert [line for line, _ in records] == [5, 8, 10]  # rows 6-7 absent, row 9 holds only empty strings
    assert records[2][1] == ["E1", "01/02/2024", "Nam", "", "", "", "", "", ""]  # a short row is padded
    assert malformed == []


def test_lines_stay_right_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    body = [BIRTH_HEADER] + [[f"E{i}", *EXCEL_BIRTH[1:]] if i % 3 else None for i in range(1, 10)]
    source = XlsxSource(write_xlsx(tmp_path / "births.xlsx", body))
    sizes = [chunk.size for chunk in source.chunks()]
    records, _ = read_all(source)  # chunks() can be read again: it opens the file anew
    assert sizes == [2, 2, 2]
    assert [(line, cells[0]) for line, cells in records] == [(2, "E1"), (3, "E2"), (5, "E4"), (6, "E5"),
                                                             (8, "E7"), (9, "E8")]


def test_a_row_longer_than_the_header_is_malformed(tmp_path):
    path = write_xlsx(tmp_path / "births.xlsx", [["Sổ sinh"], BIRTH_HEADER, EXCEL_BIRTH + [None, "stray"],
                                                 EXCEL_BIRTH + ["", None]])
    records, malformed = read_all(XlsxSource(path))
    assert [line for line, _ in records] == [4]  # empty cells past the header are no problem
    bad, = malformed
    assert (bad.line, bad.reason) == (3, "the row has 11 cells but the header has 9")
    assert bad.cells == ["E1", "01/02/2024", "Nam", "C", "3100", "1", "1", "1", "CSYT", "", "stray"]
    record = births_validator(BIRTH_HEADER).record_as_dict(bad.cells)
    assert record["(cells beyond the header)"] == ["", "stray"]


def test_a_table_may_start_right_of_column_a(tmp_path):
    path = write_xlsx(tmp_path / "births.xlsx", [["SỔ ĐĂNG KÝ SINH"], None, BIRTH_HEADER, EXCEL_BIRTH],
                      first_column=2)
    source = XlsxSource(path)
    assert source.header == BIRTH_HEADER
    records, _ = read_all(source)
    assert records == [(4, ["E1", "01/02/2024", "Nam", "C", "3100", "1", "1", "1", "CSYT"])]


def test_a_value_left_of_the_header_is_malformed(tmp_path):
    rows = [[None, None, *BIRTH_HEADER], [None, None, *EXCEL_BIRTH], ["lạc", None, *EXCEL_BIRTH]]
    records, malformed = read_all(XlsxSource(write_xlsx(tmp_path / "births.xlsx", rows)))
    assert [line for line, _ in records] == [2]
    bad, = malformed
    assert bad.line == 3
    assert bad.reason == "the row has a value ('lạc') in column A, left of the header, which starts in column C"
    assert bad.cells[0] == "E1"  # aligned with the header


def test_error_cells_arrive_as_their_text(tmp_path):
    path = tmp_path / "errors.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Mã", "Ngày sinh"])
    sheet.write_string(1, 0, "E1")
    sheet.write_formula(1, 1, "=NA()", None, "#N/A")
    workbook.close()
    records, _ = read_all(XlsxSource(path))
    assert records == [(2, ["E1", "#N/A"])]  # the date parser then says why, instead of "missing"


def test_only_the_first_sheet_is_read(tmp_path):
    path = write_xlsx(tmp_path / "births.xlsx", [BIRTH_HEADER, EXCEL_BIRTH],
                      sheets={"Tổng hợp": [["Tổng", "Số trẻ"], ["Nam", 10], ["Nữ", 9]]})
    source = XlsxSource(path)
    assert source.header == BIRTH_HEADER
    assert len(read_all(source)[0]) == 1


@pytest.mark.parametrize("content", [b"not a workbook at all",
                                     "Mã sự kiện,Ngày sinh\nE1,01/02/2024\n".encode()])
def test_a_file_that_is_not_a_workbook_is_unreadable(tmp_path, content):
    path = tmp_path / "so_sinh.xlsx"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=r"^so_sinh.xlsx: not a readable .xlsx workbook"):
        XlsxSource(path)


def test_a_zip_that_is_not_a_workbook_is_unreadable(tmp_path):
    path = tmp_path / "so_sinh.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(UnreadableFile, match=r"^so_sinh.xlsx: not a readable .xlsx workbook"):
        XlsxSource(path)


def test_no_header_row_is_unreadable(tmp_path):
    rows = [["DANH SÁCH"], None, [1, 2, 3], [date(2024, 1, 1), 4.5]]  # a title, then numbers only
    with pytest.raises(UnreadableFile, match=r"^numbers.xlsx: no header row found: "
                                             r"none of the first 4 rows of the first sheet has 2 or more text"):
        XlsxSource(write_xlsx(tmp_path / "numbers.xlsx", rows))


def test_a_header_below_the_scanned_rows_is_not_found(tmp_path):
    rows = [["DANH SÁCH"]] + [None] * 35 + [BIRTH_HEADER, EXCEL_BIRTH]
    with pytest.raises(UnreadableFile, match=r"none of the first 30 rows .*must be within the first 30 rows"):
        XlsxSource(write_xlsx(tmp_path / "deep.xlsx", rows))


def test_an_empty_sheet_is_an_empty_file(tmp_path):
    with pytest.raises(EmptyFile, match=r"^empty.xlsx: the file is empty \(no header row: the first sheet is empty\)"):
        XlsxSource(write_xlsx(tmp_path / "empty.xlsx", []))


def test_births_from_excel_cells_pass_the_existing_parsers(tmp_path):
    rows, merges = title_block(4)
    body = [
        BIRTH_HEADER,
        ["E1", date(2024, 2, 1), "Nam", "C", 3100, 1, 1, 1, "CSYT"],           # Hà Nội, Phúc Xá; Kinh
        ["E2", datetime(2025, 7, 1, 6, 45), "Nữ", "C", None, 31, 11948, 2, "NHA"],  # post-reform Hải Phòng
        ["E3", "15/03/2024", "Nam", "K", "2800", "01", "00001", "01", "CSYT"],   # text cells, as CSV delivers
        ["E4", date(2024, 2, 1), "Nam", "C", 3100.5, 1, 1, 55, "CSYT"],         # bad weight and ethnicity
    ]
    path = write_xlsx(tmp_path / "births.xlsx", rows + body, merges=merges)
    source = XlsxSource(path, expected_headers={column.key for column in FEEDS["y_te_sinh"].columns})
    validator = births_validator(source.header, path.name)
    chunk, = source.chunks()
    checked = validator.check_columns(chunk.columns)
    assert list(chunk.lines) == [6, 7, 8, 9]
    columns = {name: checked.columns[name].to_pylist()[:3] for name in
               ("birth_date", "birth_weight_g", "province_code", "commune_code", "mother_ethnicity_code",
                "admin_vintage")}
    assert columns == {
        "birth_date": ["2024-02-01", "2025-07-01", "2024-03-15"],
        "birth_weight_g": ["3100", None, "2800"],
        "province_code": ["01", "31", "01"],
        "commune_code": ["00001", "11948", "00001"],
        "mother_ethnicity_code": ["01", "02", "01"],
        "admin_vintage": ["pre_2025_07", "2025_07", "pre_2025_07"],
    }
    assert checked.errors == {3: [("Cân nặng (g)", "birth weight (g) '3100.5' is not a whole number"),
                                  ("Mã dân tộc mẹ", "ethnicity code '55' is not in the code list")]}
