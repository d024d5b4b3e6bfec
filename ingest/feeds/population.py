"""Population estimates from the statistics office (sources.md, dan_so): the denominators of rates per
child and of preschool coverage."""

from __future__ import annotations

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


POPULATION = FEEDS.register(FeedSpec(
    name="dan_so",
    description="Mid-year population estimates by commune, single year of age 0–17 and sex.",
    reference_date="reference_date",
    period_of=lambda reference_date: reference_date[:4],
    columns=(
        Column("Năm", "reference_date", "date", MidYear(),
               "Reference date of the mid-year estimate: 1 July of the year delivered in Năm."),
        *geography_columns(),
        Column("Tuổi", "age", "integer", WholeNumber(minimum=0, maximum=17, label="age"),
               "Age in completed years, 0 to 17."),
        Column("Giới tính", "sex", "text", Choice(choices=SEX, label="sex"), "Sex: male or female."),
        Column("Dân số", "population", "integer", WholeNumber(minimum=0, maximum=10_000_000, label="population"),
               "Persons."),
    ),
))
