"""Who lives where: relative commune sizes and per-province demographic profiles.

Commune weights are drawn once per seed for the pre-reform communes (commune type × regional density ×
a log-normal size)
and carried to the post-reform communes through the official conversion, so a new province's weight is
exactly the sum of its old provinces' weights and national totals do not jump at 1 July 2025.

Profiles are keyed by OLD province code; a post-reform commune takes the profile of the old province
that contributes most of its weight. Values are plausible approximations (minority shares after the
2019 census, higher mortality and more home births in the northern mountains and the Central
Highlands), not official statistics.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from synthetic.geography import POST_REFORM, PRE_REFORM, Geography

ETHNICITY_CODES = tuple(f"{i:02d}" for i in range(1, 55))  # 01 Kinh … 54 Ơ Đu
KINH = "01"

# Minority mixes by region (GSO codes). Every minority code also gets a small tail weight.
_MIXES: dict[str, dict[str, float]] = {
    "north": {"02": 20, "03": 20, "06": 12, "07": 10, "08": 18, "09": 10, "15": 2, "18": 1.5, "25": 1,
              "29": 1, "35": 0.5, "40": 0.5, "43": 0.3, "46": 0.3, "38": 0.3, "41": 0.2, "42": 0.2},
    "highlands": {"10": 28, "12": 20, "13": 12, "14": 10, "16": 8, "20": 6, "07": 4, "02": 4, "08": 2,
                  "03": 2, "27": 1, "36": 1, "28": 1, "52": 0.2, "53": 0.2},
    "central": {"23": 20, "26": 12, "31": 8, "19": 15, "30": 4, "17": 12, "21": 12, "22": 6, "44": 2,
                "16": 4, "27": 3},
    "south": {"05": 60, "04": 28, "17": 5, "22": 3, "32": 2, "28": 1},
    "delta": {"04": 20, "06": 20, "02": 15, "03": 10, "07": 10, "18": 10, "05": 5, "09": 5},
}
_TAIL = 0.05

# old province -> (minority share, mix, raw mortality multiplier, home-birth share, other-place share,
#                  mean birth weight g)
_NORTH_MOUNTAIN = {"02": 0.87, "04": 0.94, "06": 0.87, "10": 0.65, "11": 0.82, "12": 0.85, "14": 0.83,
                   "15": 0.55, "17": 0.72, "20": 0.83}
_MIDLAND = {"08": 0.53, "19": 0.28, "22": 0.12, "24": 0.12, "25": 0.17, "26": 0.03, "38": 0.16,
            "40": 0.15}
_HIGHLANDS = {"62": (0.54, 1.6), "64": (0.45, 1.5), "66": (0.33, 1.3), "67": (0.32, 1.3), "68": (0.24, 1.2)}
_CENTRAL = {"44": 0.02, "45": 0.10, "46": 0.04, "49": 0.08, "51": 0.11, "52": 0.03, "54": 0.05,
            "56": 0.07, "58": 0.23, "60": 0.07, "70": 0.17}
_SOUTH = {"72": 0.02, "74": 0.03, "75": 0.05, "77": 0.02, "79": 0.06, "80": 0.01, "82": 0.01, "83": 0.01,
          "84": 0.32, "86": 0.02, "87": 0.01, "89": 0.05, "91": 0.13, "92": 0.03, "93": 0.03, "94": 0.35,
          "95": 0.09, "96": 0.02}
_CITIES = {"01": 0.6, "31": 0.7, "48": 0.7, "79": 0.6, "92": 0.8}
_HIGHEST_MORTALITY = {"02", "11", "12", "14"}


@dataclass(frozen=True)
class Profile:
    minority_share: float
    mix: str
    mortality: float  # raw multiplier, normalised nationally by PopulationModel
    home_birth: float
    other_place: float
    birth_weight_mean: float
    size: float = 1.0  # relative population of a commune (mountain communes are sparsely populated)


@cache
def profile_for(old_province: str) -> Profile:
    p = old_province
    if p in _NORTH_MOUNTAIN:
        mortality = 1.9 if p in _HIGHEST_MORTALITY else 1.7
        return Profile(_NORTH_MOUNTAIN[p], "north", mortality, 0.15, 0.02, 3000.0, 0.5)
    if p in _HIGHLANDS:
        share, mortality = _HIGHLANDS[p]
        return Profile(share, "highlands", mortality, 0.08, 0.01, 3050.0, 0.9)
    if p in _MIDLAND:
        return Profile(_MIDLAND[p], "north", 1.15, 0.03, 0.005, 3080.0, 0.9)
    if p in _CENTRAL:
        mortality = 1.1 if p in {"45", "49", "51", "58"} else 1.0
        return Profile(_CENTRAL[p], "central", mortality, 0.02, 0.005, 3100.0)
    if p in _SOUTH:
        mortality = _CITIES.get(p, 1.1 if p in {"84", "94"} else 0.95)
        return Profile(_SOUTH[p], "south", mortality, 0.015, 0.005, 3100.0)
    return Profile(0.02, "delta", _CITIES.get(p, 0.95), 0.01, 0.005, 3120.0)


def is_mountain(profile: Profile) -> bool:
    """The northern mountains and the Central Highlands (poverty, remoteness)."""
    return profile.mix == "highlands" or (profile.mix == "north" and profile.minority_share >= 0.5)


@cache
def ethnicity_table(mix: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Minority codes and cumulative weights for a regional mix (all of 02–54 possible)."""
    weights = {code: _TAIL for code in ETHNICITY_CODES[1:]}
    for code, w in _MIXES[mix].items():
        weights[code] += w
    codes = tuple(sorted(weights))
    cum, total = [], 0.0
    for code in codes:
        total += weights[code]
        cum.append(total)
    return codes, tuple(cum)


_TYPE_FACTOR = {"phường": 1.5, "thị trấn": 1.2, "xã": 1.0, "đặc khu": 0.5}
_CITY_WARD_FACTOR = 2.0


@dataclass
class PopulationModel:
    """Relative sizes and profiles of communes in both vintages (deterministic for a seed)."""

    weight: dict[str, dict[str, float]]        # vintage -> commune -> weight
    profile_key: dict[str, dict[str, str]]     # vintage -> commune -> old province code of its profile
    province_weight: dict[str, dict[str, float]]
    national_weight: float
    mortality_norm: float

    def profile(self, vintage: str, commune: str) -> Profile:
        return profile_for(self.profile_key[vintage][commune])

    def mortality(self, vintage: str, commune: str) -> float:
        """Mortality multiplier relative to the national level (national birth-weighted mean = 1)."""
        return self.profile(vintage, commune).mortality / self.mortality_norm

    def province_share(self, vintage: str, province: str) -> float:
        return self.province_weight[vintage][province] / self.national_weight


_CACHE: dict[tuple[int, int], tuple[Geography, PopulationModel]] = {}


def build_population(geo: Geography, seed: int) -> PopulationModel:
    """The population model for a geography and seed (cached; geographies are read-only)."""
    key = (id(geo), seed)
    cached = _CACHE.get(key)
    if cached is None or cached[0] is not geo:
        if len(_CACHE) >= 8:
            _CACHE.clear()
        cached = _CACHE[key] = (geo, _build(geo, seed))
    return cached[1]


def _build(geo: Geography, seed: int) -> PopulationModel:
    rng = random.Random(f"{seed}|population")
    old_weight: dict[str, float] = {}
    for province in geo.provinces(PRE_REFORM):
        for commune in geo.communes(PRE_REFORM, province):
            kind = geo.commune_type[PRE_REFORM][commune].strip().lower()
            factor = _TYPE_FACTOR.get(kind, 1.0)
            if kind == "phường" and province in _CITIES:
                factor = _CITY_WARD_FACTOR
            size = profile_for(province).size
            old_weight[commune] = factor * size * rng.lognormvariate(0.0, 0.5)
    old_province = geo.province_of_commune[PRE_REFORM]

    # carry weights to the new communes through the conversion (split communes shared equally)
    links_per_old: dict[str, int] = defaultdict(int)
    for link in geo.conversion:
        if link.old_commune in old_weight:
            links_per_old[link.old_commune] += 1
    new_weight: dict[str, float] = defaultdict(float)
    contribution: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for link in geo.conversion:
        if link.old_commune not in old_weight or link.new_commune not in geo.province_of_commune[POST_REFORM]:
            continue
        w = old_weight[link.old_commune] / links_per_old[link.old_commune]
        new_weight[link.new_commune] += w
        contribution[link.new_commune][old_province[link.old_commune]] += w
    new_key: dict[str, str] = {}
    for commune, province in geo.province_of_commune[POST_REFORM].items():
        if commune not in new_weight:  # not in the conversion table: a plain rural commune
            new_weight[commune] = 1.0
            olds = geo.old_provinces_of(province)
            new_key[commune] = olds[0] if olds else province
        else:
            new_key[commune] = max(contribution[commune].items(), key=lambda kv: (kv[1], kv[0]))[0]

    weight = {PRE_REFORM: old_weight, POST_REFORM: dict(new_weight)}
    profile_key = {PRE_REFORM: dict(old_province), POST_REFORM: new_key}
    province_weight: dict[str, dict[str, float]] = {}
    for vintage in (PRE_REFORM, POST_REFORM):
        sums: dict[str, float] = defaultdict(float)
        for commune, province in geo.province_of_commune[vintage].items():
            sums[province] += weight[vintage][commune]
        province_weight[vintage] = dict(sums)
    national = sum(old_weight.values())
    norm = sum(w * profile_for(old_province[c]).mortality for c, w in old_weight.items()) / national
    return PopulationModel(weight, profile_key, province_weight, national, norm)
