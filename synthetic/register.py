"""The commune child register (``ldxh_tre_em``): JSON lines (one object per line, UTF-8) in the format of
sources.md, a full snapshot of a province at each snapshot date, one object per child under 16.

* Children are persistent: the cohorts of ``synthetic.cohorts`` (≈24.6 M children under 16 nationally ×
  scale). A child keeps its ``ma_dinh_danh`` (12 digits: ``0`` + province of birth registration +
  century/sex digit ``2`` boy / ``3`` girl + year of birth + 6-digit serial),
  name, birth date (never 29 February), sex (52.7 % boys), ethnicity (the commune's provincial profile)
  and commune. It enters the register 0–365 days after birth (mean ≈25 days) and leaves on its 16th
  birthday. Before 1 July 2025 rows carry its old commune; from then the new commune of the 2025
  conversion (the ``is_default`` one of a split commune).
* ``hcdb`` (Luật Trẻ em Điều 10 groups ``a b c d đ e g h i k l m n o``): each group has a national
  prevalence, an age shape (offending ``e``, drugs ``g``, dropping out to earn a living ``h`` only from
  10–12; sexual abuse ``l`` mostly 11–15; disability ``d`` rising with detection at school age) and
  regional multipliers (poverty-linked ``n``, ``h``, ``k``, ``c`` and trafficking ``m`` higher in the
  northern mountains and the Central Highlands, lower in the five cities). About 7 % of children are in
  at least one group: disability ``d`` (≈3 %) and illness in a poor household ``n`` (≈2.6 %) most often,
  double orphans ``a`` ≈0.25 %, ``i``/``k``/``l`` ≈0.1 % each. Some groups pull others
  (orphan → no one to rely on, trafficked → exploited, disabled → ill in a poor household …), so a few
  children are in two or three. Status is persistent: each child has a latent uniform per group compared
  with the age-specific prevalence; for the transient groups a share of the latent is redrawn at each
  snapshot, so children enter and leave groups between snapshots. ``khuyet_tat`` is exactly ``d``.
* ``tro_giup``: ≈88 % of children in a group are assisted (≈80 % in the mountains, ≈94 % in the cities),
  with 1–3 forms matching their groups (``tro_cap_xa_hoi``, ``y_te``, ``giao_duc``, ``cham_soc_thay_the``,
  ``tu_van``). About 0.5 % of children in no group (at risk: ``nguy cơ``) are assisted too, so assisted
  children must be counted among those in a group. Everybody else: ``{"duoc_tro_giup": false,
  "hinh_thuc": []}``.
* ``lao_dong``: child labour against the law ``trai_quy_dinh`` ≈3.5 % of 5–15-year-olds nationally
  (rising with age, ≈2× in the mountains, ≈0.4× in the cities), permitted work ``phu_hop`` ≈3 % (mostly
  13–15), almost none under 5; most children in ``h`` or ``k`` work against the law.

Files ``ldxh_tre_em/ldxh_tre_em_<province>_<YYYY-MM-DD>.jsonl`` per (province in the snapshot date's
vintage, snapshot date), lines sorted by commune and birth date. Manifest ``period`` is the snapshot date
(ISO); ``counts`` (valid lines): ``children``, ``children_special_circumstances`` (≥ 1 group),
``children_group_<letter>`` per letter (``children_group_đ`` included), ``children_assisted`` (in ≥ 1 group
and assisted: the numerator of the assisted rate), ``children_5_15``, ``child_labour`` (``trai_quy_dinh``
aged 5–15 at the snapshot), ``snapshot_date`` (an integer ``YYYYMMDD``: counts are summed by
``Manifest.totals``, so no text there).

Delivery variants (per file, recorded in the manifest's ``variants``; one is forced per file in turn):
a shuffled key order (also inside nested objects), compact separators, ``\\uXXXX`` escapes
(``ensure_ascii``), names in Unicode NFD, a UTF-8 BOM, CRLF line ends. All lines stay valid JSON.

Invalid lines (``invalid_rate`` > 0; one defect each, kinds dealt in turn from a random start):
``REGISTER_INVALID_KINDS`` (see the constants below).

Deterministic for a seed; the children of a cohort and their status at a date depend only on (seed,
scale, area, cohort, date), so a file's lines do not depend on which other provinces or dates are generated
(its delivery variants may).

Speed: a file's valid lines are assembled from arrays (``synthetic.textbytes``): the JSON texts of the
small value sets (group lists, assistance objects, codes, name parts) are rendered once by the JSON encoder
of the file's variants and looked up per line; only the rare invalid lines are built as objects.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from synthetic.cohorts import Cohort, CohortBook, CohortInArea
from synthetic.dan_so import NATIONAL_BY_AGE_M
from synthetic.geography import POST_REFORM, Geography, load_geography
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
from synthetic.landing import check_rates, new_provinces, numpy_rng, provinces_in
from synthetic.manifest import FileEntry, Manifest
from synthetic.names import NAME_PARTS, Names, draw_names
from synthetic.periods import add_years, from_ordinal, ordinal, vintage_of
from synthetic.population import ETHNICITY_CODES, KINH, PopulationModel, build_population, ethnicity_table, is_mountain
from synthetic.textbytes import Piece, Vocabulary, const, date_text, digits, lines, write

REGISTER_FEED = "ldxh_tre_em"
REGISTER_GENERATOR = "tre_em"
DEFAULT_SNAPSHOT_DATES = ("2024-06-30", "2024-12-31", "2025-06-30", "2025-12-31")

# --- register vocabulary ---------------------------------------------------------------------------------
GROUPS = ("a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m", "n", "o")
ASSISTANCE_FORMS = ("tro_cap_xa_hoi", "y_te", "giao_duc", "cham_soc_thay_the", "tu_van")
LABOUR_VALUES = ("khong", "phu_hop", "trai_quy_dinh")
SEXES = ("nam", "nu")
REGISTER_KEYS = ("ma_dinh_danh", "ho_ten", "ngay_sinh", "gioi_tinh", "ma_dan_toc", "ma_tinh", "ma_xa", "hcdb",
                 "tro_giup", "khuyet_tat", "lao_dong", "ngay_cap_nhat")
ASSISTANCE_KEYS = ("duoc_tro_giup", "hinh_thuc")
# ID defects: the child counts; its record is flagged and on the clean-up list (ingest: personal_id_status)
ID_MISSING, ID_MALFORMED, ID_INCONSISTENT = "missing", "malformed", "inconsistent"
ID_DEFECTS = (ID_MISSING, ID_MALFORMED, ID_INCONSISTENT)
REGISTER_COUNT_KEYS = (("children", "children_special_circumstances")
                       + tuple(f"children_group_{g}" for g in GROUPS)
                       + ("children_assisted", "children_5_15", "child_labour", "snapshot_date",
                          "children_valid_id", "children_under5", "children_under5_valid_id")
                       + tuple(f"children_id_{d}" for d in ID_DEFECTS))


# --- invalid-line kinds (and MALFORMED_JSON, BAD_DATE, UNKNOWN_COMMUNE, COMMUNE_OUTSIDE_PROVINCE of jsonlines)
OVER_16 = "over_16"                                  # aged 16 or 17 at the snapshot
DUPLICATE_ID = "duplicate_id"                        # an earlier valid line's ma_dinh_danh (this line invalid)
BAD_GROUP = "bad_group"                              # a letter outside the 14 groups (f, j, p, q, z)
BAD_SEX = "bad_sex"                                  # x, khac, ""
BAD_LABOUR = "bad_labour"                            # co, yes, 1
REGISTER_INVALID_KINDS = (MALFORMED_JSON, OVER_16, DUPLICATE_ID, BAD_GROUP, BAD_SEX, BAD_DATE, UNKNOWN_COMMUNE,
                          COMMUNE_OUTSIDE_PROVINCE, BAD_LABOUR)

# Children without a valid ID (Đề án 06's clean-up): blank for ≈0.6 % (≈6 % of infants, not yet registered or
# linked), a placeholder or mistyped ID (malformed) for ≈0.4 %, the century digit of the 1900s (inconsistent
# with the birth date) for ≈0.2 %. These lines stay valid: the loader counts the child and flags the record.
ID_DEFECT_SHARES = {ID_MISSING: 0.006, ID_MALFORMED: 0.004, ID_INCONSISTENT: 0.002}
INFANT_MISSING_SHARE = 0.06
PLACEHOLDER_IDS = ("123", "0", "000000000000", "999999999999", "1")

# --- register magnitudes ---------------------------------------------------------------------------------
MAX_AGE = 16                                         # children are under 16 (Luật Trẻ em Điều 1)
REGISTRATION_DELAY_MEAN_DAYS = 25.0
REGISTRATION_DELAY_MAX_DAYS = 365
REGISTER_SERIALS = 480_000                           # serials 0–479999 of a half-year: register children
HALF_SERIALS = 500_000                               # second half-year: + 500000
CITY_PROVINCES = frozenset({"01", "31", "48", "79", "92"})  # old codes of the five centrally-run cities
OTHER, MOUNTAIN, CITY = 0, 1, 2

# national prevalence (share of children under 16) and persistence between snapshots of each group
_GROUP_PARAMS: dict[str, tuple[float, float]] = {
    "a": (0.0025, 1.0),    # mồ côi cả cha và mẹ
    "b": (0.0005, 1.0),    # bị bỏ rơi
    "c": (0.0040, 0.95),   # không nơi nương tựa
    "d": (0.0300, 1.0),    # khuyết tật
    "đ": (0.0004, 1.0),    # nhiễm HIV/AIDS
    "e": (0.0017, 0.7),    # vi phạm pháp luật
    "g": (0.0003, 0.8),    # nghiện ma túy
    "h": (0.0050, 0.85),   # bỏ học kiếm sống chưa hoàn thành phổ cập THCS
    "i": (0.0007, 0.6),    # bị tổn hại nghiêm trọng do bạo lực
    "k": (0.0012, 0.7),    # bị bóc lột
    "l": (0.0008, 0.7),    # bị xâm hại tình dục
    "m": (0.0001, 0.8),    # bị mua bán
    "n": (0.0230, 0.85),   # bệnh hiểm nghèo / dài ngày thuộc hộ nghèo, cận nghèo
    "o": (0.0002, 0.9),    # di cư, lánh nạn chưa xác định được cha mẹ
}
# relative prevalence by age 0–15 (normalised below to a population-weighted mean of 1)
_RAW_AGE_SHAPE: dict[str, tuple[float, ...]] = {
    "a": tuple(0.3 + 1.4 * a / 15 for a in range(16)),
    "b": (1.3, 1.2, 1.1, 1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9),
    "c": tuple(0.6 + 0.8 * a / 15 for a in range(16)),
    "d": (0.35, 0.55, 0.7, 0.8, 0.9, 1.0, 1.1, 1.15, 1.15, 1.15, 1.15, 1.15, 1.15, 1.15, 1.15, 1.15),
    "đ": (1.0,) * 16,
    "e": (0.0,) * 12 + (1.0, 2.0, 3.0, 4.0),
    "g": (0.0,) * 12 + (1.0, 2.0, 3.0, 4.0),
    "h": (0.0,) * 10 + (0.3, 1.0, 2.0, 3.0, 4.0, 4.5),
    "i": tuple(0.5 + 1.0 * a / 15 for a in range(16)),
    "k": (0.0,) * 6 + (0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.3, 1.6, 1.9, 2.2),
    "l": (0.2,) * 6 + (0.7,) * 5 + (2.0,) * 5,
    "m": (0.3,) * 6 + (1.0,) * 6 + (2.0,) * 4,
    "n": (1.0,) * 16,
    "o": (1.0,) * 16,
}
# regional multipliers (other, mountain, city)
_REGION: dict[str, tuple[float, float, float]] = {
    "a": (1.0, 1.2, 0.9), "c": (1.0, 1.3, 0.8), "d": (1.0, 1.1, 0.9), "e": (1.0, 0.8, 1.3),
    "g": (1.0, 1.2, 1.3), "h": (1.0, 1.8, 0.4), "k": (1.0, 1.5, 0.7), "m": (1.0, 2.5, 0.5),
    "n": (1.0, 1.5, 0.6), "o": (1.0, 1.0, 1.5),
}
# a child in the first group is also in the second with this probability (if the age allows it)
_COMPANIONS = (("m", "k", 0.5), ("k", "h", 0.3), ("a", "c", 0.35), ("o", "c", 0.3), ("l", "i", 0.25),
               ("g", "e", 0.3), ("đ", "n", 0.3), ("d", "n", 0.10))
ASSISTED_SHARE = (0.895, 0.80, 0.94)                 # of children in a group, by region
ASSISTED_PERSISTENCE = 0.9
AT_RISK_ASSISTED_SHARE = 0.005                       # of children in no group (nguy cơ)
AT_RISK_PERSISTENCE = 0.7
_AT_RISK_FORMS = (0.3, 0.3, 0.4, 0.0, 0.5)
# probability of each assistance form (ASSISTANCE_FORMS order) for an assisted child in the group
_FORM_PROBS: dict[str, tuple[float, float, float, float, float]] = {
    "a": (0.8, 0.3, 0.3, 0.6, 0.1), "b": (0.6, 0.3, 0.0, 0.9, 0.0), "c": (0.7, 0.2, 0.2, 0.7, 0.1),
    "d": (0.6, 0.7, 0.3, 0.0, 0.1), "đ": (0.4, 0.9, 0.0, 0.0, 0.3), "e": (0.0, 0.0, 0.4, 0.0, 0.8),
    "g": (0.0, 0.6, 0.0, 0.0, 0.7), "h": (0.4, 0.0, 0.7, 0.0, 0.2), "i": (0.0, 0.5, 0.0, 0.2, 0.8),
    "k": (0.3, 0.0, 0.3, 0.0, 0.7), "l": (0.0, 0.5, 0.0, 0.15, 0.9), "m": (0.0, 0.3, 0.0, 0.4, 0.8),
    "n": (0.6, 0.8, 0.0, 0.0, 0.0), "o": (0.0, 0.3, 0.0, 0.6, 0.4),
}
# labour: share of each age against the law / permitted, before the regional multiplier
_ILLEGAL_BY_AGE = (0.0, 0.0, 0.0, 0.0003, 0.0003, 0.006, 0.006, 0.008, 0.014, 0.018, 0.022, 0.032, 0.036,
                   0.050, 0.058, 0.066)
_LEGAL_BY_AGE = (0.0,) * 5 + (0.010, 0.012, 0.014, 0.016, 0.018, 0.020, 0.022, 0.024, 0.060, 0.070, 0.080)
_LABOUR_REGION = ((1.0, 2.0, 0.4), (1.0, 1.5, 0.6))  # (illegal, legal) by region
LABOUR_PERSISTENCE = 0.8
WORKING_IN_H_OR_K = 0.6                              # children in h or k working against the law

def _normalised_shapes() -> np.ndarray:
    """(16, 14) age shapes, each with a population-weighted mean of 1 over ages 0–15."""
    weights = np.array(NATIONAL_BY_AGE_M[:MAX_AGE])
    out = np.zeros((MAX_AGE, len(GROUPS)))
    for j, g in enumerate(GROUPS):
        raw = np.array(_RAW_AGE_SHAPE[g], dtype=float)
        out[:, j] = raw / (raw * weights).sum() * weights.sum()
    return out


_SHAPES = _normalised_shapes()
_PREVALENCE = np.array([_GROUP_PARAMS[g][0] for g in GROUPS])
_PERSISTENCE = np.array([_GROUP_PARAMS[g][1] for g in GROUPS])
_REGION_MULT = np.array([[_REGION.get(g, (1.0, 1.0, 1.0))[r] for g in GROUPS] for r in range(3)])
_FORM_MATRIX = np.array([_FORM_PROBS[g] for g in GROUPS])
_G = {g: j for j, g in enumerate(GROUPS)}
# per (age, region) row a * 3 + region: each group's prevalence, and the labour shares
_GROUP_P = np.array([_PREVALENCE * _SHAPES[a] * _REGION_MULT[r] for a in range(MAX_AGE) for r in range(3)],
                    dtype=np.float32)
_PERSISTENCE_32 = _PERSISTENCE.astype(np.float32)
_ILLEGAL_P = np.array([_ILLEGAL_BY_AGE[a] * _LABOUR_REGION[0][r] for a in range(MAX_AGE) for r in range(3)])
_LEGAL_P = np.array([_LEGAL_BY_AGE[a] * _LABOUR_REGION[1][r] for a in range(MAX_AGE) for r in range(3)])
# latent columns
_L_GROUPS = 0
_L_COMPANION = len(GROUPS)
_L_ASSIST = _L_COMPANION + len(_COMPANIONS)
_L_RISK = _L_ASSIST + 1
_L_FORMS = _L_RISK + 1
_L_LABOUR = _L_FORMS + len(ASSISTANCE_FORMS)
_L_LABOUR_HK = _L_LABOUR + 1
_N_LATENT = _L_LABOUR_HK + 1


# --- the children and their status -----------------------------------------------------------------------

def _register_traits(rng: np.random.Generator, c: Cohort) -> dict[str, np.ndarray]:
    """Entry in the register (days after birth) and the serial of the personal id."""
    n = c.size
    if n > REGISTER_SERIALS:
        raise ValueError(f"scale too large: {n} children born in {c.province} {c.year}-H{c.half} exceed the ID serials")
    delay = np.minimum(np.floor(rng.exponential(REGISTRATION_DELAY_MEAN_DAYS, n)),
                       REGISTRATION_DELAY_MAX_DAYS).astype(np.int64)
    max_gap = max(1, REGISTER_SERIALS // max(n, 1))
    serial = np.cumsum(rng.integers(1, max_gap + 1, n)) - 1
    return {"registered": c.birth + delay, "serial": serial[rng.permutation(n)] + (c.half - 1) * HALF_SERIALS}


def personal_id(province: str, sex: int, birth_year: int, serial: int) -> str:
    """``0`` + province of birth registration + ``2`` boy / ``3`` girl + year of birth + 6-digit serial."""
    return f"0{province}{2 + sex}{birth_year % 100:02d}{serial:06d}"


class RegisterChildren:
    """The register's children (cohorts of ``synthetic.cohorts``) with their ethnicity, names and status at
    snapshot dates (each drawn once per cohort or cohort and date, cached until ``clear``)."""

    def __init__(self, geo: Geography, pop: PopulationModel, scale: float, seed: int):
        self.geo, self.pop, self.scale, self.seed = geo, pop, scale, seed
        self.book = CohortBook(geo, pop, scale, seed, REGISTER_FEED, _register_traits)
        self._cache: dict[tuple[str, ...], Any] = {}
        self._region: dict[tuple[str, str], np.ndarray] = {}

    def cohorts_between(self, vintage: str, province: str, first: date, last: date) -> list[CohortInArea]:
        return self.book.cohorts_between(vintage, province, first, last)

    def _cached(self, key: tuple[str, ...], make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def regions(self, vintage: str, province: str) -> np.ndarray:
        """Region (OTHER / MOUNTAIN / CITY) of each commune of a province, by its population profile."""
        key = (vintage, province)
        if key not in self._region:
            out = []
            for commune in self.geo.communes(vintage, province):
                if is_mountain(self.pop.profile(vintage, commune)):
                    out.append(MOUNTAIN)
                elif self.pop.profile_key[vintage][commune] in CITY_PROVINCES:
                    out.append(CITY)
                else:
                    out.append(OTHER)
            self._region[key] = np.array(out, dtype=np.int64)
        return self._region[key]

    def ethnicity(self, c: Cohort) -> np.ndarray:
        """Index into ETHNICITY_CODES of each child (the commune's provincial profile)."""
        def make() -> np.ndarray:
            rng = numpy_rng(self.seed, REGISTER_FEED, "ethnicity", self.scale, c.key)
            u1, u2 = rng.random(c.size), rng.random(c.size)
            profiles = [self.pop.profile(c.vintage, x) for x in c.communes]
            share = np.array([p.minority_share for p in profiles])[c.commune] if c.size else np.zeros(0)
            mixes = np.array([p.mix for p in profiles], dtype=object)[c.commune] if c.size else np.zeros(0, object)
            out = np.full(c.size, ETHNICITY_CODES.index(KINH), dtype=np.int64)
            minority = u1 < share
            for mix in sorted(set(mixes.tolist())):
                codes, cum = ethnicity_table(mix)
                sel = minority & (mixes == mix)
                pick = np.minimum(np.searchsorted(np.array(cum), u2[sel] * cum[-1], side="right"), len(codes) - 1)
                out[sel] = np.array([ETHNICITY_CODES.index(x) for x in codes])[pick]
            return out
        return self._cached(("ethnicity", c.key), make)

    def names(self, c: Cohort) -> Names:
        return self._cached(("names", c.key), lambda: draw_names(
            numpy_rng(self.seed, REGISTER_FEED, "names", self.scale, c.key), c.sex == 1, self.ethnicity(c)))

    def latent(self, c: Cohort) -> np.ndarray:
        return self._cached(("latent", c.key), lambda: numpy_rng(
            self.seed, REGISTER_FEED, "latent", self.scale, c.key).random((c.size, _N_LATENT), dtype=np.float32))

    def status(self, c: Cohort, day: date) -> dict[str, np.ndarray]:
        """Groups (n, 14), assisted, forms (n, 5) and labour (0 khong, 1 phu_hop, 2 trai_quy_dinh) of every
        child of the cohort at ``day`` (depends on seed, scale, cohort and day only)."""
        return self._cached(("status", c.key, day.isoformat()), lambda: self._status(c, day))

    def _status(self, c: Cohort, day: date) -> dict[str, np.ndarray]:
        n = c.size
        lat = self.latent(c)
        rng = numpy_rng(self.seed, REGISTER_FEED, "status", self.scale, c.key, day.isoformat())
        age = c.age_at(day)
        a = np.clip(age, 0, MAX_AGE - 1)
        region = self.regions(c.vintage, c.province)[c.commune]

        def mixed(u: np.ndarray, persistence: np.ndarray | float) -> np.ndarray:
            """The latent ``u`` kept with probability ``persistence``, else a fresh uniform: one draw r does
            both (below ``persistence`` keep; above it (r - p) / (1 - p) is uniform and independent of u)."""
            r = rng.random(u.shape, dtype=np.float32)
            fresh = (r - persistence) / np.maximum(1 - np.asarray(persistence, dtype=np.float32), 1e-6)
            return np.where(r < persistence, u, fresh)

        cell = a * 3 + region                                  # (age, region): the prevalences' table row
        groups = mixed(lat[:, _L_GROUPS:_L_GROUPS + len(GROUPS)], _PERSISTENCE_32[None, :]) < _GROUP_P[cell]
        for k, (src, dst, prob) in enumerate(_COMPANIONS):
            allowed = _SHAPES[a, _G[dst]] > 0
            groups[:, _G[dst]] |= groups[:, _G[src]] & (lat[:, _L_COMPANION + k] < prob) & allowed
        csdb = groups.any(axis=1)
        assisted_share = np.array(ASSISTED_SHARE)[region]
        assisted = csdb & (mixed(lat[:, _L_ASSIST], ASSISTED_PERSISTENCE) < assisted_share)
        at_risk = ~csdb & (mixed(lat[:, _L_RISK], AT_RISK_PERSISTENCE) < AT_RISK_ASSISTED_SHARE)
        # forms of assistance, for the few assisted children only: each form's probability is the highest
        # over the child's groups; at least the likeliest form
        helped = np.nonzero(assisted | at_risk)[0]
        probs = (groups[helped, :, None] * _FORM_MATRIX[None, :, :]).max(axis=1)
        probs = np.where(at_risk[helped, None], np.array(_AT_RISK_FORMS)[None, :], probs)
        chosen = lat[helped, _L_FORMS:_L_FORMS + len(ASSISTANCE_FORMS)] < probs
        chosen[np.arange(len(helped)), probs.argmax(axis=1)] |= ~chosen.any(axis=1)
        forms = np.zeros((n, len(ASSISTANCE_FORMS)), dtype=bool)
        forms[helped] = chosen
        ul = mixed(lat[:, _L_LABOUR], LABOUR_PERSISTENCE)
        p_ill, p_leg = _ILLEGAL_P[cell], _LEGAL_P[cell]
        labour = np.where(ul < p_ill, 2, np.where(ul < p_ill + p_leg, 1, 0))
        hk = (groups[:, _G["h"]] | groups[:, _G["k"]]) & (lat[:, _L_LABOUR_HK] < WORKING_IN_H_OR_K) & (age >= 5)
        labour = np.where(hk, 2, labour)
        return {"groups": groups, "assisted": assisted | at_risk, "forms": forms, "labour": labour}

    def clear(self) -> None:
        """Forget cached cohorts and statuses (everything is re-derived from the seed when needed again)."""
        self.book.clear()
        self._cache.clear()


def by_new_province(geo: Geography, jobs: Sequence[tuple[Any, str, str]]) -> list[list[tuple[int, Any, str]]]:
    """Jobs (date or period, vintage, province) grouped by the new province they belong to, each with its
    index in ``jobs``: a group's files share cohorts, so the cache can be cleared between groups."""
    groups: dict[str, list[tuple[int, Any, str]]] = {}
    for index, (when, vintage, province) in enumerate(jobs):
        new = province if vintage == POST_REFORM else geo.old_to_new_province.get(province, province)
        groups.setdefault(new, []).append((index, when, province))
    return [groups[k] for k in sorted(groups)]


# --- one snapshot -----------------------------------------------------------------------------------------

@dataclass
class Snapshot:
    """The valid lines of one file as arrays, sorted by commune, birth date and id."""

    province: str
    day: date
    origin: np.ndarray         # province of birth registration (the id's digits 2–3), index into ``origins``
    origins: np.ndarray
    commune: np.ndarray        # index into ``communes``
    communes: np.ndarray       # sorted commune codes
    birth: np.ndarray
    sex: np.ndarray
    serial: np.ndarray
    ethnicity: np.ndarray
    names: Names
    groups: np.ndarray
    assisted: np.ndarray
    forms: np.ndarray
    labour: np.ndarray
    age: np.ndarray

    def __len__(self) -> int:
        return len(self.birth)

    @cached_property
    def birth_yy(self) -> np.ndarray:
        return (self.birth.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970) % 100

    def id_text(self, i: int) -> str:
        return f"0{self.origins[int(self.origin[i])]}{2 + int(self.sex[i])}{int(self.birth_yy[i]):02d}{int(self.serial[i]):06d}"

    def obj(self, i: int) -> dict[str, Any]:
        """Line ``i`` as an object (for the rare lines made invalid)."""
        assisted = bool(self.assisted[i])
        return {
            "ma_dinh_danh": self.id_text(i), "ho_ten": self.names.text(i),
            "ngay_sinh": from_ordinal(int(self.birth[i])).isoformat(), "gioi_tinh": SEXES[int(self.sex[i])],
            "ma_dan_toc": ETHNICITY_CODES[int(self.ethnicity[i])], "ma_tinh": self.province,
            "ma_xa": str(self.communes[int(self.commune[i])]),
            "hcdb": [GROUPS[j] for j in np.nonzero(self.groups[i])[0].tolist()],
            "tro_giup": {"duoc_tro_giup": assisted,
                         "hinh_thuc": [ASSISTANCE_FORMS[j] for j in np.nonzero(self.forms[i])[0].tolist()]
                         if assisted else []},
            "khuyet_tat": bool(self.groups[i, _G["d"]]), "lao_dong": LABOUR_VALUES[int(self.labour[i])],
            "ngay_cap_nhat": self.day.isoformat(),
        }


def snapshot(children: RegisterChildren, day: date, province: str) -> Snapshot:
    vintage = vintage_of(day)
    first = add_years(day, -MAX_AGE) + timedelta(days=1)
    day_ord = ordinal(day)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("origin", "commune", "birth", "sex", "serial", "ethnicity", "groups",
                                                         "assisted", "forms", "labour", "age", "name0", "name1",
                                                         "name2", "name3")}
    code_text: dict[int, str] = {}
    for area in children.cohorts_between(vintage, province, first, day):
        c = area.cohort
        if c.size == 0:
            continue
        age = c.age_at(day)
        idx = np.nonzero((c.traits["registered"] <= day_ord) & (age >= 0) & (age < MAX_AGE)
                         & area.inside[c.commune])[0]
        if len(idx) == 0:
            continue
        st = children.status(c, day)
        names = children.names(c)
        parts["origin"].append(np.full(len(idx), int(c.province), dtype=np.int64))
        # commune codes as numbers while sorting (all codes of a vintage have the same width)
        code_text.update(zip(area.numbers.tolist(), area.codes.tolist()))
        parts["commune"].append(area.numbers[c.commune[idx]])
        for k, v in (("birth", c.birth), ("sex", c.sex), ("serial", c.traits["serial"]),
                     ("ethnicity", children.ethnicity(c)), ("groups", st["groups"]), ("assisted", st["assisted"]),
                     ("forms", st["forms"]), ("labour", st["labour"]), ("age", age)):
            parts[k].append(v[idx])
        for k in range(4):
            parts[f"name{k}"].append(names.parts[k][idx])
    if not parts["birth"]:
        empty = np.zeros(0, dtype=np.int64)
        no_codes = np.zeros(0, dtype=object)
        return Snapshot(province, day, empty, no_codes, empty, no_codes, empty, empty, empty, empty,
                        Names((empty, empty, empty, empty)), np.zeros((0, len(GROUPS)), bool), np.zeros(0, bool),
                        np.zeros((0, len(ASSISTANCE_FORMS)), bool), empty, empty)
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    numbers, commune = np.unique(cat["commune"], return_inverse=True)
    communes = np.array([code_text[x] for x in numbers.tolist()], dtype=object)
    origin_numbers, origin = np.unique(cat["origin"], return_inverse=True)
    origins = np.array([f"{x:02d}" for x in origin_numbers.tolist()], dtype=object)
    id_order = origin * 10 ** 9 + (2 + cat["sex"]) * 10 ** 8 + (cat["birth"].astype("datetime64[D]").astype("datetime64[Y]")
                                              .astype(np.int64) + 1970) % 100 * 10 ** 6 + cat["serial"]
    order = np.lexsort((id_order, cat["birth"], commune))
    return Snapshot(province, day, origin[order], origins, commune[order], communes, *(cat[k][order] for k in (
        "birth", "sex", "serial", "ethnicity")), Names(tuple(cat[f"name{k}"][order] for k in range(4))),
        *(cat[k][order] for k in ("groups", "assisted", "forms", "labour", "age")))


# --- lines ------------------------------------------------------------------------------------------------

_SEX_YEAR = Vocabulary([f"{2 + x // 100}{x % 100:02d}" for x in range(200)])   # id digits 4–6


def _bits(matrix: np.ndarray) -> np.ndarray:
    return (matrix.astype(np.int64) << np.arange(matrix.shape[1], dtype=np.int64)).sum(axis=1)


def _rendered(values: np.ndarray, render: Any) -> Piece:
    """A piece from the JSON texts of the distinct values (a handful per file), rendered once each."""
    distinct, inverse = np.unique(values, return_inverse=True)
    return Vocabulary([render(int(v)) for v in distinct.tolist()]).piece(inverse)


def _pieces(s: Snapshot, writer: JsonWriter, nfd: bool) -> list[Piece]:
    """The pieces of every valid line, in the writer's key order, with its separators and escapes."""
    enc = writer.encoder.encode
    item, kv = writer.separators
    ascii_escapes = writer.variants["ascii_escapes"]
    name_vocab = Vocabulary([enc(unicodedata.normalize("NFD", t) if nfd else t)[1:-1] for t in NAME_PARTS.texts]) \
        if ascii_escapes else None
    tro_order = writer.nested["tro_giup"]

    def assistance(code: int) -> str:
        assisted, forms = bool(code & 1), code >> 1
        obj = {"duoc_tro_giup": assisted, "hinh_thuc": [f for j, f in enumerate(ASSISTANCE_FORMS) if forms >> j & 1]}
        return enc({k: obj[k] for k in tro_order})

    values: dict[str, list[Piece]] = {
        "ma_dinh_danh": [const('"0'), Vocabulary([str(x) for x in s.origins.tolist()] or ["00"]).piece(s.origin),
                         _SEX_YEAR.piece(s.sex * 100 + s.birth_yy), *digits(s.serial, 6), const('"')],
        "ho_ten": [const('"'), *([name_vocab.piece(p) for p in s.names.parts] if name_vocab is not None
                                 else s.names.pieces(nfd)), const('"')],
        "ngay_sinh": [const('"'), date_text(s.birth, "iso"), const('"')],
        "gioi_tinh": [Vocabulary([enc(x) for x in SEXES]).piece(s.sex)],
        "ma_dan_toc": [Vocabulary([enc(x) for x in ETHNICITY_CODES]).piece(s.ethnicity)],
        "ma_tinh": [const(enc(s.province))],
        "ma_xa": [Vocabulary([enc(str(x)) for x in s.communes.tolist()] or ['""']).piece(s.commune)],
        "hcdb": [_rendered(_bits(s.groups), lambda b: enc([g for j, g in enumerate(GROUPS) if b >> j & 1]))],
        "tro_giup": [_rendered(s.assisted.astype(np.int64) | _bits(s.forms) << 1, assistance)],
        "khuyet_tat": [Vocabulary(["false", "true"]).piece(s.groups[:, _G["d"]].astype(np.int64))],
        "lao_dong": [Vocabulary([enc(x) for x in LABOUR_VALUES]).piece(s.labour)],
        "ngay_cap_nhat": [const(enc(s.day.isoformat()))],
    }
    out: list[Piece] = []
    for k, key in enumerate(writer.order):
        out.append(const(("{" if k == 0 else item) + enc(key) + kv))
        out.extend(values[key])
    out.append(const("}" + writer.line_end))
    return out


def _id_defects(s: Snapshot, seed: int, eligible: np.ndarray) -> np.ndarray:
    """Per line: -1, or the index in ID_DEFECTS of the line's ID defect (eligible lines only). A child's
    defect persists between snapshots (two uniforms per child from its ID number): an infant without an ID
    gets one later, a valid ID never goes bad."""
    origin = np.array([int(x) for x in s.origins.tolist()] or [0], dtype=np.uint64)[s.origin]
    number = (origin * np.uint64(10 ** 9) + (2 + s.sex.astype(np.uint64)) * np.uint64(10 ** 8)
              + s.birth_yy.astype(np.uint64) * np.uint64(10 ** 6) + s.serial.astype(np.uint64))
    u_missing, u_other = (_uniform(number, seed, salt) for salt in (1, 2))
    missing = u_missing < np.where(s.age < 1, INFANT_MISSING_SHARE, ID_DEFECT_SHARES[ID_MISSING])
    malformed = u_other < ID_DEFECT_SHARES[ID_MALFORMED]
    inconsistent = u_other < ID_DEFECT_SHARES[ID_MALFORMED] + ID_DEFECT_SHARES[ID_INCONSISTENT]
    defect = np.select([missing, malformed, inconsistent], [0, 1, 2], -1)
    return np.where(eligible, defect, -1)


def _uniform(values: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """A uniform in [0, 1) per value, the same for the same value, seed and salt (splitmix64)."""
    with np.errstate(over="ignore"):
        x = values.astype(np.uint64) + np.uint64((seed * 1_000_003 + salt) % 2 ** 63) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(2 ** 53)


def _defective_id(rng: random.Random, defect: str, pid: str) -> str:
    if defect == ID_MISSING:
        return ""
    if defect == ID_INCONSISTENT:  # the 1900s' digit for the same sex: 2 → 0, 3 → 1 (unique like the ID itself)
        return pid[:3] + str(int(pid[3]) - 2) + pid[4:]
    how = rng.randrange(4)
    if how == 0:
        return rng.choice(PLACEHOLDER_IDS)
    if how == 1:
        return pid[:-1]                          # 11 digits, leading 0
    if how == 2:
        return pid + str(rng.randint(0, 9))      # 13 digits
    i = rng.randrange(4, 12)
    return pid[:i] + rng.choice("ABOXlo") + pid[i + 1:]


class _RegisterCorruptor(InvalidRows):
    def corrupt(self, kind: str, obj: dict[str, Any], day: date, earlier_id: str) -> None:
        rng = self.rng
        if kind == OVER_16:
            lo, hi = add_years(day, -MAX_AGE - 2) + timedelta(days=1), add_years(day, -MAX_AGE)
            obj["ngay_sinh"] = (lo + timedelta(days=rng.randint(0, (hi - lo).days))).isoformat()
        elif kind == DUPLICATE_ID:
            obj["ma_dinh_danh"] = earlier_id
        elif kind == BAD_GROUP:
            letters = list(obj["hcdb"])
            bad = rng.choice(("f", "j", "p", "q", "z"))
            replaceable = [i for i, g in enumerate(letters) if g != "d"]
            if replaceable and rng.random() < 0.5:
                letters[rng.choice(replaceable)] = bad
            else:
                letters.append(bad)
            obj["hcdb"] = letters
        elif kind == BAD_SEX:
            obj["gioi_tinh"] = rng.choice(("x", "khac", ""))
        elif kind == BAD_DATE:
            obj["ngay_sinh"] = impossible_date(rng, int(obj["ngay_sinh"][:4]))
        elif kind == UNKNOWN_COMMUNE:
            obj["ma_xa"] = self.unknown_commune()
        elif kind == COMMUNE_OUTSIDE_PROVINCE:
            obj["ma_xa"] = self.commune_outside(obj["ma_tinh"])
        elif kind == BAD_LABOUR:
            obj["lao_dong"] = rng.choice(("co", "yes", "1", "trai_phep"))


def _invalid_lines(s: Snapshot, writer: JsonWriter, injector: _RegisterCorruptor, nfd: bool, key: str, seed: int
                   ) -> tuple[dict[int, bytes], dict[str, int], np.ndarray, np.ndarray]:
    """The lines replaced by invalid ones (one defect each, kinds dealt in turn) or by valid ones with an ID
    defect, the invalid kinds, which lines stay valid, and each line's ID defect (-1: none). A duplicate id
    repeats an earlier valid line's well-formed id, so it is not dealt before one."""
    n = len(s)
    valid = np.ones(n, dtype=bool)
    lines: dict[int, bytes] = {}
    kinds: Counter[str] = Counter()
    end = writer.line_end
    if injector.rate > 0 and n:
        valid[np.nonzero(numpy_rng(key, "invalid-lines").random(n) < injector.rate)[0]] = False
    defects = _id_defects(s, seed, valid)
    _write_id_defects(s, writer, nfd, key, defects, lines)
    duplicable = valid & (defects < 0)
    for i in np.nonzero(~valid)[0].tolist():
        kind = injector.next_kind(skip=() if i > 0 and duplicable[:i].any() else (DUPLICATE_ID,))
        obj = s.obj(i)
        if nfd:
            obj["ho_ten"] = unicodedata.normalize("NFD", obj["ho_ten"])
        if kind != MALFORMED_JSON:
            earlier = ""
            if kind == DUPLICATE_ID:
                before = np.nonzero(duplicable[:i])[0]
                earlier = s.id_text(int(before[injector.rng.randrange(len(before))]))
            injector.corrupt(kind, obj, s.day, earlier)
        text = writer.text(obj)
        lines[i] = ((writer.malform(text) if kind == MALFORMED_JSON else text) + end).encode()
        kinds[kind] += 1
    return lines, dict(sorted(kinds.items())), valid, defects


def _write_id_defects(s: Snapshot, writer: JsonWriter, nfd: bool, key: str, defects: np.ndarray,
                      lines: dict[int, bytes]) -> None:
    """Valid lines whose ID is blank, malformed or inconsistent. Two children without a usable ID and with
    the same name, birth date, sex and commune would be one child to the loader: such a line keeps its ID."""
    rng = random.Random(f"{key}|id-defects")
    without_id: set[tuple] = set()
    for i in np.nonzero(defects >= 0)[0].tolist():
        obj = s.obj(i)
        defect = ID_DEFECTS[int(defects[i])]
        if defect != ID_INCONSISTENT:
            record = (obj["ho_ten"], obj["ngay_sinh"], obj["gioi_tinh"], obj["ma_xa"])
            if record in without_id:
                defects[i] = -1
                continue
            without_id.add(record)
        obj["ma_dinh_danh"] = _defective_id(rng, defect, obj["ma_dinh_danh"])
        if nfd:
            obj["ho_ten"] = unicodedata.normalize("NFD", obj["ho_ten"])
        lines[i] = (writer.text(obj) + writer.line_end).encode()


def _counts(s: Snapshot, valid: np.ndarray, defects: np.ndarray) -> dict[str, int]:
    groups = s.groups[valid]
    csdb = groups.any(axis=1)
    older = s.age[valid] >= 5
    counts = {"children": int(valid.sum()), "children_special_circumstances": int(csdb.sum())}
    counts.update({f"children_group_{g}": int(groups[:, j].sum()) for j, g in enumerate(GROUPS)})
    counts["children_assisted"] = int((csdb & s.assisted[valid]).sum())
    counts["children_5_15"] = int(older.sum())
    counts["child_labour"] = int((older & (s.labour[valid] == 2)).sum())
    counts["snapshot_date"] = int(s.day.strftime("%Y%m%d"))
    with_id = valid & (defects < 0)
    counts["children_valid_id"] = int(with_id.sum())
    counts["children_under5"] = int((valid & (s.age < 5)).sum())
    counts["children_under5_valid_id"] = int((with_id & (s.age < 5)).sum())
    counts.update({f"children_id_{d}": int((defects == k).sum()) for k, d in enumerate(ID_DEFECTS)})
    return {k: counts[k] for k in REGISTER_COUNT_KEYS}


def register_file_name(province: str, day: date) -> str:
    return f"{REGISTER_FEED}_{province}_{day.isoformat()}.jsonl"


def _write_register_file(children: RegisterChildren, landing: Path, day: date, province: str, index: int,
                         invalid_rate: float) -> FileEntry:
    key = f"{children.seed}|{REGISTER_FEED}|{day.isoformat()}|{province}"
    rng_format = random.Random(f"{key}|format")
    variants = choose_variants(rng_format, index, names=True)
    writer = JsonWriter(rng_format, variants, REGISTER_KEYS, {"tro_giup": ASSISTANCE_KEYS})
    vintage = vintage_of(day)
    injector = _RegisterCorruptor(REGISTER_INVALID_KINDS, invalid_rate, random.Random(f"{key}|invalid"),
                                  children.geo, vintage)
    nfd = variants["nfd_names"]
    s = snapshot(children, day, province)
    bad, invalid, valid, defects = _invalid_lines(s, writer, injector, nfd, key, children.seed)
    rel = f"{REGISTER_FEED}/{register_file_name(province, day)}"
    path = landing / rel
    sha256 = write(path, "\ufeff".encode() if variants["bom"] else b"", lines(_pieces(s, writer, nfd), len(s), bad))
    return FileEntry(
        feed=REGISTER_FEED, path=rel, province=province, vintage=vintage, period=day.isoformat(), rows=len(s),
        valid_rows=int(valid.sum()), invalid_rows=invalid, variants=describe(variants, writer),
        counts=_counts(s, valid, defects), sha256=sha256,
    )


def _parse_dates(snapshot_dates: Sequence[str]) -> list[date]:
    if isinstance(snapshot_dates, str):
        snapshot_dates = [snapshot_dates]
    days = [d if isinstance(d, date) else date.fromisoformat(str(d).strip()) for d in snapshot_dates]
    if len(set(days)) != len(days):
        raise ValueError("duplicate snapshot dates")
    return sorted(days)


def generate_child_register_feed(
    landing_dir: Path | str,
    *,
    scale: float = 0.001,
    seed: int = 13,
    snapshot_dates: Sequence[str] = DEFAULT_SNAPSHOT_DATES,
    provinces: Sequence[str] | None = None,
    invalid_rate: float = 0.0,
    reference_dir: Path | str | None = None,
) -> Manifest:
    """Write child-register snapshots (``ldxh_tre_em``) under ``landing_dir`` and record them in the landing
    manifest (generator ``tre_em``; other generators' entries are kept).

    ``scale`` multiplies the ≈24.6 M children under 16; ``provinces`` filters by NEW (post-2025-07) province
    code (snapshots before 1 July 2025 get the old provinces that map into them); ``invalid_rate`` is the
    share of lines replaced by invalid lines (one defect each, kinds in ``REGISTER_INVALID_KINDS``).
    Deterministic for a seed; a file's lines do not depend on which other provinces or dates are generated."""
    check_rates(scale, invalid_rate)
    geo = load_geography(reference_dir)
    landing = Path(landing_dir)
    days = _parse_dates(snapshot_dates)
    selected = new_provinces(geo, provinces)
    children = RegisterChildren(geo, build_population(geo, seed), scale, seed)
    jobs = [(day, vintage_of(day), province) for day in days for province in provinces_in(geo, vintage_of(day), selected)]
    written: dict[int, FileEntry] = {}
    for group in by_new_province(geo, jobs):
        for index, day, province in group:
            written[index] = _write_register_file(children, landing, day, province, index, invalid_rate)
        children.clear()
    manifest = Manifest(
        landing_dir=str(landing), generator=REGISTER_GENERATOR,
        parameters={"feeds": [REGISTER_FEED], "scale": scale, "seed": seed,
                    "snapshot_dates": [d.isoformat() for d in days],
                    "provinces": None if provinces is None else selected, "invalid_rate": invalid_rate,
                    "reference_dir": None if reference_dir is None else str(reference_dir)},
        files=[written[i] for i in sorted(written)],
    )
    manifest.write(landing)
    return manifest
