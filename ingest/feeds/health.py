"""Health sector feeds: commune birth and child-death registers (sources.md, y_te_sinh / y_te_tu_vong)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ingest.feeds.common import ETHNICITY_CODES, SEX, SEX_WITH_UNKNOWN, geography_columns
from ingest.feeds.rules import broken_rows as _broken_rows, not_in_future as _not_in_future, years_later
from ingest.fields import Choice, Code, DayMonthYear, Text, WholeNumber
from ingest.spec import FEEDS, Column, FeedSpec

CAUSES = {code: code.lower() for code in ("BENH", "DUOI_NUOC", "TNGT", "TNTT_KHAC", "KHONG_RO")}


BIRTHS = FEEDS.register(FeedSpec(
    name="y_te_sinh",
    description="Births from the commune birth register, one row per birth.",
    reference_date="birth_date",
    columns=(
        Column("Mã sự kiện", "event_id", "text", Text(max_length=64), "Event id in the register."),
        Column("Ngày sinh", "birth_date", "date", DayMonthYear(), "Date of birth."),
        Column("Giới tính", "sex", "text", Choice(choices=SEX_WITH_UNKNOWN, label="sex"),
               "Sex: male, female or unknown (Không xác định; counted in totals only)."),
        Column("Sinh sống", "is_live_birth", "boolean", Choice(choices={"C": "t", "K": "f"}, label="live birth flag"),
               "True for a live birth (C), false for a stillbirth (K)."),
        Column("Cân nặng (g)", "birth_weight_g", "integer",
               WholeNumber(required=False, minimum=200, maximum=7000, label="birth weight (g)"),
               "Birth weight in grams, may be empty."),
        *geography_columns(),
        Column("Mã dân tộc mẹ", "mother_ethnicity_code", "text",
               Code(width=2, allowed=ETHNICITY_CODES, label="ethnicity code"),
               "Mother's ethnicity, statistics office code 01 (Kinh) to 54."),
        Column("Nơi sinh", "birth_place", "text",
               Choice(choices={"CSYT": "CSYT", "NHA": "NHA", "KHAC": "KHAC"}, label="place of birth"),
               "Place of birth: CSYT (health facility), NHA (home), KHAC (other)."),
    ),
    row_rules=(_not_in_future("birth_date", "Ngày sinh"),),
))


def _death_not_before_birth(columns: dict[str, pa.Array]):
    births, deaths = columns["birth_date"], columns["death_date"]
    return [(i, "Ngày mất", f"death date {deaths[i].as_py()} is before birth date {births[i].as_py()}")
            for i in _broken_rows(pc.less(deaths, births))]


def _under_18_at_death(columns: dict[str, pa.Array]):
    births, deaths = columns["birth_date"], columns["death_date"]
    # ISO dates compare as text: the 18th birthday is the birth date with the year + 18 (29 February
    # sorts right too).
    eighteenth = years_later(births, 18)
    return [(i, "Ngày sinh", "the register holds deaths under 18; this person was 18 or older")
            for i in _broken_rows(pc.greater_equal(deaths, eighteenth))]


DEATHS = FEEDS.register(FeedSpec(
    name="y_te_tu_vong",
    description="Deaths of persons under 18 from the commune death register, one row per death.",
    reference_date="death_date",
    columns=(
        Column("Mã sự kiện", "event_id", "text", Text(max_length=64), "Event id in the register."),
        Column("Ngày sinh", "birth_date", "date", DayMonthYear(), "Date of birth."),
        Column("Ngày mất", "death_date", "date", DayMonthYear(), "Date of death."),
        Column("Giới tính", "sex", "text", Choice(choices=SEX, label="sex"), "Sex: male or female."),
        *geography_columns(),
        Column("Mã dân tộc", "ethnicity_code", "text",
               Code(width=2, allowed=ETHNICITY_CODES, label="ethnicity code"),
               "Ethnicity, statistics office code 01 (Kinh) to 54."),
        Column("Nguyên nhân", "cause_code", "text", Choice(choices=CAUSES, label="cause of death"),
               "Cause: benh (illness), duoi_nuoc (drowning), tngt (road traffic), tntt_khac (other injury), khong_ro (unknown)."),
    ),
    row_rules=(_death_not_before_birth, _under_18_at_death, _not_in_future("death_date", "Ngày mất")),
))
