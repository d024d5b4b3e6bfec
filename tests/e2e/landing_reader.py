"""Reading landing files the plain way (csv module, no project code), for independent expected values."""

from __future__ import annotations

import csv
import unicodedata
from datetime import date
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "reference"


def _key(header: str) -> str:
    return " ".join(unicodedata.normalize("NFC", header).split()).casefold()


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, {normalised header: NFC cell}) of every non-blank data row."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = [_key(h) for h in rows[0]]
    return [(i + 2, dict(zip(header, (unicodedata.normalize("NFC", c.strip()) for c in cells))))
            for i, cells in enumerate(rows[1:]) if any(cells)]


def feed_rows(landing: Path, feed: str, quarantined: set[tuple[str, int]]):
    """The rows of a feed that were not quarantined, with their file name."""
    for path in sorted((landing / feed).iterdir()):
        for line, row in read_rows(path):
            if (path.name, line) not in quarantined:
                yield path.name, row


def parse_date(text: str) -> date:
    day, month, year = (int(p) for p in text.split("/"))
    return date(year, month, day)


def periods_of(day: date) -> list[str]:
    return [str(day.year), f"{day.year}-H{1 if day.month <= 6 else 2}"]


def period_end(period: str) -> date:
    year = int(period[:4])
    if period.endswith("H1"):
        return date(year, 6, 30)
    return date(year, 12, 31)


def completed_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def to_current_province() -> dict[str, str]:
    with open(REFERENCE / "province_conversion_2025.csv", encoding="utf-8") as handle:
        return {row["old_province_code"]: row["new_province_code"] for row in csv.DictReader(handle)}


def current_province(province: str, day: date, mapping: dict[str, str]) -> str:
    province = province.zfill(2)
    return mapping[province] if day < date(2025, 7, 1) else province
