"""Every feed of the ingest registry (FEEDS) at one scale (`python -m synthetic all`), and the sample landing
folder of `make run` (`python -m synthetic sample`). A new feed adds its generator to FEED_GENERATORS; a test
checks that every registered feed has one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from synthetic.abuse import generate_abuse_cases_feed
from synthetic.aggregate_reports import generate_aggregate_reports_feed
from synthetic.dan_so import generate_population_feed
from synthetic.education import generate_education_feed
from synthetic.feeds import generate_health_feeds
from synthetic.growth import generate_growth_feed
from synthetic.immunisation import generate_immunisation_feed
from synthetic.register import generate_child_register_feed

# ≈ 13,700 births, 245,000 children and 230,000 pupils a year nationally: a sample that loads in seconds.
# Every feed uses the same scale, so rates that combine feeds (preschool attendance) stay realistic.
SAMPLE_SCALE = 0.01
SEED = 2025
SAMPLE_INVALID_RATE = 0.002
# abuse is rare (≈2,000 victims a year nationally): the sample takes the national volume, so that the
# statistics and their suppression are realistic
SAMPLE_ABUSE_SCALE = 1.0

Generator = Callable[..., object]   # (landing, *, scale, seed, invalid_rate) -> Manifest


def _population(landing: Path, *, scale: float, seed: int, invalid_rate: float, **options: object) -> object:
    # population estimates have no invalid rows
    return generate_population_feed(landing, scale=scale, seed=seed, years=(2023, 2024, 2025), **options)


# (feeds written, generator); the births generator writes the deaths feed too (deaths are of those births)
FEED_GENERATORS: list[tuple[tuple[str, ...], Generator]] = [
    (("y_te_sinh", "y_te_tu_vong"), generate_health_feeds),
    (("dan_so",), _population),
    (("giao_duc_hoc_sinh",), generate_education_feed),
    (("y_te_tiem_chung",), generate_immunisation_feed),
    (("y_te_can_do",), generate_growth_feed),
    (("ldxh_tre_em",), generate_child_register_feed),
    (("ldxh_xam_hai",), generate_abuse_cases_feed),
    (("bao_cao_tong_hop",), generate_aggregate_reports_feed),
]


def generated_feeds() -> set[str]:
    return {feed for feeds, _ in FEED_GENERATORS for feed in feeds}


def generate_all(landing: Path, *, scale: float, seed: int = SEED, invalid_rate: float = 0.0,
                 scales: dict[str, float] | None = None, provinces: list[str] | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
    """Every feed at ``scale`` (``scales`` overrides it per feed, keyed by the first feed a generator writes);
    ``provinces``: NEW province codes (default all 34)."""
    for feeds, generate in FEED_GENERATORS:
        feed_scale = (scales or {}).get(feeds[0], scale)
        if progress:
            progress(f"{', '.join(feeds)} at scale {feed_scale:g} ...")
        generate(Path(landing), scale=feed_scale, seed=seed, invalid_rate=invalid_rate, provinces=provinces)


def generate_sample(landing: Path, progress: Callable[[str], None] | None = None) -> None:
    """The sample delivery of every feed: scale 0.01, seed 2025, abuse at the national volume."""
    generate_all(landing, scale=SAMPLE_SCALE, seed=SEED, invalid_rate=SAMPLE_INVALID_RATE,
                 scales={"ldxh_xam_hai": SAMPLE_ABUSE_SCALE}, progress=progress)
