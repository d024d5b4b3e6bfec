"""Which reporting periods a landing file's name says it holds, so that a run can load a subset of periods
(`make trigger PERIODS="2025-H1"`): 'y_te_sinh_01_2025-H1.csv' (a half-year), 'dan_so_01_2025.csv' (a year),
'giao_duc_hoc_sinh_01_2024-2025.xlsx' (a school year: the second half of 2024 and the first of 2025),
'ldxh_tre_em_01_2025-06-30.jsonl' (a snapshot date: its half-year)."""

from __future__ import annotations

import re

_HALF_YEAR = re.compile(r"(?<!\d)(\d{4})-H([12])(?![0-9A-Za-z])")
_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_SCHOOL_YEAR = re.compile(r"(?<!\d)(\d{4})-(\d{4})(?!\d)")
_YEAR = re.compile(r"(?<![\d-])(\d{4})(?![\d-])")


def half_years_in_name(name: str) -> set[str]:
    """The half-years ('2025-H1') a file name names; empty when it names none."""
    found = {f"{year}-H{half}" for year, half in _HALF_YEAR.findall(name)}
    found |= {f"{year}-H{1 if int(month) <= 6 else 2}" for year, month, _ in _DATE.findall(name)}
    for first, second in _SCHOOL_YEAR.findall(name):
        if int(second) == int(first) + 1:
            found |= {f"{first}-H2", f"{second}-H1"}
    rest = _DATE.sub("", _SCHOOL_YEAR.sub("", _HALF_YEAR.sub("", name)))
    found |= {f"{year}-H{half}" for year in _YEAR.findall(rest) for half in (1, 2)}
    return found


def name_matches_periods(name: str, periods: list[str]) -> bool:
    """Whether a file named `name` holds any of `periods` (half-years '2025-H1' or years '2025')."""
    wanted = {p for period in periods for p in ([f"{period}-H1", f"{period}-H2"] if len(period) == 4 else [period])}
    return bool(half_years_in_name(name) & wanted)
