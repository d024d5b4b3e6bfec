"""Persistent children, drawn per birth half-year ("cohort") and area, shared by the feeds that follow the
same children over time (the child register and growth monitoring).

Cohorts born before 1 July 2025 are drawn per OLD province over its old communes, later ones per NEW
province over the new communes (commune weights of ``synthetic.population``; cohort sizes of
``dan_so.NATIONAL_BY_AGE_M`` × scale). A child keeps its commune, birth date (never 29 February: leap-day
birthdays are read differently by different tools) and sex (52.7 % boys); a feed draws its own traits for
each cohort from the same stream (register entry dates, serials, latent z-scores …). A cohort depends only
on (seed, scale, feed, area, half-year), so a file's rows do not depend on what else a run generates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np

from synthetic.dan_so import MALE_SHARE_UNDER_10, NATIONAL_BY_AGE_M
from synthetic.geography import POST_REFORM, PRE_REFORM, Geography
from synthetic.health import ANNUAL_LIVE_BIRTHS
from synthetic.landing import numpy_rng
from synthetic.periods import REFORM_DATE, half_of, halves_between, ordinal
from synthetic.population import PopulationModel

MALE_SHARE = MALE_SHARE_UNDER_10


def annual_births(year: int, half: int) -> float:
    """Persons a year of the cohort born in (year, half): the age-a persons of 1 July 2024
    (``NATIONAL_BY_AGE_M``) for earlier cohorts, the 2024 births afterwards."""
    age = 2024 - year - (1 if half == 2 else 0)
    if age < 0:
        return float(ANNUAL_LIVE_BIRTHS)
    return NATIONAL_BY_AGE_M[min(age, len(NATIONAL_BY_AGE_M) - 1)] * 1_000_000


@dataclass
class Cohort:
    """Children of one area born in one half-year (arrays, one entry per child, sorted by commune and birth)."""

    key: str
    vintage: str
    province: str
    year: int
    half: int
    communes: tuple[str, ...]
    commune: np.ndarray        # index into ``communes``
    birth: np.ndarray          # day ordinal
    sex: np.ndarray            # 0 boy, 1 girl
    traits: dict[str, np.ndarray] = field(default_factory=dict)   # the feed's own arrays

    @property
    def size(self) -> int:
        return len(self.birth)

    @cached_property
    def birth_year(self) -> np.ndarray:
        return self.birth.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970

    @cached_property
    def birth_md(self) -> np.ndarray:
        """month * 100 + day of the birth date."""
        d = self.birth.astype("datetime64[D]")
        month = d.astype("datetime64[M]")
        return (month.astype(np.int64) % 12 + 1) * 100 + (d - month.astype("datetime64[D]")).astype(np.int64) + 1

    def age_at(self, day: date) -> np.ndarray:
        """Completed years at ``day``."""
        return day.year - self.birth_year - ((day.month * 100 + day.day) < self.birth_md)

    def birthday(self, years: int) -> np.ndarray:
        """Day ordinal of each child's birthday number ``years``."""
        d = self.birth.astype("datetime64[D]")
        month = d.astype("datetime64[M]")
        return ((month + 12 * years).astype("datetime64[D]") + (d - month.astype("datetime64[D]"))).astype(np.int64)


@dataclass
class CohortInArea:
    """A cohort seen from a province of a vintage: its children's commune codes in that vintage (per commune
    index) and whether each commune lies in the province."""

    cohort: Cohort
    codes: np.ndarray          # object array of commune codes, per commune index of the cohort
    inside: np.ndarray         # bool, per commune index

    @cached_property
    def numbers(self) -> np.ndarray:
        """The commune codes as numbers (-1: none), for sorting: all codes of a vintage have the same width."""
        return np.array([int(x) if x else -1 for x in self.codes.tolist()], dtype=np.int64)


Traits = Callable[[np.random.Generator, Cohort], dict[str, np.ndarray]]


class CohortBook:
    """The cohorts of one feed (drawn on first use and cached until ``clear``)."""

    def __init__(self, geo: Geography, pop: PopulationModel, scale: float, seed: int, feed: str, traits: Traits):
        self.geo, self.pop, self.scale, self.seed, self.feed, self.traits = geo, pop, scale, seed, feed, traits
        self._cohorts: dict[tuple[str, str, int, int], Cohort] = {}
        self._areas: dict[tuple[str, str, int, int], CohortInArea] = {}   # (province seen from, source, half)

    def cohort(self, vintage: str, province: str, year: int, half: int) -> Cohort:
        key = (vintage, province, year, half)
        if key not in self._cohorts:
            self._cohorts[key] = self._draw(vintage, province, year, half)
        return self._cohorts[key]

    def _draw(self, vintage: str, province: str, year: int, half: int) -> Cohort:
        label = f"{year}-H{half}"
        rng = numpy_rng(self.seed, self.feed, "cohort", self.scale, vintage, province, label)
        communes = tuple(self.geo.communes(vintage, province))
        weights = np.array([self.pop.weight[vintage][c] for c in communes]) / self.pop.national_weight
        start = date(year, 1 if half == 1 else 7, 1)
        end = date(year, 6, 30) if half == 1 else date(year, 12, 31)
        days = (end - start).days + 1
        year_days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
        counts = rng.poisson(annual_births(year, half) * days / year_days * self.scale * weights)
        n = int(counts.sum())
        commune = np.repeat(np.arange(len(communes)), counts)
        birth = ordinal(start) + rng.integers(0, days, n)
        bd = birth.astype("datetime64[D]")
        month = bd.astype("datetime64[M]")
        feb29 = ((month - bd.astype("datetime64[Y]")).astype(int) == 1) & ((bd - month).astype(int) == 28)
        birth = birth + feb29  # 29 February → 1 March
        order = np.lexsort((birth, commune))
        cohort = Cohort(key=f"{vintage}|{province}|{label}", vintage=vintage, province=province, year=year,
                        half=half, communes=communes, commune=commune[order], birth=birth[order],
                        sex=(rng.random(n) >= MALE_SHARE).astype(np.int64))
        cohort.traits = self.traits(rng, cohort)
        return cohort

    def cohorts_between(self, vintage: str, province: str, first: date, last: date) -> list[CohortInArea]:
        """Cohorts with births in [first, last] whose children live in ``province`` of ``vintage`` at a date of
        that vintage: before the reform the province's own cohorts; after it the new province's own cohorts
        and, for children born before the reform, the cohorts of the old provinces feeding into it."""
        out = []
        reform = half_of(REFORM_DATE)
        for year, half in halves_between(first, last):
            if vintage == PRE_REFORM and (year, half) >= reform:
                continue
            if vintage == PRE_REFORM or (year, half) >= reform:
                key = (province, vintage, year, half)
                if key not in self._areas:
                    c = self.cohort(vintage, province, year, half)
                    self._areas[key] = CohortInArea(c, np.array(c.communes, dtype=object),
                                                    np.ones(len(c.communes), dtype=bool))
                out.append(self._areas[key])
                continue
            for old in self.geo.old_sources.get(province, ()):
                key = (province, old, year, half)
                if key not in self._areas:
                    c = self.cohort(PRE_REFORM, old, year, half)
                    codes = np.array([self.geo.new_commune.get(x, "") for x in c.communes], dtype=object)
                    inside = np.array([self.geo.province_of_commune[POST_REFORM].get(x) == province for x in codes],
                                      dtype=bool)
                    self._areas[key] = CohortInArea(c, codes, inside)
                out.append(self._areas[key])
        return out

    def clear(self) -> None:
        """Forget the cached cohorts (they are drawn again from the seed when needed)."""
        self._cohorts.clear()
        self._areas.clear()
