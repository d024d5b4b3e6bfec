"""Half-year reporting periods (``2024-H1`` = 1 Jan–30 Jun, ``2024-H2`` = 1 Jul–31 Dec)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from synthetic.geography import POST_REFORM, PRE_REFORM

REFORM_DATE = date(2025, 7, 1)
_LABEL = re.compile(r"^(\d{4})-H([12])$")


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # inclusive

    @classmethod
    def parse(cls, label: str) -> Period:
        match = _LABEL.match(label.strip())
        if not match:
            raise ValueError(f"period {label!r} is not a half-year like 2024-H1")
        year, half = int(match.group(1)), int(match.group(2))
        if half == 1:
            return cls(label.strip(), date(year, 1, 1), date(year, 6, 30))
        return cls(label.strip(), date(year, 7, 1), date(year, 12, 31))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def year_fraction(self) -> float:
        year_days = (date(self.start.year + 1, 1, 1) - date(self.start.year, 1, 1)).days
        return self.days / year_days

    @property
    def vintage(self) -> str:
        """Geography vintage of events dated in this period (a half-year never straddles the reform)."""
        return POST_REFORM if self.start >= REFORM_DATE else PRE_REFORM

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def vintage_of(day: date) -> str:
    return POST_REFORM if day >= REFORM_DATE else PRE_REFORM


# --- days -----------------------------------------------------------------------------------------------
# Arrays of dates are day ordinals: days since 1970-01-01, numpy's datetime64[D] as integers.
EPOCH = date(1970, 1, 1)


def ordinal(day: date) -> int:
    return (day - EPOCH).days


def from_ordinal(value: int) -> date:
    return EPOCH + timedelta(days=int(value))


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def ddmmyyyy(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def half_of(day: date) -> tuple[int, int]:
    """(year, 1 or 2) of the half-year holding ``day``."""
    return day.year, 1 if day.month <= 6 else 2


def halves_between(first: date, last: date) -> list[tuple[int, int]]:
    """Half-years (year, half) overlapping [first, last]."""
    out, (year, half) = [], half_of(first)
    end = half_of(last)
    while (year, half) <= end:
        out.append((year, half))
        year, half = (year, 2) if half == 1 else (year + 1, 1)
    return out
