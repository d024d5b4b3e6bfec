"""Population estimates from the statistics office (sources.md, dan_so): the denominators of rates per
child and of preschool coverage."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.feeds.common import SEX, geography_columns
from ingest.fields import CellError, Choice, Parser, WholeNumber
from ingest.spec import FEEDS, Column, FeedSpec


@dataclass
class MidYear(Parser):
    """`Năm` (a year) as the estimate's reference date, 1 July of that year: its geography vintage."""

    def parse(self, value: str) -> str:
        if not (value.isdigit() and len(value) == 4 and 1990 <= int(value) <= 2100):
            raise CellError(f"year {value!r} is not a year of four digits")
        return f"{value}-07-01"


# The statistics office closes its single years of age with an open-ended top group: "80+", "100+",
# "80 tuổi trở lên" (80 and over).
_OPEN_ENDED = re.compile(r"^(\d{1,3})\s*(?:\+|(?:tuổi\s+)?trở\s+lên)$", re.IGNORECASE)
MAX_AGE = 120
ADULT_AGE = 18


def _age_parts(value: str, label: str) -> tuple[int, bool]:
    """(age in completed years, open-ended) of a `Tuổi` cell, or CellError."""
    open_ended = _OPEN_ENDED.match(value)
    text = open_ended.group(1) if open_ended else value
    if not text.isdigit():
        raise CellError(f"{label} {value!r} is not a whole number of years, nor an open-ended group such as 80+")
    age = int(text)
    if age > MAX_AGE:
        raise CellError(f"{label} {age} is outside 0–{MAX_AGE}")
    if open_ended and age < ADULT_AGE:
        # the child ages must stay single years: a "15+" group would count adults as children of 15
        raise CellError(f"{label} {value!r}: an open-ended group must start at {ADULT_AGE} or above")
    return age, bool(open_ended)


@dataclass
class AgeInYears(Parser):
    """`Tuổi`: a single year of age, or the lower bound of the open-ended top group ("80+" → 80)."""

    label: str = "age"

    def parse(self, value: str) -> str:
        return str(_age_parts(value, self.label)[0])


@dataclass
class AgeIsOpenEnded(Parser):
    """`Tuổi` read a second time: true for the open-ended top group ("80+": 80 and over)."""

    label: str = "age"

    def parse(self, value: str) -> str:
        return "t" if _age_parts(value, self.label)[1] else "f"


POPULATION = FEEDS.register(FeedSpec(
    name="dan_so",
    description=("Mid-year population estimates by commune, single year of age and sex: ages 0–17 at least; "
                 "all ages when the file closes with an open-ended group such as 80+."),
    reference_date="reference_date",
    period_of=lambda reference_date: reference_date[:4],
    columns=(
        Column("Năm", "reference_date", "date", MidYear(),
               "Reference date of the mid-year estimate: 1 July of the year delivered in Năm."),
        *geography_columns(),
        Column("Tuổi", "age", "integer", AgeInYears(),
               "Age in completed years, 0 to 120; for the open-ended top group, its lower bound (80 for 80+)."),
        Column("Tuổi", "age_is_open_ended", "boolean", AgeIsOpenEnded(),
               "True for the open-ended top group (80+: 80 and over). A province's estimate with such a group "
               "covers all ages: the denominator of the crude birth rate."),
        Column("Giới tính", "sex", "text", Choice(choices=SEX, label="sex"), "Sex: male or female."),
        Column("Dân số", "population", "integer", WholeNumber(minimum=0, maximum=10_000_000, label="population"),
               "Persons."),
    ),
))
