"""The communes' annual aggregate report (bao_cao_tong_hop): what no register holds (TT 13 Phụ lục I 0501,
0502, 0601, 0605; child marriages, non-fatal injuries, child-friendly communes under Quyết định 06/QĐ-TTg ngày 03/01/2019),
filled by communes or provinces in the workbook `make template YEAR=…` makes (ingest/template.py) and
dropped in the landing folder, one file per province and year, one row per commune.

A row whose figures are all empty is a commune that has not reported: it loads (the template lists every
commune) with `is_reported` false and counts in no indicator. A row with some figures and not others is
quarantined: a blank is not a zero.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ingest.feeds.common import geography_columns
from ingest.feeds.rules import broken_rows
from ingest.fields import CellError, Choice, Parser, Text, WholeNumber
from ingest.spec import FEEDS, Column, Derived, FeedSpec, Lookup

YES_NO = {"Có": "t", "Không": "f"}
FEED = "bao_cao_tong_hop"


class ReportYear(Parser):
    """`Năm`: the year reported, as its last day (which decides the geography vintage of the codes)."""

    def parse(self, value: str) -> str:
        if not (value.isdigit() and len(value) == 4 and 2000 <= int(value) <= 2100):
            raise CellError(f"year {value!r} is not a year of four digits")
        return f"{value}-12-31"


def _count(header: str, name: str, description: str, maximum: int = 1_000_000) -> Column:
    return Column(header, name, "integer", WholeNumber(required=False, minimum=0, maximum=maximum, label=header),
                  description)


# The figures a reporting commune fills, all of them (0 when none); the decision and its year only when recognised.
FIGURES = (
    _count("Số thôn, tổ dân phố", "villages", "Villages and residential groups (thôn, tổ dân phố) of the commune.",
           maximum=1000),
    _count("Số thôn, tổ dân phố có điểm văn hóa, thể thao cho trẻ em", "villages_with_child_facilities",
           "Villages with a culture or sport facility for children (TT 13 Phụ lục I 0501).", maximum=1000),
    Column("Xã có điểm vui chơi cho trẻ em", "has_play_point", "boolean",
           Choice(required=False, choices=YES_NO, label="Xã có điểm vui chơi cho trẻ em"),
           "The commune has a play point for children (0502): Có / Không."),
    _count("Số trẻ em từ 7 tuổi trở lên được lấy ý kiến", "children_consulted",
           "Children aged 7 and over consulted on matters that affect them (0601)."),
    _count("Số trẻ em được trang bị kiến thức, kỹ năng an toàn trên môi trường mạng", "children_online_safety",
           "Children given knowledge and skills for safe online participation (0605)."),
    _count("Số trường hợp tảo hôn", "child_marriages", "Child marriages (tảo hôn) recorded in the year."),
    _count("Số trẻ em bị tai nạn, thương tích không tử vong", "children_injured",
           "Children with a non-fatal injury in the year."),
    Column("Xã được công nhận phù hợp với trẻ em", "is_child_friendly", "boolean",
           Choice(required=False, choices=YES_NO, label="Xã được công nhận phù hợp với trẻ em"),
           "Recognised as a child-friendly commune (xã, phường phù hợp với trẻ em, Quyết định 06/QĐ-TTg ngày "
           "03/01/2019): Có / Không."),
)
RECOGNITION = (
    Column("Số quyết định công nhận", "recognition_decision", "text", Text(required=False, max_length=100),
           "Number of the recognition decision (e.g. 123/QĐ-UBND), for a recognised commune."),
    Column("Năm công nhận", "recognition_year", "integer",
           WholeNumber(required=False, minimum=2000, maximum=2100, label="Năm công nhận"),
           "Year of the recognition decision."),
)
FIGURE_NAMES = tuple(column.name for column in FIGURES)


def _blank_or_complete(columns: dict[str, pa.Array]):
    """A commune reports all its figures or none: a blank among filled figures is not a zero."""
    filled = [pc.is_valid(columns[name]) for name in FIGURE_NAMES]
    count = filled[0].cast(pa.int8())
    for more in filled[1:]:
        count = pc.add(count, more.cast(pa.int8()))
    partial = pc.and_(pc.greater(count, 0), pc.less(count, len(FIGURES)))
    problems = []
    for i in broken_rows(partial):
        missing = [column.header for column, mask in zip(FIGURES, filled) if not mask[i].as_py()]
        problems.append((i, missing[0], f"the commune's row is incomplete ({', '.join(missing)} empty): fill every "
                                        "figure, 0 when there is none, or leave the whole row empty (not reported)"))
    return problems


def _facilities_within_villages(columns: dict[str, pa.Array]):
    villages, facilities = columns["villages"], columns["villages_with_child_facilities"]
    over = pc.greater(pc.cast(facilities, pa.int64()), pc.cast(villages, pa.int64()))
    return [(i, FIGURES[1].header, f"{facilities[i].as_py()} villages with a children's facility, more than the "
                                   f"commune's {villages[i].as_py()} villages") for i in broken_rows(over)]


def _recognition(columns: dict[str, pa.Array]):
    """A recognised commune gives the decision and its year, not after the year reported."""
    problems = []
    rows = zip(columns["is_child_friendly"].to_pylist(), columns["recognition_decision"].to_pylist(),
               columns["recognition_year"].to_pylist(), columns["reference_date"].to_pylist())
    for i, (friendly, decision, year, reported) in enumerate(rows):
        if friendly == "t" and (decision is None or year is None):
            problems.append((i, RECOGNITION[0].header if decision is None else RECOGNITION[1].header,
                             "a commune recognised as child-friendly needs the decision number and its year"))
        elif year is not None and reported is not None and int(year) > int(reported[:4]):
            problems.append((i, RECOGNITION[1].header, f"recognised in {year}, after the year reported ({reported[:4]})"))
    return problems


# The commune's children in the statistics office's estimate of the year (raw.dan_so, current deliveries).
CHILDREN = Lookup("children", """
    select admin_vintage, commune_code, to_char(reference_date, 'YYYY'),
           sum(population) filter (where age < 16) || '|' || sum(population) filter (where age between 7 and 15)
      from raw.dan_so where superseded_by_batch is null group by 1, 2, 3""")


def _within_the_communes_children(columns: dict[str, pa.Array], lookups: dict):
    """A count of children above the commune's children (dan_so of the year) is impossible. Without an
    estimate for the commune and year there is nothing to compare with: the row passes."""
    children = lookups.get("children") or {}
    if not children:
        return []
    checks = (("children_consulted", 1, "children aged 7–15"), ("children_online_safety", 0, "children under 16"),
              ("children_injured", 0, "children under 16"))
    keys = zip(columns["admin_vintage"].to_pylist(), columns["commune_code"].to_pylist(),
               columns["reference_date"].to_pylist())
    values = {name: columns[name].to_pylist() for name, _, _ in checks}
    problems = []
    for i, (vintage, commune, reported) in enumerate(keys):
        estimate = children.get((vintage, commune, (reported or "")[:4]))
        if estimate is None:
            continue
        limits = [int(part) if part else None for part in str(estimate).split("|")]
        for name, which, what in checks:
            value, limit = values[name][i], limits[which]
            if value is not None and limit is not None and int(value) > limit:
                header = next(column.header for column in FIGURES if column.name == name)
                problems.append((i, header, f"{value} child(ren), more than the commune's {limit} {what} in the "
                                            f"statistics office's estimate of {reported[:4]} (dan_so)"))
                break
    return problems


def _reported(columns: dict[str, pa.Array], errors: dict) -> dict[str, pa.Array]:
    filled = pc.is_valid(columns[FIGURE_NAMES[0]])
    return {"is_reported": pc.if_else(filled, "t", "f")}


AGGREGATE_REPORTS = FEEDS.register(FeedSpec(
    name=FEED,
    description="The communes' annual aggregate report (Báo cáo tổng hợp): one row per commune of a province and "
                "year, from the workbook `make template` makes. A newer file for the same province and year "
                "replaces the older one.",
    reference_date="reference_date",
    period_of=lambda reference_date: reference_date[:4],
    extensions=(".xlsx", ".csv"),
    unique_within_file=("commune_code", "reference_date"),
    columns=(
        Column("Năm", "reference_date", "date", ReportYear(),
               "The year reported, as its last day (31 December): decides the geography vintage of the codes."),
        *geography_columns(),
        Column("Tên xã", "commune_name", "text", Text(required=False), "Commune name as in the template (not checked)."),
        *FIGURES,
        *RECOGNITION,
    ),
    derived=(Derived(columns=(("is_reported", "boolean",
                               "The commune filled its figures; false for a row left empty (not reported)."),),
                     compute=_reported),),
    row_rules=(_blank_or_complete, _facilities_within_villages, _recognition),
    lookups=(CHILDREN,),
    lookup_rules=(_within_the_communes_children,),
    after=("dan_so",),
))
