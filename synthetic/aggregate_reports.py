"""The communes' annual aggregate reports (bao_cao_tong_hop): the workbook `make template` makes
(ingest.template), filled in as communes do, one per province and year.

* About 92 % of communes fill their row; the others leave it empty (not reported). Which communes report is
  drawn per commune and year.
* Villages (thôn, tổ dân phố) per commune: ≈10 before the 2025 reform (≈100,000 for ≈10,000 communes), ≈30 after
  (3,321 communes); ≈55 % of villages have a culture or sport facility for children (more in the cities).
* A play point in ≈70 % of communes (≈90 % in the five cities); recognised child-friendly ≈62 % in 2024 and
  ≈66 % in 2025 (QĐ 23's target is 65 % for 2025), with a decision number and a year 2019–the year reported.
* The children counts come from the same population cells as dan_so (so they never exceed the commune's
  children): consulted ≈35 % of the 7–15-year-olds, online-safety skills ≈25 % of the under-16s, non-fatal
  injuries ≈600 per 100,000 children (QĐ 23's 2025 target is 550), child marriages ≈0.5 % of the
  15-to-17-year-olds.
* Invalid rows (``invalid_rate``): more villages with a facility than villages, a row filled but for one
  figure, a recognised commune without its decision. A count above the commune's children is checked by
  the loader against the population estimates loaded before it; the sample does not inject it (a landing of
  this feed alone has no estimates to compare with).

Lateness is when a file arrives, which a landing folder cannot show: the completeness mart measures it.
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.feeds.aggregate_reports import FIGURES, RECOGNITION
from ingest.template import Commune, file_name, provinces_and_communes, write_template
from synthetic.dan_so import population_cells
from synthetic.geography import POST_REFORM, PRE_REFORM, load_geography
from synthetic.landing import check_rates, new_provinces, provinces_in, sha256_of
from synthetic.manifest import FileEntry, Manifest
from synthetic.population import build_population

FEED = "bao_cao_tong_hop"
GENERATOR = "bao_cao_tong_hop"
DEFAULT_YEARS = (2024, 2025)
CITY_PROVINCES = frozenset({"01", "31", "48", "79", "92"})
REPORTING_SHARE = 0.92
VILLAGES_PER_COMMUNE = {PRE_REFORM: (6, 14), POST_REFORM: (18, 42)}
FRIENDLY_SHARE = {2024: 0.62, 2025: 0.66}
FACILITIES_OVER_VILLAGES, PARTIAL_ROW, RECOGNISED_WITHOUT_DECISION = (
    "facilities_over_villages", "partial_row", "recognised_without_decision")
INVALID_KINDS = (FACILITIES_OVER_VILLAGES, PARTIAL_ROW, RECOGNISED_WITHOUT_DECISION)
COUNT_KEYS = ("communes", "communes_reporting", "villages", "villages_with_child_facilities",
              "communes_with_play_point", "children_consulted", "children_online_safety", "child_marriages",
              "children_injured", "communes_child_friendly", "reporting_children_under16", "reporting_children_7_15")
_HEADER = {column.name: column.header for column in (*FIGURES, *RECOGNITION)}


def _binomial(rng: random.Random, n: int, p: float) -> int:
    if n <= 0:
        return 0
    if n > 200:  # normal approximation, kept within 0..n
        mean, sd = n * p, (n * p * (1 - p)) ** 0.5
        return max(0, min(n, round(rng.gauss(mean, sd))))
    return sum(rng.random() < p for _ in range(n))


def _figures(rng: random.Random, vintage: str, province: str, year: int, ages: list[tuple[int, int]]
             ) -> dict[str, Any]:
    city = province in CITY_PROVINCES
    low, high = VILLAGES_PER_COMMUNE[vintage]
    villages = rng.randint(low, high)
    under16 = sum(boys + girls for boys, girls in ages[:16])
    aged_7_15 = sum(boys + girls for boys, girls in ages[7:16])
    aged_15_17 = sum(boys + girls for boys, girls in ages[15:18])
    friendly = rng.random() < FRIENDLY_SHARE.get(year, 0.66)
    return {
        "villages": villages,
        "villages_with_child_facilities": _binomial(rng, villages, 0.75 if city else 0.52),
        "has_play_point": "Có" if rng.random() < (0.9 if city else 0.68) else "Không",
        "children_consulted": _binomial(rng, aged_7_15, 0.35),
        "children_online_safety": _binomial(rng, under16, 0.25),
        "child_marriages": _binomial(rng, aged_15_17, 0.005),
        "children_injured": _binomial(rng, under16, 0.006),
        "is_child_friendly": "Có" if friendly else "Không",
        "recognition_decision": f"{rng.randint(10, 3999)}/QĐ-UBND" if friendly else None,
        "recognition_year": rng.randint(2019, year) if friendly else None,
    }


def _corrupt(rng: random.Random, kind: str, row: dict[str, Any]) -> None:
    if kind == FACILITIES_OVER_VILLAGES:
        row["villages_with_child_facilities"] = row["villages"] + rng.randint(1, 5)
    elif kind == PARTIAL_ROW:
        row[rng.choice(("children_consulted", "child_marriages", "has_play_point", "villages"))] = None
    elif kind == RECOGNISED_WITHOUT_DECISION:
        row.update(is_child_friendly="Có", recognition_decision=None)


def _write_file(landing: Path, geo, model, year: int, vintage: str, province: str, scale: float, seed: int,
                invalid_rate: float, names: dict[str, str]) -> FileEntry:
    key = f"{seed}|{FEED}|{year}|{province}"
    rng = random.Random(f"{key}|rows")
    invalid_rng = random.Random(f"{key}|invalid")
    start = invalid_rng.randrange(len(INVALID_KINDS))
    counts = dict.fromkeys(COUNT_KEYS, 0)
    invalid: dict[str, int] = {}
    filled: dict[str, dict[str, Any]] = {}
    communes = []
    for commune, ages in population_cells(geo, model, year, province, scale, seed):
        communes.append(Commune(commune, names.get(commune, commune)))
        counts["communes"] += 1
        if rng.random() >= REPORTING_SHARE:
            continue
        row = _figures(rng, vintage, province, year, ages)
        if invalid_rate > 0 and invalid_rng.random() < invalid_rate:
            kind = INVALID_KINDS[(start + sum(invalid.values())) % len(INVALID_KINDS)]
            _corrupt(invalid_rng, kind, row)
            invalid[kind] = invalid.get(kind, 0) + 1
        else:
            counts["communes_reporting"] += 1
            counts["communes_with_play_point"] += row["has_play_point"] == "Có"
            counts["communes_child_friendly"] += row["is_child_friendly"] == "Có"
            for name in ("villages", "villages_with_child_facilities", "children_consulted", "children_online_safety",
                         "child_marriages", "children_injured"):
                counts[name] += row[name]
            counts["reporting_children_under16"] += sum(boys + girls for boys, girls in ages[:16])
            counts["reporting_children_7_15"] += sum(boys + girls for boys, girls in ages[7:16])
        filled[commune] = {_HEADER[name]: value for name, value in row.items() if value is not None}
    rel = f"{FEED}/{file_name(province, year)}"
    path = write_template(landing / rel, year, province, names.get(f"p{province}", province), communes, filled,
                          created=datetime(year + 1, 1, 15))
    return FileEntry(feed=FEED, path=rel, province=province, vintage=vintage, period=str(year),
                     rows=counts["communes"], valid_rows=counts["communes"] - sum(invalid.values()),
                     invalid_rows=dict(sorted(invalid.items())), variants={"format": "xlsx template"},
                     counts=counts, sha256=sha256_of(path))


def _names(year: int) -> dict[str, str]:
    """Commune names by code, province names by 'p' + code, in the geography of the year (the template's)."""
    names: dict[str, str] = {}
    for province, (province_name, communes) in provinces_and_communes(year).items():
        names[f"p{province}"] = province_name
        names.update((commune.code, commune.name) for commune in communes)
    return names


def generate_aggregate_reports_feed(
    landing_dir: Path | str,
    *,
    scale: float = 0.001,
    seed: int = 13,
    years: tuple[int, ...] = DEFAULT_YEARS,
    provinces: list[str] | None = None,
    invalid_rate: float = 0.0,
    reference_dir: Path | str | None = None,
) -> Manifest:
    """Write one filled aggregate-report workbook per province and year under ``landing_dir``/bao_cao_tong_hop
    and record them in the landing manifest. ``provinces``: NEW province codes (default all 34)."""
    check_rates(scale, invalid_rate)
    geo = load_geography(reference_dir)
    model = build_population(geo, seed)
    selected = new_provinces(geo, provinces)
    landing = Path(landing_dir)
    names = {year: _names(year) for year in years}
    files = []
    for year in years:
        vintage = PRE_REFORM if year < 2025 else POST_REFORM
        for province in provinces_in(geo, vintage, selected):
            files.append(_write_file(landing, geo, model, year, vintage, province, scale, seed, invalid_rate,
                                     names[year]))
    manifest = Manifest(
        landing_dir=str(landing), generator=GENERATOR,
        parameters={"feeds": [FEED], "scale": scale, "seed": seed, "years": list(years),
                    "provinces": None if provinces is None else selected, "invalid_rate": invalid_rate},
        files=files,
    )
    manifest.write(landing)
    return manifest
