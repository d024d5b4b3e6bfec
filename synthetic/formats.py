"""Writing feed CSV files, with the delivery variants real sector exports show.

Every variant here is a VALID delivery (sources.md, "Rules shared by every feed"): a correct reader
must load all rows of such a file. Rows are written as they come (streaming).
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXTRA_COLUMN = "Ghi chú"
VARIANT_NAMES = ("bom", "crlf", "nfd", "shuffled_columns", "extra_column", "header_variants",
                 "unpadded_codes")
_VARIANT_PROBABILITY = {"bom": 0.4, "crlf": 0.4, "nfd": 0.25, "shuffled_columns": 0.3,
                        "extra_column": 0.3, "header_variants": 0.3, "unpadded_codes": 0.3}
NOTES = ("", "", "", "Đã xác minh", "Bổ sung sau", "Sinh đôi", "Chuyển từ xã khác đến",
          "Theo giấy chứng sinh, có sửa", 'Mẹ khai "không nhớ" ngày', "Ghi chép lại, 2 lần",
          "Cán bộ y tế xã nhập")


@dataclass(frozen=True)
class Delivery:
    """How one file is physically written. The default is the plain canonical form."""

    bom: bool = False
    crlf: bool = False
    nfd: bool = False
    column_order: tuple[str, ...] | None = None   # None: canonical order (plus the extra column last)
    extra_column: bool = False
    header_styles: tuple[tuple[str, str], ...] = ()  # (canonical header, header as written)
    unpadded_code_rate: float = 0.0               # share of rows whose codes lose leading zeros

    def describe(self) -> dict[str, Any]:
        """The variants in use, as recorded in the manifest (empty dict for a plain file)."""
        out: dict[str, Any] = {}
        if self.bom:
            out["bom"] = True
        if self.crlf:
            out["crlf"] = True
        if self.nfd:
            out["nfd"] = True
        if self.column_order is not None:
            out["shuffled_columns"] = list(self.column_order)
        if self.extra_column:
            out["extra_column"] = EXTRA_COLUMN
        if self.header_styles:
            out["header_variants"] = {k: v for k, v in self.header_styles if k != v}
        if self.unpadded_code_rate > 0:
            out["unpadded_codes"] = self.unpadded_code_rate
        return out


def _header_variant(rng: random.Random, header: str) -> str:
    style = rng.choice(("upper", "lower", "title", "padded", "upper_padded"))
    if style in ("upper", "upper_padded"):
        header = header.upper()
    elif style == "lower":
        header = header.lower()
    elif style == "title":
        header = header.title()
    if style in ("padded", "upper_padded"):
        header = " " * rng.randint(1, 2) + header + " " * rng.randint(1, 2)
    return header


def choose_delivery(rng: random.Random, columns: Sequence[str], *, force: str | None = None) -> Delivery:
    """Draw the variants of one file; ``force`` switches one variant on regardless of the draw."""
    on = {name for name in VARIANT_NAMES if rng.random() < _VARIANT_PROBABILITY[name] or name == force}
    extra = "extra_column" in on
    names = list(columns) + ([EXTRA_COLUMN] if extra else [])
    order = None
    if "shuffled_columns" in on:
        shuffled = names[:]
        while shuffled == names:
            rng.shuffle(shuffled)
        order = tuple(shuffled)
    styles: tuple[tuple[str, str], ...] = ()
    if "header_variants" in on:
        chosen = [h for h in names if rng.random() < 0.5] or [rng.choice(names)]
        styles = tuple((h, _header_variant(rng, h)) for h in names if h in chosen)
    return Delivery(
        bom="bom" in on,
        crlf="crlf" in on,
        nfd="nfd" in on,
        column_order=order,
        extra_column=extra,
        header_styles=styles,
        unpadded_code_rate=round(rng.uniform(0.1, 0.5), 2) if "unpadded_codes" in on else 0.0,
    )


def strip_zeros(code: str) -> str:
    stripped = code.lstrip("0")
    return stripped or "0"


@dataclass
class CsvFeedWriter:
    """Streams rows (lists in canonical column order) to one CSV file in a given delivery form."""

    path: Path
    columns: Sequence[str]
    delivery: Delivery = field(default_factory=Delivery)
    code_columns: Sequence[str] = ()
    rng: random.Random | None = None  # for the row-level variants (unpadded codes, notes)

    def __enter__(self) -> CsvFeedWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        d = self.delivery
        self._fh = self.path.open("w", encoding="utf-8-sig" if d.bom else "utf-8", newline="")
        self._writer = csv.writer(self._fh, lineterminator="\r\n" if d.crlf else "\n")
        self._rng = self.rng or random.Random(0)
        names = list(self.columns) + ([EXTRA_COLUMN] if d.extra_column else [])
        order = list(d.column_order) if d.column_order is not None else names
        position = {name: i for i, name in enumerate(names)}
        self._take = [position[name] for name in order]
        self._identity = self._take == list(range(len(names)))
        self._codes = [i for i, name in enumerate(self.columns) if name in set(self.code_columns)]
        styles = dict(d.header_styles)
        self._writer.writerow([self._text(styles.get(name, name)) for name in order])
        self.rows = 0
        return self

    def _text(self, value: str) -> str:
        if self.delivery.nfd and not value.isascii():
            return unicodedata.normalize("NFD", value)
        return value

    def write(self, row: list[str]) -> None:
        d = self.delivery
        if d.unpadded_code_rate and self._rng.random() < d.unpadded_code_rate:
            row = row[:]
            for i in self._codes:
                if row[i][:1] == "0" and row[i].isdigit():
                    row[i] = strip_zeros(row[i])
        if d.extra_column:
            row = row + [self._rng.choice(NOTES)]
        if not self._identity:
            row = [row[i] for i in self._take]
        if d.nfd:
            row = [self._text(v) for v in row]
        self._writer.writerow(row)
        self.rows += 1

    def __exit__(self, *exc: object) -> None:
        self._fh.close()
