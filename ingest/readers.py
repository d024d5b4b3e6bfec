"""Turn a landing file into a header and a stream of (line number, cells), never the whole file."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message says why and is recorded on the batch."""


def _decode_error(path: Path) -> UnreadableFile:
    """The text layer decodes in blocks, so find the exact line again from the bytes (only on error).
    Splitting bytes on newlines is safe: no UTF-8 multi-byte sequence contains a newline byte."""
    with open(path, "rb") as handle:
        for line, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                column = len(raw[:error.start].decode("utf-8")) + 1
                return UnreadableFile(
                    f"{path.name}: not valid UTF-8 at line {line}, character {column} "
                    f"(byte {raw[error.start:error.start + 1]!r}); legacy encodings such as TCVN3 or VNI "
                    "are not accepted: re-export the file as UTF-8")
    return UnreadableFile(f"{path.name}: not valid UTF-8")


def _first_lines(last_lines: list[int], rows: list[list[str]]) -> list[int]:
    """A record's number is its first line: its last line less the line breaks inside its values."""
    return [last - sum(cell.count("\n") for cell in cells) for last, cells in zip(last_lines, rows)]


class CsvSource:
    """An open CSV landing file: its header, then its records, one at a time or in chunks.

    UTF-8 with or without BOM, any line ending. A decoding error anywhere raises UnreadableFile, so the
    loader can reject the file whole. Line numbers are physical (the header is line 1), and a quoted
    value spanning lines is one record numbered by its first line. Blank lines are not records.
    """

    def __init__(self, path: Path):
        self.path = path
        self.handle = open(path, encoding="utf-8-sig", errors="strict", newline="")
        self.reader = csv.reader(self.handle)
        try:
            header = next(self.reader, None)
        except UnicodeDecodeError:
            self.handle.close()
            raise _decode_error(path) from None
        except csv.Error as error:
            self.handle.close()
            raise UnreadableFile(f"{path.name}: the header line is not valid CSV ({error})") from None
        if header is None:
            self.handle.close()
            raise UnreadableFile(f"{path.name}: the file is empty (no header line)")
        self.header: list[str] = header

    def chunks(self, size: int) -> Iterator[tuple[list[int], list[list[str]]]]:
        """(line numbers, records) in lists of up to `size` records."""
        reader = self.reader
        with self.handle:
            try:
                while True:
                    first_line = reader.line_num + 1
                    lines: list[int] = []
                    rows: list[list[str]] = []
                    add_line, add_row, blank_lines = lines.append, rows.append, 0
                    # The hottest loop of a load: the C reader, two appends, nothing else per record.
                    for cells in reader:
                        if cells:
                            add_line(reader.line_num)
                            add_row(cells)
                            if len(rows) >= size:
                                break
                        else:
                            blank_lines += 1
                    if not rows:
                        return
                    if lines[-1] - first_line + 1 != len(rows) + blank_lines:
                        lines = _first_lines(lines, rows)  # a quoted value spans lines: rare
                    yield lines, rows
            except UnicodeDecodeError:
                raise _decode_error(self.path) from None
            except csv.Error as error:
                raise UnreadableFile(f"{self.path.name}: line {reader.line_num + 1} is not valid CSV ({error})") from None

    def records(self) -> Iterator[tuple[int, list[str]]]:
        for lines, rows in self.chunks(1000):
            yield from zip(lines, rows)


def read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Header cells and an iterator of (line number of the record's first line, cells)."""
    source = CsvSource(path)
    return source.header, source.records()


READERS = {".csv": CsvSource}


def reader_for(path: Path):
    try:
        return READERS[path.suffix.lower()]
    except KeyError:
        raise UnreadableFile(f"{path.name}: no reader for files of type {path.suffix or '(none)'}") from None

