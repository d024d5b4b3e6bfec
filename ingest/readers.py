"""Turn a landing file into a header and a stream of column chunks, never the whole file.

CSV is parsed by Apache Arrow's C++ reader (streaming, one block at a time): per record the work stays in
C++, which is what lets a load run near the speed of a bare COPY (bench/README.md). The reader keeps what
users rely on: physical line numbers (the header is line 1; a quoted value spanning lines is one record
numbered by its first line), rows with the wrong number of cells reported rather than fatal, blank lines
not counted as records, UTF-8 with or without BOM and any line ending, and a file that is not UTF-8
rejected whole with the line where it breaks.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as arrow_csv

BLOCK_BYTES = 1 << 20  # ≈ 16,000 births rows a block: memory stays flat whatever the file size


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message says why and is recorded on the batch."""


def _decode_error(path: Path) -> UnreadableFile:
    """Find the exact line of the first invalid UTF-8 byte (only on error). Splitting bytes on
    newlines is safe: no UTF-8 multi-byte sequence contains a newline byte."""
    with open(path, "rb") as handle:
        for line, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                column = len(raw[:error.start].decode("utf-8", errors="replace")) + 1
                return UnreadableFile(
                    f"{path.name}: not valid UTF-8 at line {line}, character {column} "
                    f"(byte {raw[error.start:error.start + 1]!r}); legacy encodings such as TCVN3 or VNI "
                    "are not accepted: re-export the file as UTF-8")
    return UnreadableFile(f"{path.name}: not valid UTF-8")


@dataclass
class MalformedRecord:
    """A record whose cells do not match the header; it goes to quarantine with this reason."""

    line: int
    cells: list[str]
    reason: str


@dataclass
class ColumnChunk:
    lines: np.ndarray                 # physical line of each record
    columns: list[pa.Array]           # one string array per header position
    malformed: list[MalformedRecord] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.lines)

    def record(self, index: int) -> list[str]:
        return [column[index].as_py() for column in self.columns]


class CsvSource:
    """An open CSV landing file: its header, then its records in column chunks."""

    def __init__(self, path: Path):
        self.path = path
        with open(path, "rb") as handle:
            first_line = handle.readline()
        if not first_line.strip(b"\r\n\xef\xbb\xbf"):
            raise UnreadableFile(f"{path.name}: the file is empty (no header line)")
        try:
            text = first_line.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _decode_error(path) from None
        try:
            self.header: list[str] = next(csv.reader([text.rstrip("\r\n")]))
        except csv.Error as error:
            raise UnreadableFile(f"{path.name}: the header line is not valid CSV ({error})") from None

    def chunks(self) -> Iterator[ColumnChunk]:
        width = len(self.header)
        names = [f"c{i}" for i in range(width)]
        read_options = arrow_csv.ReadOptions(use_threads=False, column_names=names)
        convert_options = arrow_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
        first_line = 2
        for block in self._blocks():
            malformed: list[MalformedRecord] = []

            def on_malformed(row, malformed=malformed) -> str:
                # row.number counts records from 1 in the block; turned into a line below.
                malformed.append(MalformedRecord(row.number, _split(row.text),
                                                 f"the row has {row.actual_columns} cells but the header has {width}"))
                return "skip"

            try:
                table = arrow_csv.read_csv(
                    pa.BufferReader(block), read_options=read_options, convert_options=convert_options,
                    parse_options=arrow_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False,
                                                         invalid_row_handler=on_malformed))
            except pa.ArrowInvalid as error:
                raise self._unreadable(error) from None
            columns = [column.combine_chunks() for column in table.columns]
            yield _number_lines(columns, malformed, first_line)
            first_line += block.count(b"\n")

    def _blocks(self) -> Iterator[bytes]:
        """The data after the header in blocks of about BLOCK_BYTES, each ending at a line break outside
        quotes (an even number of quote characters before it), so no record is split between blocks."""
        with open(self.path, "rb") as handle:
            handle.readline()  # the header
            carry = b""
            while True:
                data = handle.read(BLOCK_BYTES)
                if not data:
                    if carry.strip(b"\r\n"):
                        yield carry if carry.endswith(b"\n") else carry + b"\n"
                    return
                data = carry + data
                cut = data.rfind(b"\n")
                while cut >= 0 and data.count(b'"', 0, cut) % 2:
                    cut = data.rfind(b"\n", 0, cut)
                if cut < 0:
                    carry = data  # one record longer than a block: read on
                    continue
                yield data[:cut + 1]
                carry = data[cut + 1:]

    def _unreadable(self, error: Exception) -> UnreadableFile:
        if "utf8" in str(error).lower():
            return _decode_error(self.path)
        return UnreadableFile(f"{self.path.name}: not a readable CSV file ({error})")


def _split(text: str) -> list[str]:
    try:
        return next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return [text]


def _number_lines(columns: list[pa.Array], malformed: list[MalformedRecord], first_line: int) -> ColumnChunk:
    """Physical line numbers for one block. Arrow numbers the block's records (valid, blank and
    malformed, from 1); the valid rows take the numbers the malformed ones leave free, and a record's
    line is the block's first line + its number - 1 + the line breaks inside earlier quoted values."""
    size = len(columns[0]) if columns else 0
    taken = np.array([item.line for item in malformed], dtype=np.int64)
    candidates = np.arange(1, size + len(taken) + 1)
    records = candidates[~np.isin(candidates, taken)] if len(taken) else candidates
    breaks = np.zeros(size, dtype=np.int64)
    for column in columns:
        counts = pc.count_substring(column, "\n")
        if size and pc.max(counts).as_py():
            breaks += counts.to_numpy(zero_copy_only=False)
    if breaks.any() or any("\n" in "".join(item.cells) for item in malformed):
        order = sorted([(int(record), i) for i, record in enumerate(records)]
                       + [(item.line, item) for item in malformed], key=lambda entry: entry[0])
        lines = np.empty(size, dtype=np.int64)
        extra = 0
        for record, what in order:
            line = first_line + record - 1 + extra
            if isinstance(what, MalformedRecord):
                what.line = line
                extra += sum(cell.count("\n") for cell in what.cells)
            else:
                lines[what] = line
                extra += int(breaks[what])
    else:
        lines = records + (first_line - 1)
        for item in malformed:
            item.line += first_line - 1
    # Blank lines arrive as records of empty cells: they are not records.
    if size:
        blank = pc.equal(pc.utf8_length(columns[0]), 0)
        for column in columns[1:]:
            blank = pc.and_(blank, pc.equal(pc.utf8_length(column), 0))
        if pc.any(blank).as_py():
            keep = pc.invert(blank)
            columns = [column.filter(keep) for column in columns]
            lines = lines[keep.to_numpy(zero_copy_only=False)]
    return ColumnChunk(lines, columns, sorted(malformed, key=lambda item: item.line))


def read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Header cells and (line number, cells) per record, malformed records included, in file order.
    A convenience for tests and tools; the loader works on column chunks."""
    source = CsvSource(path)

    def records() -> Iterator[tuple[int, list[str]]]:
        for chunk in source.chunks():
            rows = [(int(line), chunk.record(i)) for i, line in enumerate(chunk.lines)]
            rows += [(item.line, item.cells) for item in chunk.malformed]
            yield from sorted(rows, key=lambda row: row[0])

    return source.header, records()


READERS = {".csv": CsvSource}


def reader_for(path: Path):
    try:
        return READERS[path.suffix.lower()]
    except KeyError:
        raise UnreadableFile(f"{path.name}: no reader for files of type {path.suffix or '(none)'}") from None
