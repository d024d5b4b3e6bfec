"""Writing the health feeds into a landing directory: one file per feed × province × half-year."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from synthetic.formats import VARIANT_NAMES, CsvFeedWriter, Delivery, choose_delivery
from synthetic.geography import Geography, load_geography
from synthetic.health import (
    BIRTHS_FEED,
    CODE_COLUMNS,
    COLUMNS,
    DEATHS_FEED,
    STILLBIRTH_SHARE,
    Area,
    birth_rows,
    build_area,
    death_rows,
    expected_deaths,
    expected_live_births,
    poisson,
)
from synthetic.invalid import InvalidInjector
from synthetic.landing import (
    DEFAULT_PERIODS,
    check_rates,
    files_to_write,
    new_provinces,
    parse_periods,
    sha256_of,
)
from synthetic.manifest import FileEntry, Manifest
from synthetic.periods import Period
from synthetic.population import PopulationModel, build_population

HEALTH_FEEDS = (BIRTHS_FEED, DEATHS_FEED)
DEFAULT_MIN_DEATHS_PER_FILE = 2.0
GENERATOR = "health"


def file_name(feed: str, province: str, period: str) -> str:
    return f"{feed}_{province}_{period}.csv"


@dataclass
class HealthRun:
    """Births and deaths of one run, file by file (the immunisation feed replays its births)."""

    geo: Geography
    pop: PopulationModel
    landing: Path
    scale: float
    seed: int
    invalid_rate: float
    delivery_variants: bool
    min_deaths_per_file: float

    def __post_init__(self) -> None:
        self._areas: dict[tuple[str, str, bool], Area] = {}

    def area(self, vintage: str, province: str, by_mortality: bool = False) -> Area:
        key = (vintage, province, by_mortality)
        if key not in self._areas:
            self._areas[key] = build_area(self.geo, self.pop, vintage, [province], by_mortality=by_mortality)
        return self._areas[key]

    def rows(self, feed: str, period: Period, province: str, rng: random.Random
             ) -> Iterator[tuple[list[str], object]]:
        vintage = period.vintage
        live = expected_live_births(self.pop, vintage, [province], period, self.scale)
        if feed == BIRTHS_FEED:
            n = poisson(rng, live / (1 - STILLBIRTH_SHARE))
            return birth_rows(rng, self.area(vintage, province), period, n,
                              f"S-{province}-{period.label}-")
        plain, weighted = self.area(vintage, province), self.area(vintage, province, by_mortality=True)
        mortality = weighted.total / plain.total if plain.total else 1.0
        lam = expected_deaths(live, mortality, self.min_deaths_per_file)
        counts = {k: poisson(rng, v) for k, v in lam.items()}
        return death_rows(rng, weighted, period, counts, f"TV-{province}-{period.label}-")

    def write_file(self, feed: str, period: Period, province: str, index: int) -> FileEntry:
        key = f"{self.seed}|{feed}|{period.label}|{province}"
        rng_rows = random.Random(f"{key}|rows")
        rng_format = random.Random(f"{key}|format")
        columns = COLUMNS[feed]
        if self.delivery_variants:
            delivery = choose_delivery(rng_format, columns, force=VARIANT_NAMES[index % len(VARIANT_NAMES)])
        else:
            delivery = Delivery()
        injector = InvalidInjector(feed, self.geo, period.vintage, self.invalid_rate,
                                   random.Random(f"{key}|invalid"))
        rel = f"{feed}/{file_name(feed, province, period.label)}"
        path = self.landing / rel
        invalid: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        with CsvFeedWriter(path, columns, delivery, CODE_COLUMNS[feed], rng_format) as writer:
            for row, tag in self.rows(feed, period, province, rng_rows):
                kind = injector.maybe_corrupt(row)
                if kind:
                    invalid[kind] += 1
                else:
                    _count(counts, feed, tag)
                writer.write(row)
            written = writer.rows
        return FileEntry(
            feed=feed, path=rel, province=province, vintage=period.vintage, period=period.label,
            rows=written, valid_rows=written - sum(invalid.values()), invalid_rows=dict(sorted(invalid.items())),
            variants=delivery.describe(), counts=dict(sorted(counts.items())), sha256=sha256_of(path),
        )


def _count(counts: Counter[str], feed: str, tag: object) -> None:
    """Accounting over valid rows. Births: live_births, stillbirths, live_male / live_female /
    live_unknown_sex. Deaths: deaths_<age class> with disjoint classes neonatal (0–27 days),
    postneonatal (28 days–1 year), 1_4, 5_17."""
    if feed == BIRTHS_FEED:
        live, sex = tag  # type: ignore[misc]
        if live:
            counts["live_births"] += 1
            counts[{"Nam": "live_male", "Nữ": "live_female"}.get(sex, "live_unknown_sex")] += 1
        else:
            counts["stillbirths"] += 1
    else:
        counts[f"deaths_{tag}"] += 1


def generate_health_feeds(
    landing_dir: Path | str,
    *,
    scale: float = 0.001,
    seed: int = 13,
    periods: Sequence[str] = DEFAULT_PERIODS,
    provinces: Sequence[str] | None = None,
    invalid_rate: float = 0.0,
    delivery_variants: bool = True,
    min_deaths_per_file: float = DEFAULT_MIN_DEATHS_PER_FILE,
    reference_dir: Path | str | None = None,
) -> Manifest:
    """Write synthetic births (y_te_sinh) and child deaths (y_te_tu_vong) feeds under ``landing_dir``.

    ``provinces`` filters by NEW (post-2025-07) province code; pre-reform periods then get every old
    province that maps into a selected new province. ``scale`` multiplies the national ≈1.37 M live
    births a year. ``min_deaths_per_file`` is a floor on the EXPECTED deaths of a file so that small
    scales still produce deaths: the top-up is deaths aged 5–17, so neonatal/infant/under-5 rates stay
    realistic while the 5–17 death rate is inflated in files below the floor (0 disables it).
    Output is deterministic for a seed, and a file's rows do not depend on which other provinces or
    periods are generated. Returns the manifest, also written to ``<landing_dir>/_manifest.json``.
    """
    check_rates(scale, invalid_rate)
    geo = load_geography(reference_dir)
    landing = Path(landing_dir)
    parsed = parse_periods(periods)
    selected = new_provinces(geo, provinces)
    run = HealthRun(geo, build_population(geo, seed), landing, scale, seed, invalid_rate, delivery_variants,
               min_deaths_per_file)
    jobs = files_to_write(geo, parsed, selected)
    files = [run.write_file(feed, period, province, index)
             for feed in HEALTH_FEEDS
             for index, (period, province) in enumerate(jobs)]
    manifest = Manifest(
        landing_dir=str(landing),
        generator=GENERATOR,
        parameters={
            "feeds": list(HEALTH_FEEDS), "scale": scale, "seed": seed, "periods": [p.label for p in parsed],
            "provinces": None if provinces is None else selected, "invalid_rate": invalid_rate,
            "delivery_variants": delivery_variants, "min_deaths_per_file": min_deaths_per_file,
        },
        files=files,
    )
    manifest.write(landing)
    return manifest


def write_births_csv(
    path: Path | str,
    n_rows: int,
    seed: int = 13,
    *,
    period: str = "2024-H1",
    provinces: Sequence[str] | None = None,
    delivery: Delivery | None = None,
    invalid_rate: float = 0.0,
    reference_dir: Path | str | None = None,
) -> FileEntry:
    """Stream ``n_rows`` births of ``period`` into one CSV file (for benchmarks; rows are never held
    in memory). ``provinces`` are codes in the period's vintage (default: the whole country, so the
    file mixes provinces). Valid unless ``invalid_rate`` > 0; plain form unless ``delivery`` is given."""
    geo = load_geography(reference_dir)
    p = Period.parse(period)
    vintage = p.vintage
    chosen = geo.provinces(vintage) if provinces is None else [str(x).zfill(2) for x in provinces]
    area = build_area(geo, build_population(geo, seed), vintage, chosen)
    key = f"{seed}|bench|{BIRTHS_FEED}|{p.label}"
    injector = InvalidInjector(BIRTHS_FEED, geo, vintage, invalid_rate, random.Random(f"{key}|invalid"))
    invalid: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    target = Path(path)
    delivery = delivery or Delivery()
    with CsvFeedWriter(target, COLUMNS[BIRTHS_FEED], delivery, CODE_COLUMNS[BIRTHS_FEED],
                       random.Random(f"{key}|format")) as writer:
        for row, tag in birth_rows(random.Random(f"{key}|rows"), area, p, n_rows, f"S-BENCH-{p.label}-"):
            kind = injector.maybe_corrupt(row)
            if kind:
                invalid[kind] += 1
            else:
                _count(counts, BIRTHS_FEED, tag)
            writer.write(row)
    return FileEntry(
        feed=BIRTHS_FEED, path=target.name, province="*" if provinces is None else ",".join(chosen),
        vintage=vintage, period=p.label, rows=n_rows, valid_rows=n_rows - sum(invalid.values()),
        invalid_rows=dict(sorted(invalid.items())), variants=delivery.describe(),
        counts=dict(sorted(counts.items())), sha256=sha256_of(target),
    )
