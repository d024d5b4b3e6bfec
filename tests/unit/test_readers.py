"""Reader and row rules of the health feeds, one test per rule (no database needed)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from ingest.feeds.health import BIRTHS, DEATHS
from ingest.geography import admin_units
from ingest.readers import UnreadableFile, read_csv
from ingest.validate import RecordValidator

BIRTH_HEADER = ["Mã sự kiện", "Ngày sinh", "Giới tính", "Sinh sống", "Cân nặng (g)", "Mã tỉnh", "Mã xã",
                "Mã dân tộc mẹ", "Nơi sinh"]
DEATH_HEADER = ["Mã sự kiện", "Ngày sinh", "Ngày mất", "Giới tính", "Mã tỉnh", "Mã xã", "Mã dân tộc", "Nguyên nhân"]
# Phường Phúc Xá (00001) was in Hà Nội (01) before the reform; Phường Ba Đình (00004) is in Hà Nội after.
GOOD_BIRTH = ["E1", "01/02/2024", "Nam", "C", "3100", "01", "00001", "01", "CSYT"]


def write(tmp_path: Path, text: str, *, bom: bool = False, newline: str = "\n", encoding: str = "utf-8") -> Path:
    path = tmp_path / "file.csv"
    data = text.replace("\n", newline).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def csv_text(header: list[str], *rows: list[str]) -> str:
    return "\n".join(",".join(cells) for cells in [header, *rows]) + "\n"


def read(path: Path, spec=BIRTHS):
    header, records = read_csv(path)
    validator = RecordValidator(spec, header, admin_units(), path.name)
    return validator, [(line, *validator(cells)) for line, cells in records]


def births(tmp_path, *rows, header=BIRTH_HEADER, **write_options):
    return read(write(tmp_path, csv_text(header, *rows), **write_options))


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_utf8_with_or_without_bom_and_any_line_ending(tmp_path, bom, newline):
    _, rows = births(tmp_path, GOOD_BIRTH, GOOD_BIRTH, bom=bom, newline=newline)
    assert [(line, errors) for line, _, errors in rows] == [(2, []), (3, [])]
    assert rows[0][1]["event_id"] == "E1"  # no BOM left on the first header or value


def test_nfd_headers_and_values_are_normalised(tmp_path):
    header = [unicodedata.normalize("NFD", h) for h in BIRTH_HEADER]
    row = list(GOOD_BIRTH)
    row[2] = unicodedata.normalize("NFD", "Nữ")
    _, rows = births(tmp_path, row, header=header)
    (_, typed, errors), = rows
    assert errors == [] and typed["sex"] == "female"


def test_headers_match_in_any_order_case_and_spacing_and_extras_are_kept(tmp_path):
    order = [8, 0, 6, 5, 1, 2, 3, 4, 7]
    header = ["  " + BIRTH_HEADER[i].upper() + " " for i in order] + ["Ghi chú"]
    row = [GOOD_BIRTH[i] for i in order] + ["sinh đôi"]
    validator, rows = births(tmp_path, row, header=header)
    (_, typed, errors), = rows
    assert errors == []
    assert (typed["birth_date"], typed["commune_code"], typed["birth_place"]) == ("2024-02-01", "00001", "CSYT")
    assert validator.extras(row) == {"Ghi chú": "sinh đôi"}


def test_missing_required_column_rejects_the_file(tmp_path):
    header = [h for h in BIRTH_HEADER if h != "Ngày sinh"]
    with pytest.raises(UnreadableFile, match="missing required column.*'Ngày sinh'"):
        births(tmp_path, GOOD_BIRTH[:1] + GOOD_BIRTH[2:], header=header)


def test_optional_column_may_be_absent(tmp_path):
    header = [h for h in BIRTH_HEADER if h != "Cân nặng (g)"]
    _, rows = births(tmp_path, [c for i, c in enumerate(GOOD_BIRTH) if i != 4], header=header)
    assert rows[0][2] == [] and rows[0][1]["birth_weight_g"] is None


def test_file_that_is_not_utf8_is_rejected_whole(tmp_path):
    # A legacy TCVN3 export: "Mã" is the bytes M, 0xB8 — not valid UTF-8 — already in the header.
    path = tmp_path / "tcvn3.csv"
    path.write_bytes(b"M\xb8 s\xd8 ki\xd6n,Ng\xb5y sinh\n" + b"E1,01/02/2024\n")
    with pytest.raises(UnreadableFile, match=r"tcvn3.csv: not valid UTF-8 at line 1, character 2 .*TCVN3"):
        read(path)


def test_invalid_utf8_late_in_the_file_is_found(tmp_path):
    path = tmp_path / "late.csv"
    good = csv_text(BIRTH_HEADER, *[GOOD_BIRTH] * 3).encode()
    path.write_bytes(good + b"E9,01/02/2024,N\xe6,C,,01,00001,01,CSYT\n")
    with pytest.raises(UnreadableFile, match="at line 5"):
        header, records = read_csv(path)
        list(records)


@pytest.mark.parametrize("cell,expected", [("01/02/2024", "2024-02-01"), ("1/2/2024", "2024-02-01"),
                                           ("29/02/2024", "2024-02-29")])
def test_dates_are_day_month_year(tmp_path, cell, expected):
    row = list(GOOD_BIRTH)
    row[1] = cell
    _, rows = births(tmp_path, row)
    assert rows[0][1]["birth_date"] == expected


@pytest.mark.parametrize("cell,reason", [
    ("31/02/2024", "date '31/02/2024' does not exist"),
    ("29/02/2023", "date '29/02/2023' does not exist"),
    ("2024-02-01", "date '2024-02-01' is not in dd/mm/yyyy form"),
    ("", "required value is missing"),
])
def test_bad_dates_quarantine_the_row_with_column_and_reason(tmp_path, cell, reason):
    row = list(GOOD_BIRTH)
    row[1] = cell
    _, rows = births(tmp_path, row)
    assert rows[0][1] is None and rows[0][2] == [("Ngày sinh", reason)]


def test_codes_are_re_padded(tmp_path):
    row = list(GOOD_BIRTH)
    row[5], row[6], row[7] = "1", "1", "1"
    _, rows = births(tmp_path, row)
    typed = rows[0][1]
    assert (typed["province_code"], typed["commune_code"], typed["mother_ethnicity_code"]) == ("01", "00001", "01")


def test_vintage_follows_the_event_date(tmp_path):
    # 00004 exists in both vintages (Trúc Bạch before, Ba Đình after); 11948 (Hải Phòng) only after.
    before = ["B1", "30/06/2025", "Nam", "C", "", "01", "00004", "01", "CSYT"]
    after = ["B2", "01/07/2025", "Nam", "C", "", "31", "11948", "01", "CSYT"]
    post_code_too_early = ["B3", "30/06/2025", "Nam", "C", "", "31", "11948", "01", "CSYT"]
    _, rows = births(tmp_path, before, after, post_code_too_early)
    assert rows[0][1]["admin_vintage"] == "pre_2025_07" and rows[0][1]["period_key"] == "2025-H1"
    assert rows[1][1]["admin_vintage"] == "2025_07" and rows[1][1]["period_key"] == "2025-H2"
    assert rows[2][2] == [("Mã xã", "commune 11948 does not exist before 1 July 2025 (the row's date is 2025-06-30)")]


def test_reused_province_code_means_the_vintage_province(tmp_path):
    # Province 10 (old Lào Cai) disappeared on 1 July 2025; its communes belong to new 15 after.
    old_lao_cai_commune = admin_units().commune_province
    commune = next(c for (v, c), p in old_lao_cai_commune.items() if v == "pre_2025_07" and p == "10")
    row_after = ["L1", "02/07/2025", "Nữ", "C", "", "10", commune, "01", "CSYT"]
    _, rows = births(tmp_path, row_after)
    assert rows[0][2] == [("Mã tỉnh", "province 10 does not exist from 1 July 2025 (the row's date is 2025-07-02)")]


def test_commune_outside_its_province_is_quarantined(tmp_path):
    row = list(GOOD_BIRTH)
    row[5] = "79"  # 00001 is in Hà Nội, not Hồ Chí Minh
    _, rows = births(tmp_path, row)
    assert rows[0][2] == [("Mã xã", "commune 00001 is in province 01, not 79 (before 1 July 2025)")]


@pytest.mark.parametrize("column,cell,reason", [
    (2, "X", "sex 'X' is not one of: Nam, Nữ, Không xác định"),
    (3, "Y", "live birth flag 'Y' is not one of: C, K"),
    (4, "3.1kg", "birth weight (g) '3.1kg' is not a whole number"),
    (7, "55", "ethnicity code '55' is not in the code list"),
    (8, "BV", "place of birth 'BV' is not one of: CSYT, NHA, KHAC"),
    (6, "123456", "commune code '123456' is not a code of 5 digits"),
])
def test_each_invalid_cell_kind(tmp_path, column, cell, reason):
    row = list(GOOD_BIRTH)
    row[column] = cell
    _, rows = births(tmp_path, row)
    assert rows[0][1] is None
    assert rows[0][2] == [(BIRTH_HEADER[column], reason)]


def test_unknown_sex_is_allowed_for_births_only(tmp_path):
    row = list(GOOD_BIRTH)
    row[2] = "Không xác định"
    _, rows = births(tmp_path, row)
    assert rows[0][1]["sex"] == "unknown"
    death = ["D1", "01/01/2024", "05/01/2024", "Không xác định", "01", "00001", "01", "BENH"]
    _, death_rows = read(write(tmp_path, csv_text(DEATH_HEADER, death)), DEATHS)
    assert death_rows[0][2] == [("Giới tính", "sex 'Không xác định' is not one of: Nam, Nữ")]


def test_every_error_of_a_row_is_reported(tmp_path):
    row = list(GOOD_BIRTH)
    row[1], row[2] = "31/02/2024", "X"
    _, rows = births(tmp_path, row)
    assert [column for column, _ in rows[0][2]] == ["Ngày sinh", "Giới tính"]


def test_a_row_longer_than_the_header_is_quarantined(tmp_path):
    _, rows = births(tmp_path, GOOD_BIRTH + ["stray"])
    assert rows[0][2][0] == (None, "the row has 10 cells but the header has 9")


def test_death_before_birth_is_quarantined(tmp_path):
    death = ["D1", "05/01/2024", "01/01/2024", "Nam", "01", "00001", "01", "BENH"]
    _, rows = read(write(tmp_path, csv_text(DEATH_HEADER, death)), DEATHS)
    assert rows[0][2] == [("Ngày mất", "death date 2024-01-01 is before birth date 2024-01-05")]


def test_death_at_18_or_older_is_outside_the_register(tmp_path):
    at_18 = ["D2", "10/03/2006", "10/03/2024", "Nam", "01", "00001", "01", "TNGT"]
    day_before = ["D3", "10/03/2006", "09/03/2024", "Nam", "01", "00001", "01", "TNGT"]
    _, rows = read(write(tmp_path, csv_text(DEATH_HEADER, at_18, day_before)), DEATHS)
    assert rows[0][1] is None and rows[1][2] == []


def test_death_vintage_follows_the_death_date(tmp_path):
    death = ["D4", "01/01/2025", "15/07/2025", "Nữ", "31", "11948", "01", "DUOI_NUOC"]
    _, rows = read(write(tmp_path, csv_text(DEATH_HEADER, death)), DEATHS)
    assert rows[0][1]["admin_vintage"] == "2025_07" and rows[0][1]["cause_code"] == "duoi_nuoc"


def test_blank_lines_are_not_records_and_line_numbers_are_physical(tmp_path):
    text = csv_text(BIRTH_HEADER, GOOD_BIRTH) + "\n" + ",".join(GOOD_BIRTH) + "\n"
    _, rows = read(write(tmp_path, text))
    assert [line for line, _, _ in rows] == [2, 4]


def test_duplicate_header_rejects_the_file(tmp_path):
    with pytest.raises(UnreadableFile, match="appears twice"):
        births(tmp_path, GOOD_BIRTH + ["01"], header=BIRTH_HEADER + ["MÃ TỈNH"])


def test_empty_file_is_rejected(tmp_path):
    with pytest.raises(UnreadableFile, match="empty"):
        read(write(tmp_path, ""))


def test_a_quoted_value_spanning_lines_is_one_record_numbered_by_its_first_line(tmp_path):
    row = ",".join(GOOD_BIRTH)
    text = ",".join(BIRTH_HEADER) + ",Ghi chú\n" + row + ',"hai\ndòng"\n' + row + ",\n"
    _, rows = read(write(tmp_path, text))
    assert [line for line, _, _ in rows] == [2, 4]


def test_a_row_of_only_empty_cells_is_like_a_blank_line(tmp_path):
    # Spreadsheet exports end with such rows; they carry no data, so they are not records.
    _, rows = births(tmp_path, [""] * 9, GOOD_BIRTH, [""] * 9)
    assert [(line, errors) for line, _, errors in rows] == [(3, [])]


def test_line_numbers_stay_physical_across_many_blocks(tmp_path, monkeypatch):
    """Malformed rows, blank lines and values spanning lines, spread over many small blocks: every
    record keeps the number of its first physical line, as a plain line-by-line reading gives it."""
    import random

    from ingest import readers

    monkeypatch.setattr(readers, "BLOCK_BYTES", 2048)
    rng = random.Random(5)
    lines, expected, line = [",".join(BIRTH_HEADER) + ",Ghi chú"], [], 1
    for i in range(600):
        kind = rng.random()
        row = [f"E{i}"] + GOOD_BIRTH[1:]
        if kind < 0.05:
            lines.append("")
            line += 1
            continue
        if kind < 0.10:
            text = ",".join(row)  # a cell short: malformed
        elif kind < 0.15:
            text = ",".join(row) + ',"ghi\nchú\nba dòng"'
        else:
            text = ",".join(row) + ",x"
        lines.append(text)
        expected.append((line + 1, f"E{i}"))
        line += 1 + text.count("\n")
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    header, records = read_csv(path)
    assert [(number, cells[0]) for number, cells in records] == expected
