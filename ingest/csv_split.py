"""Cut a CSV file into blocks of whole records, in time linear in the file size and bounded memory.

Arrow parses each block; this module only decides where records end, and sets aside the records Arrow must
not see: a record longer than the cell limit (streamed past, never held), and a record with a quote problem.

Quotes follow RFC 4180, as Arrow reads them: a quote opens a quoted value only at the start of a field; in a
quoted value `""` is a quote; the closing quote ends the field. So in a well-formed file every quote is
either an *opener* (the byte before it is a comma, a line break, the start of the data, or the closing
quote of a `""` pair) or a *closer* (the byte after it is a comma, a line break, or a quote). Openers and
closers alternate, so a line break is inside a quoted value exactly when an odd number of quotes precede
it in the record: the parity is counted once per block with numpy, never rescanned.

Two problems are quarantined, each as the record from its first line to the end of the line the problem is
on, after which reading resumes on the next line (so one bad quote costs one record):

- a *stray quote*: a quote that is neither an opener nor a closer where it stands, e.g. `Nguyen "Van A`
  (RFC 4180: quotes may not appear inside an unquoted field);
- an *unbalanced quote*: a quoted value that does not close within `max_quoted_lines` line breaks, or
  before the end of the file. Arrow would swallow the rest of the file into that one value.

A record longer than `max_record_bytes` is quarantined with its length, the first of its cells over the limit
(when one is: else the whole line is the problem), a short prefix and a SHA-256; it is scanned in blocks and
never held.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

_QUOTE, _COMMA, _LF, _CR = 0x22, 0x2C, 0x0A, 0x0D
# Lookup tables by byte: what may stand before an opening quote, and after a closing one.
_MAY_PRECEDE_OPENER = np.zeros(256, dtype=bool)
_MAY_PRECEDE_OPENER[[_COMMA, _LF, _CR, _QUOTE]] = True
_MAY_FOLLOW_CLOSER = _MAY_PRECEDE_OPENER
PREFIX_BYTES = 1024  # read for a quarantined record's prefix (200 characters are kept)


@dataclass
class Records:
    """Whole records, starting at physical line `first_line`, ending with a line break."""
    first_line: int
    data: bytes


@dataclass
class Problem:
    """A record set aside: `start` to `end` are its bytes in the file, lines `first_line`..`last_line`."""
    first_line: int
    last_line: int
    start: int
    end: int
    kind: str                       # "stray quote", "unbalanced quote", "too long"
    detail_line: int                # the line of the stray quote, or where the unclosed value opened
    cell_index: int | None = None   # for "too long": the field over the limit, if one is
    cell_start: int = 0
    cell_end: int = 0


@dataclass
class _Scan:
    """The quote analysis of whole lines of a window, from a record start (parity even)."""
    newlines: np.ndarray
    boundaries: np.ndarray          # line breaks that end a record (before `problem_at`)
    problem_at: int | None          # byte of the first quote problem in the window
    problem_kind: str | None


def _scan(arr: np.ndarray, max_quoted_lines: int, at_eof: bool) -> _Scan:
    newlines = np.flatnonzero(arr == _LF)
    if not len(newlines):
        return _Scan(newlines, newlines, None, None)
    end = int(newlines[-1]) + 1
    quotes = np.flatnonzero(arr[:end] == _QUOTE)
    if not len(quotes):  # the common case: nothing to check
        return _Scan(newlines, newlines, None, None)
    openers, closers = quotes[0::2], quotes[1::2]
    before = arr[np.maximum(openers - 1, 0)]
    before[openers == 0] = _LF
    problems: list[tuple[int, str]] = []
    misplaced_openers = ~_MAY_PRECEDE_OPENER[before]
    misplaced_closers = ~_MAY_FOLLOW_CLOSER[arr[closers + 1]]  # never past the end: lines end with a break
    if misplaced_openers.any():
        problems.append((int(openers[np.argmax(misplaced_openers)]), "stray quote"))
    if misplaced_closers.any():
        problems.append((int(closers[np.argmax(misplaced_closers)]), "stray quote"))
    inside = np.searchsorted(quotes, newlines) % 2 == 1
    if inside.any():  # values spanning lines: none may span more than max_quoted_lines
        opened_lines = np.searchsorted(newlines, openers)
        spans = np.searchsorted(newlines, closers) - opened_lines[:len(closers)]
        too_long = np.flatnonzero(spans > max_quoted_lines)
        if len(too_long):
            problems.append((int(openers[too_long[0]]), "unbalanced quote"))
    if len(openers) > len(closers):  # a value still open at the end of the window
        lines_after = len(newlines) - int(np.searchsorted(newlines, openers[-1]))
        if lines_after > max_quoted_lines or at_eof:
            problems.append((int(openers[-1]), "unbalanced quote"))
    problem_at, kind = min(problems) if problems else (None, None)
    boundaries = newlines[~inside] if inside.any() else newlines
    if problem_at is not None:
        boundaries = boundaries[boundaries < problem_at]
    return _Scan(newlines, boundaries, problem_at, kind)


def _one_block(items: list[Records | Problem], first_line: int) -> Iterator[Records | Problem]:
    """The problems of a window, then its records as one block in which each problem's lines are blank lines
    (not records, and the lines after them keep their numbers): one Arrow parse a window, however many
    problems it holds."""
    problems = [item for item in items if isinstance(item, Problem)]
    yield from problems
    if not problems:
        yield from items
        return
    data = b"".join(item.data if isinstance(item, Records) else b"\n" * (item.last_line - item.first_line + 1)
                    for item in items)
    yield Records(first_line, data)


def _walk(arr: np.ndarray, newlines: np.ndarray, start: int, max_quoted_lines: int,
          at_eof: bool) -> tuple[list[tuple[int, int, tuple | None]], int]:
    """The quotes of a window from `start` (a record start), one at a time, for a window with a quote
    problem: each problem is set aside and the parity starts afresh on the next line, so a file with a
    stray quote on every line costs one step per quote. Returns the pieces in order, as (begin, end,
    None) for whole records without problems and (begin, end, (kind, first line, last line, detail line))
    for a problem (lines are indexes of the window's lines), and where the whole records end."""
    end = int(newlines[-1]) + 1
    quotes = np.flatnonzero(arr[start:end] == _QUOTE) + start
    before = arr[np.maximum(quotes - 1, 0)]
    before[quotes == 0] = _LF
    may_open = _MAY_PRECEDE_OPENER[before].tolist()
    may_close = _MAY_FOLLOW_CLOSER[arr[quotes + 1]].tolist()
    line_of = np.searchsorted(newlines, quotes).tolist()  # the window line each quote is on
    line_starts = [0] + (newlines + 1).tolist()
    pieces: list[tuple[int, int, tuple | None]] = []
    clean_from = start

    def set_aside(first: int, last: int, kind: str, detail: int) -> int:
        nonlocal clean_from
        begin = line_starts[first]
        if begin > clean_from:
            pieces.append((clean_from, begin, None))
        clean_from = line_starts[last + 1]
        pieces.append((begin, clean_from, (kind, first, last, detail)))
        return last

    parity, record_line, last_line, opener_line = 0, -1, -1, -1
    index, count = 0, len(line_of)
    while True:
        while index < count:
            line = line_of[index]
            if parity == 0:
                if line > last_line:
                    record_line = line
                if may_open[index]:
                    parity, opener_line = 1, line
                    index += 1
                    continue
                resume = set_aside(record_line, line, "stray quote", line)
            elif line - opener_line > max_quoted_lines or not may_close[index] and opener_line < line:
                resume = set_aside(record_line, opener_line, "unbalanced quote", opener_line)
            elif may_close[index]:
                parity, last_line = 0, line
                index += 1
                continue
            else:
                resume = set_aside(record_line, line, "stray quote", line)
            parity, last_line = 0, resume
            index = bisect_right(line_of, resume, index)
        if parity == 0:
            if end > clean_from:
                pieces.append((clean_from, end, None))
            return pieces, end
        if len(newlines) - opener_line > max_quoted_lines or at_eof:
            resume = set_aside(record_line, opener_line, "unbalanced quote", opener_line)
            parity, last_line = 0, resume
            index = bisect_right(line_of, resume, index)
            continue
        consumed = line_starts[record_line]  # the last record is not complete in this window
        if consumed > clean_from:
            pieces.append((clean_from, consumed, None))
        return pieces, max(consumed, clean_from)


class CsvSplitter:
    """Blocks of whole records and the problems between them, from byte `start` (a record start) at
    physical line `first_line` of an open binary file."""

    def __init__(self, handle: BinaryIO, start: int, first_line: int, *, block_bytes: int,
                 max_record_bytes: int, max_quoted_lines: int):
        self.handle = handle
        self.start, self.first_line = start, first_line
        self.block_bytes = block_bytes
        self.max_record_bytes = max_record_bytes
        self.max_quoted_lines = max_quoted_lines

    def _read(self, offset: int, size: int) -> tuple[bytes, bool]:
        self.handle.seek(offset)
        data = self.handle.read(size)
        at_eof = len(data) < size
        if at_eof and data and not data.endswith(b"\n"):
            data += b"\n"  # the last record needs no line break
        return data, at_eof

    def __iter__(self) -> Iterator[Records | Problem]:
        offset, line = self.start, self.first_line
        size = self.block_bytes
        while True:
            window, at_eof = self._read(offset, size)
            if not window:
                return
            arr = np.frombuffer(window, dtype=np.uint8)
            scan = _scan(arr, self.max_quoted_lines, at_eof)
            if scan.problem_at is not None:
                # Quote problems: walked one quote at a time from the first one, reading resuming after each.
                start = int(scan.boundaries[-1]) + 1 if len(scan.boundaries) else 0
                pieces, consumed = _walk(arr, scan.newlines, start, self.max_quoted_lines, at_eof)
                pieces.insert(0, (0, start, None))
                boundaries = None
            else:
                consumed = int(scan.boundaries[-1]) + 1 if len(scan.boundaries) else 0
                pieces = [(0, consumed, None)]
                boundaries = scan.boundaries
            if consumed and boundaries is None and (merged := self._merged(window, pieces, offset, line)) is not None:
                yield from merged
                offset += consumed
                line += int(np.searchsorted(scan.newlines, consumed))
                size = self.block_bytes
            elif consumed:
                items: list[Records | Problem] = []
                for begin, end, problem in pieces:
                    if begin == end:
                        continue
                    first = line + int(np.searchsorted(scan.newlines, begin))
                    if problem is None:
                        items += self._whole_records(window[begin:end], offset + begin, first, boundaries)
                    else:
                        kind, first_index, last_index, detail_index = problem
                        items.append(Problem(line + first_index, line + last_index, offset + begin, offset + end, kind,
                                             line + detail_index))
                yield from _one_block(items, line)
                offset += consumed
                line += int(np.searchsorted(scan.newlines, consumed))
                size = self.block_bytes
            elif size <= self.max_record_bytes and not at_eof:
                size = self.max_record_bytes + 2  # one record longer than a block: read it whole once
            else:  # one record longer than the limit
                problem = self._follow_record(offset, line)
                yield from self._problem_or_records(problem, line)
                offset, line = problem.end, problem.last_line + 1
                size = self.block_bytes

    def _merged(self, window: bytes, pieces: list, offset: int, line: int) -> list[Records | Problem] | None:
        """A walked window's problems and one block of its records, the problems' lines left blank; None when
        a record in it is also longer than the limit (then each piece is handled on its own)."""
        problems, parts = [], []
        for begin, end, problem in pieces:
            if problem is None:
                parts.append(window[begin:end])
            else:
                kind, first_index, last_index, detail_index = problem
                problems.append(Problem(line + first_index, line + last_index, offset + begin,
                                        offset + end, kind, line + detail_index))
                parts.append(b"\n" * (last_index - first_index + 1))
        data = b"".join(parts)
        boundaries = _scan(np.frombuffer(data, dtype=np.uint8), len(data), False).boundaries
        starts = np.concatenate(([0], boundaries[:-1] + 1))
        if (boundaries - starts + 1 > self.max_record_bytes).any():
            return None
        return [*problems, Records(line, data)]

    def _whole_records(self, data: bytes, start: int, first_line: int,
                       boundaries: np.ndarray | None) -> Iterator[Records | Problem]:
        """A run of whole records without quote problems, less those longer than the limit."""
        while data:
            arr = np.frombuffer(data, dtype=np.uint8)
            if boundaries is None:
                boundaries = _scan(arr, len(data), False).boundaries
            starts = np.concatenate(([0], boundaries[:-1] + 1))
            long_records = np.flatnonzero(boundaries - starts + 1 > self.max_record_bytes)
            if not len(long_records):
                yield Records(first_line, data)
                return
            cut = int(starts[long_records[0]])
            if cut:
                yield Records(first_line, data[:cut])
                first_line += data.count(b"\n", 0, cut)
            problem = self._follow_record(start + cut, first_line)
            yield from self._problem_or_records(problem, first_line)
            data = data[problem.end - start:]
            start, first_line, boundaries = problem.end, problem.last_line + 1, None

    def _problem_or_records(self, problem: Problem, line: int) -> Iterator[Records | Problem]:
        if problem.kind == "too long" and problem.end - problem.start <= self.max_record_bytes:
            yield Records(line, self.read_range(problem.start, problem.end))  # not a problem after all
        else:
            yield problem

    def _follow_record(self, start: int, first_line: int) -> Problem:
        """Stream one troubled record from `start`, block by block, keeping only counters: where it ends,
        and what is wrong with it. Linear: every byte is looked at once (twice for a value left open to
        the end of the file, which ends the reading of quotes: nothing after it can close it)."""
        offset, line = start, first_line
        parity = 0                         # 1 inside a quoted value
        previous = _LF                     # the byte before `offset`
        opener_line = opener_end = None    # where the open value started, and where its line ends
        quoted_lines = 0                   # line breaks inside the open value
        field_index, field_start = 0, start
        long_cell: tuple[int, int, int] | None = None  # (index, start, end) of the first cell over the limit
        limit = self.max_record_bytes
        while True:
            self.handle.seek(offset)
            data = self.handle.read(self.block_bytes + 1)
            at_eof = len(data) <= self.block_bytes
            if not at_eof:
                data, lookahead = data[:-1], data[-1]
            else:
                data, lookahead = data + b"\n", _LF  # a virtual end of line
            arr = np.frombuffer(data, dtype=np.uint8)
            special = np.flatnonzero((arr == _QUOTE) | (arr == _COMMA) | (arr == _LF))
            kinds = arr[special]
            # Events in order; quotes are few in troubled records, commas and line breaks vectorised below.
            quotes = special[kinds == _QUOTE]
            if len(quotes):
                # Rare path: walk the quotes in Python, with the commas and line breaks between them.
                for position in special.tolist():
                    byte = data[position]
                    absolute = offset + position
                    if byte == _QUOTE:
                        before = data[position - 1] if position else previous
                        after = data[position + 1] if position + 1 < len(data) else lookahead
                        if parity == 0:
                            if before not in (_COMMA, _LF, _CR, _QUOTE):
                                return self._quote_problem(start, first_line, absolute, line, "stray quote")
                            parity, opener_line, opener_end, quoted_lines = 1, line, None, 0
                        else:
                            if after not in (_COMMA, _LF, _CR, _QUOTE):
                                if opener_line < line:  # more likely the opener was the stray one
                                    return self._unclosed(start, first_line, opener_line, opener_end)
                                return self._quote_problem(start, first_line, absolute, line, "stray quote")
                            parity = 0
                    elif byte == _COMMA:
                        if parity == 0:
                            long_cell = long_cell or _over(field_index, field_start, absolute, limit)
                            field_index, field_start = field_index + 1, absolute + 1
                    else:  # a line break
                        if parity == 0:
                            return self._record_end(start, first_line, absolute + 1, line, long_cell, field_index,
                                                    field_start)
                        quoted_lines += 1
                        opener_end = opener_end or absolute + 1
                        line += 1
                        if quoted_lines > self.max_quoted_lines:
                            return self._unclosed(start, first_line, opener_line, opener_end)
            else:
                commas = special[kinds == _COMMA]
                newlines = special[kinds == _LF]
                if parity == 0:
                    end = int(newlines[0]) if len(newlines) else len(data)
                    separators = commas[commas < end] + offset
                    if len(separators) and long_cell is None:
                        edges = np.concatenate(([field_start], separators + 1))
                        lengths = separators - edges[:-1]
                        over = np.flatnonzero(lengths > limit)
                        if len(over):
                            i = int(over[0])
                            long_cell = (field_index + i, int(edges[i]), int(separators[i]))
                    if len(separators):
                        field_index += len(separators)
                        field_start = int(separators[-1]) + 1
                    if len(newlines):
                        return self._record_end(start, first_line, offset + end + 1, line, long_cell, field_index,
                                                field_start)
                else:
                    if len(newlines) and opener_end is None:
                        opener_end = offset + int(newlines[0]) + 1
                    quoted_lines += len(newlines)
                    line += len(newlines)
                    if quoted_lines > self.max_quoted_lines:
                        return self._unclosed(start, first_line, opener_line, opener_end)
            if at_eof:  # only a value left open reaches here
                return self._unclosed(start, first_line, opener_line, opener_end or offset + len(data) - 1)
            previous = data[-1]
            offset += len(data)

    def _line_end(self, position: int) -> int:
        """The offset just after the line break that ends the line holding `position` (or the file's end)."""
        self.handle.seek(position)
        offset = position
        while True:
            data = self.handle.read(self.block_bytes)
            if not data:
                return offset
            found = data.find(b"\n")
            if found >= 0:
                return offset + found + 1
            offset += len(data)

    def _quote_problem(self, start: int, first_line: int, position: int, line: int, kind: str) -> Problem:
        return Problem(first_line, line, start, self._line_end(position), kind, line)

    def _unclosed(self, start: int, first_line: int, opener_line: int, opener_end: int) -> Problem:
        return Problem(first_line, opener_line, start, opener_end, "unbalanced quote", opener_line)

    def _record_end(self, start: int, first_line: int, end: int, last_line: int,
                    long_cell: tuple[int, int, int] | None, field_index: int, field_start: int) -> Problem:
        last_field_end = end - 1
        if last_field_end > start and self._byte_at(last_field_end - 1) == _CR:
            last_field_end -= 1
        long_cell = long_cell or _over(field_index, field_start, last_field_end, self.max_record_bytes)
        problem = Problem(first_line, last_line, start, end, "too long", first_line)
        if long_cell:
            problem.cell_index, problem.cell_start, problem.cell_end = long_cell
        return problem

    def _byte_at(self, position: int) -> int:
        self.handle.seek(position)
        return self.handle.read(1)[0]

    def prefix_and_digest(self, start: int, end: int) -> tuple[bytes, str]:
        """The first PREFIX_BYTES of a byte range and its SHA-256, read in blocks."""
        digest = hashlib.sha256()
        self.handle.seek(start)
        prefix = b""
        left = end - start
        while left > 0:
            data = self.handle.read(min(self.block_bytes, left))
            if not data:
                break
            if not prefix:
                prefix = data[:PREFIX_BYTES]
            digest.update(data)
            left -= len(data)
        return prefix, digest.hexdigest()

    def read_range(self, start: int, end: int) -> bytes:
        self.handle.seek(start)
        return self.handle.read(end - start)


def _over(index: int, start: int, end: int, limit: int) -> tuple[int, int, int] | None:
    return (index, start, end) if end - start > limit else None
