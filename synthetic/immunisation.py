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

import calendar
import random
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from synthetic.feeds import DEFAULT_PERIODS, _normalise_provinces, _Run, _sha256, files_to_write
from synthetic.formats import VARIANT_NAMES, CsvFeedWriter, Delivery, choose_delivery
from synthetic.geography import POST_REFORM, PRE_REFORM, Geography, load_geography
from synthetic.health import BIRTHS_FEED, Area, ddmmyyyy
from synthetic.invalid import (
    BAD_DATE_FORMAT,
    COMMUNE_OUTSIDE_PROVINCE,
    IMPOSSIBLE_DATE,
    UNKNOWN_COMMUNE,
    UNKNOWN_SEX,
    InvalidInjector,
    parse_dmy,
)
from synthetic.manifest import FileEntry, Manifest
from synthetic.names import person_name
from synthetic.periods import REFORM_DATE, Period
from synthetic.population import KINH, PopulationModel, Profile, build_population

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


def child_risk(profile: Profile, ethnicity: str, place: str) -> float:
    risk = 0.7 * province_risk(profile) + (0.3 if ethnicity != KINH else 0.0) + (0.3 if place == "NHA" else 0.0)
    return min(1.0, risk)


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def first_birthday(birth: date) -> date:
    return add_months(birth, 12)


def half_year(day: date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def antigen(code: str) -> str:
    return code.rsplit("_", 1)[0]


# --- one child --------------------------------------------------------------------------------------------

def _delay(rand, tardiness: float) -> int:
    """Days between the due date and the dose: mostly within a week or three, a tail of weeks."""
    u = rand()
    if u < 0.5:
        days = 7 * rand()
    elif u < 0.82:
        days = 8 + 13 * rand()
    elif u < 0.95:
        days = 22 + 23 * rand()
    else:
        days = 46 + 44 * rand()
    return int(days * tardiness)


def schedule(rng: random.Random, birth: date, place: str, risk: float) -> list[tuple[date, str]]:
    """The doses of one child (date, vaccine code) in schedule order, without any date cut-off.

    The number of random draws does not depend on ``today`` so a run's earlier files do not change when
    the export date moves."""
    rand = rng.random
    at = RATES.at
    tardiness = rng.lognormvariate(0.0, 0.45) * (1.0 + 0.4 * risk)
    u_zero, u_bcg, u_drop, u_measles, u_opv = rand(), rand(), rand(), rand(), rand()
    home = place == "NHA"
    doses: list[tuple[date, str]] = []
    if u_zero < at(RATES.zero_dose, risk):
        return doses

    # birth doses
    u, v = rand(), rand()
    if u_bcg >= at(RATES.no_bcg, risk) * (2.0 if home else 1.0):
        if not home:
            days = (int(2 * v) if u < 0.7 else int(2 + 6 * v) if u < 0.9 else int(8 + 23 * v) if u < 0.98
                    else int(31 + 60 * v))
        else:
            days = (int(8 * v) if u < 0.1 else int(8 + 23 * v) if u < 0.6 else int(31 + 60 * v) if u < 0.9
                    else int(91 + 110 * v))
        doses.append((birth + timedelta(days=days), "BCG"))
    u, v = rand(), rand()
    if home:
        timely, late = _HOME_VGB
    else:
        never = at(RATES.vgb_never, risk)
        late = at(RATES.vgb_late, risk)
        timely = 1.0 - never - late
    if u < timely:
        doses.append((birth + timedelta(days=int(2 * v)), "VGB_SS"))
    elif u < timely + late:
        doses.append((birth + timedelta(days=2 + int(29 * v)), "VGB_SS"))

    # the 5-in-1 + OPV series at 2, 3, 4 months
    p1 = at(RATES.drop_after_1, risk)
    p2 = p1 + at(RATES.drop_after_2, risk)
    stop_after = 1 if u_drop < p1 else (2 if u_drop < p2 else 3)
    missed_opv = 1 + int(3 * rand()) if u_opv < at(RATES.missed_opv, risk) else 0
    last: date | None = None
    delays = [_delay(rand, tardiness) for _ in range(5)]
    for i in range(1, 4):
        due = add_months(birth, i + 1)
        if last is not None:
            due = max(due, last + timedelta(days=MIN_INTERVAL_DAYS))
        day = due + timedelta(days=delays[i - 1])
        if i <= stop_after:
            doses.append((day, f"5IN1_{i}"))
            if missed_opv != i:
                doses.append((day, f"OPV_{i}"))
        last = day
    if stop_after < 3:
        return doses

    u = rand()
    if u < IPV_SHARE:
        doses.append((max(add_months(birth, 5), last + timedelta(days=MIN_INTERVAL_DAYS))
                      + timedelta(days=delays[3]), "IPV_1"))

    # measles at 9 months (late at 12–14 months for some, never for others)
    p_never = at(RATES.no_measles, risk)
    p_late = p_never + at(RATES.late_measles, risk)
    v = rand()
    soi_1: date | None = None
    if u_measles >= p_never:
        if u_measles < p_late:
            soi_1 = first_birthday(birth) + timedelta(days=int(61 * v))
        else:
            soi_1 = add_months(birth, 9) + timedelta(days=delays[4])
        doses.append((soi_1, "SOI_1"))

    # after the first birthday
    u_vnnb, u_soi2, u_dpt4, d1, d2, d3 = rand(), rand(), rand(), rand(), rand(), rand()
    if u_vnnb < at(RATES.vnnb, risk):
        doses.append((add_months(birth, 12) + timedelta(days=int(60 * d1 * tardiness)), "VNNB_1"))
    if soi_1 is not None and u_soi2 < at(RATES.soi_2, risk):
        due = max(add_months(birth, 18), soi_1 + timedelta(days=MIN_INTERVAL_DAYS))
        doses.append((due + timedelta(days=int(45 * d2 * tardiness)), "SOI_2"))
    if u_dpt4 < at(RATES.dpt_4, risk):
        due = max(add_months(birth, 18), last + timedelta(days=180))
        doses.append((due + timedelta(days=int(45 * d3 * tardiness)), "DPT_4"))
    return doses


def personal_id(rng: random.Random, province: str, sex: str, birth: date) -> str:
    """A 12-digit citizen id: 0 + province code, century/sex digit, year, 6 digits (blank for some)."""
    if rng.random() < BLANK_ID_SHARE:
        return ""
    century_sex = ("2" if sex == "Nam" else "3") if birth.year >= 2000 else ("0" if sex == "Nam" else "1")
    return f"0{province}{century_sex}{birth.year % 100:02d}{int(rng.random() * 1_000_000):06d}"


# --- the run ----------------------------------------------------------------------------------------------

@dataclass
class _Dose:
    day: date
    child: str
    order: int
    row: list[str]
    tag: str = ""          # "" | "duplicate" | "misordered" | "pair" (the 5IN1_1 of a misordered pair)


class _Generator:
    def __init__(self, geo: Geography, pop: PopulationModel, scale: float, seed: int,
                 jobs: list[tuple[Period, str]], today: date):
        self.geo, self.pop, self.scale, self.seed, self.jobs, self.today = geo, pop, scale, seed, jobs, today
        self.births = _Run(geo, pop, Path("."), scale, seed, 0.0, False, 0.0)
        self.provinces: dict[str, list[str]] = defaultdict(list)
        for period, province in jobs:
            if province not in self.provinces[period.vintage]:
                self.provinces[period.vintage].append(province)
        if not self.provinces[PRE_REFORM]:
            self.provinces[PRE_REFORM] = [p for p in geo.provinces(PRE_REFORM)
                                          if geo.old_to_new_province.get(p) in set(self.provinces[POST_REFORM])]
        if not self.provinces[POST_REFORM]:
            self.provinces[POST_REFORM] = sorted({geo.old_to_new_province[p] for p in self.provinces[PRE_REFORM]})
        self.new_commune = self._conversion()
        self._destinations: dict[tuple[str, str], tuple[list[str], tuple[float, ...]]] = {}
        self.buckets: dict[tuple[str, str], list[_Dose]] = defaultdict(list)
        self.last_half: str | None = None

    def _conversion(self) -> dict[str, str]:
        """old commune -> new commune (the split commune's default new commune, else its first)."""
        out: dict[str, str] = {}
        known = self.geo.province_of_commune[POST_REFORM]
        for link in self.geo.conversion:
            if not link.old_commune or link.new_commune not in known:
                continue
            if link.is_default:
                out[link.old_commune] = link.new_commune
            else:
                out.setdefault(link.old_commune, link.new_commune)
        return out

    def _residence(self, vintage: str, commune: str, day: date) -> tuple[str, str]:
        """(province, commune) in the vintage of ``day`` for a commune of ``vintage``."""
        if vintage == PRE_REFORM and day >= REFORM_DATE:
            new = self.new_commune[commune]
            return self.geo.province_of_commune[POST_REFORM][new], new
        return self.geo.province_of_commune[vintage][commune], commune

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

    def _move(self, rng: random.Random, vintage: str, province: str, commune: str) -> tuple[str, str]:
        """A new commune (in the birth vintage): mostly in the same province, some in another one."""
        if rng.random() < MOVER_OTHER_PROVINCE_SHARE:
            province = self._destination_province(rng, vintage, province)
        else:
            rng.random()  # keep the stream aligned
        area: Area = self.births.area(vintage, province)
        for _ in range(8):
            k = area.pick(rng)
            if area.communes[k] != commune:
                return province, area.communes[k]
        return province, commune

    def children(self, period: Period, province: str) -> None:
        """Replay the live births of one y_te_sinh file and add their doses to the buckets."""
        vintage = period.vintage
        birth_rng = random.Random(f"{self.seed}|{BIRTHS_FEED}|{period.label}|{province}|rows")
        rng = random.Random(f"{self.seed}|{FEED}|{period.label}|{province}|children")
        n = 0
        for row, (live, sex) in self.births.rows(BIRTHS_FEED, period, province, birth_rng):
            if not live:
                continue
            n += 1
            child = f"TC-{province}-{period.label}-{n:06d}"
            d, m, y = row[1].split("/")
            birth = date(int(y), int(m), int(d))
            if sex not in ("Nam", "Nữ"):
                sex = "Nam" if rng.random() < 0.5 else "Nữ"
            commune, ethnicity, place = row[6], row[7], row[8]
            name, _ = person_name(rng, sex, ethnicity)
            pid = personal_id(rng, province, sex, birth)
            profile = self.pop.profile(vintage, commune)
            doses = schedule(rng, birth, place, child_risk(profile, ethnicity, place))
            u_move, u_when, u_dup, u_mis, u_pick = (rng.random() for _ in range(5))
            moved_on: date | None = None
            move_to = (province, commune)
            if u_move < MOVER_SHARE:
                moved_on = birth + timedelta(days=30 + int(370 * u_when))
                move_to = self._move(rng, vintage, province, commune)
            tags = [""] * len(doses)
            if u_mis < MISORDERED_SHARE:
                i1 = next((i for i, (_, c) in enumerate(doses) if c == "5IN1_1"), None)
                i2 = next((i for i, (_, c) in enumerate(doses) if c == "5IN1_2"), None)
                if i1 is not None and i2 is not None and doses[i2][0] <= self.today:
                    (d1, c1), (d2, c2) = doses[i1], doses[i2]
                    doses[i1], doses[i2] = (d2, c1), (d1, c2)
                    tags[i1], tags[i2] = "pair", "misordered"
            given = [i for i, (day, _) in enumerate(doses) if day <= self.today]
            if u_dup < DUPLICATE_SHARE and given:
                i = given[min(int(u_pick * len(given)), len(given) - 1)]
                doses.append(doses[i])
                tags.append("duplicate")
                given.append(len(doses) - 1)
            birth_text = row[1]
            for i in given:
                day, code = doses[i]
                home = move_to if moved_on is not None and day >= moved_on else (province, commune)
                prov, comm = self._residence(vintage, home[1], day)
                out = [child, pid, name, birth_text, sex, prov, comm, code, ddmmyyyy(day)]
                label = half_year(day)
                self.buckets[(label, prov)].append(_Dose(day, child, _ORDER[code], out, tags[i]))
                if self.last_half is None or label > self.last_half:  # YYYY-HN labels sort by date
                    self.last_half = label


_ORDER = {code: i for i, code in enumerate(VACCINES)}


def _half_years(first: Period, last_label: str) -> list[Period]:
    out, p = [], first
    last = Period.parse(last_label)
    while p.start <= last.start:
        out.append(p)
        nxt = p.end + timedelta(days=1)
        p = Period.parse(half_year(nxt))
    return out


# --- invalid rows -----------------------------------------------------------------------------------------

class DoseInjector(InvalidInjector):
    """Corrupted copies of dose rows, one defect each, the kinds dealt in turn from a random start."""

    def __init__(self, geo: Geography, vintage: str, rate: float, rng: random.Random, today: date,
                 period: Period, known: set[str] | None = None, new_commune: dict[str, str] | None = None):
        # the base class's helpers (unknown sex / commune, commune outside the province, impossible and
        # badly formatted dates) only need these attributes
        self.feed, self.geo, self.vintage, self.rate, self.rng = FEED, geo, vintage, rate, rng
        self.col = {name: i for i, name in enumerate(COLUMNS)}
        self.kinds = INVALID_KINDS
        if known is None:
            known = geo.all_communes(PRE_REFORM) | geo.all_communes(POST_REFORM)
        self._known = known
        self._other = POST_REFORM if vintage == PRE_REFORM else PRE_REFORM
        self._other_only: dict[str, list[str]] = {}
        self._next = rng.randrange(len(self.kinds))
        self.today, self.period, self.new_commune = today, period, new_commune or {}
        # a copy is added after a valid row with probability q, so that about ``rate`` of the rows are invalid
        self.copy_probability = min(1.0, rate / (1.0 - rate)) if rate > 0 else 0.0

    def maybe_copy(self, row: list[str]) -> tuple[list[str], str] | None:
        if self.copy_probability <= 0 or self.rng.random() >= self.copy_probability:
            return None
        kind = self.kinds[self._next % len(self.kinds)]
        self._next += 1
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
        if self.vintage == PRE_REFORM and day >= REFORM_DATE and commune in self.new_commune:
            new = self.new_commune[commune]
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
    if scale <= 0:
        raise ValueError("scale must be positive")
    if not 0 <= invalid_rate < 1:
        raise ValueError("invalid_rate must be in [0, 1)")
    today = today or date.today()
    geo = load_geography(reference_dir)
    landing = Path(landing_dir)
    parsed = [Period.parse(p) for p in periods]
    if not parsed:
        raise ValueError("no periods")
    if len({p.label for p in parsed}) != len(parsed):
        raise ValueError("duplicate periods")
    new_provinces = _normalise_provinces(geo, provinces)
    first = min(parsed, key=lambda p: p.start)
    if today < first.start:
        raise ValueError(f"today ({today}) is before the first period ({first.label})")
    pop = build_population(geo, seed)
    jobs = files_to_write(geo, parsed, new_provinces)
    gen = _Generator(geo, pop, scale, seed, jobs, today)
    for period, province in jobs:
        gen.children(period, province)

    files: list[FileEntry] = []
    # every requested period up to ``today`` gets its files (empty ones included), and so does every
    # later half-year holding a dose
    last_half = half_year(min(today, max(p.end for p in parsed)))
    if gen.last_half is not None and gen.last_half > last_half:
        last_half = gen.last_half
    known = geo.all_communes(PRE_REFORM) | geo.all_communes(POST_REFORM)
    index = 0
    for half in _half_years(first, last_half):
        for province in sorted(gen.provinces[half.vintage]):
            doses = gen.buckets.get((half.label, province), [])
            files.append(_write_file(landing, geo, seed, half, province, doses, index, invalid_rate,
                                     delivery_variants, today, known, gen.new_commune))
            index += 1
    manifest = Manifest(
        landing_dir=str(landing),
        generator=GENERATOR,
        parameters={
            "feeds": [FEED], "scale": scale, "seed": seed, "periods": [p.label for p in parsed],
            "provinces": None if provinces is None else new_provinces, "invalid_rate": invalid_rate,
            "delivery_variants": delivery_variants,
            "reference_dir": None if reference_dir is None else str(reference_dir),
            "today": today.isoformat(),
        },
        files=files,
    )
    manifest.write(landing)
    return manifest


def _write_file(landing: Path, geo: Geography, seed: int, half: Period, province: str, doses: list[_Dose],
                index: int, invalid_rate: float, delivery_variants: bool, today: date, known: set[str],
                new_commune: dict[str, str]) -> FileEntry:
    key = f"{seed}|{FEED}|{half.label}|{province}"
    rng_format = random.Random(f"{key}|format")
    if delivery_variants:
        delivery = choose_delivery(rng_format, COLUMNS, force=VARIANT_NAMES[index % len(VARIANT_NAMES)])
    else:
        delivery = Delivery()
    injector = DoseInjector(geo, half.vintage, invalid_rate, random.Random(f"{key}|invalid"), today, half, known,
                            new_commune)
    rel = f"{FEED}/{file_name(province, half.label)}"
    path = landing / rel
    invalid: Counter[str] = Counter()
    counts: Counter[str] = Counter({k: 0 for k in COUNT_KEYS})
    doses.sort(key=lambda d: (d.day, d.child, d.order, d.tag == "duplicate"))
    with CsvFeedWriter(path, COLUMNS, delivery, CODE_COLUMNS, rng_format) as writer:
        for dose in doses:
            writer.write(dose.row)
            counts["doses"] += 1
            counts[f"doses_{dose.row[7]}"] += 1
            if dose.tag == "duplicate":
                counts["duplicate_doses"] += 1
            elif dose.tag == "misordered":
                counts["misordered_doses"] += 1
            if dose.tag:
                continue  # the warning rows stay valid and unpaired with invalid copies
            bad = injector.maybe_copy(dose.row)
            if bad is not None:
                writer.write(bad[0])
                invalid[bad[1]] += 1
        written = writer.rows
    return FileEntry(
        feed=FEED, path=rel, province=province, vintage=half.vintage, period=half.label, rows=written,
        valid_rows=written - sum(invalid.values()), invalid_rows=dict(sorted(invalid.items())),
        variants=delivery.describe(), counts=dict(sorted(counts.items())), sha256=_sha256(path),
    )
