"""CSV files written from arrays (``synthetic.textbytes``) in a delivery form of ``synthetic.formats``: the big
CSV feeds (doses, students). Same variants as ``CsvFeedWriter``: BOM, CRLF, NFD, column order, an extra
notes column, header case/spacing, codes that lose their leading zeros on some rows.

A column is a ``Text`` (entries of a small set of texts, by index: codes, names' parts, statuses) or ``Raw``
pieces (dates, digits: ASCII, never quoted). The rare invalid rows are rendered one by one (``row_bytes``)
with the same delivery and spliced in.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synthetic.formats import EXTRA_COLUMN, NOTES, Delivery, strip_zeros
from synthetic.textbytes import Piece, Vocabulary, const, lines, write


def _quoted(text: str) -> str:
    """The text as the csv module writes a field (QUOTE_MINIMAL)."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _nfd(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFD", text)


@dataclass
class Text:
    """Column values taken from ``texts`` by ``index``; ``code``: digit codes that may lose leading zeros."""

    texts: Sequence[str]
    index: np.ndarray
    code: bool = False


@dataclass
class Raw:
    """Column values as prebuilt pieces (ASCII only); ``nfd_pieces`` when the NFD variant changes them."""

    pieces: list[Piece]
    nfd_pieces: list[Piece] | None = None


@dataclass
class CsvTable:
    """The valid rows of one file, column by column (canonical column names)."""

    columns: Sequence[str]
    values: dict[str, Text | Raw]
    rows: int
    replace: dict[int, list[list[str]]] = field(default_factory=dict)   # row -> rows written in its place


def header_bytes(columns: Sequence[str], delivery: Delivery) -> bytes:
    order = _order(columns, delivery)
    styles = dict(delivery.header_styles)
    names = [styles.get(name, name) for name in order]
    return _line([_nfd(n) if delivery.nfd else n for n in names], delivery)


def _order(columns: Sequence[str], delivery: Delivery) -> list[str]:
    names = list(columns) + ([EXTRA_COLUMN] if delivery.extra_column else [])
    return list(delivery.column_order) if delivery.column_order is not None else names


def _line(fields: Sequence[str], delivery: Delivery) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if delivery.crlf else "\n").writerow(fields)
    return out.getvalue().encode()


def row_bytes(row: Sequence[str], columns: Sequence[str], delivery: Delivery, note: str = "") -> bytes:
    """One row (canonical order) as the file's delivery writes it (the extra column gets ``note``)."""
    value = dict(zip(columns, row))
    value[EXTRA_COLUMN] = note
    fields = [value[name] for name in _order(columns, delivery)]
    return _line([_nfd(f) if delivery.nfd else f for f in fields], delivery)


def write_csv(path: Path, table: CsvTable, delivery: Delivery, rng: np.random.Generator) -> str:
    """The file: BOM, header, the valid rows assembled from arrays, the replaced rows spliced in; returns
    its sha256."""
    n = table.rows
    unpadded = (rng.random(n) < delivery.unpadded_code_rate) if delivery.unpadded_code_rate else None
    note = rng.integers(0, len(NOTES), n) if delivery.extra_column else None
    pieces: list[Piece] = []
    for k, name in enumerate(_order(table.columns, delivery)):
        if k:
            pieces.append(const(","))
        if name == EXTRA_COLUMN:
            pieces.append(Vocabulary([_quoted(_nfd(t) if delivery.nfd else t) for t in NOTES]).piece(note))
            continue
        value = table.values[name]
        if isinstance(value, Raw):
            pieces.extend(value.nfd_pieces if delivery.nfd and value.nfd_pieces is not None else value.pieces)
            continue
        texts = [_nfd(t) if delivery.nfd else t for t in value.texts]
        index = value.index
        if len(texts) == 1 and not (value.code and unpadded is not None):
            pieces.append(const(_quoted(texts[0])))   # one value for the whole file
            continue
        if value.code and unpadded is not None:
            texts = texts + [strip_zeros(t) if t[:1] == "0" and t.isdigit() else t for t in texts]
            index = index + len(value.texts) * unpadded
        pieces.append(Vocabulary([_quoted(t) for t in texts] or [""]).piece(index))
    pieces.append(const("\r\n" if delivery.crlf else "\n"))
    swaps = {i: b"".join(row_bytes(r, table.columns, delivery) for r in rows) for i, rows in table.replace.items()}
    head = ("\ufeff".encode() if delivery.bom else b"") + header_bytes(table.columns, delivery)
    return write(path, head, lines(pieces, n, swaps))
