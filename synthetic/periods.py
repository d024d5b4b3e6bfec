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
