"""Education sector feed: the school database's student export (sources.md, giao_duc_hoc_sinh)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from ingest.feeds.common import ETHNICITY_CODES, SEX, geography_columns
from ingest.fields import CellError, Choice, Code, DayMonthYear, Parser, PersonalId, Text
from ingest.spec import FEEDS, Column, FeedSpec

STATUSES = {
    "01": "đang học", "02": "chuyển đến kỳ 1", "03": "nghỉ học", "04": "chuyển đi kỳ 1", "05": "thôi học kỳ 1",
    "06": "chuyển đến kỳ 2", "07": "xin học lại", "08": "chuyển đi kỳ 2", "09": "thôi học kỳ 2",
    "10": "chuyển đến hè", "11": "chuyển đi hè", "12": "thôi học hè",
}
DROPOUT_STATUSES = ("05", "09", "12")
REASONS = {
    "01": "kinh tế khó khăn", "02": "học lực yếu", "03": "xa trường", "04": "thiên tai dịch bệnh",
    "05": "kỳ thị", "06": "khác", "07": "bảo lưu", "08": "chuyển sang học nghề", "09": "bệnh",
    "10": "mất tích / đã mất",
}
GRADES_BY_LEVEL = {"MN": ("NT", "MG"), "TH": ("1", "2", "3", "4", "5"), "THCS": ("6", "7", "8", "9"),
                   "THPT": ("10", "11", "12")}
# Plausible age by the Vietnamese convention (school-year start year − birth year) per grade: late
# starters and repeaters are common, so the range is generous; a 2-year-old in grade 9 is not.
AGE_RANGE = {"NT": (0, 3), "MG": (2, 6), **{str(g): (g + 4, g + 10) for g in range(1, 13)}}

_SCHOOL_YEAR = re.compile(r"^(\d{4})\s*-\s*(\d{4})$")


@dataclass
class SchoolYear(Parser):
    """`2024-2025` as the school year's start, 1 September of its first year: its geography vintage."""

    def parse(self, value: str) -> str:
        match = _SCHOOL_YEAR.match(value)
        if not match or int(match.group(2)) != int(match.group(1)) + 1:
            raise CellError(f"school year {value!r} is not like 2024-2025")
        return f"{match.group(1)}-09-01"


@dataclass
class Grade(Parser):
    """Khối: 1–12, NT (nhà trẻ) or MG (mẫu giáo); a spreadsheet may hold grades as numbers."""

    def parse(self, value: str) -> str:
        grade = value.upper()
        if grade.isdigit() and 1 <= int(grade) <= 12:
            return str(int(grade))
        if grade in ("NT", "MG"):
            return grade
        raise CellError(f"grade {value!r} is not 1–12, NT or MG")


def school_year_label(start: str) -> str:
    year = int(start[:4])
    return f"{year}-{year + 1}"


def _broken(mask) -> list[int]:
    return pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()


def _reason_exactly_for_dropouts(columns: dict):
    status, reason = columns["status_code"], columns["dropout_reason_code"]
    is_dropout = pc.is_in(status, pa.array(DROPOUT_STATUSES))
    missing = _broken(pc.and_(is_dropout, pc.is_null(reason)))
    extra = _broken(pc.and_(pc.invert(is_dropout), pc.is_valid(reason)))
    return ([(i, "Mã lý do thôi học", f"a reason is required when Trạng thái is {status[i].as_py()} (thôi học)")
             for i in missing]
            + [(i, "Mã lý do thôi học", f"a reason is given but Trạng thái {status[i].as_py()} is not a dropout status")
               for i in extra])


def _grade_matches_level(columns: dict):
    level, grade = columns["school_level"], columns["grade"]
    allowed = pa.array([f"{lv}|{g}" for lv, grades in GRADES_BY_LEVEL.items() for g in grades])
    pairs = pc.binary_join_element_wise(level, grade, "|")
    return [(i, "Khối", f"grade {grade[i].as_py()} does not belong to level {level[i].as_py()}")
            for i in _broken(pc.invert(pc.is_in(pairs, allowed)))]


def _birth_date_plausible_for_grade(columns: dict):
    grade, born, start = columns["grade"], columns["birth_date"], columns["school_year_start"]
    age = pc.subtract(pc.cast(pc.utf8_slice_codeunits(start, 0, 4), pa.int32()),
                      pc.cast(pc.utf8_slice_codeunits(born, 0, 4), pa.int32()))
    encoded = grade.dictionary_encode()
    grades = encoded.dictionary.to_pylist()
    low = pa.array([AGE_RANGE[g][0] for g in grades], pa.int32()).take(encoded.indices)
    high = pa.array([AGE_RANGE[g][1] for g in grades], pa.int32()).take(encoded.indices)
    outside = pc.or_(pc.less(age, low), pc.greater(age, high))
    return [(i, "Ngày sinh", f"a child aged {age[i].as_py()} (school year − birth year) is implausible in grade "
                             f"{grade[i].as_py()}") for i in _broken(outside)]


STUDENTS = FEEDS.register(FeedSpec(
    name="giao_duc_hoc_sinh",
    description="Students from the school database export, one row per student per school year, status as of the export.",
    reference_date="school_year_start",
    period_of=school_year_label,
    extensions=(".csv", ".xlsx"),
    columns=(
        Column("Năm học", "school_year_start", "date", SchoolYear(),
               "1 September of the school year's first year (Năm học 2024-2025 → 2024-09-01)."),
        Column("Mã trường", "school_code", "text", Text(max_length=64), "School code."),
        Column("Cấp học", "school_level", "text",
               Choice(choices={"MN": "MN", "TH": "TH", "THCS": "THCS", "THPT": "THPT"}, label="school level"),
               "MN (mầm non), TH (tiểu học), THCS, THPT."),
        Column("Khối", "grade", "text", Grade(), "Grade 1–12, or NT (nhà trẻ) / MG (mẫu giáo) in MN."),
        Column("Mã học sinh", "student_code", "text", Text(max_length=64), "Student code, unique within the school."),
        Column("Mã định danh", "personal_id_pseudonym", "text", PersonalId(required=False),
               "Keyed pseudonym (HMAC-SHA256) of the 12-digit personal ID; the ID itself is never stored."),
        Column("Họ và tên", "full_name", "text", Text(required=False, max_length=200),
               "Name as delivered. Personal data: kept in raw only, never selected by staging."),
        Column("Ngày sinh", "birth_date", "date", DayMonthYear(), "Date of birth."),
        Column("Giới tính", "sex", "text", Choice(choices=SEX, label="sex"), "Sex: male or female."),
        Column("Mã dân tộc", "ethnicity_code", "text", Code(width=2, allowed=ETHNICITY_CODES, label="ethnicity code"),
               "Ethnicity, statistics office code 01 (Kinh) to 54."),
        *geography_columns(),
        Column("Trạng thái", "status_code", "text", Code(width=2, allowed=frozenset(STATUSES), label="status"),
               "Status: 01 đang học; 02/06/10 chuyển đến; 03/07 nghỉ học, xin học lại; 04/08/11 chuyển đi; 05/09/12 thôi học."),
        Column("Ngày trạng thái", "status_date", "date", DayMonthYear(), "Date of the last status change."),
        Column("Mã lý do thôi học", "dropout_reason_code", "text",
               Code(width=2, allowed=frozenset(REASONS), required=False, label="dropout reason"),
               "Dropout reason 01–10, present exactly for the dropout statuses 05/09/12."),
        Column("Khuyết tật", "has_disability", "boolean", Choice(choices={"C": "t", "K": "f"}, label="disability flag"),
               "Disability: C (yes) / K (no)."),
    ),
    row_rules=(_reason_exactly_for_dropouts, _grade_matches_level, _birth_date_plausible_for_grade),
))
