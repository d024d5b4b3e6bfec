"""Administrative units of both vintages, for checking codes at load.

Read from the same reference files that dbt seeds into the warehouse, so ingest and marts agree.
A code means nothing without its vintage (codes are reused after the 2025 reform), so every lookup
takes the vintage.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "reference"

PRE_REFORM = "pre_2025_07"
POST_REFORM = "2025_07"
REFORM_DATE = "2025-07-01"  # ISO text: compares correctly as a string


def vintage_of(iso_date: str) -> str:
    return PRE_REFORM if iso_date < REFORM_DATE else POST_REFORM


@dataclass(frozen=True)
class AdminUnits:
    provinces: dict[str, frozenset[str]]          # vintage -> province codes
    commune_province: dict[tuple[str, str], str]  # (vintage, commune) -> province

    def has_province(self, vintage: str, province: str) -> bool:
        return province in self.provinces[vintage]

    def province_of_commune(self, vintage: str, commune: str) -> str | None:
        return self.commune_province.get((vintage, commune))


@lru_cache(maxsize=1)
def admin_units(reference_dir: Path = REFERENCE_DIR) -> AdminUnits:
    provinces: dict[str, set[str]] = {PRE_REFORM: set(), POST_REFORM: set()}
    communes: dict[tuple[str, str], str] = {}
    for vintage, file_name in ((PRE_REFORM, "admin_units_pre2025.csv"),
                               (POST_REFORM, "admin_units_2025.csv")):
        with open(reference_dir / file_name, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                provinces[vintage].add(row["province_code"])
                communes[(vintage, row["commune_code"])] = row["province_code"]
    return AdminUnits({v: frozenset(codes) for v, codes in provinces.items()}, communes)
