"""Invalid-row injection: each corrupted row carries exactly one known defect, named by its kind.

Every kind must be quarantined by a correct reader (sources.md, "Rules shared by every feed" and the
feed sections); none of them is fixable by the lenient re-padding/normalisation a reader must apply.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from synthetic.geography import POST_REFORM, PRE_REFORM, Geography
from synthetic.health import BIRTH_COLUMNS, BIRTHS_FEED, DEATH_COLUMNS, DEATHS_FEED
from synthetic.periods import ddmmyyyy

IMPOSSIBLE_DATE = "impossible_date"            # 31/02/2024
BAD_DATE_FORMAT = "bad_date_format"            # 2024-03-15, 15.03.2024, …
UNKNOWN_SEX = "unknown_sex"                    # X
BAD_LIVE_BIRTH = "bad_live_birth"              # Sinh sống not C/K
UNKNOWN_COMMUNE = "unknown_commune"            # commune code unknown in its vintage (and in the other)
COMMUNE_OUTSIDE_PROVINCE = "commune_outside_province"  # valid in the vintage, another province's
OTHER_VINTAGE_COMMUNE = "other_vintage_commune"        # code that exists only in the other vintage
DEATH_BEFORE_BIRTH = "death_before_birth"
MISSING_BIRTH_DATE = "missing_birth_date"      # blank required Ngày sinh
NON_NUMERIC_WEIGHT = "non_numeric_weight"
ETHNICITY_OUT_OF_RANGE = "ethnicity_out_of_range"

KINDS = {
    BIRTHS_FEED: (IMPOSSIBLE_DATE, BAD_DATE_FORMAT, UNKNOWN_SEX, BAD_LIVE_BIRTH, UNKNOWN_COMMUNE,
                  COMMUNE_OUTSIDE_PROVINCE, OTHER_VINTAGE_COMMUNE, MISSING_BIRTH_DATE, NON_NUMERIC_WEIGHT,
                  ETHNICITY_OUT_OF_RANGE),
    DEATHS_FEED: (IMPOSSIBLE_DATE, BAD_DATE_FORMAT, UNKNOWN_SEX, UNKNOWN_COMMUNE, COMMUNE_OUTSIDE_PROVINCE,
                  OTHER_VINTAGE_COMMUNE, DEATH_BEFORE_BIRTH, MISSING_BIRTH_DATE, ETHNICITY_OUT_OF_RANGE),
}

_BAD_SEX = ("X", "?", "3")
_BAD_LIVE = ("X", "Có", "1", "Y")
_BAD_WEIGHT = ("3100g", "ba ký", "khoảng 3000", "abc")
_BAD_ETHNICITY = ("00", "55", "60", "99")
_IMPOSSIBLE = ("31/02/{y}", "30/02/{y}", "31/04/{y}", "31/06/{y}", "31/09/{y}", "31/11/{y}",
               "32/01/{y}", "15/13/{y}", "00/05/{y}")


def parse_dmy(value: str) -> date:
    """A dd/mm/yyyy text."""
    return datetime.strptime(value, "%d/%m/%Y").date()


def impossible_dmy(rng: random.Random, year: int) -> str:
    """A dd/mm/yyyy text of a day that does not exist (31/02, 29/02 of a common year …)."""
    if year % 4 != 0 and rng.random() < 0.3:
        return f"29/02/{year}"
    return rng.choice(_IMPOSSIBLE).format(y=year)


def _bad_format(rng: random.Random, day: date) -> str:
    return rng.choice((
        day.isoformat(),
        f"{day.day:02d}-{day.month:02d}-{day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
        f"{day.day:02d}/{day.month:02d}/{day.year % 100:02d}",
        f"{day.year}{day.month:02d}{day.day:02d}",
        f"{day.day} tháng {day.month} năm {day.year}",
    ))


class InvalidRows:
    """The invalid rows of one file, one defect each: the kinds are dealt in turn from a random starting point,
    so every kind shows up in a file with enough invalid rows and the kinds stay evenly spread. Every feed's
    injector builds on it; the defects several feeds share are here."""

    def __init__(self, kinds: Sequence[str], rate: float, rng: random.Random, geo: Geography, vintage: str):
        self.kinds, self.rate, self.rng, self.geo, self.vintage = tuple(kinds), rate, rng, geo, vintage
        self._next = rng.randrange(len(self.kinds))

    def next_kind(self, skip: Sequence[str] = ()) -> str | None:
        for _ in range(len(self.kinds)):
            kind = self.kinds[self._next % len(self.kinds)]
            self._next += 1
            if kind not in skip:
                return kind
        return None

    def draw(self, skip: Sequence[str] = ()) -> str | None:
        """Whether this row is invalid (probability ``rate``), and its kind."""
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return None
        return self.next_kind(skip)

    def unknown_commune(self) -> str:
        """A commune code that exists in neither vintage."""
        while True:
            code = f"{self.rng.randint(33000, 99999):05d}"
            if code not in self.geo.known_communes:
                return code

    def commune_outside(self, province: str) -> str:
        """A commune of another province of the same vintage."""
        other = self.rng.choice([p for p in self.geo.provinces(self.vintage) if p != province])
        return self.rng.choice(self.geo.communes(self.vintage, other))


class InvalidInjector(InvalidRows):
    """Replaces a fraction of the rows of one health file by invalid rows, one defect per row."""

    def __init__(self, feed: str, geo: Geography, vintage: str, rate: float, rng: random.Random):
        super().__init__(KINDS[feed], rate, rng, geo, vintage)
        self.feed = feed
        columns = BIRTH_COLUMNS if feed == BIRTHS_FEED else DEATH_COLUMNS
        self.col = {name: i for i, name in enumerate(columns)}
        self._other = POST_REFORM if vintage == PRE_REFORM else PRE_REFORM
        self._other_only: dict[str, list[str]] = {}

    def maybe_corrupt(self, row: list[str]) -> str | None:
        """Corrupt ``row`` in place with probability ``rate``; return the kind, or None."""
        kind = self.draw()
        if kind is None:
            return None
        if kind == OTHER_VINTAGE_COMMUNE and not self._other_vintage_candidates(row[self.col["Mã tỉnh"]]):
            kind = UNKNOWN_COMMUNE
        getattr(self, f"_{kind}")(row)
        return kind

    # --- one method per kind --------------------------------------------------------------------------

    def _date_column(self) -> str:
        if self.feed == DEATHS_FEED and self.rng.random() < 0.5:
            return "Ngày mất"
        return "Ngày sinh"

    def _impossible_date(self, row: list[str]) -> None:
        i = self.col[self._date_column()]
        row[i] = impossible_dmy(self.rng, parse_dmy(row[i]).year)

    def _bad_date_format(self, row: list[str]) -> None:
        i = self.col[self._date_column()]
        row[i] = _bad_format(self.rng, parse_dmy(row[i]))

    def _unknown_sex(self, row: list[str]) -> None:
        row[self.col["Giới tính"]] = self.rng.choice(_BAD_SEX)

    def _bad_live_birth(self, row: list[str]) -> None:
        row[self.col["Sinh sống"]] = self.rng.choice(_BAD_LIVE)

    def _unknown_commune(self, row: list[str]) -> None:
        row[self.col["Mã xã"]] = self.unknown_commune()

    def _commune_outside_province(self, row: list[str]) -> None:
        row[self.col["Mã xã"]] = self.commune_outside(row[self.col["Mã tỉnh"]])

    def _other_vintage_candidates(self, province: str) -> list[str]:
        """Codes of the other vintage that do not exist in this one, near ``province`` if possible."""
        if province not in self._other_only:
            mine = self.geo.all_communes(self.vintage)
            if self.vintage == PRE_REFORM:
                related = [self.geo.old_to_new_province.get(province, "")]
            else:
                related = self.geo.old_provinces_of(province)
            near = [c for p in related if p in self.geo.communes_by_province[self._other]
                    for c in self.geo.communes(self._other, p) if c not in mine]
            self._other_only[province] = near or sorted(self.geo.all_communes(self._other) - mine)
        return self._other_only[province]

    def _other_vintage_commune(self, row: list[str]) -> None:
        row[self.col["Mã xã"]] = self.rng.choice(self._other_vintage_candidates(row[self.col["Mã tỉnh"]]))

    def _death_before_birth(self, row: list[str]) -> None:
        death = parse_dmy(row[self.col["Ngày mất"]])
        row[self.col["Ngày sinh"]] = ddmmyyyy(death + timedelta(days=self.rng.randint(1, 400)))

    def _missing_birth_date(self, row: list[str]) -> None:
        row[self.col["Ngày sinh"]] = ""

    def _non_numeric_weight(self, row: list[str]) -> None:
        row[self.col["Cân nặng (g)"]] = self.rng.choice(_BAD_WEIGHT)

    def _ethnicity_out_of_range(self, row: list[str]) -> None:
        column = "Mã dân tộc mẹ" if self.feed == BIRTHS_FEED else "Mã dân tộc"
        row[self.col[column]] = self.rng.choice(_BAD_ETHNICITY)
