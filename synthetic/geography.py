"""Administrative units of both vintages, read from the reference seeds in ``dbt/seeds/reference``.

Codes stay zero-padded text. A code means nothing without its vintage (new Lào Cai is 15, the old
Yên Bái code), so every lookup here takes the vintage.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

PRE_REFORM = "pre_2025_07"
POST_REFORM = "2025_07"
VINTAGES = (PRE_REFORM, POST_REFORM)

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "reference"
SEED_FILES = (
    "admin_units_pre2025.csv",
    "admin_units_2025.csv",
    "admin_conversion_2025.csv",
    "province_conversion_2025.csv",
)


@dataclass(frozen=True)
class ConversionLink:
    """One row of the old → new commune conversion table."""

    old_province: str
    old_commune: str
    new_province: str
    new_commune: str
    is_split: bool
    is_default: bool


@dataclass
class Geography:
    """Communes and provinces of both vintages plus the 2025 conversion."""

    # vintage -> province code -> sorted commune codes
    communes_by_province: dict[str, dict[str, list[str]]]
    # vintage -> commune code -> province code
    province_of_commune: dict[str, dict[str, str]]
    # vintage -> commune code -> commune type (Xã / Phường / Thị trấn / Đặc khu)
    commune_type: dict[str, dict[str, str]]
    # vintage -> province code -> name
    province_name: dict[str, dict[str, str]]
    old_to_new_province: dict[str, str]
    conversion: list[ConversionLink] = field(repr=False)

    def provinces(self, vintage: str) -> list[str]:
        return sorted(self.communes_by_province[vintage])

    def communes(self, vintage: str, province: str) -> list[str]:
        return self.communes_by_province[vintage][province]

    def all_communes(self, vintage: str) -> set[str]:
        return set(self.province_of_commune[vintage])

    def old_provinces_of(self, new_province: str) -> list[str]:
        return sorted(o for o, n in self.old_to_new_province.items() if n == new_province)

    @cached_property
    def known_communes(self) -> frozenset[str]:
        """Commune codes of either vintage."""
        return frozenset(self.province_of_commune[PRE_REFORM]) | frozenset(self.province_of_commune[POST_REFORM])

    @cached_property
    def new_commune(self) -> dict[str, str]:
        """Old commune -> the new commune its people carry from 1 July 2025 (a split commune's default one,
        else its first)."""
        out: dict[str, str] = {}
        known = self.province_of_commune[POST_REFORM]
        for link in self.conversion:
            if not link.old_commune or link.new_commune not in known:
                continue
            if link.is_default:
                out[link.old_commune] = link.new_commune
            else:
                out.setdefault(link.old_commune, link.new_commune)
        return out

    @cached_property
    def old_sources(self) -> dict[str, list[str]]:
        """New province -> the old provinces with communes whose new commune lies in it."""
        out: dict[str, set[str]] = {}
        for old, new in self.new_commune.items():
            old_province = self.province_of_commune[PRE_REFORM].get(old)
            if old_province:
                out.setdefault(self.province_of_commune[POST_REFORM][new], set()).add(old_province)
        return {k: sorted(v) for k, v in out.items()}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _flag(value: str) -> bool:
    return value.strip().lower() in {"true", "t", "1", "yes", "y"}


def load_geography(reference_dir: Path | str | None = None) -> Geography:
    """Read the four reference seeds (cached per directory)."""
    return _load(Path(reference_dir or REFERENCE_DIR).resolve())


@lru_cache(maxsize=4)
def _load(reference_dir: Path) -> Geography:
    missing = [name for name in SEED_FILES if not (reference_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"reference seeds missing in {reference_dir}: {', '.join(missing)}")

    communes_by_province: dict[str, dict[str, list[str]]] = {v: defaultdict(list) for v in VINTAGES}
    province_of_commune: dict[str, dict[str, str]] = {v: {} for v in VINTAGES}
    commune_type: dict[str, dict[str, str]] = {v: {} for v in VINTAGES}
    province_name: dict[str, dict[str, str]] = {v: {} for v in VINTAGES}

    for vintage, name in ((PRE_REFORM, SEED_FILES[0]), (POST_REFORM, SEED_FILES[1])):
        for row in _read(reference_dir / name):
            province, commune = row["province_code"], row["commune_code"]
            if not commune:
                continue  # e.g. island districts without communes
            communes_by_province[vintage][province].append(commune)
            province_of_commune[vintage][commune] = province
            commune_type[vintage][commune] = row.get("commune_type", "")
            province_name[vintage].setdefault(province, row.get("province_name", ""))

    old_to_new = {
        row["old_province_code"]: row["new_province_code"]
        for row in _read(reference_dir / SEED_FILES[3])
    }
    conversion = [
        ConversionLink(
            old_province=row["old_province_code"],
            old_commune=row["old_commune_code"],
            new_province=row["new_province_code"],
            new_commune=row["new_commune_code"],
            is_split=_flag(row.get("is_split", "")),
            is_default=_flag(row.get("is_default_new_commune", "")),
        )
        for row in _read(reference_dir / SEED_FILES[2])
    ]
    return Geography(
        communes_by_province={v: {p: sorted(c) for p, c in d.items()} for v, d in communes_by_province.items()},
        province_of_commune=province_of_commune,
        commune_type=commune_type,
        province_name=province_name,
        old_to_new_province=old_to_new,
        conversion=conversion,
    )
