"""The sample landing folder of `make run`: one generator for every feed of the ingest registry (FEEDS).
A new feed adds its generator here; a test checks that every registered feed has one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# ≈ 13,700 births, 245,000 children and 230,000 pupils a year nationally: a sample that loads in seconds.
# Every feed uses the same scale, so rates that combine feeds (preschool attendance) stay realistic.
SAMPLE_SCALE = 0.01
SEED = 2025


def _health(landing: Path) -> None:
    from synthetic import generate_health_feeds

    generate_health_feeds(landing, scale=SAMPLE_SCALE, seed=SEED, invalid_rate=0.002)


def _population(landing: Path) -> None:
    from synthetic import generate_population_feed

    generate_population_feed(landing, scale=SAMPLE_SCALE, seed=SEED, years=(2023, 2024, 2025))


def _with_invalid(name: str) -> Callable[[Path], None]:
    def generate(landing: Path) -> None:
        import synthetic

        getattr(synthetic, name)(landing, scale=SAMPLE_SCALE, seed=SEED, invalid_rate=0.002)
    return generate


def _abuse(landing: Path) -> None:
    from synthetic import generate_abuse_cases_feed

    # abuse is rare (≈2,000 victims a year nationally): the sample takes the national volume, so that the
    # statistics and their suppression are realistic
    generate_abuse_cases_feed(landing, scale=1.0, seed=SEED, invalid_rate=0.002)


# (feeds written, generator); the births generator writes the deaths feed too (deaths are of those births)
SAMPLE_GENERATORS: list[tuple[tuple[str, ...], Callable[[Path], None]]] = [
    (("y_te_sinh", "y_te_tu_vong"), _health),
    (("dan_so",), _population),
    (("giao_duc_hoc_sinh",), _with_invalid("generate_education_feed")),
    (("y_te_tiem_chung",), _with_invalid("generate_immunisation_feed")),
    (("y_te_can_do",), _with_invalid("generate_growth_feed")),
    (("ldxh_tre_em",), _with_invalid("generate_child_register_feed")),
    (("ldxh_xam_hai",), _abuse),
]


def generated_feeds() -> set[str]:
    return {feed for feeds, _ in SAMPLE_GENERATORS for feed in feeds}


def generate_sample(landing: Path) -> None:
    """A sample delivery of every feed the generators know."""
    for _, generate in SAMPLE_GENERATORS:
        generate(landing)
