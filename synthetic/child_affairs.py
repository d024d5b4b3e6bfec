"""The child-affairs feeds: the commune child register (``ldxh_tre_em``) and abuse cases (``ldxh_xam_hai``).

Both are JSON lines (one object per line, UTF-8) in the formats of sources.md.

**Child register** (``generate_child_register_feed``): a full snapshot of a province at each snapshot
date, one object per child under 16.

* Children are persistent. They are drawn per birth half-year ("cohort") and area like the growth feed:
  cohorts born before 1 July 2025 per OLD province over its old communes, later cohorts per NEW province
  (commune weights of ``synthetic.population``; cohort sizes of ``dan_so.NATIONAL_BY_AGE_M``, so ≈24.6 M
  children under 16 nationally × scale). A child keeps its ``ma_dinh_danh`` (12 digits: ``0`` + province
  of birth registration + century/sex digit ``2`` boy / ``3`` girl + year of birth + 6-digit serial),
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

Delivery variants (per file, recorded in the manifest's ``variants``; one is forced per file in turn):
a shuffled key order (also inside nested objects), compact separators, ``\\uXXXX`` escapes
(``ensure_ascii``), names in Unicode NFD, a UTF-8 BOM, CRLF line ends. All lines stay valid JSON.

Invalid lines (``invalid_rate`` > 0; one defect each, kinds dealt in turn from a random start):
register ``REGISTER_INVALID_KINDS``, cases ``CASES_INVALID_KINDS`` (see the constants below).

Deterministic for a seed; the children of a cohort and their status at a date depend only on (seed,
scale, area, cohort, date), cases only on (seed, scale, province, half-year), so a file's lines do not
depend on which other provinces, dates or periods are generated (its delivery variants may).
"""

from __future__ import annotations

import hashlib
import json
import random
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from synthetic.dan_so import MALE_SHARE_UNDER_10, NATIONAL_BY_AGE_M
from synthetic.feeds import DEFAULT_PERIODS, _normalise_provinces, _sha256, files_to_write
from synthetic.geography import POST_REFORM, PRE_REFORM, Geography, load_geography
from synthetic.health import ANNUAL_LIVE_BIRTHS, poisson
from synthetic.manifest import FileEntry, Manifest
from synthetic.names import person_name
from synthetic.periods import REFORM_DATE, Period, vintage_of
from synthetic.population import KINH, PopulationModel, build_population, ethnicity_table, is_mountain

REGISTER_FEED = "ldxh_tre_em"
CASES_FEED = "ldxh_xam_hai"
REGISTER_GENERATOR = "tre_em"
CASES_GENERATOR = "xam_hai"
DEFAULT_SNAPSHOT_DATES = ("2024-06-30", "2024-12-31", "2025-06-30", "2025-12-31")

# --- register vocabulary ---------------------------------------------------------------------------------
GROUPS = ("a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m", "n", "o")
ASSISTANCE_FORMS = ("tro_cap_xa_hoi", "y_te", "giao_duc", "cham_soc_thay_the", "tu_van")
LABOUR_VALUES = ("khong", "phu_hop", "trai_quy_dinh")
SEXES = ("nam", "nu")
REGISTER_KEYS = ("ma_dinh_danh", "ho_ten", "ngay_sinh", "gioi_tinh", "ma_dan_toc", "ma_tinh", "ma_xa", "hcdb",
                 "tro_giup", "khuyet_tat", "lao_dong", "ngay_cap_nhat")
ASSISTANCE_KEYS = ("duoc_tro_giup", "hinh_thuc")
REGISTER_COUNT_KEYS = (("children", "children_special_circumstances")
                       + tuple(f"children_group_{g}" for g in GROUPS)
                       + ("children_assisted", "children_5_15", "child_labour", "snapshot_date"))

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

# --- invalid-line kinds ----------------------------------------------------------------------------------
MALFORMED_JSON = "malformed_json"                    # truncated line, trailing comma, single quotes
OVER_16 = "over_16"                                  # aged 16 or 17 at the snapshot
DUPLICATE_ID = "duplicate_id"                        # an earlier valid line's ma_dinh_danh (this line invalid)
BAD_GROUP = "bad_group"                              # a letter outside the 14 groups (f, j, p, q, z)
BAD_SEX = "bad_sex"                                  # x, khac, ""
BAD_DATE = "bad_date"                                # 2015-02-30 or 30/02/2015 (register: ngay_sinh; cases:
                                                     # ngay_phat_hien or a victim's ngay_sinh)
UNKNOWN_COMMUNE = "unknown_commune"                  # a code unknown in both vintages
COMMUNE_OUTSIDE_PROVINCE = "commune_outside_province"  # another province's commune of the same vintage
BAD_PERSONAL_ID = "bad_personal_id"                  # 11 digits with a leading 0, 13 digits, or letters
BAD_LABOUR = "bad_labour"                            # co, yes, 1
NO_VICTIM = "no_victim"                              # nan_nhan: []
VICTIM_BORN_AFTER_CASE = "victim_born_after_case"
BAD_FORM = "bad_form"                                # danh_dap, quay_roi
BAD_SETTING = "bad_setting"                          # nha_rieng, internet, truong
BAD_HANDLING = "bad_handling"                        # phat_tien, chua_ro, hoa_giai
NEGATIVE_FINE = "negative_fine"                      # hanh_chinh with a negative so_tien_phat
REGISTER_INVALID_KINDS = (MALFORMED_JSON, OVER_16, DUPLICATE_ID, BAD_GROUP, BAD_SEX, BAD_DATE, UNKNOWN_COMMUNE,
                          COMMUNE_OUTSIDE_PROVINCE, BAD_PERSONAL_ID, BAD_LABOUR)
CASES_INVALID_KINDS = (MALFORMED_JSON, NO_VICTIM, VICTIM_BORN_AFTER_CASE, BAD_FORM, BAD_SETTING, BAD_HANDLING,
                       NEGATIVE_FINE, UNKNOWN_COMMUNE, COMMUNE_OUTSIDE_PROVINCE, BAD_DATE)

# --- register magnitudes ---------------------------------------------------------------------------------
MALE_SHARE = MALE_SHARE_UNDER_10
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

# --- delivery variants -----------------------------------------------------------------------------------
_VARIANT_SHARES = {"shuffled_keys": 0.3, "compact": 0.5, "ascii_escapes": 0.2, "nfd_names": 0.1, "bom": 0.1,
                   "crlf": 0.1}

_EPOCH = date(1970, 1, 1)


def _ordinal(day: date) -> int:
    return (day - _EPOCH).days


def _from_ordinal(value: int) -> date:
    return _EPOCH + timedelta(days=int(value))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return np.random.default_rng(np.random.SeedSequence(int.from_bytes(digest[:16], "little")))


def _iso(ordinals: np.ndarray) -> list[str]:
    return np.datetime_as_string(np.asarray(ordinals, dtype=np.int64).astype("datetime64[D]")).tolist()


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
# latent columns
_L_GROUPS = 0
_L_COMPANION = len(GROUPS)
_L_ASSIST = _L_COMPANION + len(_COMPANIONS)
_L_RISK = _L_ASSIST + 1
_L_FORMS = _L_RISK + 1
_L_LABOUR = _L_FORMS + len(ASSISTANCE_FORMS)
_L_LABOUR_HK = _L_LABOUR + 1
_N_LATENT = _L_LABOUR_HK + 1


def _annual_births(year: int, half: int) -> float:
    """Persons a year of the cohort born in (year, half): the age-a persons of 1 July 2024
    (``NATIONAL_BY_AGE_M``) for earlier cohorts, the 2024 births afterwards."""
    age = 2024 - year - (1 if half == 2 else 0)
    if age < 0:
        return float(ANNUAL_LIVE_BIRTHS)
    return NATIONAL_BY_AGE_M[min(age, len(NATIONAL_BY_AGE_M) - 1)] * 1_000_000


def _half_of(day: date) -> tuple[int, int]:
    return day.year, 1 if day.month <= 6 else 2


def _halves(first: date, last: date) -> list[tuple[int, int]]:
    """Birth half-years overlapping [first, last]."""
    out, (year, half) = [], _half_of(first)
    end = _half_of(last)
    while (year, half) <= end:
        out.append((year, half))
        year, half = (year, 2) if half == 1 else (year + 1, 1)
    return out


# --- persistent children ---------------------------------------------------------------------------------

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
    registered: np.ndarray     # day ordinal of entry in the register
    sex: np.ndarray            # 0 boy, 1 girl
    serial: np.ndarray         # 6-digit serial of ma_dinh_danh
    birth_year: np.ndarray
    birth_md: np.ndarray       # month * 100 + day
    _ids: list[str] | None = field(default=None, repr=False)
    _ethnicity: list[str] | None = field(default=None, repr=False)
    _names: list[str] | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.birth)

    def age_at(self, day: date) -> np.ndarray:
        return day.year - self.birth_year - ((day.month * 100 + day.day) < self.birth_md)

    def id_of(self, i: int) -> str:
        return (f"0{self.province}{2 + int(self.sex[i])}{int(self.birth_year[i]) % 100:02d}"
                f"{int(self.serial[i]):06d}")

    @property
    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids = [f"0{self.province}{2 + s}{y % 100:02d}{n:06d}" for s, y, n in
                         zip(self.sex.tolist(), self.birth_year.tolist(), self.serial.tolist())]
        return self._ids


@dataclass
class _Children:
    """The register's children (cached cohorts) and their status at snapshot dates."""

    geo: Geography
    pop: PopulationModel
    scale: float
    seed: int
    _cohorts: dict[tuple[str, str, int, int], Cohort] = field(default_factory=dict)
    _latent: dict[str, np.ndarray] = field(default_factory=dict)
    _status: dict[tuple[str, date], dict[str, np.ndarray]] = field(default_factory=dict)
    _region: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    _profile_cache: dict[tuple[str, str], list] = field(default_factory=dict)

    def __post_init__(self) -> None:
        links: dict[str, list] = {}
        for link in self.geo.conversion:
            links.setdefault(link.old_commune, []).append(link)
        self.new_commune: dict[str, str] = {}
        for old, ls in links.items():
            chosen = next((link for link in ls if link.is_default), ls[0])
            if chosen.new_commune in self.geo.province_of_commune[POST_REFORM]:
                self.new_commune[old] = chosen.new_commune
        # old provinces with children whose (default) new commune lies in a given new province
        self._old_sources: dict[str, set[str]] = {}
        for old, new in self.new_commune.items():
            old_p = self.geo.province_of_commune[PRE_REFORM].get(old)
            if old_p:
                self._old_sources.setdefault(self.geo.province_of_commune[POST_REFORM][new], set()).add(old_p)

    # --- cohorts ---

    def cohort(self, vintage: str, province: str, year: int, half: int) -> Cohort:
        key = (vintage, province, year, half)
        if key in self._cohorts:
            return self._cohorts[key]
        label = f"{year}-H{half}"
        rng = _rng(self.seed, REGISTER_FEED, "cohort", self.scale, vintage, province, label)
        communes = tuple(self.geo.communes(vintage, province))
        weights = np.array([self.pop.weight[vintage][c] for c in communes]) / self.pop.national_weight
        start = date(year, 1 if half == 1 else 7, 1)
        end = date(year, 6, 30) if half == 1 else date(year, 12, 31)
        days = (end - start).days + 1
        year_days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
        counts = rng.poisson(_annual_births(year, half) * days / year_days * self.scale * weights)
        n = int(counts.sum())
        if n > REGISTER_SERIALS:
            raise ValueError(f"scale too large: {n} children born in {province} {label} exceed the ID serials")
        commune = np.repeat(np.arange(len(communes)), counts)
        birth = _ordinal(start) + rng.integers(0, days, n)
        bd = birth.astype("datetime64[D]")
        month = bd.astype("datetime64[M]")
        feb29 = ((month - bd.astype("datetime64[Y]")).astype(int) == 1) & ((bd - month).astype(int) == 28)
        birth = birth + feb29  # 29 February → 1 March: birthdays stay unambiguous
        order = np.lexsort((birth, commune))
        commune, birth = commune[order], birth[order]
        bd = birth.astype("datetime64[D]")
        month = bd.astype("datetime64[M]")
        birth_year = bd.astype("datetime64[Y]").astype(np.int64) + 1970
        birth_md = ((month.astype(np.int64) % 12) + 1) * 100 + (bd - month).astype(np.int64) + 1
        sex = (rng.random(n) >= MALE_SHARE).astype(np.int64)
        delay = np.minimum(np.floor(rng.exponential(REGISTRATION_DELAY_MEAN_DAYS, n)),
                           REGISTRATION_DELAY_MAX_DAYS).astype(np.int64)
        max_gap = max(1, REGISTER_SERIALS // max(n, 1))
        serial = np.cumsum(rng.integers(1, max_gap + 1, n)) - 1
        serial = serial[rng.permutation(n)] + (half - 1) * HALF_SERIALS
        cohort = Cohort(key=f"{vintage}|{province}|{label}", vintage=vintage, province=province, year=year,
                        half=half, communes=communes, commune=commune, birth=birth, registered=birth + delay,
                        sex=sex, serial=serial, birth_year=birth_year, birth_md=birth_md)
        self._cohorts[key] = cohort
        return cohort

    def cohorts_between(self, vintage: str, province: str, first: date, last: date
                        ) -> list[tuple[Cohort, np.ndarray | None, np.ndarray]]:
        """Cohorts with births in [first, last] whose children live in ``province`` of ``vintage`` at a date
        of that vintage, each with its children's commune codes in that vintage (per commune index; None:
        the cohort's own communes) and whether each commune index lies in ``province``."""
        out = []
        reform = _half_of(REFORM_DATE)
        for year, half in _halves(first, last):
            if vintage == PRE_REFORM:
                if (year, half) >= reform:
                    continue
                c = self.cohort(PRE_REFORM, province, year, half)
                out.append((c, None, np.ones(len(c.communes), dtype=bool)))
            elif (year, half) >= reform:
                c = self.cohort(POST_REFORM, province, year, half)
                out.append((c, None, np.ones(len(c.communes), dtype=bool)))
            else:
                for old in sorted(self._old_sources.get(province, ())):
                    c = self.cohort(PRE_REFORM, old, year, half)
                    codes = np.array([self.new_commune.get(x, "") for x in c.communes], dtype=object)
                    inside = np.array([self.geo.province_of_commune[POST_REFORM].get(x) == province
                                       for x in codes], dtype=bool)
                    out.append((c, codes, inside))
        return out

    # --- per-child details (lazy) ---

    def regions(self, vintage: str, province: str) -> np.ndarray:
        """Region (OTHER / MOUNTAIN / CITY) of each commune of a province, by its population profile."""
        key = (vintage, province)
        if key not in self._region:
            out = []
            for commune, profile in zip(self.geo.communes(vintage, province), self._profiles(vintage, province)):
                if is_mountain(profile):
                    out.append(MOUNTAIN)
                elif self.pop.profile_key[vintage][commune] in CITY_PROVINCES:
                    out.append(CITY)
                else:
                    out.append(OTHER)
            self._region[key] = np.array(out, dtype=np.int64)
        return self._region[key]

    def _profiles(self, vintage: str, province: str) -> list:
        key = (vintage, province)
        if key not in self._profile_cache:
            self._profile_cache[key] = [self.pop.profile(vintage, x) for x in self.geo.communes(vintage, province)]
        return self._profile_cache[key]

    def ethnicity(self, c: Cohort) -> list[str]:
        if c._ethnicity is None:
            rng = _rng(self.seed, REGISTER_FEED, "ethnicity", self.scale, c.key)
            u1, u2 = rng.random(c.size), rng.random(c.size)
            profiles = self._profiles(c.vintage, c.province)
            share = np.array([p.minority_share for p in profiles])[c.commune] if c.size else np.zeros(0)
            out = np.full(c.size, KINH, dtype=object)
            minority = u1 < share
            mixes = np.array([p.mix for p in profiles], dtype=object)[c.commune] if c.size else np.zeros(0, object)
            for mix in sorted(set(mixes.tolist())):
                codes, cum = ethnicity_table(mix)
                sel = minority & (mixes == mix)
                idx = np.minimum(np.searchsorted(np.array(cum), u2[sel] * cum[-1], side="right"), len(codes) - 1)
                out[sel] = np.array(codes, dtype=object)[idx]
            c._ethnicity = out.tolist()
        return c._ethnicity

    def names(self, c: Cohort) -> list[str]:
        if c._names is None:
            rng = random.Random(f"{self.seed}|{REGISTER_FEED}|names|{self.scale}|{c.key}")
            c._names = [person_name(rng, "Nữ" if s else "Nam", e)[0]
                        for s, e in zip(c.sex.tolist(), self.ethnicity(c))]
        return c._names

    def latent(self, c: Cohort) -> np.ndarray:
        if c.key not in self._latent:
            self._latent[c.key] = _rng(self.seed, REGISTER_FEED, "latent", self.scale, c.key).random(
                (c.size, _N_LATENT), dtype=np.float32)
        return self._latent[c.key]

    def status(self, c: Cohort, day: date) -> dict[str, np.ndarray]:
        """Groups (n, 14), assisted, forms (n, 5) and labour (0 khong, 1 phu_hop, 2 trai_quy_dinh) of every
        child of the cohort at ``day`` (depends on seed, scale, cohort and day only)."""
        key = (c.key, day)
        if key in self._status:
            return self._status[key]
        n = c.size
        lat = self.latent(c)
        rng = _rng(self.seed, REGISTER_FEED, "status", self.scale, c.key, day.isoformat())
        age = c.age_at(day)
        a = np.clip(age, 0, MAX_AGE - 1)
        region = self.regions(c.vintage, c.province)[c.commune]

        def mixed(u: np.ndarray, persistence: np.ndarray | float) -> np.ndarray:
            fresh = rng.random(u.shape, dtype=np.float32)
            keep = rng.random(u.shape, dtype=np.float32) < persistence
            return np.where(keep, u, fresh)

        p = _PREVALENCE[None, :] * _SHAPES[a] * _REGION_MULT[region]
        groups = mixed(lat[:, _L_GROUPS:_L_GROUPS + len(GROUPS)], _PERSISTENCE[None, :]) < p
        for k, (src, dst, prob) in enumerate(_COMPANIONS):
            allowed = _SHAPES[a, _G[dst]] > 0
            groups[:, _G[dst]] |= groups[:, _G[src]] & (lat[:, _L_COMPANION + k] < prob) & allowed
        csdb = groups.any(axis=1)
        assisted_share = np.array(ASSISTED_SHARE)[region]
        assisted = csdb & (mixed(lat[:, _L_ASSIST], ASSISTED_PERSISTENCE) < assisted_share)
        at_risk = ~csdb & (mixed(lat[:, _L_RISK], AT_RISK_PERSISTENCE) < AT_RISK_ASSISTED_SHARE)
        probs = np.zeros((n, len(ASSISTANCE_FORMS)))
        for j in range(len(GROUPS)):
            probs = np.where(groups[:, j:j + 1], np.maximum(probs, _FORM_MATRIX[j][None, :]), probs)
        probs = np.where(at_risk[:, None], np.array(_AT_RISK_FORMS)[None, :], probs)
        forms = lat[:, _L_FORMS:_L_FORMS + len(ASSISTANCE_FORMS)] < probs
        none = ~forms.any(axis=1)
        if n:
            forms[np.arange(n), probs.argmax(axis=1)] |= none
        forms &= (assisted | at_risk)[:, None]
        ul = mixed(lat[:, _L_LABOUR], LABOUR_PERSISTENCE)
        p_ill = np.array(_ILLEGAL_BY_AGE)[a] * np.array(_LABOUR_REGION[0])[region]
        p_leg = np.array(_LEGAL_BY_AGE)[a] * np.array(_LABOUR_REGION[1])[region]
        labour = np.where(ul < p_ill, 2, np.where(ul < p_ill + p_leg, 1, 0))
        hk = (groups[:, _G["h"]] | groups[:, _G["k"]]) & (lat[:, _L_LABOUR_HK] < WORKING_IN_H_OR_K) & (age >= 5)
        labour = np.where(hk, 2, labour)
        out = {"groups": groups, "assisted": assisted | at_risk, "forms": forms, "labour": labour}
        self._status[key] = out
        return out

    def clear(self) -> None:
        """Forget cached cohorts and statuses (everything is re-derived from the seed when needed again)."""
        self._cohorts.clear()
        self._latent.clear()
        self._status.clear()


def _by_new_province(geo: Geography, jobs: Sequence[tuple[Any, str, str]]) -> list[list[tuple[int, Any, str]]]:
    """Jobs (date or period, vintage, province) grouped by the new province they belong to, each with its
    index in ``jobs``: a group's files share cohorts, so the cache can be cleared between groups."""
    groups: dict[str, list[tuple[int, Any, str]]] = {}
    for index, (when, vintage, province) in enumerate(jobs):
        new = province if vintage == POST_REFORM else geo.old_to_new_province.get(province, province)
        groups.setdefault(new, []).append((index, when, province))
    return [groups[k] for k in sorted(groups)]


# --- delivery --------------------------------------------------------------------------------------------

def _choose_variants(rng: random.Random, index: int, names: bool) -> dict[str, Any]:
    chosen = {k: rng.random() < share for k, share in _VARIANT_SHARES.items()}
    kinds = [k for k in _VARIANT_SHARES if names or k != "nfd_names"]
    chosen[kinds[index % len(kinds)]] = True
    if not names:
        chosen["nfd_names"] = False
    return chosen


class _Writer:
    """Serialises the objects of one file with its delivery variants; ``malformed`` corrupts a line."""

    def __init__(self, rng: random.Random, variants: dict[str, Any], keys: Sequence[str],
                 nested: dict[str, Sequence[str]]):
        self.rng, self.variants = rng, variants
        shuffled = variants["shuffled_keys"]

        def order(ks: Sequence[str]) -> tuple[str, ...]:
            ks = list(ks)
            if shuffled:
                rng.shuffle(ks)
            return tuple(ks)

        self.order = order(keys)
        self.nested = {k: order(v) for k, v in nested.items()}
        separators = (",", ":") if variants["compact"] else (", ", ": ")
        self.encoder = json.JSONEncoder(ensure_ascii=variants["ascii_escapes"], separators=separators)
        self.lines: list[str] = []

    def _reorder(self, obj: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for k in self.order:
            if k not in obj:
                continue
            v = obj[k]
            sub = self.nested.get(k)
            if sub is not None:
                if isinstance(v, dict):
                    v = {s: v[s] for s in sub if s in v}
                elif isinstance(v, list):
                    v = [{s: item[s] for s in sub if s in item} if isinstance(item, dict) else item for item in v]
            out[k] = v
        for k in obj:  # keys not in the canonical list (none in valid lines)
            if k not in out:
                out[k] = obj[k]
        return out

    def text(self, obj: dict[str, Any]) -> str:
        return self.encoder.encode(self._reorder(obj) if self.variants["shuffled_keys"] else obj)

    def write(self, obj: dict[str, Any], malformed: bool = False) -> None:
        line = self.text(obj)
        if malformed:
            how = self.rng.randrange(3)
            if how == 0:
                line = line[:self.rng.randint(max(1, len(line) // 3), len(line) - 2)]
            elif how == 1:
                line = line[:-1] + ",}"
            else:
                line = line.replace('"', "'")
        self.lines.append(line)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        end = "\r\n" if self.variants["crlf"] else "\n"
        text = "".join(line + end for line in self.lines)
        with path.open("w", encoding="utf-8", newline="") as fh:
            if self.variants["bom"]:
                fh.write("\ufeff")
            fh.write(text)


def _impossible_date(rng: random.Random, year: int) -> str:
    month_day = rng.choice(((2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31), (13, 1)))
    if year % 4 != 0 and rng.random() < 0.3:
        month_day = (2, 29)
    m, d = month_day
    return f"{year:04d}-{m:02d}-{d:02d}" if rng.random() < 0.5 else f"{d:02d}/{m:02d}/{year:04d}"


class _Invalid:
    """Deals invalid kinds in turn from a random start; one defect per line."""

    def __init__(self, kinds: Sequence[str], rate: float, rng: random.Random, geo: Geography, vintage: str):
        self.kinds, self.rate, self.rng, self.geo, self.vintage = tuple(kinds), rate, rng, geo, vintage
        self._next = rng.randrange(len(self.kinds))
        self._known = geo.all_communes(PRE_REFORM) | geo.all_communes(POST_REFORM)

    def draw(self, skip: Sequence[str] = ()) -> str | None:
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return None
        for _ in range(len(self.kinds)):
            kind = self.kinds[self._next % len(self.kinds)]
            self._next += 1
            if kind not in skip:
                return kind
        return None

    def unknown_commune(self) -> str:
        while True:
            code = f"{self.rng.randint(33000, 99999):05d}"
            if code not in self._known:
                return code

    def commune_outside(self, province: str) -> str:
        other = self.rng.choice([p for p in self.geo.provinces(self.vintage) if p != province])
        return self.rng.choice(self.geo.communes(self.vintage, other))


# --- register files --------------------------------------------------------------------------------------

def register_file_name(province: str, day: date) -> str:
    return f"{REGISTER_FEED}_{province}_{day.isoformat()}.jsonl"


def _register_rows(children: _Children, day: date, province: str) -> list[tuple[dict[str, Any], int]]:
    """The valid objects of one snapshot file with the children's ages, sorted by commune, birth date and id."""
    vintage = vintage_of(day)
    first = _add_years(day, -MAX_AGE) + timedelta(days=1)
    day_ord = _ordinal(day)
    iso_day = day.isoformat()
    records: list[tuple[str, int, str, dict[str, Any], int]] = []
    for c, codes, inside in children.cohorts_between(vintage, province, first, day):
        if c.size == 0:
            continue
        age = c.age_at(day)
        member = (c.registered <= day_ord) & (age >= 0) & (age < MAX_AGE) & inside[c.commune]
        idx = np.nonzero(member)[0]
        if len(idx) == 0:
            continue
        st = children.status(c, day)
        ids, names, eth = c.ids, children.names(c), children.ethnicity(c)
        communes = (np.array(c.communes, dtype=object) if codes is None else codes)[c.commune[idx]].tolist()
        births = _iso(c.birth[idx])
        groups = st["groups"][idx]
        csdb = groups.any(axis=1).tolist()
        assisted = st["assisted"][idx].tolist()
        forms = st["forms"][idx]
        labour = st["labour"][idx].tolist()
        disabled = groups[:, _G["d"]].tolist()
        sex = c.sex[idx].tolist()
        birth_ord = c.birth[idx].tolist()
        ages = age[idx].tolist()
        for k, i in enumerate(idx.tolist()):
            letters = [GROUPS[j] for j in np.nonzero(groups[k])[0].tolist()] if csdb[k] else []
            help_forms = [ASSISTANCE_FORMS[j] for j in np.nonzero(forms[k])[0].tolist()] if assisted[k] else []
            obj = {
                "ma_dinh_danh": ids[i], "ho_ten": names[i], "ngay_sinh": births[k], "gioi_tinh": SEXES[sex[k]],
                "ma_dan_toc": eth[i], "ma_tinh": province, "ma_xa": communes[k], "hcdb": letters,
                "tro_giup": {"duoc_tro_giup": assisted[k], "hinh_thuc": help_forms},
                "khuyet_tat": disabled[k], "lao_dong": LABOUR_VALUES[labour[k]], "ngay_cap_nhat": iso_day,
            }
            records.append((communes[k], birth_ord[k], ids[i], obj, ages[k]))
    records.sort(key=lambda r: r[:3])
    return [(r[3], r[4]) for r in records]


class _RegisterCorruptor(_Invalid):
    def corrupt(self, kind: str, obj: dict[str, Any], day: date, earlier_ids: list[str]) -> None:
        rng = self.rng
        if kind == OVER_16:
            lo, hi = _add_years(day, -MAX_AGE - 2) + timedelta(days=1), _add_years(day, -MAX_AGE)
            obj["ngay_sinh"] = (lo + timedelta(days=rng.randint(0, (hi - lo).days))).isoformat()
        elif kind == DUPLICATE_ID:
            obj["ma_dinh_danh"] = rng.choice(earlier_ids)
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
            obj["ngay_sinh"] = _impossible_date(rng, int(obj["ngay_sinh"][:4]))
        elif kind == UNKNOWN_COMMUNE:
            obj["ma_xa"] = self.unknown_commune()
        elif kind == COMMUNE_OUTSIDE_PROVINCE:
            obj["ma_xa"] = self.commune_outside(obj["ma_tinh"])
        elif kind == BAD_PERSONAL_ID:
            pid = obj["ma_dinh_danh"]
            how = rng.randrange(3)
            if how == 0:
                obj["ma_dinh_danh"] = pid[:-1]                      # 11 digits, leading 0
            elif how == 1:
                obj["ma_dinh_danh"] = pid + str(rng.randint(0, 9))  # 13 digits
            else:
                i = rng.randrange(4, 12)
                obj["ma_dinh_danh"] = pid[:i] + rng.choice("ABOXlo") + pid[i + 1:]
        elif kind == BAD_LABOUR:
            obj["lao_dong"] = rng.choice(("co", "yes", "1", "trai_phep"))


def _write_register_file(children: _Children, landing: Path, day: date, province: str, index: int,
                         invalid_rate: float) -> FileEntry:
    seed = children.seed
    key = f"{seed}|{REGISTER_FEED}|{day.isoformat()}|{province}"
    rng_format = random.Random(f"{key}|format")
    variants = _choose_variants(rng_format, index, names=True)
    writer = _Writer(rng_format, variants, REGISTER_KEYS, {"tro_giup": ASSISTANCE_KEYS})
    vintage = vintage_of(day)
    injector = _RegisterCorruptor(REGISTER_INVALID_KINDS, invalid_rate, random.Random(f"{key}|invalid"),
                                  children.geo, vintage)
    invalid: Counter[str] = Counter()
    counts: Counter[str] = Counter({k: 0 for k in REGISTER_COUNT_KEYS})
    valid_ids: list[str] = []
    nfd = variants["nfd_names"]
    for obj, age in _register_rows(children, day, province):
        if nfd:
            obj["ho_ten"] = unicodedata.normalize("NFD", obj["ho_ten"])
        kind = injector.draw(skip=() if valid_ids else (DUPLICATE_ID,))
        if kind is None:
            valid_ids.append(obj["ma_dinh_danh"])
            _count_child(counts, obj, age)
            writer.write(obj)
            continue
        invalid[kind] += 1
        if kind != MALFORMED_JSON:
            injector.corrupt(kind, obj, day, valid_ids)
        writer.write(obj, malformed=kind == MALFORMED_JSON)
    rel = f"{REGISTER_FEED}/{register_file_name(province, day)}"
    path = landing / rel
    writer.save(path)
    counts["snapshot_date"] = int(day.strftime("%Y%m%d"))
    rows = len(writer.lines)
    return FileEntry(
        feed=REGISTER_FEED, path=rel, province=province, vintage=vintage, period=day.isoformat(), rows=rows,
        valid_rows=rows - sum(invalid.values()), invalid_rows=dict(sorted(invalid.items())),
        variants=_describe(variants, writer), counts={k: counts[k] for k in REGISTER_COUNT_KEYS},
        sha256=_sha256(path),
    )


def _count_child(counts: Counter[str], obj: dict[str, Any], age: int) -> None:
    counts["children"] += 1
    if obj["hcdb"]:
        counts["children_special_circumstances"] += 1
        for g in obj["hcdb"]:
            counts[f"children_group_{g}"] += 1
        if obj["tro_giup"]["duoc_tro_giup"]:
            counts["children_assisted"] += 1
    if age >= 5:
        counts["children_5_15"] += 1
        if obj["lao_dong"] == "trai_quy_dinh":
            counts["child_labour"] += 1


def _describe(variants: dict[str, Any], writer: _Writer) -> dict[str, Any]:
    out: dict[str, Any] = {k: bool(v) for k, v in variants.items() if k in _VARIANT_SHARES}
    if variants["shuffled_keys"]:
        out["key_order"] = list(writer.order)
    for k, v in variants.items():
        if k not in _VARIANT_SHARES:
            out[k] = v
    return out


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
    if scale <= 0:
        raise ValueError("scale must be positive")
    if not 0 <= invalid_rate < 1:
        raise ValueError("invalid_rate must be in [0, 1)")
    geo = load_geography(reference_dir)
    landing = Path(landing_dir)
    days = _parse_dates(snapshot_dates)
    new_provinces = _normalise_provinces(geo, provinces)
    children = _Children(geo, build_population(geo, seed), scale, seed)
    jobs = []
    for day in days:
        vintage = vintage_of(day)
        if vintage == PRE_REFORM:
            chosen = sorted({old for new in new_provinces for old in geo.old_provinces_of(new)})
        else:
            chosen = list(new_provinces)
        jobs.extend((day, vintage, province) for province in chosen)
    written: dict[int, FileEntry] = {}
    for group in _by_new_province(geo, jobs):
        for index, day, province in group:
            written[index] = _write_register_file(children, landing, day, province, index, invalid_rate)
        children.clear()
    files = [written[i] for i in sorted(written)]
    manifest = Manifest(
        landing_dir=str(landing), generator=REGISTER_GENERATOR,
        parameters={"feeds": [REGISTER_FEED], "scale": scale, "seed": seed,
                    "snapshot_dates": [d.isoformat() for d in days],
                    "provinces": None if provinces is None else new_provinces, "invalid_rate": invalid_rate,
                    "reference_dir": None if reference_dir is None else str(reference_dir)},
        files=files,
    )
    manifest.write(landing)
    return manifest


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
    children: _Children

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
        first = _add_years(period.start, -MAX_AGE)
        birth, registered, sex, year, md, commune, ref = [], [], [], [], [], [], []
        self.cohorts: list[Cohort] = []
        for c, codes, inside in run.children.cohorts_between(vintage, province, first, period.end):
            if c.size == 0:
                continue
            keep = inside[c.commune]
            idx = np.nonzero(keep)[0]
            k = len(self.cohorts)
            self.cohorts.append(c)
            birth.append(c.birth[idx])
            registered.append(c.registered[idx])
            sex.append(c.sex[idx])
            year.append(c.birth_year[idx])
            md.append(c.birth_md[idx])
            names = np.array(c.communes, dtype=object) if codes is None else codes
            commune.append(names[c.commune[idx]])
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
                & (self.registered <= _ordinal(when)) & ~self.used)
        if commune is not None:
            mask &= self.commune == commune
        idx = np.nonzero(mask)[0]
        if len(idx) == 0:
            return None
        i = int(idx[rng.randrange(len(idx))])
        self.used[i] = True
        k, j = (int(x) for x in self.ref[i])
        return {"ma_dinh_danh": self.cohorts[k].id_of(j), "ngay_sinh": _from_ordinal(self.birth[i]).isoformat(),
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
        hi = _add_years(when, -age)
        lo = _add_years(when, -age - 1) + timedelta(days=1)
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


class _CasesCorruptor(_Invalid):
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
                obj["ngay_phat_hien"] = _impossible_date(rng, int(obj["ngay_phat_hien"][:4]))
            else:
                victim = rng.choice(obj["nan_nhan"])
                victim["ngay_sinh"] = _impossible_date(rng, int(victim["ngay_sinh"][:4]))


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
    variants = _choose_variants(rng_format, index, names=False)
    variants["so_tien_phat_without_fine"] = "zero" if rng_format.random() < 0.5 else "absent"
    writer = _Writer(rng_format, variants, CASE_KEYS, {"nan_nhan": VICTIM_KEYS})
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
        variants=_describe(variants, writer), counts={k: counts[k] for k in CASES_COUNT_KEYS},
        sha256=_sha256(path),
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
    if scale <= 0:
        raise ValueError("scale must be positive")
    if not 0 <= invalid_rate < 1:
        raise ValueError("invalid_rate must be in [0, 1)")
    geo = load_geography(reference_dir)
    landing = Path(landing_dir)
    if isinstance(periods, str):
        periods = [periods]
    parsed = [Period.parse(p) for p in periods]
    if len({p.label for p in parsed}) != len(parsed):
        raise ValueError("duplicate periods")
    new_provinces = _normalise_provinces(geo, provinces)
    pop = build_population(geo, seed)
    run = _CasesRun(geo, pop, scale, seed, date.today(), _Children(geo, pop, scale, seed))
    jobs = [(period, period.vintage, province) for period, province in files_to_write(geo, parsed, new_provinces)]
    written: dict[int, FileEntry] = {}
    for group in _by_new_province(geo, jobs):
        for index, period, province in group:
            written[index] = _write_cases_file(run, landing, period, province, index, invalid_rate)
        run.children.clear()
    files = [written[i] for i in sorted(written)]
    manifest = Manifest(
        landing_dir=str(landing), generator=CASES_GENERATOR,
        parameters={"feeds": [CASES_FEED], "scale": scale, "seed": seed, "periods": [p.label for p in parsed],
                    "provinces": None if provinces is None else new_provinces, "invalid_rate": invalid_rate,
                    "reference_dir": None if reference_dir is None else str(reference_dir)},
        files=files,
    )
    manifest.write(landing)
    return manifest
