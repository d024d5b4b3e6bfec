"""Child abuse cases (``ldxh_xam_hai``): JSON lines in the format of sources.md.

**Abuse cases** (``generate_abuse_cases_feed``): one object per case, files per (province in the case
date's vintage, half-year of ``ngay_phat_hien``), ``ldxh_xam_hai/ldxh_xam_hai_<province>_<YYYY-HN>.jsonl``.

* ≈2,000 victim entries a year nationally × scale (indicators.md §6), spread by population, so at scale 1
  most commune-half-years have none and a few up to about five. Cases ≈ victims / 1.07 (≈5 % of cases
  have 2–3 victims), offenders ≈1.08 per case (``0`` when unknown, ≈8 %): three different totals.
* ``hinh_thuc``: ≈80 % of cases sexual, then violence, neglect, other; ≈10 % of cases have two forms.
  ``moi_truong`` depends on the form (violence and neglect mostly in the family, sexual abuse mostly in
  the community, some online). Victims: girls ≈85 %, mostly 11–15 (violence younger, abandonment babies),
  ≈90 % supported. ``xu_ly``: ``hinh_su`` ≈60 %, ``hanh_chinh`` ≈20 % (with ``so_tien_phat`` a multiple of
  500,000 VND from 3 to 20 million), ``dang_xu_ly`` ≈15 %, ``khong_xu_ly`` ≈5 %. Without a fine
  ``so_tien_phat`` is absent in some files and 0 in others.
* ≈70 % of victims are children of the register generated with the same seed and scale (their
  ``ma_dinh_danh``, birth date, sex and commune); the others are not in it (serials 480000–499999 of their
  half-year, never used by the register). ≈2 % of victims are in a second case of the same half-year,
  so the number of distinct children is below the number of victim entries.
* ``ma_vu`` is ``<province>-<year>-<sequence>``, numbered by date; the second half-year continues after
  the first half-year's cases of the same province code (so numbers are unique also across the 2025
  reform, where new codes reuse old ones). No case is dated after today.

Manifest ``counts`` (valid lines): ``cases``, ``victims`` (victim entries), ``distinct_victims`` (in the
file), ``offenders``, ``cases_<form>`` per form, ``victims_supported``, ``cases_administrative``,
``fines_vnd``.

Deterministic for a seed; the children of a cohort and their status at a date depend only on (seed,
scale, area, cohort, date), cases only on (seed, scale, province, half-year), so a file's lines do not
depend on which other provinces, dates or periods are generated (its delivery variants may).
"""


from __future__ import annotations

import random
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from synthetic.cohorts import Cohort
from synthetic.geography import Geography, load_geography
from synthetic.health import poisson
from synthetic.invalid import InvalidRows
from synthetic.jsonlines import (
    BAD_DATE,
    COMMUNE_OUTSIDE_PROVINCE,
    MALFORMED_JSON,
    UNKNOWN_COMMUNE,
    JsonWriter,
    choose_variants,
    describe,
    impossible_date,
)
from synthetic.landing import DEFAULT_PERIODS, check_rates, files_to_write, new_provinces, parse_periods, sha256_of
from synthetic.manifest import FileEntry, Manifest
from synthetic.periods import Period, add_years, from_ordinal, ordinal
from synthetic.population import PopulationModel, build_population
from synthetic.register import (
    HALF_SERIALS,
    MAX_AGE,
    REGISTER_SERIALS,
    SEXES,
    RegisterChildren,
    by_new_province,
    personal_id,
)

CASES_FEED = "ldxh_xam_hai"
CASES_GENERATOR = "xam_hai"

# --- case vocabulary -------------------------------------------------------------------------------------
ABUSE_FORMS = ("bao_luc", "boc_lot", "xam_hai_tinh_duc", "mua_ban", "bo_roi", "bo_mac", "khac")
SETTINGS = ("gia_dinh", "truong_hoc", "cong_dong", "moi_truong_mang", "khac")
HANDLING = ("hinh_su", "hanh_chinh", "dang_xu_ly", "khong_xu_ly")
CASE_KEYS = ("ma_vu", "ngay_phat_hien", "ma_tinh", "ma_xa", "hinh_thuc", "moi_truong", "nan_nhan",
             "so_doi_tuong", "xu_ly", "so_tien_phat")     # so_tien_phat may be absent without a fine
VICTIM_KEYS = ("ma_dinh_danh", "ngay_sinh", "gioi_tinh", "duoc_ho_tro")
CASES_COUNT_KEYS = (("cases", "victims", "distinct_victims", "offenders")
                    + tuple(f"cases_{f}" for f in ABUSE_FORMS)
                    + ("victims_supported", "cases_administrative", "fines_vnd"))


NO_VICTIM = "no_victim"                              # nan_nhan: []
VICTIM_BORN_AFTER_CASE = "victim_born_after_case"
BAD_FORM = "bad_form"                                # danh_dap, quay_roi
BAD_SETTING = "bad_setting"                          # nha_rieng, internet, truong
BAD_HANDLING = "bad_handling"                        # phat_tien, chua_ro, hoa_giai
NEGATIVE_FINE = "negative_fine"                      # hanh_chinh with a negative so_tien_phat
CASES_INVALID_KINDS = (MALFORMED_JSON, NO_VICTIM, VICTIM_BORN_AFTER_CASE, BAD_FORM, BAD_SETTING, BAD_HANDLING,
                       NEGATIVE_FINE, UNKNOWN_COMMUNE, COMMUNE_OUTSIDE_PROVINCE, BAD_DATE)


# --- case magnitudes -------------------------------------------------------------------------------------
VICTIMS_PER_YEAR = 2000
VICTIMS_PER_CASE = ((1, 0.95), (2, 0.035), (3, 0.015))
REPEAT_VICTIM_SHARE = 0.02                           # victims in a second case of the same half-year
LINKED_VICTIM_SHARE = 0.70                           # victims that are register children
VICTIM_SUPPORTED_SHARE = 0.90
TWO_FORMS_SHARE = 0.10
_FORM_WEIGHTS = {"xam_hai_tinh_duc": 0.79, "bao_luc": 0.10, "boc_lot": 0.015, "mua_ban": 0.01, "bo_roi": 0.01,
                 "bo_mac": 0.025, "khac": 0.05}
_SECOND_FORM = {"xam_hai_tinh_duc": {"bao_luc": 0.6, "boc_lot": 0.2, "mua_ban": 0.1, "khac": 0.1},
                "bao_luc": {"bo_mac": 0.5, "xam_hai_tinh_duc": 0.3, "boc_lot": 0.2},
                "boc_lot": {"bao_luc": 0.5, "mua_ban": 0.5}, "mua_ban": {"xam_hai_tinh_duc": 0.5, "boc_lot": 0.5},
                "bo_roi": {"bo_mac": 1.0}, "bo_mac": {"bao_luc": 1.0},
                "khac": {"bao_luc": 0.6, "xam_hai_tinh_duc": 0.4}}
_SETTING_WEIGHTS = {
    "xam_hai_tinh_duc": (0.25, 0.05, 0.50, 0.15, 0.05), "bao_luc": (0.60, 0.20, 0.15, 0.0, 0.05),
    "boc_lot": (0.30, 0.0, 0.55, 0.10, 0.05), "mua_ban": (0.10, 0.0, 0.50, 0.35, 0.05),
    "bo_roi": (0.85, 0.0, 0.10, 0.0, 0.05), "bo_mac": (0.90, 0.0, 0.05, 0.0, 0.05),
    "khac": (0.40, 0.15, 0.30, 0.10, 0.05),
}
# victims of a form: (girl share, (0–5, 6–10, 11–15) age-band weights)
_VICTIM_PROFILE = {
    "xam_hai_tinh_duc": (0.93, (0.04, 0.18, 0.78)), "bao_luc": (0.50, (0.15, 0.40, 0.45)),
    "boc_lot": (0.50, (0.0, 0.20, 0.80)), "mua_ban": (0.80, (0.10, 0.10, 0.80)),
    "bo_roi": (0.55, (0.90, 0.07, 0.03)), "bo_mac": (0.50, (0.40, 0.35, 0.25)),
    "khac": (0.60, (0.20, 0.35, 0.45)),
}
_AGE_BANDS = ((0, 5), (6, 10), (11, 15))
OFFENDERS = ((0, 0.08), (1, 0.80), (2, 0.08), (3, 0.04))
# handling with a known offender / with an unknown one (≈ 60 / 20 / 15 / 5 % overall)
_HANDLING_KNOWN = (0.639, 0.217, 0.111, 0.033)
_HANDLING_UNKNOWN = (0.15, 0.0, 0.60, 0.25)
FINE_STEP = 500_000
FINE_RANGE = (3_000_000, 20_000_000)


# --- case files ------------------------------------------------------------------------------------------

def cases_file_name(province: str, period: str) -> str:
    return f"{CASES_FEED}_{province}_{period}.jsonl"


def _pick(rng: random.Random, pairs: Sequence[tuple[Any, float]] | dict[Any, float]) -> Any:
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    total = sum(w for _, w in items)
    u = rng.random() * total
    for value, w in items:
        u -= w
        if u < 0:
            return value
    return items[-1][0]


def _case_window(period: Period, today: date) -> tuple[date, date] | None:
    last = min(period.end, today)
    return (period.start, last) if last >= period.start else None


@dataclass
class _Plan:
    sizes: list[int]       # victims of each base case
    repeats: int           # extra cases of a victim already in a base case

    @property
    def cases(self) -> int:
        return len(self.sizes) + min(self.repeats, sum(self.sizes))


def _plan(run: _CasesRun, vintage: str, province: str, period: Period) -> _Plan:
    """How many cases and victims a file has (cheap; also used to number the next half-year's cases)."""
    rng = random.Random(f"{run.seed}|{CASES_FEED}|plan|{run.scale}|{vintage}|{province}|{period.label}")
    window = _case_window(period, run.today)
    if window is None or province not in run.geo.communes_by_province[vintage]:
        return _Plan([], 0)
    covered = ((window[1] - window[0]).days + 1) / period.days
    mean_size = sum(s * w for s, w in VICTIMS_PER_CASE)
    lam = (VICTIMS_PER_YEAR * period.year_fraction * covered * run.scale * run.pop.province_share(vintage, province)
           / (mean_size * (1 + REPEAT_VICTIM_SHARE)))
    sizes = [_pick(rng, VICTIMS_PER_CASE) for _ in range(poisson(rng, lam))]
    repeats = sum(rng.random() < REPEAT_VICTIM_SHARE for _ in range(sum(sizes)))
    return _Plan(sizes, repeats)


@dataclass
class _CasesRun:
    geo: Geography
    pop: PopulationModel
    scale: float
    seed: int
    today: date
    children: RegisterChildren

    def first_number(self, vintage: str, province: str, period: Period) -> int:
        """Cases of the same province code earlier in the year (the first half-year's, in its vintage)."""
        if period.start.month == 1:
            return 0
        h1 = Period.parse(f"{period.start.year}-H1")
        if province not in self.geo.communes_by_province[h1.vintage]:
            return 0
        return _plan(self, h1.vintage, province, h1).cases


class _Candidates:
    """Register children who may be victims of a case file (lazy: built on the first linked victim)."""

    def __init__(self, run: _CasesRun, vintage: str, province: str, period: Period):
        first = add_years(period.start, -MAX_AGE)
        birth, registered, sex, year, md, commune, ref = [], [], [], [], [], [], []
        self.cohorts: list[Cohort] = []
        for area in run.children.cohorts_between(vintage, province, first, period.end):
            c = area.cohort
            if c.size == 0:
                continue
            keep = area.inside[c.commune]
            idx = np.nonzero(keep)[0]
            k = len(self.cohorts)
            self.cohorts.append(c)
            birth.append(c.birth[idx])
            registered.append(c.traits["registered"][idx])
            sex.append(c.sex[idx])
            year.append(c.birth_year[idx])
            md.append(c.birth_md[idx])
            commune.append(area.codes[c.commune[idx]])
            ref.append(np.stack([np.full(len(idx), k), idx], axis=1))

        def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        self.birth, self.registered, self.sex = cat(birth, np.int64), cat(registered, np.int64), cat(sex, np.int64)
        self.year, self.md, self.commune = cat(year, np.int64), cat(md, np.int64), cat(commune, object)
        self.ref = np.concatenate(ref) if ref else np.zeros((0, 2), dtype=np.int64)
        self.used = np.zeros(len(self.birth), dtype=bool)

    def pick(self, rng: random.Random, when: date, girl: bool, band: tuple[int, int], commune: str | None
             ) -> dict[str, Any] | None:
        age = when.year - self.year - ((when.month * 100 + when.day) < self.md)
        mask = ((self.sex == int(girl)) & (age >= band[0]) & (age <= band[1])
                & (self.registered <= ordinal(when)) & ~self.used)
        if commune is not None:
            mask &= self.commune == commune
        idx = np.nonzero(mask)[0]
        if len(idx) == 0:
            return None
        i = int(idx[rng.randrange(len(idx))])
        self.used[i] = True
        k, j = (int(x) for x in self.ref[i])
        c = self.cohorts[k]
        pid = personal_id(c.province, int(c.sex[j]), int(c.birth_year[j]), int(c.traits["serial"][j]))
        return {"ma_dinh_danh": pid, "ngay_sinh": from_ordinal(self.birth[i]).isoformat(),
                "gioi_tinh": SEXES[int(self.sex[i])], "commune": str(self.commune[i])}


class _CaseMaker:
    def __init__(self, run: _CasesRun, vintage: str, province: str, period: Period, rng: random.Random):
        self.run, self.vintage, self.province, self.period, self.rng = run, vintage, province, period, rng
        self._candidates: _Candidates | None = None
        communes = run.geo.communes(vintage, province)
        self.communes = communes
        total, cum = 0.0, []
        for c in communes:
            total += run.pop.weight[vintage][c]
            cum.append(total)
        self.cum = cum
        self.window = _case_window(period, run.today)
        self.used_ids: set[str] = set()

    @property
    def candidates(self) -> _Candidates:
        if self._candidates is None:
            self._candidates = _Candidates(self.run, self.vintage, self.province, self.period)
        return self._candidates

    def date(self) -> date:
        lo, hi = self.window
        return lo + timedelta(days=self.rng.randint(0, (hi - lo).days))

    def commune(self) -> str:
        return self.communes[min(bisect_right(self.cum, self.rng.random() * self.cum[-1]), len(self.communes) - 1)]

    def forms(self) -> list[str]:
        first = _pick(self.rng, _FORM_WEIGHTS)
        forms = [first]
        if self.rng.random() < TWO_FORMS_SHARE:
            forms.append(_pick(self.rng, _SECOND_FORM[first]))
        return sorted(set(forms), key=ABUSE_FORMS.index)

    def victim(self, when: date, form: str, commune: str | None) -> tuple[dict[str, Any], str]:
        """A victim (and the commune where the child lives)."""
        rng = self.rng
        girl_share, bands = _VICTIM_PROFILE[form]
        girl = rng.random() < girl_share
        band = _pick(rng, list(zip(_AGE_BANDS, bands)))
        supported = rng.random() < VICTIM_SUPPORTED_SHARE
        if rng.random() < LINKED_VICTIM_SHARE:
            found = self.candidates.pick(rng, when, girl, band, commune)
            if found is not None:
                where = found.pop("commune")
                self.used_ids.add(found["ma_dinh_danh"])
                return {**found, "duoc_ho_tro": supported}, where
        age = rng.randint(*band)
        hi = add_years(when, -age)
        lo = add_years(when, -age - 1) + timedelta(days=1)
        birth = lo + timedelta(days=rng.randint(0, (hi - lo).days))
        while True:
            serial = REGISTER_SERIALS + rng.randrange(HALF_SERIALS - REGISTER_SERIALS)
            serial += (0 if birth.month <= 6 else HALF_SERIALS)
            pid = f"0{self.province}{3 if girl else 2}{birth.year % 100:02d}{serial:06d}"
            if pid not in self.used_ids:
                break
        self.used_ids.add(pid)
        return ({"ma_dinh_danh": pid, "ngay_sinh": birth.isoformat(), "gioi_tinh": SEXES[int(girl)],
                 "duoc_ho_tro": supported}, commune or self.commune())

    def case(self, size: int, repeat_of: tuple[dict[str, Any], str] | None = None
             ) -> tuple[dict[str, Any], list[tuple[dict[str, Any], str]]]:
        rng = self.rng
        when = self.date()
        forms = self.forms()
        main = forms[0] if len(forms) == 1 else max(forms, key=lambda f: _FORM_WEIGHTS[f])
        if repeat_of is not None:
            victims = [repeat_of]
        else:
            victims = [self.victim(when, main, None)]
            for _ in range(size - 1):
                victims.append(self.victim(when, main, victims[0][1]))
        commune = victims[0][1]
        if repeat_of is not None:  # the second case cannot be before the child's birth
            birth = date.fromisoformat(repeat_of[0]["ngay_sinh"])
            if when < birth:
                when = birth + timedelta(days=rng.randint(0, max(0, (self.window[1] - birth).days)))
        setting = SETTINGS[_pick(rng, list(enumerate(_SETTING_WEIGHTS[main])))]
        offenders = _pick(rng, OFFENDERS)
        handling = HANDLING[_pick(rng, list(enumerate(_HANDLING_KNOWN if offenders else _HANDLING_UNKNOWN)))]
        obj: dict[str, Any] = {
            "ma_vu": "", "ngay_phat_hien": when.isoformat(), "ma_tinh": self.province, "ma_xa": commune,
            "hinh_thuc": forms, "moi_truong": setting, "nan_nhan": [dict(v) for v, _ in victims],
            "so_doi_tuong": offenders, "xu_ly": handling,
        }
        if handling == "hanh_chinh":
            steps = (FINE_RANGE[1] - FINE_RANGE[0]) // FINE_STEP
            obj["so_tien_phat"] = FINE_RANGE[0] + FINE_STEP * int(steps * rng.random() ** 2)
        return obj, victims


class _CasesCorruptor(InvalidRows):
    def corrupt(self, kind: str, obj: dict[str, Any]) -> None:
        rng = self.rng
        if kind == NO_VICTIM:
            obj["nan_nhan"] = []
        elif kind == VICTIM_BORN_AFTER_CASE:
            when = date.fromisoformat(obj["ngay_phat_hien"])
            victim = rng.choice(obj["nan_nhan"])
            victim["ngay_sinh"] = (when + timedelta(days=rng.randint(1, 400))).isoformat()
        elif kind == BAD_FORM:
            forms = list(obj["hinh_thuc"])
            forms[rng.randrange(len(forms))] = rng.choice(("danh_dap", "quay_roi"))
            obj["hinh_thuc"] = forms
        elif kind == BAD_SETTING:
            obj["moi_truong"] = rng.choice(("nha_rieng", "internet", "truong"))
        elif kind == BAD_HANDLING:
            obj["xu_ly"] = rng.choice(("phat_tien", "chua_ro", "hoa_giai"))
        elif kind == NEGATIVE_FINE:
            obj["xu_ly"] = "hanh_chinh"
            obj["so_tien_phat"] = -FINE_STEP * rng.randint(6, 40)
        elif kind == UNKNOWN_COMMUNE:
            obj["ma_xa"] = self.unknown_commune()
        elif kind == COMMUNE_OUTSIDE_PROVINCE:
            obj["ma_xa"] = self.commune_outside(obj["ma_tinh"])
        elif kind == BAD_DATE:
            if rng.random() < 0.5:
                obj["ngay_phat_hien"] = impossible_date(rng, int(obj["ngay_phat_hien"][:4]))
            else:
                victim = rng.choice(obj["nan_nhan"])
                victim["ngay_sinh"] = impossible_date(rng, int(victim["ngay_sinh"][:4]))


def _case_rows(run: _CasesRun, vintage: str, province: str, period: Period) -> list[dict[str, Any]]:
    """The valid cases of one file, numbered by date."""
    plan = _plan(run, vintage, province, period)
    if not plan.sizes:
        return []
    rng = random.Random(f"{run.seed}|{CASES_FEED}|cases|{run.scale}|{vintage}|{province}|{period.label}")
    maker = _CaseMaker(run, vintage, province, period, rng)
    cases: list[dict[str, Any]] = []
    victims: list[tuple[dict[str, Any], str]] = []
    for size in plan.sizes:
        obj, vs = maker.case(size)
        cases.append(obj)
        victims.extend(vs)
    for victim in rng.sample(victims, min(plan.repeats, len(victims))):
        obj, _ = maker.case(1, repeat_of=victim)
        cases.append(obj)
    order = sorted(range(len(cases)), key=lambda i: (cases[i]["ngay_phat_hien"], i))
    first = run.first_number(vintage, province, period)
    out = []
    for number, i in enumerate(order, start=first + 1):
        obj = cases[i]
        obj["ma_vu"] = f"{province}-{period.start.year}-{number:04d}"
        out.append(obj)
    return out


def _write_cases_file(run: _CasesRun, landing: Path, period: Period, province: str, index: int,
                      invalid_rate: float) -> FileEntry:
    key = f"{run.seed}|{CASES_FEED}|{period.label}|{province}"
    rng_format = random.Random(f"{key}|format")
    variants = choose_variants(rng_format, index, names=False)
    variants["so_tien_phat_without_fine"] = "zero" if rng_format.random() < 0.5 else "absent"
    writer = JsonWriter(rng_format, variants, CASE_KEYS, {"nan_nhan": VICTIM_KEYS})
    vintage = period.vintage
    injector = _CasesCorruptor(CASES_INVALID_KINDS, invalid_rate, random.Random(f"{key}|invalid"), run.geo, vintage)
    invalid: Counter[str] = Counter()
    counts: Counter[str] = Counter({k: 0 for k in CASES_COUNT_KEYS})
    distinct: set[str] = set()
    zero = variants["so_tien_phat_without_fine"] == "zero"
    for obj in _case_rows(run, vintage, province, period):
        if zero and "so_tien_phat" not in obj:
            obj["so_tien_phat"] = 0
        kind = injector.draw()
        if kind is None:
            _count_case(counts, distinct, obj)
            writer.write(obj)
            continue
        invalid[kind] += 1
        if kind != MALFORMED_JSON:
            injector.corrupt(kind, obj)
        writer.write(obj, malformed=kind == MALFORMED_JSON)
    counts["distinct_victims"] = len(distinct)
    rel = f"{CASES_FEED}/{cases_file_name(province, period.label)}"
    path = landing / rel
    writer.save(path)
    rows = len(writer.lines)
    return FileEntry(
        feed=CASES_FEED, path=rel, province=province, vintage=vintage, period=period.label, rows=rows,
        valid_rows=rows - sum(invalid.values()), invalid_rows=dict(sorted(invalid.items())),
        variants=describe(variants, writer), counts={k: counts[k] for k in CASES_COUNT_KEYS},
        sha256=sha256_of(path),
    )


def _count_case(counts: Counter[str], distinct: set[str], obj: dict[str, Any]) -> None:
    counts["cases"] += 1
    counts["victims"] += len(obj["nan_nhan"])
    distinct.update(v["ma_dinh_danh"] for v in obj["nan_nhan"])
    counts["offenders"] += obj["so_doi_tuong"]
    for form in obj["hinh_thuc"]:
        counts[f"cases_{form}"] += 1
    counts["victims_supported"] += sum(bool(v["duoc_ho_tro"]) for v in obj["nan_nhan"])
    if obj["xu_ly"] == "hanh_chinh":
        counts["cases_administrative"] += 1
        counts["fines_vnd"] += obj["so_tien_phat"]


def generate_abuse_cases_feed(
    landing_dir: Path | str,
    *,
    scale: float = 0.001,
    seed: int = 13,
    periods: Sequence[str] = DEFAULT_PERIODS,
    provinces: Sequence[str] | None = None,
    invalid_rate: float = 0.0,
    reference_dir: Path | str | None = None,
) -> Manifest:
    """Write child-abuse case files (``ldxh_xam_hai``) under ``landing_dir`` and record them in the landing
    manifest (generator ``xam_hai``; other generators' entries are kept).

    ``scale`` multiplies the ≈2,000 victims a year (and the register children some victims are drawn from:
    use the register's scale to link them); ``provinces`` filters by NEW province code (pre-reform
    half-years get the old provinces that map into them); ``invalid_rate`` is the share of lines replaced
    by invalid lines (kinds in ``CASES_INVALID_KINDS``). Deterministic for a seed; a file's lines do not
    depend on which other provinces or periods are generated."""
    check_rates(scale, invalid_rate)
    geo = load_geography(reference_dir)
    landing = Path(landing_dir)
    parsed = parse_periods(periods)
    selected = new_provinces(geo, provinces)
    pop = build_population(geo, seed)
    run = _CasesRun(geo, pop, scale, seed, date.today(), RegisterChildren(geo, pop, scale, seed))
    jobs = [(period, period.vintage, province) for period, province in files_to_write(geo, parsed, selected)]
    written: dict[int, FileEntry] = {}
    for group in by_new_province(geo, jobs):
        for index, period, province in group:
            written[index] = _write_cases_file(run, landing, period, province, index, invalid_rate)
        run.children.clear()
    files = [written[i] for i in sorted(written)]
    manifest = Manifest(
        landing_dir=str(landing), generator=CASES_GENERATOR,
        parameters={"feeds": [CASES_FEED], "scale": scale, "seed": seed, "periods": [p.label for p in parsed],
                    "provinces": None if provinces is None else selected, "invalid_rate": invalid_rate,
                    "reference_dir": None if reference_dir is None else str(reference_dir)},
        files=files,
    )
    manifest.write(landing)
    return manifest
