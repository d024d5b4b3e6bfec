"""What every feed generator shares around its files: the argument checks, which provinces a run covers in
each vintage, the per-file random streams, and the file's sha256 for the manifest."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from synthetic.geography import POST_REFORM, PRE_REFORM, Geography
from synthetic.periods import Period

DEFAULT_PERIODS = ("2024-H1", "2024-H2", "2025-H1", "2025-H2")


def check_rates(scale: float, invalid_rate: float = 0.0) -> None:
    if scale <= 0:
        raise ValueError("scale must be positive")
    if not 0 <= invalid_rate < 1:
        raise ValueError("invalid_rate must be in [0, 1)")


def parse_periods(periods: Sequence[str] | str) -> list[Period]:
    parsed = [Period.parse(p) for p in ([periods] if isinstance(periods, str) else periods)]
    if len({p.label for p in parsed}) != len(parsed):
        raise ValueError("duplicate periods")
    return parsed


def new_provinces(geo: Geography, provinces: Sequence[str] | str | None) -> list[str]:
    """The selected NEW (post-2025-07) province codes, checked and sorted (default: all 34)."""
    known = geo.provinces(POST_REFORM)
    if provinces is None:
        return known
    if isinstance(provinces, str):
        provinces = [provinces]
    chosen = sorted({str(p).strip().zfill(2) for p in provinces})
    unknown = [p for p in chosen if p not in known]
    if unknown:
        raise ValueError(f"unknown new (post-2025-07) province code(s): {', '.join(unknown)}")
    return chosen


def provinces_in(geo: Geography, vintage: str, selected_new: Sequence[str]) -> list[str]:
    """The run's provinces in a vintage: before the reform the old provinces that map into a selected new one."""
    if vintage == PRE_REFORM:
        return sorted({old for new in selected_new for old in geo.old_provinces_of(new)})
    return sorted(selected_new)


def files_to_write(geo: Geography, periods: Sequence[Period], selected_new: Sequence[str]
                   ) -> list[tuple[Period, str]]:
    """(period, province in the period's vintage) of every file of a half-yearly feed."""
    return [(period, p) for period in periods for p in provinces_in(geo, period.vintage, selected_new)]


def numpy_rng(*parts: object) -> np.random.Generator:
    """A numpy generator seeded by the parts' text (stable across runs and platforms)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return np.random.default_rng(np.random.SeedSequence(int.from_bytes(digest[:16], "little")))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
