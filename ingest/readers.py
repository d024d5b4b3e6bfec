"""Turn a landing file into a header and a stream of column chunks, never the whole file.

CSV is parsed by Apache Arrow's C++ reader (streaming, one block at a time): per record the work stays in
C++, which is what lets a load run near the speed of a bare COPY (bench/README.md). The reader keeps what
users rely on: physical line numbers (the header is line 1; a quoted value spanning lines is one record
numbered by its first line), rows with the wrong number of cells reported rather than fatal, blank lines
not counted as records, UTF-8 with or without BOM and any line ending, and a file that is not UTF-8
rejected whole with the line where it breaks.

Hostile files cost bounded time and memory, and a bad record costs itself only (`ingest.csv_split`): blocks
are cut with the quote parity counted once per block; a stray quote (`Nguyen "Van A`) or a quoted value
that does not close within MAX_QUOTED_LINES lines quarantines its record, and reading resumes on the next
line; a line or cell longer than MAX_CELL_BYTES is streamed past and quarantined with its length, column,
a short prefix and a SHA-256. The header is the first CSV record (a quoted line break in it is allowed); a
file without one raises EmptyFile. Double-encoded UTF-8 (`Nguyá»…n`), looked for in the first MiB, rejects
the file (`ingest.encoding`). Messages quote file content only as short escaped excerpts.

XLSX (first sheet only) is streamed row by row by python-calamine-plus (Rust; the upstream python-calamine
loads the whole sheet first: bench/README.md). A title block above the header is skipped by finding the
header row (`XlsxSource`); lines are Excel row numbers, and every cell becomes the text a person's CSV export
would hold (`dd/mm/yyyy` dates, whole numbers without `.0`), so the same parsers check both. The workbook is
inspected first (`ingest.xlsx_stream`): columns far right of the header are not read, a sheet of more than
MAX_SHEET_ROWS rows is rejected, and a workbook with a possibly over-long value (a 300 MB shared string zips
to 300 KB) or far sparser rows than its row numbers is read by a bounded expat reader instead.

Limits (module constants, read when a file is opened; environment variables set their defaults):
MAX_CELL_BYTES (INGEST_MAX_CELL_BYTES, 1 MiB), MAX_QUOTED_LINES (INGEST_MAX_QUOTED_LINES, 100),
MAX_SHEET_ROWS (INGEST_MAX_SHEET_ROWS, 2,000,000).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as arrow_csv

from ingest.csv_split import CsvSplitter, Problem, Records
from ingest.encoding import check_text_sample, excerpt, find_mojibake, mojibake_message
from ingest.text import header_key
from ingest.xlsx_stream import Oversized, WorkbookFacts, inspect_workbook, sheet_rows


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip().replace("_", "")
    return int(value) if value.isdigit() and int(value) > 0 else default


BLOCK_BYTES = 1 << 20  # ≈ 16,000 births rows a block: memory stays flat whatever the file size
# Limits against hostile files (read when a file is opened, so tests and callers may change them):
MAX_CELL_BYTES = _env_int("INGEST_MAX_CELL_BYTES", 1 << 20)       # a longer cell or CSV line is quarantined
MAX_QUOTED_LINES = _env_int("INGEST_MAX_QUOTED_LINES", 100)       # a quoted CSV value spanning more is unbalanced
MAX_SHEET_ROWS = _env_int("INGEST_MAX_SHEET_ROWS", 2_000_000)     # a sheet with more rows is rejected
MOJIBAKE_SAMPLE_BYTES = 1 << 20   # double-encoded UTF-8 is looked for in the first MiB of a file
KEPT_PREFIX_CHARS = 200           # what a quarantined over-long value keeps of itself


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message says why and is recorded on the batch."""


class EmptyFile(UnreadableFile):
    """The file holds no header (CSV), no cell (XLSX) or no JSON object (JSON lines)."""


def _decode_error(path: Path) -> UnreadableFile:
    """Find the exact line of the first invalid UTF-8 byte (only on error). Splitting bytes on
    newlines is safe: no UTF-8 multi-byte sequence contains a newline byte. Lines are read at most
    a block at a time, so an endless line costs no memory."""
    with open(path, "rb") as handle:
        line, column_offset, tail = 1, 0, b""
        while piece := handle.readline(BLOCK_BYTES):
            raw = tail + piece
            try:
                raw.decode("utf-8")
                tail = b""
            except UnicodeDecodeError as error:
                if error.reason == "unexpected end of data" and not piece.endswith(b"\n"):
                    tail = raw[error.start:]  # a character cut by the block: decode it with the next
                else:
                    column = column_offset + len(raw[:error.start].decode("utf-8", errors="replace")) + 1
                    return UnreadableFile(
                        f"{path.name}: not valid UTF-8 at line {line}, character {column} "
                        f"(byte {raw[error.start:error.start + 1]!r}); legacy encodings such as TCVN3 or VNI "
                        "are not accepted: re-export the file as UTF-8")
            if piece.endswith(b"\n"):
                line, column_offset, tail = line + 1, 0, b""
            else:
                column_offset += len(raw[:len(raw) - len(tail)].decode("utf-8", errors="replace"))
    return UnreadableFile(f"{path.name}: not valid UTF-8")


@dataclass
class MalformedRecord:
    """A record whose cells do not match the header; it goes to quarantine with this reason. `column` is the
    header of the offending column, or None for a problem of the whole row."""

    line: int
    cells: list[str]
    reason: str
    column: str | None = None


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


def _kept_prefix(data: bytes) -> str:
    """What a quarantined over-long value keeps: its first characters, escaped."""
    text = data.decode("utf-8", errors="replace")[:KEPT_PREFIX_CHARS]
    return text.encode("unicode_escape").decode("ascii")


def _check_sample_encoding(path: Path, start: int = 0) -> None:
    """Reject double-encoded UTF-8, looked for in the first MOJIBAKE_SAMPLE_BYTES (cost stays bounded)."""
    with open(path, "rb") as handle:
        handle.seek(start)
        sample = handle.read(MOJIBAKE_SAMPLE_BYTES)
    if len(sample) == MOJIBAKE_SAMPLE_BYTES:
        sample = sample[:sample.rfind(b"\n") + 1] or sample
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        return  # not UTF-8 at all: the reader reports the line where it breaks
    message = check_text_sample(path.name, text)
    if message:
        raise UnreadableFile(message)


_MAX_MALFORMED_PENDING = 1000  # quarantined records carried to the next chunk at most


class CsvSource:
    """An open CSV landing file: its header, then its records in column chunks. (`expected_headers` is
    for readers that must find the header row; a CSV's header is its first record, which may hold a quoted
    line break.) Records longer than MAX_CELL_BYTES and records with a stray or unbalanced quote are
    quarantined (`ingest.csv_split`), and the rest of the file loads."""

    def __init__(self, path: Path, expected_headers: Iterable[str] | None = None):
        self.path = path
        with open(path, "rb") as handle:
            start = 3 if handle.read(3) == b"\xef\xbb\xbf" else 0
            # the item that starts at line 1 (a window's problems come before its records)
            first = next((item for item in self._splitter(handle, start, 1) if item.first_line == 1), None)
        if isinstance(first, Problem):
            raise UnreadableFile(f"{path.name}: the header line is not valid CSV "
                                 f"({self._problem_reason(first, None)})")
        if first is None or not first.data.split(b"\n", 1)[0].strip(b"\r"):
            raise EmptyFile(f"{path.name}: the file is empty (no header line)")
        try:
            text = first.data.decode("utf-8")
        except UnicodeDecodeError:
            raise _decode_error(path) from None
        _check_sample_encoding(path, start)
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            self.header: list[str] = next(reader)
        except csv.Error as error:
            raise UnreadableFile(f"{path.name}: the header line is not valid CSV ({excerpt(str(error))})") from None
        self._data_line = 1 + reader.line_num  # a quoted line break in a header cell is one more line
        self._data_start = start + _after_lines(first.data, reader.line_num)

    def _splitter(self, handle, start: int, first_line: int) -> CsvSplitter:
        return CsvSplitter(handle, start, first_line, block_bytes=BLOCK_BYTES, max_record_bytes=MAX_CELL_BYTES,
                           max_quoted_lines=MAX_QUOTED_LINES)

    def chunks(self) -> Iterator[ColumnChunk]:
        width = len(self.header)
        names = [f"c{i}" for i in range(width)]
        read_options = arrow_csv.ReadOptions(use_threads=False, column_names=names)
        convert_options = arrow_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
        pending: list[MalformedRecord] = []
        with open(self.path, "rb") as handle:
            splitter = self._splitter(handle, self._data_start, self._data_line)
            for piece in splitter:
                if isinstance(piece, Problem):
                    pending.append(self._quarantine(splitter, piece))
                    if len(pending) >= _MAX_MALFORMED_PENDING:
                        yield ColumnChunk(np.zeros(0, dtype=np.int64), [pa.array([], pa.string())] * width, pending)
                        pending = []
                    continue
                chunk = self._parse_block(piece, width, read_options, convert_options)
                if pending:
                    chunk.malformed = sorted(pending + chunk.malformed, key=lambda item: item.line)
                    pending = []
                if chunk.size or chunk.malformed:
                    yield chunk
        if pending:
            yield ColumnChunk(np.zeros(0, dtype=np.int64), [pa.array([], pa.string())] * width, pending)

    def _parse_block(self, piece: Records, width: int, read_options, convert_options) -> ColumnChunk:
        malformed: list[MalformedRecord] = []

        def on_malformed(row) -> str:
            # row.number counts records from 1 in the block; turned into a line below.
            malformed.append(MalformedRecord(row.number, _split(row.text),
                                             f"the row has {row.actual_columns} cells but the header has {width}"))
            return "skip"

        try:
            table = arrow_csv.read_csv(
                pa.BufferReader(piece.data), read_options=read_options, convert_options=convert_options,
                parse_options=arrow_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False,
                                                     invalid_row_handler=on_malformed))
        except pa.ArrowInvalid as error:
            raise self._unreadable(error) from None
        columns = [column.combine_chunks() for column in table.columns]
        return _number_lines(columns, malformed, piece.first_line)

    def _quarantine(self, splitter: CsvSplitter, problem: Problem) -> MalformedRecord:
        """A problem record as a MalformedRecord: its cells when it is short, else only a prefix and a hash."""
        column = None
        if problem.kind == "too long":
            if problem.cell_index is not None:
                prefix, digest = splitter.prefix_and_digest(problem.cell_start, problem.cell_end)
                length = problem.cell_end - problem.cell_start
                if problem.cell_index < len(self.header):
                    column = self.header[problem.cell_index]
            else:
                prefix, digest = splitter.prefix_and_digest(problem.start, problem.end)
                length = problem.end - problem.start
            reason = self._problem_reason(problem, column, length, prefix, digest)
            cells = [f"{_kept_prefix(prefix)}… ({length:,} bytes, sha256 {digest})"]
            return MalformedRecord(problem.first_line, cells, reason, column)
        reason = self._problem_reason(problem, None)
        if problem.end - problem.start > MAX_CELL_BYTES:  # never held whole
            prefix, digest = splitter.prefix_and_digest(problem.start, problem.end)
            length = problem.end - problem.start
            return MalformedRecord(problem.first_line, [f"{_kept_prefix(prefix)}… ({length:,} bytes, sha256 {digest})"],
                                   reason)
        text = splitter.read_range(problem.start, problem.end).decode("utf-8", errors="replace")
        return MalformedRecord(problem.first_line, _split(text.rstrip("\r\n")), reason)

    def _problem_reason(self, problem: Problem, column: str | None, length: int = 0, prefix: bytes = b"",
                        digest: str = "") -> str:
        if problem.kind == "stray quote":
            return (f"unbalanced quote: a quote (\") in the middle of a value, at line {problem.detail_line}; "
                    "quote the whole value and double the quotes inside it (\"\")")
        if problem.kind == "unbalanced quote":
            return (f"unbalanced quote: the quoted value opened at line {problem.detail_line} never closes "
                    f"(a value may span {MAX_QUOTED_LINES} lines at most); reading resumed at line "
                    f"{problem.last_line + 1}")
        if problem.cell_index is not None:
            where = (f"the value in column {column!r}" if column is not None
                     else f"the value in cell {problem.cell_index + 1} (beyond the header's {len(self.header)})")
        else:
            where = "the line"
        return (f"{where} is {length:,} bytes long, over the limit of {MAX_CELL_BYTES:,} bytes "
                f"(INGEST_MAX_CELL_BYTES); it starts {excerpt(prefix, 40)}, sha256 {digest}")

    def _unreadable(self, error: Exception) -> UnreadableFile:
        if "utf8" in str(error).lower():
            return _decode_error(self.path)
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return UnreadableFile(f"{self.path.name}: not a readable CSV file ({excerpt(first_line)})")


def _after_lines(data: bytes, count: int) -> int:
    """The offset just after the `count`-th line break of `data`."""
    offset = 0
    for _ in range(count):
        offset = data.index(b"\n", offset) + 1
    return offset


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


# ----------------------------------------------------------------------------------------------------
# XLSX
# ----------------------------------------------------------------------------------------------------

HEADER_SCAN_ROWS = 30    # the header row is looked for in the sheet's first 30 rows (title blocks are 0-20)
HEADER_SCAN_COLUMNS = 256  # ... and its first 256 columns, when the sheet declares more
COLUMN_MARGIN = 64       # values up to 64 columns right of the header make a row malformed; further ones are not read
MIN_HEADER_CELLS = 2     # without a hint, a header has at least this many text cells
CHUNK_ROWS = 16_000      # rows per ColumnChunk: about the CSV reader's 1 MiB block

_Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None


def cell_text(value: _Cell) -> str:
    """One Excel cell as the text a person's CSV export would hold, for the same parsers: text as is,
    dates `dd/mm/yyyy` (a time of day is dropped), whole numbers without `.0` and never in scientific
    notation (`1.0` → `1`, a 12-digit ID → its 12 digits; re-padding codes is the parsers' job), other
    numbers their shortest repr, booleans `TRUE`/`FALSE`, empty `""`. Error cells (`#N/A`) arrive as text."""
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is int:
        return str(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if value is None:
        return ""
    if isinstance(value, dt.date):  # datetime is a date
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _is_blank(cells: Sequence[_Cell]) -> bool:
    return cells.count("") + cells.count(None) == len(cells)


def _last_filled(cells: Sequence[_Cell]) -> int:
    """Index of the last non-empty cell, or -1."""
    for index in range(len(cells) - 1, -1, -1):
        if cells[index] != "" and cells[index] is not None:
            return index
    return -1


def _header_text_keys(cells: Sequence[_Cell]) -> list[str]:
    """Header keys of a row's non-empty text cells (numbers and dates do not look like headers)."""
    return [header_key(cell) for cell in cells if type(cell) is str and cell.strip()]


class XlsxSource:
    """An open XLSX landing file (first sheet): its header, then its records in column chunks.

    The header row is found in the sheet's first HEADER_SCAN_ROWS rows, so a title block of any height
    above it (merged title cells, "Năm học 2024-2025", the school's name, blank rows) is skipped:

    - with `expected_headers` (header keys, `ingest.text.header_key`, e.g. a feed's column keys): the row
      whose text cells hold the most of them (the first such), if it holds more than half of them;
    - otherwise, or when no row holds more than half: the first row with the most non-empty text cells,
      at least MIN_HEADER_CELLS (a title row has one; data rows have numbers and dates, and come after).
      A row above the header with more text cells than it (a legend) needs the hint.

    The table spans the header row's first to last non-empty cell. Lines are Excel row numbers (1-based).
    Rows whose cells are all empty are not records. A row with a value right of the header's last column
    or left of its first is malformed; a shorter row is padded with "". Cells become text by `cell_text`.
    Memory stays flat: the sheet is streamed and only HEADER_SCAN_ROWS rows or one chunk is held.
    """

    def __init__(self, path: Path, expected_headers: Iterable[str] | None = None):
        self.path = path
        self.expected_headers = frozenset(expected_headers) if expected_headers else None
        try:
            self._facts = inspect_workbook(path, MAX_CELL_BYTES)
        except Exception as error:  # noqa: BLE001 - not a zip, or a broken one: calamine says which
            self._facts = WorkbookFacts()
            if isinstance(error, OSError):
                raise self._unreadable(error) from None
        if self._facts.last_row > MAX_SHEET_ROWS or self._facts.rows_present > MAX_SHEET_ROWS:
            raise self._too_many_rows(max(self._facts.last_row, self._facts.rows_present))
        wide = self._facts.declared_columns is None or self._facts.declared_columns > HEADER_SCAN_COLUMNS
        self._max_col: int | None = HEADER_SCAN_COLUMNS - 1 if wide else None
        scan: list[list[_Cell]] = []
        rows = self._numbered_rows(0)
        more_rows = False
        try:
            for line, row in rows:
                if line > HEADER_SCAN_ROWS:
                    more_rows = True
                    break
                scan += [[] for _ in range(line - 1 - len(scan))] + [list(row)]  # rows absent from the file
        except UnreadableFile:
            raise
        except Exception as error:  # noqa: BLE001 - the reader's errors are many kinds of one thing
            raise self._unreadable(error) from None
        finally:
            close = getattr(rows, "close", None)
            if close:
                close()
        if not more_rows and all(_is_blank(row) for row in scan):
            raise EmptyFile(f"{path.name}: the file is empty (no header row: the first sheet is empty)")
        self._check_encoding(scan)
        index = self._header_index(scan)
        cells = scan[index]
        self.header_row = index + 1                      # Excel row number of the header
        self._left = next(i for i, cell in enumerate(cells) if cell != "" and cell is not None)
        self._right = _last_filled(cells) + 1
        oversized = next((cell for cell in cells if isinstance(cell, Oversized)), None)
        if oversized:
            raise UnreadableFile(f"{path.name}: a header cell of row {self.header_row} is {oversized.length:,} bytes "
                                 f"long, over the limit of {MAX_CELL_BYTES:,} bytes")
        self.header: list[str] = [cell_text(cell) for cell in cells[self._left:self._right]]
        if wide:  # far columns cost nothing: values past the header and a margin are not read
            self._max_col = self._right - 1 + COLUMN_MARGIN

    def _numbered_rows(self, skip: int) -> Iterator[tuple[int, Sequence[_Cell]]]:
        """(Excel row number, cells) from 0-based row `skip` on: calamine's rows (blank ones included), or
        the bounded reader's (only the rows present) for a workbook calamine must not be given."""
        if self._facts.needs_bounded_reader:
            return sheet_rows(self.path, self._facts, limit=MAX_CELL_BYTES, prefix_chars=KEPT_PREFIX_CHARS,
                              max_column=self._max_col, first_row=skip + 1, max_rows=MAX_SHEET_ROWS,
                              too_many_rows=self._too_many_rows)
        return self._count_rows(self._open_rows(skip), skip)

    def _count_rows(self, rows: Iterator[Sequence[_Cell]], skip: int) -> Iterator[tuple[int, Sequence[_Cell]]]:
        try:
            for line, row in enumerate(rows, start=skip + 1):
                if line > MAX_SHEET_ROWS:
                    raise self._too_many_rows(line)
                yield line, row
        finally:
            close = getattr(rows, "close", None)
            if close:
                close()

    def _too_many_rows(self, rows: int) -> UnreadableFile:
        return UnreadableFile(f"{self.path.name}: the first sheet has {rows:,} rows or more, over the limit of "
                              f"{MAX_SHEET_ROWS:,} (INGEST_MAX_SHEET_ROWS)")

    def _check_encoding(self, scan: list[list[_Cell]]) -> None:
        """Double-encoded UTF-8 in the text cells of the first rows (the header and the first records)."""
        for line, row in enumerate(scan, start=1):
            for cell in row:
                if type(cell) is str and not cell.isascii() and (found := find_mojibake(cell)):
                    index, run, letter = found
                    raise UnreadableFile(mojibake_message(self.path.name, line, cell, index, run, letter, "row"))

    # The one place that knows the library: every row of the first sheet from 0-based row `skip` on,
    # blank rows included (so the n-th row yielded is Excel row skip + n), each a sequence of cells
    # ("" or None when empty). The benchmark overrides it to compare libraries.
    def _open_rows(self, skip: int) -> Iterator[Sequence[_Cell]]:
        try:
            from python_calamine_plus import CalamineWorkbook
        except ImportError as error:  # pragma: no cover - a declared dependency
            raise UnreadableFile(f"{self.path.name}: cannot read .xlsx files here ({error})") from None
        try:
            workbook = CalamineWorkbook.from_path(str(self.path))
            stream = workbook.stream_sheet_by_index(0, min_row=skip, max_col=self._max_col)
        except Exception as error:  # noqa: BLE001
            raise self._unreadable(error) from None

        def rows() -> Iterator[Sequence[_Cell]]:
            try:
                yield from stream
            finally:
                workbook.close()
        return rows()

    def _unreadable(self, error: Exception) -> UnreadableFile:
        if isinstance(error, UnreadableFile):
            return error
        if isinstance(error, OSError):
            return UnreadableFile(f"{self.path.name}: cannot open the file ({error})")
        return UnreadableFile(f"{self.path.name}: not a readable .xlsx workbook "
                              f"({type(error).__name__}: {excerpt(str(error))}); save it from Excel as .xlsx")

    def _header_index(self, scan: list[list[_Cell]]) -> int:
        keys = [_header_text_keys(row) for row in scan]
        if self.expected_headers:
            wanted = self.expected_headers
            hits = [len(wanted.intersection(row)) for row in keys]
            best = max(hits, default=0)
            if best * 2 > len(wanted):
                return hits.index(best)
        counts = [len(row) for row in keys]
        best = max(counts, default=0)
        if best >= MIN_HEADER_CELLS:
            return counts.index(best)
        what = (f"the first {HEADER_SCAN_ROWS} rows of the first sheet are empty (the header must be within "
                "them)") if all(_is_blank(row) for row in scan) else (
            f"none of the first {len(scan)} rows of the first sheet has {MIN_HEADER_CELLS} or more text cells "
            f"(the header must be within the first {HEADER_SCAN_ROWS} rows)")
        raise UnreadableFile(f"{self.path.name}: no header row found: {what}")

    def chunks(self) -> Iterator[ColumnChunk]:
        left, right = self._left, self._right
        width = right - left
        lines: list[int] = []
        records: list[Sequence[_Cell]] = []
        malformed: list[MalformedRecord] = []
        may_be_oversized = self._facts.needs_bounded_reader and self._facts.long_value_possible
        rows = self._numbered_rows(self.header_row)
        try:
            for line, cells in rows:
                if _is_blank(cells):
                    continue
                size = len(cells)
                if size > right and not _is_blank(cells[right:]) or left and not _is_blank(cells[:left]):
                    malformed.append(self._malformed(line, cells))
                    continue
                if may_be_oversized and any(isinstance(cell, Oversized) for cell in cells):
                    malformed.append(self._oversized(line, cells))
                    continue
                if size < right:
                    cells = [*cells, *[""] * (right - size)]
                records.append(cells if size == right and not left else cells[left:right])
                lines.append(line)
                if len(records) == CHUNK_ROWS:
                    yield self._without_long_cells(_xlsx_chunk(lines, records, width, malformed))
                    lines, records, malformed = [], [], []
        except UnreadableFile:
            raise
        except Exception as error:  # noqa: BLE001 - a broken sheet part found mid-stream
            raise self._unreadable(error) from None
        finally:
            close = getattr(rows, "close", None)
            if close:
                close()
        if records or malformed:
            yield self._without_long_cells(_xlsx_chunk(lines, records, width, malformed))

    def _without_long_cells(self, chunk: ColumnChunk) -> ColumnChunk:
        """Rows with a cell over MAX_CELL_BYTES that calamine read (a workbook compressing like ordinary data,
        so the value is no larger than a few times the file) go to quarantine like the bounded reader's."""
        too_long = None
        for column in chunk.columns:
            if len(column) and pc.max(pc.binary_length(column)).as_py() > MAX_CELL_BYTES:
                mask = pc.greater(pc.binary_length(column), MAX_CELL_BYTES)
                too_long = mask if too_long is None else pc.or_(too_long, mask)
        if too_long is None:
            return chunk
        for index in pc.indices_nonzero(too_long).to_pylist():
            cells = chunk.record(index)
            position = next(i for i, cell in enumerate(cells) if len(cell.encode()) > MAX_CELL_BYTES)
            data = cells[position].encode()
            cells[position] = Oversized(len(data), cells[position][:KEPT_PREFIX_CHARS], hashlib.sha256(data).hexdigest())
            chunk.malformed.append(self._oversized(int(chunk.lines[index]), [""] * self._left + cells))
        keep = pc.invert(too_long)
        return ColumnChunk(chunk.lines[keep.to_numpy(zero_copy_only=False)],
                           [column.filter(keep) for column in chunk.columns], chunk.malformed)

    def _oversized(self, line: int, cells: Sequence[_Cell]) -> MalformedRecord:
        index = next(i for i, cell in enumerate(cells) if isinstance(cell, Oversized))
        value: Oversized = cells[index]
        column = self.header[index - self._left]
        kept = value.prefix.encode("unicode_escape").decode("ascii")
        texts = [f"{kept}… ({value.length:,} bytes, sha256 {value.sha256})" if isinstance(cell, Oversized)
                 else cell_text(cell) for cell in cells[self._left:self._right]]
        reason = (f"the value in column {column!r} ({_column_letter(index)}) is {value.length:,} bytes long, over "
                  f"the limit of {MAX_CELL_BYTES:,} bytes (INGEST_MAX_CELL_BYTES); it starts "
                  f"{excerpt(value.prefix, 40)}, sha256 {value.sha256}")
        return MalformedRecord(line, texts, reason, column)

    def _malformed(self, line: int, cells: Sequence[_Cell]) -> MalformedRecord:
        left, right = self._left, self._right
        last = _last_filled(cells)
        texts = [_bounded_text(cell) for cell in cells[left:last + 1]]
        if left and not _is_blank(cells[:left]):
            stray = next(i for i, cell in enumerate(cells[:left]) if cell != "" and cell is not None)
            reason = (f"the row has a value ({excerpt(cell_text(cells[stray]))}) in column {_column_letter(stray)}, "
                      f"left of the header, which starts in column {_column_letter(left)}")
        else:
            reason = f"the row has {last + 1 - left} cells but the header has {right - left}"
        return MalformedRecord(line, texts, reason)


def _bounded_text(cell: _Cell) -> str:
    if isinstance(cell, Oversized):
        return f"{cell.prefix.encode('unicode_escape').decode('ascii')}… ({cell.length:,} bytes, sha256 {cell.sha256})"
    return cell_text(cell)


def _texts(values: Sequence[_Cell]) -> list[str]:
    """`cell_text` of a column, fast: text and integers inline, the rest (mostly dates, which repeat)
    formatted once per distinct value. Booleans never reach the memo (True == 1.0 as a dict key)."""
    memo: dict = {}

    def other(value, known=memo.get):
        text = known(value)
        if text is None:
            text = memo[value] = cell_text(value)
        return text

    return [value if (kind := type(value)) is str else str(value) if kind is int
            else cell_text(value) if kind is bool else other(value) for value in values]


def _xlsx_chunk(lines: list[int], records: list[Sequence[_Cell]], width: int,
                malformed: list[MalformedRecord]) -> ColumnChunk:
    """Rows to one string array per header position; a column of text cells goes to Arrow as it is."""
    columns: list[pa.Array] = []
    for values in (zip(*records) if records else [()] * width):
        try:
            column = pa.array(values, pa.string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            column = pa.array(_texts(values), pa.string())
        columns.append(pc.fill_null(column, "") if column.null_count else column)  # None: an empty cell
    return ColumnChunk(np.array(lines, dtype=np.int64), columns, malformed)


# ----------------------------------------------------------------------------------------------------
# JSON lines
# ----------------------------------------------------------------------------------------------------

JSON_CHUNK_RECORDS = 10_000
OTHER_KEYS = "(other keys)"


def json_cell(value) -> str:
    """One JSON value as a cell for the parsers: text as is, true/false, numbers as written, null as "",
    arrays and objects as compact JSON text (their parsers read it back)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class JsonlSource:
    """An open JSON-lines landing file: one JSON object per line (sources.md: the child-affairs feeds).

    Records are objects, not rows, so the "header" is the keys the feed expects (`expected_headers`, as
    given by the loader) plus OTHER_KEYS, a column holding any unknown keys of a record as JSON (kept in
    raw's extra_columns, ignored). A key missing from a record is an empty cell. Lines are physical lines
    (the first object is line 1); blank lines are not records; a line that is not valid JSON, or not an
    object, is a malformed record with the parser's reason, and the load goes on. Streamed in chunks."""

    def __init__(self, path: Path, expected_headers: Iterable[str] | None = None):
        self.path = path
        if not expected_headers:
            raise UnreadableFile(f"{path.name}: a JSON-lines file needs the feed's keys to be read")
        self.keys = sorted(expected_headers)
        self.header: list[str] = [*self.keys, OTHER_KEYS]
        with open(path, "rb") as handle:
            if not handle.read(1 << 16).strip(b"\r\n\t \xef\xbb\xbf"):
                raise EmptyFile(f"{path.name}: the file is empty (no JSON object)")
        _check_sample_encoding(path)

    def _lines(self, handle) -> Iterator[tuple[int, bytes | MalformedRecord]]:
        """(line number, bytes) per line; a line over MAX_CELL_BYTES is read past in blocks (hashed, never
        held) and comes as a MalformedRecord."""
        limit = MAX_CELL_BYTES
        line = 0
        while raw := handle.readline(limit + 1):
            line += 1
            if len(raw) <= limit or raw.endswith(b"\n") and len(raw.rstrip(b"\r\n")) <= limit:
                yield line, raw
                continue
            digest, length, prefix = hashlib.sha256(raw), len(raw), raw[:1024]
            while not raw.endswith(b"\n") and (raw := handle.readline(BLOCK_BYTES)):
                digest.update(raw)
                length += len(raw)
            reason = (f"the line is {length:,} bytes long, over the limit of {limit:,} bytes (INGEST_MAX_CELL_BYTES); "
                      f"it starts {excerpt(prefix, 40)}, sha256 {digest.hexdigest()}")
            yield line, MalformedRecord(line, [f"{_kept_prefix(prefix)}… ({length:,} bytes, sha256 "
                                               f"{digest.hexdigest()})"], reason)

    def chunks(self) -> Iterator[ColumnChunk]:
        known = set(self.keys)
        lines: list[int] = []
        records: list[list[str]] = []
        malformed: list[MalformedRecord] = []
        with open(self.path, "rb") as handle:
            for line, raw in self._lines(handle):
                if isinstance(raw, MalformedRecord):
                    malformed.append(raw)
                    continue
                try:
                    text = raw.decode("utf-8-sig" if line == 1 else "utf-8").strip()
                except UnicodeDecodeError:
                    raise _decode_error(self.path) from None
                if not text:
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as error:
                    malformed.append(MalformedRecord(line, [text], f"the line is not valid JSON: {error.msg} "
                                                                  f"at character {error.colno}"))
                    continue
                if not isinstance(record, dict):
                    malformed.append(MalformedRecord(line, [text], "the line is JSON but not an object {…}"))
                    continue
                keyed = {header_key(key): value for key, value in record.items()}
                others = {key: value for key, value in record.items() if header_key(key) not in known}
                records.append([json_cell(keyed.get(key)) for key in self.keys]
                               + [json_cell(others) if others else ""])
                lines.append(line)
                if len(records) == JSON_CHUNK_RECORDS:
                    yield _json_chunk(lines, records, len(self.header), malformed)
                    lines, records, malformed = [], [], []
        if records or malformed:
            yield _json_chunk(lines, records, len(self.header), malformed)


def _json_chunk(lines: list[int], records: list[list[str]], width: int,
                malformed: list[MalformedRecord]) -> ColumnChunk:
    columns = [pa.array(values, pa.string()) for values in zip(*records)] if records \
        else [pa.array([], pa.string())] * width
    return ColumnChunk(np.array(lines, dtype=np.int64), columns, malformed)


READERS = {".csv": CsvSource, ".xlsx": XlsxSource, ".jsonl": JsonlSource}


def reader_for(path: Path):
    try:
        return READERS[path.suffix.lower()]
    except KeyError:
        raise UnreadableFile(f"{path.name}: no reader for files of type {path.suffix or '(none)'}") from None
