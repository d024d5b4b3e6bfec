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
        reader, lines, rows = self.reader, [], []
        last_line = reader.line_num
        with self.handle:
            try:
                for cells in reader:  # a for loop over the C reader: the cheapest way through the file
                    start_line, last_line = last_line + 1, reader.line_num
                    if cells and any(cells):
                        lines.append(start_line)
                        rows.append(cells)
                        if len(rows) >= size:
                            yield lines, rows
                            lines, rows = [], []
            except UnicodeDecodeError:
                raise _decode_error(self.path) from None
            except csv.Error as error:
                raise UnreadableFile(f"{self.path.name}: line {last_line + 1} is not valid CSV ({error})") from None
        if rows:
            yield lines, rows

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

