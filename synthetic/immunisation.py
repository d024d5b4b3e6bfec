"""Writing the immunisation feed (``y_te_tiem_chung``, national immunisation registry): one row per dose.

The children are exactly the live births of ``y_te_sinh``: for every (birth period, province) file the
health generator writes, its birth rows are replayed with the same random stream (same seed, scale,
periods and provinces; invalid-row injection ignored), so a child has the register's birth date, sex
(a birth of unknown sex becomes Nam or Nữ at random) and commune, and coverage computed as children
fully immunised over live births of the cohort comes out at the rates below.

Schedule (Vietnam EPI, indicators.md §2): BCG and VGB_SS at birth; 5IN1_1+OPV_1, 5IN1_2+OPV_2,
5IN1_3+OPV_3 at 2, 3, 4 months; IPV_1 at 5 months (≈60%); SOI_1 at 9 months; after the first birthday
VNNB_1 (12 months), SOI_2 and DPT_4 (18 months). Doses of one antigen are at least 28 days apart; a dose
is given at its due age plus a delay of days to weeks (longer for some families and in mountain areas).

Realism: nationally ≈92% of live births get BCG, 5IN1_1–3, OPV_1–3 and SOI_1 all before the first
birthday; the others are zero-dose children, drop out after 5IN1_1/5IN1_2, never get SOI_1 (or BCG),
get SOI_1 late (12–14 months) or run late through the series. Coverage is lower (≈80–88%) in the
northern mountains and the Central Highlands, for ethnic-minority children and after home births.
VGB_SS: ≈80% on the birth date or the next day, ≈10% later (2–30 days), ≈10% never; much less timely
after a home birth. About 3% of children move (mostly inside the province) and get their later doses
in the new commune, whose code the dose row carries, so coverage by residence can exceed 100% in small
places.

Geography vintage follows the DOSE date: before 2025-07-01 pre-reform codes, from 2025-07-01 the new
codes (a child born in an old commune carries the conversion's default new commune, else its first).
Files: one per (province in the dose date's vintage, half-year of the dose date), for every province of
the run in that vintage and every half-year from the first birth period to the later of the last
requested period (capped at ``today``) and the last half-year holding a dose (a file may be empty);
doses after ``today`` are not generated. Rows are sorted by date, registry id, schedule order.

Warnings in VALID rows, counted in the manifest: a duplicate dose record (same child, vaccine and date
twice, ≈0.1% of children; the second row counts in ``duplicate_doses``) and a misordered pair (5IN1_2
dated before 5IN1_1, ≈0.05% of children; the 5IN1_2 row counts in ``misordered_doses``).

Invalid rows (``invalid_rate`` > 0) are ADDED as corrupted copies of valid doses, one defect each, the
kinds dealt in turn (a ``dose_in_future`` row takes the codes of its date's vintage, so the date is its
only defect), so that about ``invalid_rate`` of a file's rows are invalid while the valid rows
are those of a run without invalid rows: coverage stays realistic at any invalid rate.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np

from synthetic.csvbytes import CsvTable, Raw, Text, write_csv
from synthetic.feeds import HealthRun
from synthetic.formats import VARIANT_NAMES, Delivery, choose_delivery
from synthetic.geography import POST_REFORM, PRE_REFORM, Geography, load_geography
from synthetic.health import BIRTHS_FEED, Area
from synthetic.invalid import (
    BAD_DATE_FORMAT,
    COMMUNE_OUTSIDE_PROVINCE,
    IMPOSSIBLE_DATE,
    UNKNOWN_COMMUNE,
    UNKNOWN_SEX,
    InvalidInjector,
    InvalidRows,
    parse_dmy,
)
from synthetic.landing import (
    DEFAULT_PERIODS,
    check_rates,
    files_to_write,
    new_provinces,
    numpy_rng,
    parse_periods,
    provinces_in,
)
from synthetic.manifest import FileEntry, Manifest
from synthetic.names import Names, draw_names
from synthetic.periods import REFORM_DATE, Period, ddmmyyyy, from_ordinal, ordinal
from synthetic.population import ETHNICITY_CODES, KINH, PopulationModel, Profile, build_population
from synthetic.textbytes import Vocabulary, date_text, digits

FEED = "y_te_tiem_chung"
GENERATOR = "tiem_chung"
COLUMNS = ("Mã đối tượng", "Mã định danh", "Họ và tên", "Ngày sinh", "Giới tính", "Mã tỉnh", "Mã xã",
           "Mã vắc xin", "Ngày tiêm")
CODE_COLUMNS = ("Mã tỉnh", "Mã xã")
VACCINES = ("BCG", "VGB_SS", "5IN1_1", "OPV_1", "5IN1_2", "OPV_2", "5IN1_3", "OPV_3", "IPV_1", "SOI_1",
            "VNNB_1", "SOI_2", "DPT_4")  # schedule order (also the order of same-day doses in a file)
FULL_IMMUNISATION = ("BCG", "5IN1_1", "5IN1_2", "5IN1_3", "OPV_1", "OPV_2", "OPV_3", "SOI_1")
MIN_INTERVAL_DAYS = 28  # between doses of one antigen
COUNT_KEYS = ("doses", *(f"doses_{v}" for v in VACCINES), "duplicate_doses", "misordered_doses")

# --- invalid kinds ----------------------------------------------------------------------------------------
DOSE_BEFORE_BIRTH = "dose_before_birth"        # Ngày tiêm before Ngày sinh
DOSE_IN_FUTURE = "dose_in_future"              # Ngày tiêm after the export date (``today``)
UNKNOWN_VACCINE = "unknown_vaccine"            # Mã vắc xin not in the vaccine list
BAD_PERSONAL_ID = "bad_personal_id"            # Mã định danh of 11 or 13 digits, or with letters
INVALID_KINDS = (DOSE_BEFORE_BIRTH, DOSE_IN_FUTURE, UNKNOWN_VACCINE, IMPOSSIBLE_DATE, BAD_DATE_FORMAT,
                 UNKNOWN_SEX, UNKNOWN_COMMUNE, COMMUNE_OUTSIDE_PROVINCE, BAD_PERSONAL_ID)
_UNKNOWN_VACCINES = ("BCG2", "SOI", "VGB", "5IN1_4", "5IN1", "OPV", "OPV_4", "VNNB_4", "HEPB_0")

# --- magnitudes (national level, before the risk adjustments) --------------------------------------------
BLANK_ID_SHARE = 0.08
MOVER_SHARE = 0.03
MOVER_OTHER_PROVINCE_SHARE = 0.25
DUPLICATE_SHARE = 0.001
MISORDERED_SHARE = 0.0005
IPV_SHARE = 0.60
_MIGRATION_HUBS = {"01", "31", "48", "74", "75", "79"}  # big cities and industrial provinces draw movers


@dataclass(frozen=True)
class _Rates:
    """Per-child probabilities at risk 0 (``base``) and their increase at risk 1 (``extra``)."""

    zero_dose: tuple[float, float] = (0.003, 0.015)       # no vaccine at all
    no_bcg: tuple[float, float] = (0.003, 0.01)
    drop_after_1: tuple[float, float] = (0.006, 0.02)     # stops after 5IN1_1 (+OPV_1)
    drop_after_2: tuple[float, float] = (0.006, 0.015)    # stops after 5IN1_2
    no_measles: tuple[float, float] = (0.008, 0.02)       # never gets SOI_1
    late_measles: tuple[float, float] = (0.015, 0.02)     # SOI_1 at 12–14 months
    missed_opv: tuple[float, float] = (0.002, 0.003)      # one OPV dose of the series missing
    vgb_never: tuple[float, float] = (0.06, 0.10)         # facility births
    vgb_late: tuple[float, float] = (0.07, 0.08)
    vnnb: tuple[float, float] = (0.78, -0.25)
    soi_2: tuple[float, float] = (0.92, -0.15)
    dpt_4: tuple[float, float] = (0.88, -0.20)

    @staticmethod
    def at(pair: tuple[float, float], risk: float) -> float:
        return pair[0] + pair[1] * risk


RATES = _Rates()
_HOME_VGB = (0.22, 0.38)  # home births: VGB_SS within a day / 2–30 days (the rest: never)


def province_risk(profile: Profile) -> float:
    """0 (delta, cities) … 1 (the poorest northern mountain provinces): the mountain provinces of the
    north and the Central Highlands by their mortality level, a little for the Mekong / central provinces
    with higher mortality."""
    if profile.mix in ("north", "highlands"):
        return min(1.0, max(0.0, (profile.mortality - 1.0) / 0.8))
    return 0.1 if profile.mortality >= 1.1 else 0.0


def add_months(birth: np.ndarray, months: int) -> np.ndarray:
    """Day ordinals ``months`` after ``birth`` (the month's last day when the day does not exist)."""
    d = birth.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    target = month + months
    last = (target + 1).astype("datetime64[D]") - 1
    return np.minimum(target.astype("datetime64[D]") + (d - month.astype("datetime64[D]")), last).astype(np.int64)


def half_year(day: date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def half_index(days: np.ndarray) -> np.ndarray:
    """year * 2 + (0 for H1, 1 for H2) of day ordinals."""
    d = days.astype("datetime64[D]")
    month = d.astype("datetime64[M]").astype(np.int64)
    return (month // 12 + 1970) * 2 + (month % 12 >= 6)


# --- the schedule, for arrays of children -----------------------------------------------------------------

_V = {code: i for i, code in enumerate(VACCINES)}


def _delay(rng: np.random.Generator, tardiness: np.ndarray) -> np.ndarray:
    """Days between the due date and the dose: mostly within a week or three, a tail of weeks."""
    u, r = rng.random(len(tardiness)), rng.random(len(tardiness))
    days = np.select([u < 0.5, u < 0.82, u < 0.95], [7 * r, 8 + 13 * r, 22 + 23 * r], 46 + 44 * r)
    return (days * tardiness).astype(np.int64)


def schedule(rng: np.random.Generator, birth: np.ndarray, home: np.ndarray, risk: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """(given, day) of shape (len(VACCINES), children): whether each child gets each dose, and when
    (without any date cut-off; the draws do not depend on ``today``, so earlier files do not change when
    the export date moves)."""
    n = len(birth)
    at = RATES.at
    given = np.zeros((len(VACCINES), n), dtype=bool)
    day = np.zeros((len(VACCINES), n), dtype=np.int64)
    tardiness = rng.lognormal(0.0, 0.45, n) * (1.0 + 0.4 * risk)
    u_zero, u_bcg, u_drop, u_measles, u_opv = (rng.random(n) for _ in range(5))
    alive = u_zero >= at(RATES.zero_dose, risk)            # zero-dose children get nothing

    # birth doses
    u, v = rng.random(n), rng.random(n)
    facility = np.select([u < 0.7, u < 0.9, u < 0.98], [2 * v, 2 + 6 * v, 8 + 23 * v], 31 + 60 * v)
    at_home = np.select([u < 0.1, u < 0.6, u < 0.9], [8 * v, 8 + 23 * v, 31 + 60 * v], 91 + 110 * v)
    given[_V["BCG"]] = alive & (u_bcg >= at(RATES.no_bcg, risk) * np.where(home, 2.0, 1.0))
    day[_V["BCG"]] = birth + np.where(home, at_home, facility).astype(np.int64)
    u, v = rng.random(n), rng.random(n)
    late = np.where(home, _HOME_VGB[1], at(RATES.vgb_late, risk))
    timely = np.where(home, _HOME_VGB[0], 1.0 - at(RATES.vgb_never, risk) - at(RATES.vgb_late, risk))
    given[_V["VGB_SS"]] = alive & (u < timely + late)
    day[_V["VGB_SS"]] = birth + np.where(u < timely, (2 * v).astype(np.int64), 2 + (29 * v).astype(np.int64))

    # the 5-in-1 + OPV series at 2, 3, 4 months
    p1 = at(RATES.drop_after_1, risk)
    stop_after = np.where(u_drop < p1, 1, np.where(u_drop < p1 + at(RATES.drop_after_2, risk), 2, 3))
    missed_opv = np.where(u_opv < at(RATES.missed_opv, risk), 1 + (3 * rng.random(n)).astype(np.int64), 0)
    delays = [_delay(rng, tardiness) for _ in range(5)]
    last = None
    for i in range(1, 4):
        due = add_months(birth, i + 1)
        if last is not None:
            due = np.maximum(due, last + MIN_INTERVAL_DAYS)
        last = due + delays[i - 1]
        given[_V[f"5IN1_{i}"]] = alive & (i <= stop_after)
        given[_V[f"OPV_{i}"]] = alive & (i <= stop_after) & (missed_opv != i)
        day[_V[f"5IN1_{i}"]] = day[_V[f"OPV_{i}"]] = last
    series = alive & (stop_after == 3)                      # drop-outs get nothing more

    given[_V["IPV_1"]] = series & (rng.random(n) < IPV_SHARE)
    day[_V["IPV_1"]] = np.maximum(add_months(birth, 5), last + MIN_INTERVAL_DAYS) + delays[3]

    # measles at 9 months (late at 12–14 months for some, never for others)
    p_never = at(RATES.no_measles, risk)
    v = rng.random(n)
    given[_V["SOI_1"]] = series & (u_measles >= p_never)
    day[_V["SOI_1"]] = np.where(u_measles < p_never + at(RATES.late_measles, risk),
                                add_months(birth, 12) + (61 * v).astype(np.int64), add_months(birth, 9) + delays[4])

    # after the first birthday
    u_vnnb, u_soi2, u_dpt4, d1, d2, d3 = (rng.random(n) for _ in range(6))
    given[_V["VNNB_1"]] = series & (u_vnnb < at(RATES.vnnb, risk))
    day[_V["VNNB_1"]] = add_months(birth, 12) + (60 * d1 * tardiness).astype(np.int64)
    given[_V["SOI_2"]] = given[_V["SOI_1"]] & (u_soi2 < at(RATES.soi_2, risk))
    day[_V["SOI_2"]] = (np.maximum(add_months(birth, 18), day[_V["SOI_1"]] + MIN_INTERVAL_DAYS)
                        + (45 * d2 * tardiness).astype(np.int64))
    given[_V["DPT_4"]] = series & (u_dpt4 < at(RATES.dpt_4, risk))
    day[_V["DPT_4"]] = np.maximum(add_months(birth, 18), last + 180) + (45 * d3 * tardiness).astype(np.int64)
    return given, day


# --- the children: the live births of y_te_sinh -----------------------------------------------------------

@dataclass
class Births:
    """The live births of one y_te_sinh file, as arrays."""

    period: Period
    province: str
    birth: np.ndarray          # day ordinal
    girl: np.ndarray
    commune: np.ndarray        # object: commune code in the birth period's vintage
    ethnicity: np.ndarray      # index into ETHNICITY_CODES
    home: np.ndarray
    risk: np.ndarray


def replay_births(health: HealthRun, period: Period, province: str) -> Births:
    """The live births of the births file (same stream as ``generate_health_feeds``); a birth of unknown sex
    becomes a boy or a girl at random."""
    birth_rng = random.Random(f"{health.seed}|{BIRTHS_FEED}|{period.label}|{province}|rows")
    rows = [row for row, (live, _) in health.rows(BIRTHS_FEED, period, province, birth_rng) if live]
    n = len(rows)
    rng = numpy_rng(health.seed, FEED, period.label, province, "children")
    sex = np.array([row[2] for row in rows], dtype=object)
    girl = np.where(sex == "Nữ", True, np.where(sex == "Nam", False, rng.random(n) < 0.5)).astype(bool)
    birth = np.array([f"{r[1][6:]}-{r[1][3:5]}-{r[1][:2]}" for r in rows], dtype="datetime64[D]").astype(np.int64)
    commune = np.array([row[6] for row in rows], dtype=object)
    ethnicity = np.array([_ETHNICITY_INDEX[row[7]] for row in rows], dtype=np.int64)
    home = np.array([row[8] == "NHA" for row in rows], dtype=bool)
    profiles = {c: health.pop.profile(period.vintage, c) for c in set(commune.tolist())}
    province_risk_of = np.array([province_risk(profiles[c]) for c in commune.tolist()], dtype=float)
    risk = np.minimum(1.0, 0.7 * province_risk_of + 0.3 * (ethnicity != _ETHNICITY_INDEX[KINH]) + 0.3 * home)
    return Births(period, province, birth, girl, commune, ethnicity, home, risk)


_ETHNICITY_INDEX = {code: i for i, code in enumerate(ETHNICITY_CODES)}


@dataclass
class Doses:
    """Dose rows of a run (one entry per row), before they are split into files."""

    child: np.ndarray          # index into the run's children
    vaccine: np.ndarray        # index into VACCINES
    day: np.ndarray
    province: np.ndarray       # object: province code in the dose date's vintage
    commune: np.ndarray        # object: commune code in the dose date's vintage
    tag: np.ndarray            # 0 plain, 1 duplicate, 2 misordered (the 5IN1_2 of a swapped pair), 3 its pair


class _Run:
    def __init__(self, geo: Geography, pop: PopulationModel, scale: float, seed: int, today: date,
                 provinces: dict[str, list[str]]):
        self.geo, self.pop, self.scale, self.seed, self.today, self.provinces = geo, pop, scale, seed, today, provinces
        self.health = HealthRun(geo, pop, Path("."), scale, seed, 0.0, False, 0.0)
        self._destinations: dict[tuple[str, str], tuple[list[str], tuple[float, ...]]] = {}

    def _destination_province(self, rng: random.Random, vintage: str, own: str) -> str:
        key = (vintage, own)
        if key not in self._destinations:
            others = [p for p in self.provinces[vintage] if p != own]
            weights, total = [], 0.0
            for p in others:
                total += self.pop.province_share(vintage, p) * (3.0 if p in _MIGRATION_HUBS else 1.0)
                weights.append(total)
            self._destinations[key] = (others, tuple(weights))
        others, cum = self._destinations[key]
        u = rng.random()
        if not others:
            return own
        return others[min(bisect_right(cum, u * cum[-1]), len(others) - 1)]

    def move(self, rng: random.Random, vintage: str, province: str, commune: str) -> tuple[str, str]:
        """A new commune (in the birth vintage): mostly in the same province, some in another one."""
        if rng.random() < MOVER_OTHER_PROVINCE_SHARE:
            province = self._destination_province(rng, vintage, province)
        else:
            rng.random()  # keep the stream aligned
        area: Area = self.health.area(vintage, province)
        for _ in range(8):
            k = area.pick(rng)
            if area.communes[k] != commune:
                return province, area.communes[k]
        return province, commune

    def doses(self, births: Births, first_child: int) -> tuple[Doses, np.ndarray, np.ndarray]:
        """The dose rows of one births file's children (ids from ``first_child``), and their pid parts."""
        period, province, n = births.period, births.province, len(births.birth)
        vintage = period.vintage
        rng = numpy_rng(self.seed, FEED, period.label, province, "doses")
        given, day = schedule(rng, births.birth, births.home, births.risk)
        u_move, u_when, u_dup, u_mis, u_pick = (rng.random(n) for _ in range(5))
        today = ordinal(self.today)
        tag = np.zeros(given.shape, dtype=np.int64)
        # a misordered pair: 5IN1_2 dated before 5IN1_1 (a warning, not an error)
        swap = (u_mis < MISORDERED_SHARE) & given[_V["5IN1_1"]] & given[_V["5IN1_2"]] & (day[_V["5IN1_2"]] <= today)
        d1, d2 = day[_V["5IN1_1"]].copy(), day[_V["5IN1_2"]].copy()
        day[_V["5IN1_1"]] = np.where(swap, d2, d1)
        day[_V["5IN1_2"]] = np.where(swap, d1, d2)
        tag[_V["5IN1_2"]] = np.where(swap, 2, 0)
        tag[_V["5IN1_1"]] = np.where(swap, 3, 0)
        given &= day <= today
        # long form, schedule order within a child
        vac, child = np.nonzero(given)
        order = np.lexsort((vac, child))
        vac, child = vac[order], child[order]
        when, tags = day[vac, child], tag[vac, child]
        # a duplicate record of one given dose for a few children
        counts = np.bincount(child, minlength=n)
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        dup_children = np.nonzero((u_dup < DUPLICATE_SHARE) & (counts > 0))[0]
        picked = first[dup_children] + np.minimum((u_pick[dup_children] * counts[dup_children]).astype(np.int64),
                                                  counts[dup_children] - 1)
        vac = np.concatenate((vac, vac[picked]))
        child = np.concatenate((child, child[picked]))
        when = np.concatenate((when, when[picked]))
        tags = np.concatenate((tags, np.ones(len(picked), dtype=np.int64)))
        # residence at the dose date: movers get later doses in their new commune; codes follow the date's vintage
        mover_rng = random.Random(f"{self.seed}|{FEED}|{period.label}|{province}|moves")
        movers = u_move < MOVER_SHARE
        moved_on = np.where(movers, births.birth + 30 + (370 * u_when).astype(np.int64), np.iinfo(np.int64).max)
        new_home = births.commune.copy()
        for c in np.nonzero(movers)[0].tolist():
            new_home[c] = self.move(mover_rng, vintage, province, str(births.commune[c]))[1]
        commune = np.where(when >= moved_on[child], new_home[child], births.commune[child])
        commune, prov = self._residence(vintage, commune, when)
        pid = _pid(rng, province, births)
        return (Doses(child + first_child, vac, when, prov, commune, tags), *pid)

    def _residence(self, vintage: str, commune: np.ndarray, when: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(commune, province) codes in the vintage of each dose date."""
        codes, inverse = np.unique(commune.astype(str), return_inverse=True)
        old_province = np.array([self.geo.province_of_commune[vintage][c] for c in codes.tolist()], dtype=object)
        if vintage == POST_REFORM:
            return codes.astype(object)[inverse], old_province[inverse]
        new = np.array([self.geo.new_commune[c] for c in codes.tolist()], dtype=object)
        new_province = np.array([self.geo.province_of_commune[POST_REFORM][c] for c in new.tolist()], dtype=object)
        after = when >= ordinal(REFORM_DATE)
        return (np.where(after, new[inverse], codes.astype(object)[inverse]),
                np.where(after, new_province[inverse], old_province[inverse]))


def _pid(rng: np.random.Generator, province: str, births: Births) -> tuple[np.ndarray, np.ndarray]:
    """A 12-digit citizen id: 0 + province code, century/sex digit, year, 6 digits (blank for some), as
    (head "0<province><century/sex><yy>" index: (year % 100) * 2 + girl, or 200 when blank; serial)."""
    n = len(births.birth)
    blank = rng.random(n) < BLANK_ID_SHARE
    year = births.birth.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    head = np.where(blank, 200, (year % 100) * 2 + births.girl)
    serial = np.where(blank, 1_000_000, (rng.random(n) * 1_000_000).astype(np.int64))
    return head, serial


def _pid_heads(province: str) -> list[str]:
    """Texts of the pid heads of a province (children born from 2000: century/sex digit 2 boy, 3 girl)."""
    return [f"0{province}{2 + girl}{yy:02d}" for yy in range(100) for girl in (0, 1)] + [""]


# --- invalid rows -----------------------------------------------------------------------------------------

class DoseInjector(InvalidInjector):
    """Corrupted copies of dose rows, one defect each, the kinds dealt in turn from a random start."""

    def __init__(self, geo: Geography, vintage: str, rate: float, rng: random.Random, today: date, period: Period):
        InvalidRows.__init__(self, INVALID_KINDS, rate, rng, geo, vintage)
        # the health injector's defects (unknown sex / commune, commune outside the province, impossible and
        # badly formatted dates) find the columns by name
        self.feed = FEED
        self.col = {name: i for i, name in enumerate(COLUMNS)}
        self.today, self.period = today, period
        # a copy is added after a valid row with probability q, so that about ``rate`` of the rows are invalid
        self.copy_probability = min(1.0, rate / (1.0 - rate)) if rate > 0 else 0.0

    def copy(self, row: list[str]) -> tuple[list[str], str]:
        """A corrupted copy of ``row`` (the rows to copy are chosen by the caller) and its kind."""
        kind = self.next_kind()
        bad = row[:]
        getattr(self, f"_{kind}")(bad)
        return bad, kind

    def _date_column(self) -> str:
        return "Ngày tiêm" if self.rng.random() < 0.7 else "Ngày sinh"

    def _dose_before_birth(self, row: list[str]) -> None:
        # move the birth after the dose (the dose date, hence the file's period and vintage, stays)
        dose = parse_dmy(row[self.col["Ngày tiêm"]])
        room = (self.today - dose).days
        if room >= 1:
            row[self.col["Ngày sinh"]] = ddmmyyyy(dose + timedelta(days=self.rng.randint(1, min(60, room))))
        else:
            back = (dose - self.period.start).days
            if back >= 1:
                dose -= timedelta(days=self.rng.randint(1, min(60, back)))
                row[self.col["Ngày tiêm"]] = ddmmyyyy(dose)
            row[self.col["Ngày sinh"]] = ddmmyyyy(dose + timedelta(days=1))

    def _dose_in_future(self, row: list[str]) -> None:
        # a date after the export; the codes follow that date's vintage so that the date is the only defect
        day = self.today + timedelta(days=self.rng.randint(1, 120))
        row[self.col["Ngày tiêm"]] = ddmmyyyy(day)
        commune = row[self.col["Mã xã"]]
        if self.vintage == PRE_REFORM and day >= REFORM_DATE and commune in self.geo.new_commune:
            new = self.geo.new_commune[commune]
            row[self.col["Mã tỉnh"]] = self.geo.province_of_commune[POST_REFORM][new]
            row[self.col["Mã xã"]] = new

    def _unknown_vaccine(self, row: list[str]) -> None:
        row[self.col["Mã vắc xin"]] = self.rng.choice(_UNKNOWN_VACCINES)

    def _bad_personal_id(self, row: list[str]) -> None:
        i = self.col["Mã định danh"]
        pid = row[i] or f"0{row[self.col['Mã tỉnh']]}2{self.rng.randint(0, 99):02d}{self.rng.randint(0, 999999):06d}"
        style = self.rng.randrange(3)
        if style == 0:      # 11 digits: a digit lost
            k = self.rng.randrange(len(pid))
            pid = pid[:k] + pid[k + 1:]
        elif style == 1:    # 13 digits: a digit typed twice
            k = self.rng.randrange(len(pid))
            pid = pid[:k] + pid[k] + pid[k:]
        else:               # letters (O for 0, I/l for 1, an x …)
            k = self.rng.randrange(1, len(pid))
            pid = pid[:k] + self.rng.choice("OIlxAB") + pid[k + 1:]
        row[i] = pid


# --- writing ----------------------------------------------------------------------------------------------

def file_name(province: str, period: str) -> str:
    return f"{FEED}_{province}_{period}.csv"


def _half_years(first: Period, last_label: str) -> list[Period]:
    out, p = [], first
    last = Period.parse(last_label)
    while p.start <= last.start:
        out.append(p)
        p = Period.parse(half_year(p.end + timedelta(days=1)))
    return out


@dataclass
class _RunDoses:
    """Every dose row of a run with its child's fixed columns (arrays over the run's children)."""

    doses: Doses
    prefixes: list[str]        # "TC-<province>-<period>-" of each births file
    prefix: np.ndarray         # per child
    number: np.ndarray         # per child, within its births file
    child_key: np.ndarray      # per child: sorts like the id text
    pid_heads: list[str]
    pid_head: np.ndarray
    pid_serial: np.ndarray
    names: Names
    birth: np.ndarray
    girl: np.ndarray

    @cached_property
    def prefix_texts(self) -> Vocabulary:
        return Vocabulary(self.prefixes or [""])

    @cached_property
    def pid_head_texts(self) -> Vocabulary:
        return Vocabulary(self.pid_heads or [""])

    def child_id(self, c: int) -> str:
        return f"{self.prefixes[int(self.prefix[c])]}{int(self.number[c]):06d}"

    def pid(self, c: int) -> str:
        head = self.pid_heads[int(self.pid_head[c])]
        return f"{head}{int(self.pid_serial[c]):06d}" if head else ""


def _run_doses(run: _Run, jobs: Sequence[tuple[Period, str]]) -> _RunDoses:
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("child", "vaccine", "day", "province", "commune", "tag",
                                                         "prefix", "number", "pid_head", "pid_serial", "birth",
                                                         "girl", "n0", "n1", "n2", "n3")}
    prefixes: list[str] = []
    heads: list[str] = []
    offset = 0
    for k, (period, province) in enumerate(jobs):
        births = replay_births(run.health, period, province)
        n = len(births.birth)
        doses, head, serial = run.doses(births, offset)
        for name in ("child", "vaccine", "day", "province", "commune", "tag"):
            parts[name].append(getattr(doses, name))
        names = draw_names(numpy_rng(run.seed, FEED, period.label, province, "names"), births.girl, births.ethnicity)
        for j in range(4):
            parts[f"n{j}"].append(names.parts[j])
        prefixes.append(f"TC-{province}-{period.label}-")
        parts["prefix"].append(np.full(n, k, dtype=np.int64))
        parts["number"].append(np.arange(1, n + 1, dtype=np.int64))
        parts["pid_head"].append(head + len(heads))
        heads.extend(_pid_heads(province))
        parts["pid_serial"].append(serial)
        parts["birth"].append(births.birth)
        parts["girl"].append(births.girl)
        offset += n
    empty = {"province": object, "commune": object, "girl": bool}
    cat = {k: np.concatenate(v) if v else np.zeros(0, dtype=empty.get(k, np.int64)) for k, v in parts.items()}
    rank = np.argsort(np.argsort(np.array(prefixes, dtype=object))) if prefixes else np.zeros(0, dtype=np.int64)
    return _RunDoses(
        doses=Doses(*(cat[k] for k in ("child", "vaccine", "day", "province", "commune", "tag"))),
        prefixes=prefixes, prefix=cat["prefix"], number=cat["number"],
        child_key=rank[cat["prefix"]] * 10 ** 7 + cat["number"] if prefixes else cat["number"],
        pid_heads=heads, pid_head=cat["pid_head"], pid_serial=cat["pid_serial"],
        names=Names(tuple(cat[f"n{j}"] for j in range(4))), birth=cat["birth"], girl=cat["girl"])


def generate_immunisation_feed(
    landing_dir: Path | str,
    *,
    scale: float = 0.001,
    seed: int = 13,
    periods: Sequence[str] = DEFAULT_PERIODS,
    provinces: Sequence[str] | None = None,
    invalid_rate: float = 0.0,
    delivery_variants: bool = True,
    reference_dir: Path | str | None = None,
    today: date | None = None,
) -> Manifest:
    """Write the immunisation feed (y_te_tiem_chung) under ``landing_dir`` for the live births that
    ``generate_health_feeds`` writes with the same ``scale``, ``seed``, ``periods`` and ``provinces``
    (NEW province codes), and record it in ``<landing_dir>/_manifest.json`` (generator ``tiem_chung``).

    Doses dated after ``today`` (default: the current date) are not generated. ``invalid_rate`` adds
    corrupted copies of doses so that about that share of a file's rows are invalid (kinds in
    ``INVALID_KINDS``). Deterministic for a seed and ``today``. Returns the manifest."""
    check_rates(scale, invalid_rate)
    today = today or date.today()
    geo = load_geography(reference_dir)
    landing = Path(landing_dir)
    parsed = parse_periods(periods)
    if not parsed:
        raise ValueError("no periods")
    selected = new_provinces(geo, provinces)
    first = min(parsed, key=lambda p: p.start)
    if today < first.start:
        raise ValueError(f"today ({today}) is before the first period ({first.label})")
    run = _Run(geo, build_population(geo, seed), scale, seed, today,
               {v: provinces_in(geo, v, selected) for v in (PRE_REFORM, POST_REFORM)})
    run_doses = _run_doses(run, files_to_write(geo, parsed, selected))
    d = run_doses.doses
    # every requested period up to ``today`` gets its files (empty ones included), and so does every
    # later half-year holding a dose
    halves = half_index(d.day)
    last_half = half_year(min(today, max(p.end for p in parsed)))
    if len(halves) and int(halves.max()) > _half_number(last_half):
        top = int(halves.max())
        last_half = f"{top // 2}-H{top % 2 + 1}"
    # rows sorted by file, then date, child id, schedule order, the duplicate after its original
    province_number = np.array([int(x) for x in d.province.tolist()], dtype=np.int64)
    file_key = halves * 100 + province_number
    order = np.lexsort((d.tag == 1, d.vaccine, run_doses.child_key[d.child], d.day, file_key))
    sorted_keys = file_key[order]
    known = geo.all_communes(PRE_REFORM) | geo.all_communes(POST_REFORM)
    files: list[FileEntry] = []
    for index, (half, province) in enumerate((h, p) for h in _half_years(first, last_half)
                                             for p in sorted(run.provinces[h.vintage])):
        key = _half_number(half.label) * 100 + int(province)
        rows = order[np.searchsorted(sorted_keys, key, "left"):np.searchsorted(sorted_keys, key, "right")]
        files.append(_write_file(landing, geo, seed, half, province, run_doses, rows, index, invalid_rate,
                                 delivery_variants, today, known))
    manifest = Manifest(
        landing_dir=str(landing),
        generator=GENERATOR,
        parameters={
            "feeds": [FEED], "scale": scale, "seed": seed, "periods": [p.label for p in parsed],
            "provinces": None if provinces is None else selected, "invalid_rate": invalid_rate,
            "delivery_variants": delivery_variants,
            "reference_dir": None if reference_dir is None else str(reference_dir),
            "today": today.isoformat(),
        },
        files=files,
    )
    manifest.write(landing)
    return manifest


def _half_number(label: str) -> int:
    return int(label[:4]) * 2 + (label[-1] == "2")


_SERIAL_GROUPS = Vocabulary([f"{i:03d}" for i in range(1000)] + [""])   # the last entry: a blank id


def _write_file(landing: Path, geo: Geography, seed: int, half: Period, province: str, rd: _RunDoses,
                rows: np.ndarray, index: int, invalid_rate: float, delivery_variants: bool, today: date,
                known: set[str]) -> FileEntry:
    key = f"{seed}|{FEED}|{half.label}|{province}"
    rng_format = random.Random(f"{key}|format")
    delivery = (choose_delivery(rng_format, COLUMNS, force=VARIANT_NAMES[index % len(VARIANT_NAMES)])
                if delivery_variants else Delivery())
    d = rd.doses
    child, vaccine, tag = d.child[rows], d.vaccine[rows], d.tag[rows]
    n = len(rows)
    provinces, province_index = np.unique(d.province[rows].astype(str), return_inverse=True)
    communes, commune_index = np.unique(d.commune[rows].astype(str), return_inverse=True)
    blank = rd.pid_serial[child] >= 1_000_000
    serial = np.where(blank, 0, rd.pid_serial[child])
    name_parts = Names(tuple(p[child] for p in rd.names.parts))
    table = CsvTable(COLUMNS, {
        "Mã đối tượng": Raw([rd.prefix_texts.piece(rd.prefix[child]), *digits(rd.number[child], 6)]),
        "Mã định danh": Raw([rd.pid_head_texts.piece(rd.pid_head[child]),
                             _SERIAL_GROUPS.piece(np.where(blank, 1000, serial // 1000)),
                             _SERIAL_GROUPS.piece(np.where(blank, 1000, serial % 1000))]),
        "Họ và tên": Raw(name_parts.pieces(), name_parts.pieces(nfd=True)),
        "Ngày sinh": Raw([date_text(rd.birth[child], "dmy")]),
        "Giới tính": Text(("Nam", "Nữ"), rd.girl[child].astype(np.int64)),
        "Mã tỉnh": Text(provinces.tolist(), province_index, code=True),
        "Mã xã": Text(communes.tolist(), commune_index, code=True),
        "Mã vắc xin": Text(VACCINES, vaccine),
        "Ngày tiêm": Raw([date_text(d.day[rows], "dmy")]),
    }, n)
    # invalid rows: corrupted copies added after valid plain rows (the warning rows stay unpaired)
    injector = DoseInjector(geo, half.vintage, invalid_rate, random.Random(f"{key}|invalid"), today, half)
    invalid: Counter[str] = Counter()
    chosen = np.nonzero((numpy_rng(key, "invalid").random(n) < injector.copy_probability) & (tag == 0))[0]
    for i in chosen.tolist():
        c, r = int(child[i]), int(rows[i])
        row = [rd.child_id(c), rd.pid(c), rd.names.text(c), ddmmyyyy(from_ordinal(int(rd.birth[c]))),
               "Nữ" if rd.girl[c] else "Nam", str(d.province[r]), str(d.commune[r]), VACCINES[int(vaccine[i])],
               ddmmyyyy(from_ordinal(int(d.day[r])))]
        bad, kind = injector.copy(row)
        table.replace[i] = [row, bad]
        invalid[kind] += 1
    rel = f"{FEED}/{file_name(province, half.label)}"
    path = landing / rel
    sha256 = write_csv(path, table, delivery, numpy_rng(key, "cells"))
    per_vaccine = np.bincount(vaccine, minlength=len(VACCINES))
    counts = {"doses": n, **{f"doses_{v}": int(per_vaccine[i]) for i, v in enumerate(VACCINES)},
              "duplicate_doses": int((tag == 1).sum()), "misordered_doses": int((tag == 2).sum())}
    written = n + len(chosen)
    return FileEntry(
        feed=FEED, path=rel, province=province, vintage=half.vintage, period=half.label, rows=written,
        valid_rows=n, invalid_rows=dict(sorted(invalid.items())), variants=delivery.describe(),
        counts=dict(sorted(counts.items())), sha256=sha256,
    )
