"""JSON-lines files (the child-affairs feeds): delivery variants, the object writer used for single lines (the
rare invalid ones, and the small abuse feed), and the invalid-line helpers both feeds share.

Delivery variants (per file, recorded in the manifest's ``variants``; one is forced per file in turn): a
shuffled key order (also inside nested objects), compact separators, ``\\uXXXX`` escapes (``ensure_ascii``),
names in Unicode NFD, a UTF-8 BOM, CRLF line ends. All lines stay valid JSON.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MALFORMED_JSON = "malformed_json"                    # truncated line, trailing comma, single quotes
BAD_DATE = "bad_date"                                # 2015-02-30 or 30/02/2015
UNKNOWN_COMMUNE = "unknown_commune"                  # a code unknown in both vintages
COMMUNE_OUTSIDE_PROVINCE = "commune_outside_province"  # another province's commune of the same vintage

VARIANT_SHARES = {"shuffled_keys": 0.3, "compact": 0.5, "ascii_escapes": 0.2, "nfd_names": 0.1, "bom": 0.1,
                  "crlf": 0.1}


def choose_variants(rng: random.Random, index: int, names: bool) -> dict[str, Any]:
    chosen = {k: rng.random() < share for k, share in VARIANT_SHARES.items()}
    kinds = [k for k in VARIANT_SHARES if names or k != "nfd_names"]
    chosen[kinds[index % len(kinds)]] = True
    if not names:
        chosen["nfd_names"] = False
    return chosen


class JsonWriter:
    """Serialises the objects of one file with its delivery variants; ``malformed`` corrupts a line."""

    def __init__(self, rng: random.Random, variants: dict[str, Any], keys: Sequence[str],
                 nested: dict[str, Sequence[str]]):
        self.rng, self.variants = rng, variants
        shuffled = variants["shuffled_keys"]

        def order(ks: Sequence[str]) -> tuple[str, ...]:
            ks = list(ks)
            if shuffled:
                rng.shuffle(ks)
            return tuple(ks)

        self.order = order(keys)
        self.nested = {k: order(v) for k, v in nested.items()}
        separators = (",", ":") if variants["compact"] else (", ", ": ")
        self.encoder = json.JSONEncoder(ensure_ascii=variants["ascii_escapes"], separators=separators)
        self.lines: list[str] = []

    def _reorder(self, obj: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for k in self.order:
            if k not in obj:
                continue
            v = obj[k]
            sub = self.nested.get(k)
            if sub is not None:
                if isinstance(v, dict):
                    v = {s: v[s] for s in sub if s in v}
                elif isinstance(v, list):
                    v = [{s: item[s] for s in sub if s in item} if isinstance(item, dict) else item for item in v]
            out[k] = v
        for k in obj:  # keys not in the canonical list (none in valid lines)
            if k not in out:
                out[k] = obj[k]
        return out

    def text(self, obj: dict[str, Any]) -> str:
        return self.encoder.encode(self._reorder(obj) if self.variants["shuffled_keys"] else obj)

    def write(self, obj: dict[str, Any], malformed: bool = False) -> None:
        line = self.text(obj)
        self.lines.append(self.malform(line) if malformed else line)

    def malform(self, line: str) -> str:
        """A line that is no longer JSON: truncated, a trailing comma, or single quotes."""
        how = self.rng.randrange(3)
        if how == 0:
            return line[:self.rng.randint(max(1, len(line) // 3), len(line) - 2)]
        if how == 1:
            return line[:-1] + ",}"
        return line.replace('"', "'")

    @property
    def separators(self) -> tuple[str, str]:
        return self.encoder.item_separator, self.encoder.key_separator

    @property
    def line_end(self) -> str:
        return "\r\n" if self.variants["crlf"] else "\n"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        end = "\r\n" if self.variants["crlf"] else "\n"
        text = "".join(line + end for line in self.lines)
        with path.open("w", encoding="utf-8", newline="") as fh:
            if self.variants["bom"]:
                fh.write("\ufeff")
            fh.write(text)


def impossible_date(rng: random.Random, year: int) -> str:
    month_day = rng.choice(((2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31), (13, 1)))
    if year % 4 != 0 and rng.random() < 0.3:
        month_day = (2, 29)
    m, d = month_day
    return f"{year:04d}-{m:02d}-{d:02d}" if rng.random() < 0.5 else f"{d:02d}/{m:02d}/{year:04d}"


def describe(variants: dict[str, Any], writer: JsonWriter) -> dict[str, Any]:
    out: dict[str, Any] = {k: bool(v) for k, v in variants.items() if k in VARIANT_SHARES}
    if variants["shuffled_keys"]:
        out["key_order"] = list(writer.order)
    for k, v in variants.items():
        if k not in VARIANT_SHARES:
            out[k] = v
    return out
