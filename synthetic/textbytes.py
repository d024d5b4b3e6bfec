"""Text lines assembled from numpy arrays, without a Python object per row.

A line is a sequence of pieces. Each piece is a uint8 matrix (one row per line, or one row shared by every
line) of which each line keeps the bytes ``[start, stop)``: a constant, a value looked up in a vocabulary,
the digits of a number, a date. ``join`` lays the pieces side by side and keeps the wanted bytes with one
boolean mask, in blocks, so a million lines cost a few array operations instead of a million ``format``
calls. The big feeds (register, students, doses) are written this way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BLOCK_ROWS = 8192   # lines per block: small enough for the temporary matrices to stay in cache


@dataclass(frozen=True)
class Piece:
    """Line ``i`` gets row ``index[i]`` of ``table`` (row 0 on every line when ``index`` is None) without
    its padding NUL bytes."""

    table: np.ndarray                  # uint8 (k, w), texts padded with NUL bytes
    index: np.ndarray | None = None

    @property
    def width(self) -> int:
        return self.table.shape[1]


def const(text: str | bytes) -> Piece:
    raw = text.encode() if isinstance(text, str) else text
    return Piece(np.frombuffer(raw, dtype=np.uint8).reshape(1, -1).copy())


class Vocabulary:
    """Strings looked up by index: ``vocab.piece(idx)`` is the text of entry ``idx[i]`` on line ``i``."""

    def __init__(self, texts: Sequence[str | bytes]):
        raw = [t.encode() if isinstance(t, str) else t for t in texts]
        if any(b"\0" in r for r in raw):
            raise ValueError("a text holds a NUL byte (NUL pads the texts)")
        self.texts = list(texts)
        self.lengths = np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))
        width = max(int(self.lengths.max()) if len(raw) else 0, 1)
        # numpy pads each text with NUL bytes to the width: the padding that lines() drops
        self.table = np.array(raw, dtype=f"S{width}").view(np.uint8).reshape(len(raw), width)

    def piece(self, index: np.ndarray) -> Piece:
        return Piece(self.table, np.asarray(index, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.texts)


# digit groups and every day of DATE_RANGE in both date styles: numbers and dates are looked up, not formatted
_GROUPS = {k: Vocabulary([f"{i:0{k}d}" for i in range(10 ** k)]) for k in (1, 2, 3)}
DATE_RANGE = (int(np.datetime64("1950-01-01", "D").astype(np.int64)),
              int(np.datetime64("2100-01-01", "D").astype(np.int64)))
_PLAIN: dict[int, Vocabulary] = {}


def digits(values: np.ndarray, width: int) -> list[Piece]:
    """Zero-padded decimal digits of non-negative integers below 10 ** width."""
    v = np.asarray(values, dtype=np.int64)
    out, rest = [], width
    while rest > 0:
        k = rest % 3 or 3
        rest -= k
        out.append(_GROUPS[k].piece(v // 10 ** rest % 10 ** k))
    return out


def number(values: np.ndarray, below: int) -> Piece:
    """Decimal text of non-negative integers below ``below`` (a small bound: the texts are a table)."""
    if below not in _PLAIN:
        _PLAIN[below] = Vocabulary([str(i) for i in range(below)])
    return _PLAIN[below].piece(values)


def civil(ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of day ordinals (days since 1970-01-01)."""
    d = np.asarray(ordinals, dtype=np.int64).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970
    return year, month.astype(np.int64) % 12 + 1, (d - month.astype("datetime64[D]")).astype(np.int64) + 1


_DATES: dict[str, Vocabulary] = {}


def date_text(ordinals: np.ndarray, style: str) -> Piece:
    """Dates as ``iso`` (yyyy-mm-dd) or ``dmy`` (dd/mm/yyyy)."""
    if style not in _DATES:
        y, m, d = civil(np.arange(*DATE_RANGE))
        form = {"iso": "{0:04d}-{1:02d}-{2:02d}", "dmy": "{2:02d}/{1:02d}/{0:04d}"}[style]
        _DATES[style] = Vocabulary([form.format(*ymd) for ymd in zip(y.tolist(), m.tolist(), d.tolist())])
    return _DATES[style].piece(np.asarray(ordinals, dtype=np.int64) - DATE_RANGE[0])


def _layout(pieces: Sequence[Piece], data: np.ndarray) -> list[tuple[int, Piece]]:
    """Fill the constants once (every block shares them); return the pieces a block must still fill, with
    their columns."""
    col, varying = 0, []
    for p in pieces:
        w = p.width
        if p.index is None:
            data[:, col:col + w] = p.table[0]
        else:
            varying.append((col, p))
        col += w
    return varying


_POOL: list[np.ndarray] = [np.empty(0, dtype=np.uint8), np.empty(0, dtype=bool)]


def _buffers(rows: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A (rows, width) byte matrix and mask, carved from buffers reused by every file: fresh pages would
    cost more than the copying itself."""
    size = rows * width
    if _POOL[0].size < size:
        _POOL[0], _POOL[1] = np.empty(size, dtype=np.uint8), np.empty(size, dtype=bool)
    return _POOL[0][:size].reshape(rows, width), _POOL[1][:size].reshape(rows, width)


def lines(pieces: Sequence[Piece], n: int, replace: dict[int, bytes] | None = None) -> Iterator[bytes | np.ndarray]:
    """The ``n`` lines in blocks of bytes, laid end to end; ``replace`` swaps whole lines (with their line end)
    for other bytes: the rare invalid rows, made one by one.

    A block is the pieces side by side in a byte matrix; a text shorter than its piece's width is padded with
    NUL bytes (the vocabularies' padding), which no text contains, so one ``!= 0`` pass finds the bytes to keep."""
    width = sum(p.width for p in pieces)
    rows = min(n, BLOCK_ROWS)
    data, keep = _buffers(rows, width)
    varying = _layout(pieces, data)
    swaps = sorted((replace or {}).items())
    s = 0
    for lo in range(0, n, BLOCK_ROWS):
        hi = min(n, lo + BLOCK_ROWS)
        block, k = data[:hi - lo], keep[:hi - lo]
        for col, p in varying:
            np.take(p.table, p.index[lo:hi], axis=0, out=block[:, col:col + p.width])
        np.not_equal(block, 0, out=k)
        text = block[k]
        if s < len(swaps) and swaps[s][0] < hi:
            ends = np.cumsum(np.count_nonzero(k, axis=1))
            at = 0
            while s < len(swaps) and swaps[s][0] < hi:
                i, other = swaps[s]
                end = int(ends[i - lo])
                start = end - int(np.count_nonzero(k[i - lo]))
                yield text[at:start]
                yield other
                at, s = end, s + 1
            yield text[at:]
        else:
            yield text


def write(path: Path, head: bytes, blocks: Iterable[bytes | np.ndarray]) -> str:
    """A file of ``head`` (BOM, header line) and the blocks, written as they come; returns its sha256
    (hashed on the way, not read back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(head)
    with path.open("wb") as fh:
        fh.write(head)
        for block in blocks:
            digest.update(block)
            fh.write(block)
    return digest.hexdigest()
