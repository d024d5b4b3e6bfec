"""Writing the statistics office's population estimates (dan_so): one file per province and year.

Mid-year (1 July) estimates by commune, single year of age 0–17 and sex. The commune sizes are the
same population model the health feeds use, so births and children live in the same places. About
24.8 M children under 16 nationally (census 2019, indicators.md §6), scaled like the health feeds.

The files of ``all_ages_years`` (by default the latest year) cover all ages, as the statistics office's
estimates do: single years 18–79 after the children and an open-ended group ``80+`` to close each commune and
sex, about 100 M persons nationally (≈13.7 ‰ births). Older years deliver children only, as before: the crude
birth rate has a denominator for the latest year alone.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from synthetic.formats import VARIANT_NAMES, CsvFeedWriter, Delivery, choose_delivery
from synthetic.geography import POST_REFORM, PRE_REFORM, Geography, load_geography
from synthetic.landing import check_rates, new_provinces, provinces_in, sha256_of
from synthetic.manifest import FileEntry, Manifest
from synthetic.population import PopulationModel, build_population

FEED = "dan_so"
GENERATOR = "dan_so"
COLUMNS = ("Năm", "Mã tỉnh", "Mã xã", "Tuổi", "Giới tính", "Dân số")
CODE_COLUMNS = ("Mã tỉnh", "Mã xã")
DEFAULT_YEARS = (2024, 2025)
# National persons by single year of age (millions): smaller recent birth cohorts (≈1.37 M births in
# 2024), the larger cohorts of the 2010s in school ages. Ages 0–15 sum to ≈24.6 M.
NATIONAL_BY_AGE_M = (1.38, 1.41, 1.44, 1.49, 1.53, 1.56, 1.58, 1.60, 1.61, 1.60, 1.58, 1.56, 1.53, 1.49,
                     1.45, 1.42, 1.40, 1.38)
MALE_SHARE_UNDER_10 = 0.527  # sex ratio at birth ≈ 111
MALE_SHARE_10_PLUS = 0.518
# Adults (millions) by single year 18–79, then 80 and over: flat working ages, fewer from 55 on.
NATIONAL_ADULTS_BY_AGE_M = tuple([1.45] * 37 + [round(1.10 - 0.85 * step / 24, 4) for step in range(25)])
NATIONAL_80_PLUS_M = 2.0
FIRST_ADULT_AGE = 18
OPEN_ENDED_AGE = 80
MALE_SHARE_ADULTS = (0.505, 0.44, 0.36)  # 18–54, 55–79, 80+


def generate_population_feed(
    landing_dir: Path | str,
    *,
    scale: float = 0.001,
    seed: int = 13,
    years: Sequence[int] = DEFAULT_YEARS,
    all_ages_years: Sequence[int] | None = None,
    provinces: Sequence[str] | None = None,
    delivery_variants: bool = True,
    reference_dir: Path | str | None = None,
) -> Manifest:
    """Write dan_so files under ``landing_dir``/dan_so and record them in the landing manifest. The
    estimate of year Y is dated 1 July Y: before 2025 it carries pre-reform codes, from 2025 the 34
    provinces' codes. ``provinces`` filters by new province code, as for the health feeds. The files of
    ``all_ages_years`` (default: the latest of ``years``) add the adults, closed by 80+."""
    check_rates(scale)
    all_ages = {max(years)} if all_ages_years is None else set(all_ages_years)
    geo = load_geography(reference_dir)
    model = build_population(geo, seed)
    selected = new_provinces(geo, provinces)
    landing = Path(landing_dir)
    files = []
    index = 0
    for year in years:
        vintage = PRE_REFORM if year < 2025 else POST_REFORM
        for province in provinces_in(geo, vintage, selected):
            files.append(_write_file(landing, geo, model, year, vintage, province, scale, seed,
                                     delivery_variants, index, year in all_ages))
            index += 1
    manifest = Manifest(
        landing_dir=str(landing), generator=GENERATOR,
        parameters={"feeds": [FEED], "scale": scale, "seed": seed, "years": list(years),
                    "all_ages_years": sorted(all_ages),
                    "provinces": None if provinces is None else selected,
                    "delivery_variants": delivery_variants},
        files=files,
    )
    manifest.write(landing)
    return manifest


def _write_file(landing: Path, geo, model, year: int, vintage: str, province: str, scale: float, seed: int,
                delivery_variants: bool, index: int, all_ages: bool) -> FileEntry:
    key = f"{seed}|{FEED}|{year}|{province}"
    delivery = (choose_delivery(random.Random(f"{key}|format"), COLUMNS, force=VARIANT_NAMES[index % len(VARIANT_NAMES)])
                if delivery_variants else Delivery())
    rel = f"{FEED}/{FEED}_{province}_{year}.csv"
    path = landing / rel
    counts: Counter[str] = Counter()
    with CsvFeedWriter(path, COLUMNS, delivery, CODE_COLUMNS, random.Random(f"{key}|variants")) as writer:
        for commune, ages in population_cells(geo, model, year, province, scale, seed):
            for age, pair in enumerate(ages):
                for sex, persons in zip(("Nam", "Nữ"), pair):
                    writer.write([str(year), province, commune, str(age), sex, str(persons)])
                    if all_ages:  # a file of children has no total population
                        counts["population_all_ages"] += persons
                    if age < 16:
                        counts["children_under_16"] += persons
                        counts[f"children_under_16_{'male' if sex == 'Nam' else 'female'}"] += persons
            if all_ages:
                for age_label, pair in adult_cells(model, year, commune, scale, seed):
                    for sex, persons in zip(("Nam", "Nữ"), pair):
                        writer.write([str(year), province, commune, age_label, sex, str(persons)])
                        counts["population_all_ages"] += persons
        written = writer.rows
    return FileEntry(feed=FEED, path=rel, province=province, vintage=vintage, period=str(year), rows=written,
                     valid_rows=written, invalid_rows={}, variants=delivery.describe(),
                     counts=dict(sorted(counts.items())), sha256=sha256_of(path))


def population_cells(geo: Geography, model: PopulationModel, year: int, province: str, scale: float, seed: int
                     ) -> Iterator[tuple[str, list[tuple[int, int]]]]:
    """(commune, [(boys, girls) by age 0–17]) for every commune of ``province`` (in the vintage of 1 July
    ``year``): the persons of the file of that year (the student feed takes its children from here)."""
    vintage = PRE_REFORM if year < 2025 else POST_REFORM
    rng = random.Random(f"{seed}|{FEED}|{year}|{province}|rows")
    national = model.national_weight
    for commune in sorted(geo.communes(vintage, province)):
        share = model.weight[vintage][commune] / national
        ages = []
        for age, millions in enumerate(NATIONAL_BY_AGE_M):
            expected = millions * 1_000_000 * scale * share
            male_share = MALE_SHARE_UNDER_10 if age < 10 else MALE_SHARE_10_PLUS
            boys = _stochastic_round(rng, expected * male_share * rng.uniform(0.95, 1.05))
            girls = _stochastic_round(rng, expected * (1 - male_share) * rng.uniform(0.95, 1.05))
            ages.append((boys, girls))
        yield commune, ages


def adult_cells(model: PopulationModel, year: int, commune: str, scale: float, seed: int
                ) -> Iterator[tuple[str, tuple[int, int]]]:
    """(age label, (men, women)) for single years 18–79 and the open-ended ``80+`` of one commune: drawn
    from their own random stream, so that the children's cells (and the feeds built on them) are unchanged."""
    vintage = PRE_REFORM if year < 2025 else POST_REFORM
    rng = random.Random(f"{seed}|{FEED}|{year}|{commune}|adults")
    share = model.weight[vintage][commune] / model.national_weight
    ages = [(str(FIRST_ADULT_AGE + offset), millions) for offset, millions in enumerate(NATIONAL_ADULTS_BY_AGE_M)]
    for label, millions in [*ages, (f"{OPEN_ENDED_AGE}+", NATIONAL_80_PLUS_M)]:
        age = int(label.rstrip("+"))
        male_share = MALE_SHARE_ADULTS[0 if age < 55 else 1 if age < OPEN_ENDED_AGE else 2]
        expected = millions * 1_000_000 * scale * share
        men = _stochastic_round(rng, expected * male_share * rng.uniform(0.95, 1.05))
        women = _stochastic_round(rng, expected * (1 - male_share) * rng.uniform(0.95, 1.05))
        yield label, (men, women)


def _stochastic_round(rng: random.Random, value: float) -> int:
    whole = int(value)
    return whole + (1 if rng.random() < value - whole else 0)
