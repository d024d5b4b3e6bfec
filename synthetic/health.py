"""Births (``y_te_sinh``) and child deaths (``y_te_tu_vong``): the statistical model, row by row.

Rows are produced lazily, as lists in the canonical column order of ``sources.md``, each with a small
tag used for accounting (births: live/stillbirth and sex; deaths: age class).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from synthetic.geography import Geography
from synthetic.periods import Period, add_years, ddmmyyyy
from synthetic.population import KINH, PopulationModel, Profile, ethnicity_table

BIRTHS_FEED = "y_te_sinh"
DEATHS_FEED = "y_te_tu_vong"

BIRTH_COLUMNS = ("Mã sự kiện", "Ngày sinh", "Giới tính", "Sinh sống", "Cân nặng (g)", "Mã tỉnh", "Mã xã",
                 "Mã dân tộc mẹ", "Nơi sinh")
DEATH_COLUMNS = ("Mã sự kiện", "Ngày sinh", "Ngày mất", "Giới tính", "Mã tỉnh", "Mã xã", "Mã dân tộc",
                 "Nguyên nhân")
COLUMNS = {BIRTHS_FEED: BIRTH_COLUMNS, DEATHS_FEED: DEATH_COLUMNS}
# Columns holding zero-padded codes (spreadsheet exports may drop the leading zeros).
CODE_COLUMNS = {
    BIRTHS_FEED: ("Mã tỉnh", "Mã xã", "Mã dân tộc mẹ"),
    DEATHS_FEED: ("Mã tỉnh", "Mã xã", "Mã dân tộc"),
}

# --- magnitudes (indicators.md §6) ------------------------------------------------------------------
ANNUAL_LIVE_BIRTHS = 1_370_000
SEX_RATIO_AT_BIRTH = 111 / 100       # boys per girl
UNKNOWN_SEX_SHARE = 0.0005
STILLBIRTH_SHARE = 0.005
BLANK_WEIGHT_SHARE = 0.05
BIRTH_WEIGHT_SD = 450.0

NEONATAL, POSTNEONATAL, AGE_1_4, AGE_5_17 = "neonatal", "postneonatal", "1_4", "5_17"
AGE_CLASSES = (NEONATAL, POSTNEONATAL, AGE_1_4, AGE_5_17)
# deaths per live birth of the same period, national level: NMR 9‰, IMR 14‰, U5MR 20‰
DEATHS_PER_LIVE_BIRTH = {NEONATAL: 0.009, POSTNEONATAL: 0.005, AGE_1_4: 0.006}
# deaths aged 5–17: ≈20 per 100,000 children a year over ≈13 single-year cohorts of births
DEATHS_5_17_PER_100K_CHILDREN = 20.0
COHORTS_5_17 = 13
DEATHS_PER_LIVE_BIRTH[AGE_5_17] = COHORTS_5_17 * DEATHS_5_17_PER_100K_CHILDREN / 100_000

CAUSES = ("BENH", "DUOI_NUOC", "TNGT", "TNTT_KHAC", "KHONG_RO")
_CAUSE_WEIGHTS = {
    NEONATAL: (93, 0, 0, 2, 5),
    POSTNEONATAL: (85, 3, 1, 5, 6),
    AGE_1_4: (45, 25, 10, 12, 8),
    AGE_5_17: (28, 32, 24, 11, 5),
}
_MALE_SHARE_OF_DEATHS = {NEONATAL: 0.56, POSTNEONATAL: 0.55, AGE_1_4: 0.56, AGE_5_17: 0.63}


def _cumulative(weights: Iterable[float]) -> tuple[float, ...]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return tuple(out)


_CAUSE_CUM = {k: _cumulative(v) for k, v in _CAUSE_WEIGHTS.items()}


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth below 30, rounded normal above)."""
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


@dataclass(frozen=True)
class Area:
    """Communes to draw events from, with cumulative weights."""

    communes: tuple[str, ...]
    provinces: tuple[str, ...]
    profiles: tuple[Profile, ...]
    cum: tuple[float, ...]

    @property
    def total(self) -> float:
        return self.cum[-1] if self.cum else 0.0

    def pick(self, rng: random.Random) -> int:
        return min(bisect_right(self.cum, rng.random() * self.total), len(self.cum) - 1)


def build_area(geo: Geography, pop: PopulationModel, vintage: str, provinces: Iterable[str],
               *, by_mortality: bool = False) -> Area:
    communes, provs, profiles, weights = [], [], [], []
    for province in provinces:
        for commune in geo.communes(vintage, province):
            w = pop.weight[vintage][commune]
            if by_mortality:
                w *= pop.mortality(vintage, commune)
            communes.append(commune)
            provs.append(province)
            profiles.append(pop.profile(vintage, commune))
            weights.append(w)
    return Area(tuple(communes), tuple(provs), tuple(profiles), _cumulative(weights))


def expected_live_births(pop: PopulationModel, vintage: str, provinces: Iterable[str], period: Period,
                         scale: float) -> float:
    share = sum(pop.province_share(vintage, p) for p in provinces)
    return ANNUAL_LIVE_BIRTHS * scale * period.year_fraction * share


def _ethnicity(rng: random.Random, profile: Profile) -> str:
    if rng.random() >= profile.minority_share:
        return KINH
    codes, cum = ethnicity_table(profile.mix)
    return codes[min(bisect_right(cum, rng.random() * cum[-1]), len(codes) - 1)]


# --- births --------------------------------------------------------------------------------------------

_P_MALE = (1 - UNKNOWN_SEX_SHARE) * SEX_RATIO_AT_BIRTH / (1 + SEX_RATIO_AT_BIRTH)


def birth_rows(rng: random.Random, area: Area, period: Period, n: int, id_prefix: str
               ) -> Iterator[tuple[list[str], tuple[bool, str]]]:
    """``n`` birth records dated in ``period``; tag = (live birth?, sex)."""
    days = [ddmmyyyy(d) for d in period.dates()]
    n_days = len(days)
    rand, gauss = rng.random, rng.gauss
    width = max(6, len(str(n)))
    for i in range(1, n + 1):
        day = days[int(rand() * n_days)]
        k = area.pick(rng)
        profile = area.profiles[k]
        u = rand()
        sex = "Không xác định" if u < UNKNOWN_SEX_SHARE else ("Nam" if u < UNKNOWN_SEX_SHARE + _P_MALE else "Nữ")
        live = rand() >= STILLBIRTH_SHARE
        if rand() < BLANK_WEIGHT_SHARE:
            weight = ""
        elif live:
            weight = str(int(round(min(5500.0, max(600.0, gauss(profile.birth_weight_mean, BIRTH_WEIGHT_SD))), -1)))
        else:
            weight = str(int(round(min(4500.0, max(300.0, gauss(profile.birth_weight_mean - 900, 700))), -1)))
        ethnicity = _ethnicity(rng, profile)
        u = rand()
        place = "NHA" if u < profile.home_birth else ("KHAC" if u < profile.home_birth + profile.other_place else "CSYT")
        row = [f"{id_prefix}{i:0{width}d}", day, sex, "C" if live else "K", weight, area.provinces[k],
               area.communes[k], ethnicity, place]
        yield row, (live, sex)


# --- deaths --------------------------------------------------------------------------------------------

def expected_deaths(live_births: float, mortality: float, floor: float = 0.0) -> dict[str, float]:
    """Expected deaths per age class for a file, given its expected live births.

    ``floor`` lifts the expected total to at least that many deaths so that small-scale files are not
    empty. The top-up goes to ages 5–17 only: neonatal, infant and under-5 mortality (per live birth)
    keep their realistic level at any scale; the 5–17 death rate per child is what gets inflated.
    """
    lam = {k: live_births * r * mortality for k, r in DEATHS_PER_LIVE_BIRTH.items()}
    total = sum(lam.values())
    if floor > total:
        lam[AGE_5_17] += floor - total
    return lam


def completed_years(birth: date, at: date) -> int:
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


_YEARS_1_4 = ((1, 2, 3, 4), _cumulative((40, 25, 20, 15)))
_YEARS_5_17 = (tuple(range(5, 18)), _cumulative([1.0] * 10 + [1.5] * 3))


def _birth_date_for(rng: random.Random, death: date, age_class: str) -> date:
    if age_class == NEONATAL:
        u = rng.random()
        days = 0 if u < 0.4 else (rng.randint(1, 6) if u < 0.75 else rng.randint(7, 27))
        return death - timedelta(days=days)
    if age_class == POSTNEONATAL:
        return death - timedelta(days=28 + int(337 * rng.random() ** 1.6))
    years, cum = _YEARS_1_4 if age_class == AGE_1_4 else _YEARS_5_17
    y = years[min(bisect_right(cum, rng.random() * cum[-1]), len(years) - 1)]
    lo = add_years(death, -(y + 1)) + timedelta(days=1)
    hi = add_years(death, -y)
    while True:  # avoid 29 February births: leap-day birthdays are read differently by different tools
        birth = lo + timedelta(days=rng.randint(0, (hi - lo).days))
        if not (birth.month == 2 and birth.day == 29):
            return birth


def death_rows(rng: random.Random, area: Area, period: Period, counts: dict[str, int], id_prefix: str
               ) -> Iterator[tuple[list[str], str]]:
    """Death records dated in ``period`` with the given counts per age class; tag = age class."""
    classes = [k for k in AGE_CLASSES for _ in range(counts.get(k, 0))]
    rng.shuffle(classes)
    width = max(4, len(str(len(classes))))
    for i, age_class in enumerate(classes, start=1):
        death = period.start + timedelta(days=int(rng.random() * period.days))
        birth = _birth_date_for(rng, death, age_class)
        k = area.pick(rng)
        sex = "Nam" if rng.random() < _MALE_SHARE_OF_DEATHS[age_class] else "Nữ"
        ethnicity = _ethnicity(rng, area.profiles[k])
        cum = _CAUSE_CUM[age_class]
        cause = CAUSES[min(bisect_right(cum, rng.random() * cum[-1]), len(CAUSES) - 1)]
        row = [f"{id_prefix}{i:0{width}d}", ddmmyyyy(birth), ddmmyyyy(death), sex, area.provinces[k],
               area.communes[k], ethnicity, cause]
        yield row, age_class


def age_class_of(birth: date, death: date) -> str | None:
    """Age class at death as the indicators define it (None for 18+ or negative ages)."""
    days = (death - birth).days
    if days < 0:
        return None
    if days < 28:
        return NEONATAL
    if completed_years(birth, death) < 1:
        return POSTNEONATAL
    years = completed_years(birth, death)
    if years < 5:
        return AGE_1_4
    return AGE_5_17 if years < 18 else None
