"""Row rules and personal data of the student feed (giao_duc_hoc_sinh), checked on CSV deliveries."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from ingest.feeds.education import STUDENTS
from ingest.geography import admin_units
from ingest.pseudonymise import pseudonymisation_key
from ingest.readers import read_csv
from ingest.validate import RecordValidator

HEADER = ["Năm học", "Mã trường", "Cấp học", "Khối", "Mã học sinh", "Mã định danh", "Họ và tên", "Ngày sinh",
          "Giới tính", "Mã dân tộc", "Mã tỉnh", "Mã xã", "Trạng thái", "Ngày trạng thái", "Mã lý do thôi học",
          "Khuyết tật"]
GOOD = ["2024-2025", "01001-TH-01", "TH", "3", "HS0001", "001215001234", "Nguyễn Văn An", "12/05/2016", "Nam",
        "01", "01", "00001", "01", "05/09/2024", "", "K"]
KEY = "k" * 40


@pytest.fixture(autouse=True)
def fixed_key(monkeypatch):
    monkeypatch.setenv("PSEUDONYMISATION_KEY", KEY)
    pseudonymisation_key.cache_clear()
    yield
    pseudonymisation_key.cache_clear()


def check(tmp_path, *rows):
    path = tmp_path / "students.csv"
    path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    header, records = read_csv(path)
    validator = RecordValidator(STUDENTS, header, admin_units(), path.name)
    return validator, [validator(cells) for _, cells in records]


def with_(**changes) -> list[str]:
    row = list(GOOD)
    for name, value in changes.items():
        row[HEADER.index(name.replace("_", " "))] = value
    return row


def expected_pseudonym(digits: str) -> str:
    return hmac.new(KEY.encode(), digits.encode(), hashlib.sha256).hexdigest()


def test_a_valid_row_keeps_no_personal_id_in_clear(tmp_path):
    _, [(row, errors)] = check(tmp_path, GOOD)
    assert errors == []
    assert row["personal_id_pseudonym"] == expected_pseudonym("001215001234")
    assert "001215001234" not in row.values()
    assert (row["school_year_start"], row["admin_vintage"], row["period_key"]) == ("2024-09-01", "pre_2025_07", "2024-2025")


def test_an_id_that_lost_its_leading_zeros_gets_the_same_pseudonym(tmp_path):
    _, [(row, _)] = check(tmp_path, with_(**{"Mã định danh": "1215001234"}))
    assert row["personal_id_pseudonym"] == expected_pseudonym("001215001234")


def test_a_blank_id_is_allowed_and_a_bad_one_is_not_echoed(tmp_path):
    _, [(blank, no_errors), (_, errors)] = check(tmp_path, with_(**{"Mã định danh": ""}),
                                               with_(**{"Mã định danh": "12X456789012"}))
    assert no_errors == [] and blank["personal_id_pseudonym"] is None
    assert errors == [("Mã định danh", "personal ID is not 12 digits")]


def test_quarantined_records_carry_the_pseudonym_not_the_id(tmp_path):
    validator, _ = check(tmp_path, GOOD)
    record = validator.record_as_dict(with_(**{"Trạng thái": "99"}))
    assert record["Mã định danh"] == "pseudonym:" + expected_pseudonym("001215001234")


@pytest.mark.parametrize("changes,problem", [
    ({"Trạng thái": "05", "Ngày trạng thái": "10/11/2024"},
     ("Mã lý do thôi học", "a reason is required when Trạng thái is 05 (thôi học)")),
    ({"Mã lý do thôi học": "01"},
     ("Mã lý do thôi học", "a reason is given but Trạng thái 01 is not a dropout status")),
    ({"Trạng thái": "09", "Mã lý do thôi học": "11"}, ("Mã lý do thôi học", "dropout reason '11' is not in the code list")),
    ({"Trạng thái": "13"}, ("Trạng thái", "status '13' is not in the code list")),
    ({"Khối": "8"}, ("Khối", "grade 8 does not belong to level TH")),
    ({"Cấp học": "MN", "Khối": "4"}, ("Khối", "grade 4 does not belong to level MN")),
    ({"Khối": "9", "Cấp học": "THCS", "Ngày sinh": "01/01/2022"},
     ("Ngày sinh", "a child aged 2 (school year − birth year) is implausible in grade 9")),
    ({"Năm học": "2024-2026"}, ("Năm học", "school year '2024-2026' is not like 2024-2025")),
    ({"Khối": "13"}, ("Khối", "grade '13' is not 1–12, NT or MG")),
    ({"Khuyết tật": "X"}, ("Khuyết tật", "disability flag 'X' is not one of: C, K")),
])
def test_each_row_rule(tmp_path, changes, problem):
    _, [(row, errors)] = check(tmp_path, with_(**changes))
    assert row is None and errors == [problem]


def test_a_dropout_with_its_reason_and_preschool_rows_pass(tmp_path):
    dropout = with_(**{"Trạng thái": "12", "Ngày trạng thái": "20/07/2025", "Mã lý do thôi học": "8"})
    nursery = with_(**{"Cấp học": "MN", "Khối": "NT", "Ngày sinh": "01/03/2023"})
    kindergarten = with_(**{"Cấp học": "MN", "Khối": "MG", "Ngày sinh": "15/08/2019"})
    _, results = check(tmp_path, dropout, nursery, kindergarten)
    assert [errors for _, errors in results] == [[], [], []]
    assert results[0][0]["dropout_reason_code"] == "08"  # re-padded


def test_vintage_follows_the_school_year_start(tmp_path):
    # 2025-2026 starts on 1 September 2025: post-reform codes (Hà Nội commune 00004 exists in both).
    _, [(row, errors)] = check(tmp_path, with_(**{"Năm học": "2025-2026", "Mã xã": "00004",
                                                  "Ngày trạng thái": "05/09/2025", "Ngày sinh": "12/05/2017"}))
    assert errors == [] and (row["admin_vintage"], row["period_key"]) == ("2025_07", "2025-2026")
