"""Writing the student feed (giao_duc_hoc_sinh, CSDL ngành export): one file per province and school year.

One row per student per school year, status as of the export (31 August of the end year), in the columns
of sources.md. The children are the ``dan_so`` generator's own: for school year Y-(Y+1) the population of
every commune by single age and sex is replayed exactly as ``generate_population_feed`` draws its year Y
(same seed and scale), and a child of dan_so age ``a`` is taken as born in year Y − a, i.e. aged ``a`` by
the Vietnamese convention (school-year start year − birth year). So preschool coverage computed from the
two feeds comes out at the rates below, and a file's geography is dan_so's: the vintage of 1 September Y
(pre-reform codes before the 2025-2026 school year, the 34 provinces' codes from it).

Enrolment (records; "enrolled at start" is a little lower): nhà trẻ ≈ 32% of ages 0–2 (children of
3–36 months on 30 September only), mẫu giáo ≈ 97% of ages 3–5 (age 5 ≈ 99.5%), primary ≈ 99% of ages
6–10, then falling with age (THCS ≈ 92%, THPT ≈ 80%; lower for ethnic minorities). Grade g is mostly
age g + 5 by the convention, with 1–2 years over-age for a few. Dropout (reasons other than 07, 08, 10,
after 30 September) ≈ 0.13% primary, 0.70% THCS, 1.29% THPT nationally (indicators.md §6), twice as
high for minority children and 1.5 times in mountain provinces. Transfers are mostly pairs inside the
file (a transfer-out record at one school, a transfer-in record at another, same date), so a child is
enrolled at start at exactly one of them.

Rows are drawn commune block by commune block (a block: the communes one hub commune's THPT schools
serve), sorted by school, grade and given name, and streamed to the file. CSV files take the delivery
variants of ``synthetic.formats``; XLSX files (xlsxwriter) have a title block of 1–6 rows above the header
(merged cells in some), real Excel date cells mixed with ``dd/mm/yyyy`` text in the date columns, in some
files codes written as numbers (``01`` → 1) and an STT column; large ones are streamed in
``constant_memory`` mode, small ones mostly keep strings in a shared-string table as Excel does.
Every choice is recorded in the manifest's ``variants``.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np

from synthetic.csvbytes import CsvTable, Raw, Text, write_csv
from synthetic.formats import VARIANT_NAMES, Delivery, choose_delivery
from synthetic.geography import PRE_REFORM, Geography, load_geography
from synthetic.invalid import COMMUNE_OUTSIDE_PROVINCE, IMPOSSIBLE_DATE, UNKNOWN_SEX, InvalidRows, impossible_dmy
from synthetic.landing import check_rates, new_provinces, numpy_rng, provinces_in, sha256_of
from synthetic.manifest import FileEntry, Manifest
from synthetic.names import person_name
from synthetic.periods import ddmmyyyy, from_ordinal, ordinal, vintage_of
from synthetic.population import (
    ETHNICITY_CODES,
    KINH,
    PopulationModel,
    Profile,
    build_population,
    ethnicity_table,
    is_mountain,
)
from synthetic.students import GRADES, LEVELS, REASON_TEXTS, STATUSES, Rates, StudentRows, student_rows
from synthetic.textbytes import Vocabulary, date_text, digits

FEED = EDUCATION_FEED = "giao_duc_hoc_sinh"
_name = person_name   # the old name, still imported by tests/unit/test_hostile_readers.py
GENERATOR = "giao_duc"
COLUMNS = ("Năm học", "Mã trường", "Cấp học", "Khối", "Mã học sinh", "Mã định danh", "Họ và tên", "Ngày sinh",
           "Giới tính", "Mã dân tộc", "Mã tỉnh", "Mã xã", "Trạng thái", "Ngày trạng thái", "Mã lý do thôi học",
           "Khuyết tật")
CODE_COLUMNS = ("Mã tỉnh", "Mã xã", "Mã dân tộc", "Trạng thái", "Mã lý do thôi học")
DATE_COLUMNS = ("Ngày sinh", "Ngày trạng thái")
DEFAULT_SCHOOL_YEARS = ("2023-2024", "2024-2025", "2025-2026")

# Trạng thái (sources.md)
ENROLLED = "01"
TRANSFER_IN = ("02", "06", "10")     # chuyển đến kỳ 1 / kỳ 2 / hè
# 03 / 07: nghỉ học, xin học lại (on leave: enrolled at start)
TRANSFER_OUT = ("04", "08", "11")    # chuyển đi kỳ 1 / kỳ 2 / hè
DROPOUT = ("05", "09", "12")         # thôi học kỳ 1 / kỳ 2 / hè
REASONS = tuple(f"{i:02d}" for i in range(1, 11))
EXCLUDED_REASONS = ("07", "08", "10")  # bảo lưu, học nghề, mất tích / đã mất: not dropouts

I_YEAR, I_SCHOOL, I_LEVEL, I_GRADE, I_STUDENT, I_ID, I_NAME, I_BIRTH, I_SEX, I_ETH, I_PROVINCE, I_COMMUNE, \
    I_STATUS, I_STATUS_DATE, I_REASON, I_DISABILITY = range(len(COLUMNS))

# invalid-row kinds (the shared ones keep the names the health feeds use)
BAD_STATUS = "bad_status"                            # Trạng thái not in 01–12
MISSING_REASON = "missing_reason"                    # dropout status without Mã lý do thôi học
REASON_FOR_NON_DROPOUT = "reason_for_non_dropout"    # a reason on a status other than 05/09/12
REASON_OUT_OF_RANGE = "reason_out_of_range"          # dropout status, reason not in 01–10
GRADE_LEVEL_MISMATCH = "grade_level_mismatch"        # Cấp học TH with Khối 8, MN with Khối 3 …
IMPLAUSIBLE_BIRTH_DATE = "implausible_birth_date"    # a 1–2-year-old in grade g ≥ 1, a 9+-year-old in MN
INVALID_KINDS = (BAD_STATUS, MISSING_REASON, REASON_FOR_NON_DROPOUT, REASON_OUT_OF_RANGE, GRADE_LEVEL_MISMATCH,
                 IMPLAUSIBLE_BIRTH_DATE, IMPOSSIBLE_DATE, COMMUNE_OUTSIDE_PROVINCE, UNKNOWN_SEX)

# --- magnitudes (indicators.md §6) ------------------------------------------------------------------
NURSERY_BY_AGE = (0.06, 0.30, 0.60)   # of the whole cohort of age 0 / 1 / 2 (age 0: only born Jan–Jun)
KINDERGARTEN_BY_AGE = {3: 0.935, 4: 0.975, 5: 0.9965}
SCHOOL_BY_AGE = {6: 0.985, 7: 0.99, 8: 0.99, 9: 0.99, 10: 0.99, 11: 0.975, 12: 0.955, 13: 0.93, 14: 0.90,
                 15: 0.86, 16: 0.82, 17: 0.77}
MINORITY_ATTENDANCE = {11: 0.94, 12: 0.93, 13: 0.92, 14: 0.90, 15: 0.78, 16: 0.76, 17: 0.74}
# over-age: P(0, 1 year) late; the rest 2 years
ON_TIME_PRIMARY, ONE_LATE_PRIMARY = 0.97, 0.025
ON_TIME_SECONDARY, ONE_LATE_SECONDARY = 0.93, 0.055
# national dropout rate after 30 September with a counted reason (dropouts / enrolled at start)
DROPOUT_RATE = {"MN": 0.0020, "TH": 0.0013, "THCS": 0.0070, "THPT": 0.0129}
EXCLUDED_DROPOUT_RATE = {"MN": 0.0004, "TH": 0.0002, "THCS": 0.0012, "THPT": 0.0030}  # reasons 07/08/10
EARLY_DROPOUT_SHARE = 0.1             # extra dropouts dated in September (not enrolled at start)
MINORITY_DROPOUT_FACTOR = 2.0
MOUNTAIN_DROPOUT_FACTOR = 1.5
TRANSFER_RATE = {"MN": 0.010, "TH": 0.012, "THCS": 0.010, "THPT": 0.006}
LONE_TRANSFER_OUT, LONE_TRANSFER_IN = 0.1, 0.1   # one half of the pair is in another province's file
ON_LEAVE_RATE = 0.002
BLANK_ID_SHARE = 0.05
DISABILITY_SHARE = 0.01
# real-size pupils per school (so school codes do not depend on the scale); THPT schools sit in hub communes
PUPILS_PER_SCHOOL = {"MN": 380, "TH": 680, "THCS": 700, "THPT": 1400}
THPT_BLOCK_CHILDREN = 1700            # real children aged 15–17 served by one hub commune's THPT schools
_LEVEL_DIGIT = {"MN": "0", "TH": "1", "THCS": "2", "THPT": "3"}

_COUNTED_REASONS = (("01", 25), ("02", 28), ("03", 8), ("04", 3), ("05", 1), ("06", 20), ("09", 5))
_EXCLUDED_REASONS = {"MN": (("07", 70), ("10", 30)), "TH": (("07", 60), ("08", 5), ("10", 35)),
                     "THCS": (("07", 30), ("08", 55), ("10", 15)), "THPT": (("07", 30), ("08", 60), ("10", 10))}


# --- school years -------------------------------------------------------------------------------------

_YEAR_LABEL = re.compile(r"^(\d{4})-(\d{4})$")


@dataclass(frozen=True)
class SchoolYear:
    label: str
    start_year: int

    @classmethod
    def parse(cls, label: str) -> SchoolYear:
        match = _YEAR_LABEL.match(str(label).strip())
        if not match or int(match.group(2)) != int(match.group(1)) + 1:
            raise ValueError(f"school year {label!r} is not like 2024-2025")
        return cls(match.group(0), int(match.group(1)))

    @property
    def vintage(self) -> str:
        """Geography vintage of the year's rows: that of its start, 1 September."""
        return vintage_of(date(self.start_year, 9, 1))


def _dmy(value: str) -> tuple[int, int, int] | None:
    """(year, month, day) of a ``dd/mm/yyyy`` text, None if not in that form."""
    if len(value) != 10 or value[2] != "/" or value[5] != "/":
        return None
    d, m, y = value[:2], value[3:5], value[6:]
    if not (d.isdigit() and m.isdigit() and y.isdigit()):
        return None
    return int(y), int(m), int(d)


def enrolled_at_start(status: str, status_date: str, start_year: int) -> bool:
    """sources.md: every record except a transfer-in dated after 30 September of the start year and a
    departure (transfer out or dropout) dated on or before it. ``status_date`` is ``dd/mm/yyyy``."""
    ymd = _dmy(status_date)
    if ymd is None:
        raise ValueError(f"status date {status_date!r} is not dd/mm/yyyy")
    after = ymd > (start_year, 9, 30)
    if status in TRANSFER_IN:
        return not after
    if status in TRANSFER_OUT or status in DROPOUT:
        return after
    return True


def _ethnicity(rng: random.Random, profile: Profile) -> str:
    if rng.random() >= profile.minority_share:
        return KINH
    codes, cum = ethnicity_table(profile.mix)
    return codes[min(bisect_right(cum, rng.random() * cum[-1]), len(codes) - 1)]


def _dropout_multiplier(profile: Profile, minority: bool) -> float:
    return (MOUNTAIN_DROPOUT_FACTOR if is_mountain(profile) else 1.0) * (MINORITY_DROPOUT_FACTOR if minority else 1.0)


_NORMS: dict[int, tuple[PopulationModel, dict[str, float]]] = {}


def _dropout_norm(model: PopulationModel) -> dict[str, float]:
    """Per level, the national mean of the dropout multiplier over enrolled children (minority children
    attend secondary school less), so national rates hit DROPOUT_RATE."""
    cached = _NORMS.get(id(model))
    if cached is None or cached[0] is not model:
        attendance = {"MN": 1.0, "TH": 1.0,
                      "THCS": sum(MINORITY_ATTENDANCE[a] for a in range(11, 15)) / 4,
                      "THPT": sum(MINORITY_ATTENDANCE[a] for a in range(15, 18)) / 3}
        norms = {}
        for level, att in attendance.items():
            total = weighted = 0.0
            for commune, w in model.weight[PRE_REFORM].items():
                p = model.profile(PRE_REFORM, commune)
                mountain = MOUNTAIN_DROPOUT_FACTOR if is_mountain(p) else 1.0
                enrolled = w * (1 - p.minority_share + p.minority_share * att)
                weighted += mountain * w * (1 - p.minority_share + p.minority_share * att * MINORITY_DROPOUT_FACTOR)
                total += enrolled
            norms[level] = weighted / total
        cached = _NORMS[id(model)] = (model, norms)
    return cached[1]


# --- the rows -------------------------------------------------------------------------------------------

RATES = Rates(
    nursery_by_age=NURSERY_BY_AGE, kindergarten_by_age=KINDERGARTEN_BY_AGE, school_by_age=SCHOOL_BY_AGE,
    minority_attendance=MINORITY_ATTENDANCE,
    on_time=((ON_TIME_PRIMARY, ONE_LATE_PRIMARY), (ON_TIME_SECONDARY, ONE_LATE_SECONDARY)),
    dropout=DROPOUT_RATE, excluded_dropout=EXCLUDED_DROPOUT_RATE, early_dropout_share=EARLY_DROPOUT_SHARE,
    transfer=TRANSFER_RATE, lone_transfer_out=LONE_TRANSFER_OUT, lone_transfer_in=LONE_TRANSFER_IN,
    on_leave=ON_LEAVE_RATE, blank_id_share=BLANK_ID_SHARE, disability_share=DISABILITY_SHARE,
    pupils_per_school=PUPILS_PER_SCHOOL, thpt_block_children=THPT_BLOCK_CHILDREN,
    counted_reasons=_COUNTED_REASONS, excluded_reasons=_EXCLUDED_REASONS,
)


class _Thresholds(dict):
    """(profile, level index, minority) -> cumulative probabilities of: counted dropout, September dropout,
    dropout with an excluded reason, transfer, leave (03/07); above the last, the student is enrolled (01)."""

    def __init__(self, model: PopulationModel):
        super().__init__()
        self.norm = _dropout_norm(model)

    def __missing__(self, key: tuple[Profile, int, bool]) -> np.ndarray:
        profile, level_index, minority = key
        level = LEVELS[level_index]
        mult = _dropout_multiplier(profile, minority) / self.norm[level]
        steps = (DROPOUT_RATE[level] * mult, DROPOUT_RATE[level] * mult * EARLY_DROPOUT_SHARE,
                 EXCLUDED_DROPOUT_RATE[level] * mult, TRANSFER_RATE[level], ON_LEAVE_RATE)
        self[key] = np.array(list(accumulate(steps)))
        return self[key]


def _row(s: StudentRows, i: int) -> list[str]:
    """Row ``i`` as texts in canonical column order (XLSX cells, and the rare rows made invalid)."""
    school = s.schools[int(s.school[i])]
    return [s.label, school.code, LEVELS[int(s.level[i])], GRADES[int(s.grade[i])],
            f"{school.prefix}{int(s.number[i]):04d}", s.pid(i), s.names.text(i),
            ddmmyyyy(from_ordinal(int(s.birth[i]))), "Nữ" if s.girl[i] else "Nam",
            ETHNICITY_CODES[int(s.ethnicity[i])], s.province, s.communes[int(s.commune[i])],
            STATUSES[int(s.status[i])], ddmmyyyy(from_ordinal(int(s.status_day[i]))),
            REASON_TEXTS[int(s.reason[i])], "C" if s.disabled[i] else "K"]


def _table(s: StudentRows) -> CsvTable:
    schools = s.schools
    return CsvTable(COLUMNS, {
        "Năm học": Text([s.label], np.zeros(len(s), dtype=np.int64)),
        "Mã trường": Text([x.code for x in schools] or [""], s.school),
        "Cấp học": Text(LEVELS, s.level),
        "Khối": Text(GRADES, s.grade),
        "Mã học sinh": Raw([Vocabulary([x.prefix for x in schools] or [""]).piece(s.school), *digits(s.number, 4)]),
        "Mã định danh": Raw([Vocabulary(s.pid_heads).piece(s.pid_head),
                             _SERIAL_GROUPS.piece(np.where(s.pid_head == len(s.pid_heads) - 1, 1000,
                                                           s.pid_serial // 1000)),
                             _SERIAL_GROUPS.piece(np.where(s.pid_head == len(s.pid_heads) - 1, 1000,
                                                           s.pid_serial % 1000))]),
        "Họ và tên": Raw(s.names.pieces(), s.names.pieces(nfd=True)),
        "Ngày sinh": Raw([date_text(s.birth, "dmy")]),
        "Giới tính": Text(("Nam", "Nữ"), s.girl.astype(np.int64)),
        "Mã dân tộc": Text(ETHNICITY_CODES, s.ethnicity, code=True),
        "Mã tỉnh": Text([s.province], np.zeros(len(s), dtype=np.int64), code=True),
        "Mã xã": Text(s.communes or [""], s.commune, code=True),
        "Trạng thái": Text(STATUSES, s.status, code=True),
        "Ngày trạng thái": Raw([date_text(s.status_day, "dmy")]),
        "Mã lý do thôi học": Text(REASON_TEXTS, s.reason, code=True),
        "Khuyết tật": Text(("K", "C"), s.disabled.astype(np.int64)),
    }, len(s))


_SERIAL_GROUPS = Vocabulary([f"{i:03d}" for i in range(1000)] + [""])   # the last entry: a blank id


# --- invalid rows ---------------------------------------------------------------------------------------

_BAD_STATUSES = ("00", "13", "14", "20", "99", "DH")
_BAD_REASONS = ("00", "11", "12", "15", "99")
_BAD_SEXES = ("X", "?", "3", "Khác")


class _Injector(InvalidRows):
    """Invalid student rows, one defect per row."""

    def __init__(self, geo: Geography, sy: SchoolYear, rate: float, rng: random.Random):
        super().__init__(INVALID_KINDS, rate, rng, geo, sy.vintage)
        self.sy = sy

    def corrupt(self, row: list[str]) -> str:
        """Give ``row`` one defect (the rows to corrupt are chosen by the caller); return its kind."""
        kind = self.next_kind()
        getattr(self, f"_{kind}")(row)
        return kind

    def _bad_status(self, row: list[str]) -> None:
        row[I_STATUS], row[I_REASON] = self.rng.choice(_BAD_STATUSES), ""

    def _missing_reason(self, row: list[str]) -> None:
        if row[I_STATUS] not in DROPOUT:
            row[I_STATUS] = self.rng.choice(DROPOUT)
        row[I_REASON] = ""

    def _reason_for_non_dropout(self, row: list[str]) -> None:
        if row[I_STATUS] in DROPOUT:
            row[I_STATUS], row[I_STATUS_DATE] = ENROLLED, ddmmyyyy(date(self.sy.start_year, 9, 5))
        row[I_REASON] = self.rng.choice(REASONS)

    def _reason_out_of_range(self, row: list[str]) -> None:
        if row[I_STATUS] not in DROPOUT:
            row[I_STATUS] = self.rng.choice(DROPOUT)
        row[I_REASON] = self.rng.choice(_BAD_REASONS)

    def _grade_level_mismatch(self, row: list[str]) -> None:
        right = row[I_LEVEL]
        row[I_LEVEL] = self.rng.choice([lvl for lvl in LEVELS if lvl != right])

    def _implausible_birth_date(self, row: list[str]) -> None:
        age = self.rng.randint(9, 14) if row[I_LEVEL] == "MN" else self.rng.randint(1, 2)
        row[I_BIRTH] = f"{row[I_BIRTH][:6]}{self.sy.start_year - age}"

    def _impossible_date(self, row: list[str]) -> None:
        i = I_BIRTH if self.rng.random() < 0.6 else I_STATUS_DATE
        row[i] = impossible_dmy(self.rng, int(row[i][6:]))

    def _commune_outside_province(self, row: list[str]) -> None:
        row[I_COMMUNE] = self.commune_outside(row[I_PROVINCE])

    def _unknown_sex(self, row: list[str]) -> None:
        row[I_SEX] = self.rng.choice(_BAD_SEXES)


# --- accounting -----------------------------------------------------------------------------------------

_LEVEL_KEY = ("mn", "th", "thcs", "thpt")


def _counts(s: StudentRows, valid: np.ndarray, start_year: int) -> dict[str, int]:
    """Counts over valid rows (keys: see ``generate_education_feed``; only those above zero)."""
    census = ordinal(date(start_year, 9, 30))
    codes = np.array(STATUSES)[s.status]
    arrival = np.isin(codes, TRANSFER_IN)
    departure = np.isin(codes, TRANSFER_OUT + DROPOUT)
    at_start = valid & np.where(arrival, s.status_day <= census, np.where(departure, s.status_day > census, True))
    dropout = at_start & np.isin(codes, DROPOUT)
    excluded = dropout & np.isin(np.array(REASON_TEXTS)[s.reason], EXCLUDED_REASONS)
    counted = dropout & ~excluded
    kinh = s.ethnicity == ETHNICITY_CODES.index(KINH)
    age = start_year - (s.birth.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)
    out: dict[str, int] = {}
    for lv, name in enumerate(_LEVEL_KEY):
        at = s.level == lv
        out[f"records_{name}"] = int((valid & at).sum())
        for key, mask in ((f"enrolled_start_{name}", at_start & at), (f"dropouts_{name}", counted & at)):
            out[key] = int(mask.sum())
            out[f"{key}_male"], out[f"{key}_female"] = int((mask & ~s.girl).sum()), int((mask & s.girl).sum())
            out[f"{key}_kinh"], out[f"{key}_minority"] = int((mask & kinh).sum()), int((mask & ~kinh).sum())
        out[f"dropout_excluded_{name}"] = int((excluded & at).sum())
    nursery = at_start & (s.grade == 0)
    out["nursery_enrolled_start"] = int(nursery.sum())
    for a in range(3):
        out[f"nursery_enrolled_start_age{a}"] = int((nursery & (age == a)).sum())
    for a in range(3, 6):
        out[f"mg_enrolled_start_age{a}"] = int((at_start & (s.grade == 1) & (age == a)).sum())
    return {k: v for k, v in sorted(out.items()) if v}


# --- XLSX -----------------------------------------------------------------------------------------------

ROW_NUMBER_COLUMN = "STT"
_EXCEL_EPOCH = date(1899, 12, 30)
# Excel itself saves strings in a shared-string table; xlsxwriter can only do that holding the whole sheet
# in memory (and is faster so). Files expected above SHARED_STRINGS_MAX_ROWS rows are always streamed in
# constant_memory mode (inline strings, one row in memory); smaller ones are, in 1 - SHARED_STRINGS_SHARE.
SHARED_STRINGS_MAX_ROWS = 30_000
SHARED_STRINGS_SHARE = 0.7


@dataclass(frozen=True)
class XlsxDelivery:
    """How one XLSX file is laid out. The default is the plain form: header in row 1, every cell text."""

    title_rows: tuple[str, ...] = ()   # above the header; "" is a blank row
    merged_title: bool = False         # title cells merged across the table's width
    row_number_column: bool = False    # an extra STT column on the left
    numeric_codes: tuple[str, ...] = ()  # columns whose digit codes are written as numbers (01 → 1)
    text_date_rate: float = 1.0        # share of date cells written as dd/mm/yyyy text (the rest: real dates)
    shared_strings: bool = False       # default xlsxwriter mode (shared-string table), not constant_memory

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.title_rows:
            out["title_rows"] = len(self.title_rows)
        if self.merged_title:
            out["merged_title"] = True
        if self.row_number_column:
            out["extra_column"] = ROW_NUMBER_COLUMN
        if self.numeric_codes:
            out["numeric_codes"] = list(self.numeric_codes)
        if self.text_date_rate < 1.0:
            out["text_date_rate"] = self.text_date_rate
        if self.shared_strings:
            out["shared_strings"] = True
        return out


def choose_xlsx_delivery(rng: random.Random, sy: SchoolYear, province_name: str, *, numeric: bool,
                         small: bool) -> XlsxDelivery:
    agency = rng.choice(("BỘ GIÁO DỤC VÀ ĐÀO TẠO", f"SỞ GIÁO DỤC VÀ ĐÀO TẠO {province_name.upper()}",
                         "CƠ SỞ DỮ LIỆU NGÀNH GIÁO DỤC"))
    lines = [agency, "DANH SÁCH HỌC SINH", f"Năm học {sy.label}", f"Đơn vị: {province_name}",
             f"Ngày xuất dữ liệu: 31/08/{sy.start_year + 1}"]
    height = rng.randint(1, 6)                      # rows above the header, a blank one included
    blank = height == 6 or (height >= 2 and rng.random() < 0.4)
    texts = height - blank
    if texts == 1:
        title = [lines[1]]
    else:  # the list's name always, then others in their usual order
        title = [lines[i] for i in sorted([1] + rng.sample([0, 2, 3, 4], texts - 1))]
    if blank:
        title.append("")
    codes: tuple[str, ...] = ()
    if numeric:
        codes = CODE_COLUMNS + (("Khối",) if rng.random() < 0.5 else ())
    return XlsxDelivery(
        title_rows=tuple(title),
        merged_title=rng.random() < 0.6,
        row_number_column=rng.random() < 0.3,
        numeric_codes=codes,
        text_date_rate=round(rng.uniform(0.05, 0.35), 2),
        shared_strings=small and rng.random() < SHARED_STRINGS_SHARE,
    )


class XlsxFeedWriter:
    """Streams rows (lists in canonical column order, text) into the first sheet of one XLSX file."""

    def __init__(self, path: Path, columns: Sequence[str], delivery: XlsxDelivery, rng: random.Random,
                 created: datetime):
        self.path, self.columns, self.delivery, self.rng, self.created = path, columns, delivery, rng, created

    def __enter__(self) -> XlsxFeedWriter:
        import xlsxwriter

        self.path.parent.mkdir(parents=True, exist_ok=True)
        d = self.delivery
        self._wb = xlsxwriter.Workbook(str(self.path), {"constant_memory": not d.shared_strings})
        self._wb.set_properties({"created": self.created, "author": "CSDL ngành", "title": "Danh sách học sinh"})
        ws = self._ws = self._wb.add_worksheet("Danh sách học sinh")
        title_fmt = self._wb.add_format({"bold": True, "align": "center"})
        header_fmt = self._wb.add_format({"bold": True, "border": 1, "align": "center", "text_wrap": True})
        self._date_fmt = self._wb.add_format({"num_format": "dd/mm/yyyy"})
        self._offset = 1 if d.row_number_column else 0
        width = len(self.columns) + self._offset
        ws.set_column(0, width - 1, 14)
        for r, text in enumerate(d.title_rows):
            if not text:
                continue
            if d.merged_title:
                ws.merge_range(r, 0, r, width - 1, text, title_fmt)
            else:
                ws.write_string(r, 0, text, title_fmt)
        header = ([ROW_NUMBER_COLUMN] if d.row_number_column else []) + list(self.columns)
        self._row = len(d.title_rows)
        for c, name in enumerate(header):
            ws.write_string(self._row, c, name, header_fmt)
        self._row += 1
        self._dates = {self.columns.index(c) for c in DATE_COLUMNS}
        self._numbers = {self.columns.index(c) for c in d.numeric_codes}
        self._serials: dict[str, int | None] = {}
        # the undecorated writers (row/column only, no A1 notation): the decorator costs ~10% per cell
        self._write_string = getattr(ws, "_write_string", ws.write_string)
        self._write_number = getattr(ws, "_write_number", ws.write_number)
        self.rows = 0
        return self

    def _serial(self, value: str) -> int | None:
        serial = self._serials.get(value, -1)
        if serial == -1:
            ymd = _dmy(value)
            try:
                serial = (date(*ymd) - _EXCEL_EPOCH).days if ymd else None
            except ValueError:
                serial = None
            self._serials[value] = serial
        return serial

    def write(self, row: list[str]) -> None:
        r, offset = self._row, self._offset
        write_string, write_number = self._write_string, self._write_number
        text_rate, rand = self.delivery.text_date_rate, self.rng.random
        if offset:
            write_number(r, 0, self.rows + 1)
        for i, value in enumerate(row):
            if not value:
                continue
            if i in self._dates:
                serial = self._serial(value)
                if serial is not None and rand() >= text_rate:
                    write_number(r, i + offset, serial, self._date_fmt)
                    continue
            elif i in self._numbers and value.isdigit():
                write_number(r, i + offset, int(value))
                continue
            write_string(r, i + offset, value)
        self._row += 1
        self.rows += 1

    def __exit__(self, *exc: object) -> None:
        self._wb.close()


STUDENTS_NATIONAL = 23_500_000   # ≈ rows a year at scale 1 (preschool + general education)
XLSX_MAX_ROWS = 8_000            # larger files are CSV
PARALLEL_MIN_ROWS = 50_000

# --- the feed -------------------------------------------------------------------------------------------

def generate_education_feed(
    landing_dir: Path | str,
    *,
    scale: float = 0.001,
    seed: int = 13,
    school_years: Sequence[str] = DEFAULT_SCHOOL_YEARS,
    provinces: Sequence[str] | None = None,
    invalid_rate: float = 0.0,
    delivery_variants: bool = True,
    xlsx_share: float = 0.5,
    reference_dir: Path | str | None = None,
    workers: int | None = None,
) -> Manifest:
    """Write giao_duc_hoc_sinh files under ``landing_dir``/giao_duc_hoc_sinh, one per province × school
    year, and record them in the landing manifest (returned, and written to ``_manifest.json``).

    A school year's rows carry the geography of its 1 September (2025-2026 on: the 34 provinces);
    ``provinces`` filters by NEW province code (earlier years get the old provinces mapping into them).
    ``scale`` is that of ``generate_population_feed``: the children are its children (same seed). A file
    expected to hold at most ``XLSX_MAX_ROWS`` rows is ``.xlsx`` with probability ``xlsx_share`` (seeded per
    file; with two or more such files and 0 < share < 1 both formats appear), else ``.csv``: big provinces'
    exports are CSV (an XLSX file is written cell by cell, a CSV file from arrays). ``invalid_rate`` is the
    share of rows replaced by invalid rows of the kinds in ``INVALID_KINDS``, counted per file in ``invalid_rows``.

    ``counts`` per file, over valid rows (levels mn/th/thcs/thpt, "enrolled at start" and "dropout" as in
    sources.md): ``records_<level>``; ``enrolled_start_<level>`` and its splits ``_male``/``_female`` and
    ``_kinh``/``_minority``; ``dropouts_<level>`` with the same splits; ``dropout_excluded_<level>``
    (enrolled at start, status 05/09/12 with reason 07/08/10); ``nursery_enrolled_start`` (nhà trẻ) and
    ``nursery_enrolled_start_age0``–``2``; ``mg_enrolled_start_age3``–``5`` (mẫu giáo; ages by the Vietnamese
    convention, start year − birth year).

    Files are written in parallel worker processes (``fork``) when the run is large (≥ PARALLEL_MIN_ROWS
    expected rows), one per CPU; ``workers`` sets the number (1: in this process). Output is the same.
    """
    check_rates(scale, invalid_rate)
    if not 0 <= xlsx_share <= 1:
        raise ValueError("xlsx_share must be in [0, 1]")
    years = [SchoolYear.parse(y) for y in ([school_years] if isinstance(school_years, str) else school_years)]
    if len({y.label for y in years}) != len(years):
        raise ValueError("duplicate school years")
    geo = load_geography(reference_dir)
    model = build_population(geo, seed)
    selected = new_provinces(geo, provinces)
    landing = Path(landing_dir)

    jobs: list[tuple[SchoolYear, str, bool]] = []
    small: list[int] = []
    for sy in years:
        for province in provinces_in(geo, sy.vintage, selected):
            if STUDENTS_NATIONAL * scale * model.province_share(sy.vintage, province) <= XLSX_MAX_ROWS:
                small.append(len(jobs))
            pick = random.Random(f"{seed}|{FEED}|{sy.label}|{province}|container").random() < xlsx_share
            jobs.append((sy, province, pick and bool(small) and small[-1] == len(jobs)))
    if 0 < xlsx_share < 1 and len(small) >= 2 and len({jobs[i][2] for i in small}) == 1:
        sy, province, pick = jobs[small[-1]]
        jobs[small[-1]] = (sy, province, not pick)

    tasks: list[tuple[SchoolYear, str, bool, int]] = []
    n_csv = n_xlsx = 0
    for sy, province, as_xlsx in jobs:
        tasks.append((sy, province, as_xlsx, n_xlsx if as_xlsx else n_csv))
        if as_xlsx:
            n_xlsx += 1
        else:
            n_csv += 1
    common = (landing, reference_dir, scale, seed, invalid_rate, delivery_variants)
    sizes = [STUDENTS_NATIONAL * scale * model.province_share(sy.vintage, province) for sy, province, _, _ in tasks]
    n_workers = _workers(workers, len(tasks), sum(sizes))
    if n_workers > 1:
        # files are independent: write them in parallel (fork keeps the loaded geography and model),
        # largest first; the manifest keeps the job order
        order = sorted(range(len(tasks)), key=lambda i: -sizes[i])
        with ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = {i: pool.submit(_task, common, tasks[i]) for i in order}
            files = [futures[i].result() for i in range(len(tasks))]
    else:
        files = [_task(common, task) for task in tasks]
    manifest = Manifest(
        landing_dir=str(landing), generator=GENERATOR,
        parameters={"feeds": [FEED], "scale": scale, "seed": seed, "school_years": [y.label for y in years],
                    "provinces": None if provinces is None else selected, "invalid_rate": invalid_rate,
                    "delivery_variants": delivery_variants, "xlsx_share": xlsx_share},
        files=files,
    )
    manifest.write(landing)
    return manifest


def _workers(requested: int | None, jobs: int, expected_rows: float) -> int:
    if requested is not None:
        if requested < 1:
            raise ValueError("workers must be at least 1")
        wanted = requested
    elif expected_rows < PARALLEL_MIN_ROWS:
        return 1
    else:
        wanted = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(wanted, jobs))


def _task(common: tuple, task: tuple[SchoolYear, str, bool, int]) -> FileEntry:
    landing, reference_dir, scale, seed, invalid_rate, delivery_variants = common
    sy, province, as_xlsx, index = task
    geo = load_geography(reference_dir)
    return _write_file(landing, geo, build_population(geo, seed), sy, province, scale, seed, invalid_rate,
                       delivery_variants, as_xlsx, index)


def _write_file(landing: Path, geo: Geography, model: PopulationModel, sy: SchoolYear, province: str,
                scale: float, seed: int, invalid_rate: float, delivery_variants: bool, as_xlsx: bool,
                index: int) -> FileEntry:
    key = f"{seed}|{FEED}|{sy.label}|{province}"
    rel = f"{FEED}/{FEED}_{province}_{sy.label}.{'xlsx' if as_xlsx else 'csv'}"
    path = landing / rel
    vintage = sy.vintage
    s = student_rows(geo, model, vintage, sy.start_year, sy.label, province, scale, seed, RATES, _Thresholds(model))
    n = len(s)
    # invalid rows replace valid ones, one defect each
    injector = _Injector(geo, sy, invalid_rate, random.Random(f"{key}|invalid"))
    chosen = np.nonzero(numpy_rng(key, "invalid").random(n) < invalid_rate)[0] if invalid_rate > 0 else []
    replaced: dict[int, list[str]] = {}
    invalid: Counter[str] = Counter()
    for i in list(chosen):
        row = _row(s, int(i))
        invalid[injector.corrupt(row)] += 1
        replaced[int(i)] = row
    valid = np.ones(n, dtype=bool)
    valid[list(replaced)] = False
    format_rng = random.Random(f"{key}|format")
    if as_xlsx:
        if delivery_variants:
            expected = STUDENTS_NATIONAL * scale * model.province_share(vintage, province)
            xlsx = choose_xlsx_delivery(format_rng, sy, geo.province_name[vintage].get(province, province),
                                        numeric=index % 2 == 0 or format_rng.random() < 0.3,
                                        small=expected <= SHARED_STRINGS_MAX_ROWS)
        else:
            xlsx = XlsxDelivery()
        variants: dict[str, Any] = {"xlsx": True, **xlsx.describe()}
        with XlsxFeedWriter(path, COLUMNS, xlsx, random.Random(f"{key}|cells"),
                            datetime(sy.start_year + 1, 8, 31, 17, 0, 0)) as writer:
            for i in range(n):
                writer.write(replaced.get(i) or _row(s, i))
        sha256 = sha256_of(path)
    else:
        delivery = (choose_delivery(format_rng, COLUMNS, force=VARIANT_NAMES[index % len(VARIANT_NAMES)])
                    if delivery_variants else Delivery())
        variants = delivery.describe()
        table = _table(s)
        table.replace = {i: [row] for i, row in replaced.items()}
        sha256 = write_csv(path, table, delivery, numpy_rng(key, "cells"))
    return FileEntry(feed=FEED, path=rel, province=province, vintage=vintage, period=sy.label, rows=n,
                     valid_rows=int(valid.sum()), invalid_rows=dict(sorted(invalid.items())),
                     variants=variants, counts=_counts(s, valid, sy.start_year), sha256=sha256)
