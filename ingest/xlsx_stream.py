"""What an XLSX workbook holds before it is trusted to python-calamine-plus, and a bounded reader for the
workbooks it must not be given.

calamine is fast, but it holds every shared string (a 300 MB cell zips to 300 KB), pads every row to the
sheet's declared width (a sheet declaring A1:XFD1048576 made 16,384-cell rows: 276 s for a 7 KB file) and
yields every row up to the last, empty or not. So first `inspect_workbook` streams the first sheet's XML and
the shared strings once, keeping only counters: rows present and the last row number, the declared
dimension, and whether any cell or shared string could be longer than the cell limit (some stretch
between two ends of cells longer than the limit). A normal workbook then goes to calamine (bounded to the
header's columns when the declared width is large); a workbook with a possibly over-long value, or whose
rows are far sparser than their numbers say, is read by `sheet_rows` here: expat, in pieces, text over the
limit counted and hashed but not kept (an `Oversized` cell), only the rows present visited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pyexpat import ParserCreate
from xml.etree import ElementTree

_PIECE = 1 << 18  # bytes of XML decompressed and parsed at a time
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MAX_SMALL_PART = 32 << 20  # workbook.xml, its relationships and styles.xml are read whole
MAX_COMPRESSION_RATIO = 50  # ordinary sheet XML deflates 5-10 times; a zip bomb of one value, 1,000 times
_MIN_ROW_BYTES = 16         # `<row r="1"></row>`: fewer bytes per declared row means rows are missing
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\sr="(\d+)"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]*)(\d*)(?::([A-Z]+)(\d+))?"')


@dataclass
class Oversized:
    """A cell value over the limit: what is kept of it."""
    length: int      # bytes, UTF-8
    prefix: str
    sha256: str


@dataclass
class WorkbookFacts:
    sheet: str | None = None              # zip member of the first sheet
    shared_strings: str | None = None
    styles: str | None = None
    date1904: bool = False
    rows_present: int = 0
    last_row: int = 0
    declared_columns: int | None = None   # from the sheet's <dimension>
    long_value_possible: bool = False
    known: bool = False                   # the parts were found (else calamine reports what is wrong)
    strings: list | None = field(default=None, repr=False)  # the shared strings, once the bounded reader read them

    @property
    def sparse(self) -> bool:
        """Row numbers far beyond the rows present: calamine would yield every empty row in between."""
        return self.last_row > 2 * self.rows_present + 1000

    @property
    def needs_bounded_reader(self) -> bool:
        return self.known and (self.long_value_possible or self.sparse)


def column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _target(base: str, target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else base + target


def inspect_workbook(path, max_cell_bytes: int) -> WorkbookFacts:
    """The facts above; a file that is not a readable zip raises (zipfile.BadZipFile, OSError)."""
    facts = WorkbookFacts()
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
            return facts
        if any(archive.getinfo(name).file_size > _MAX_SMALL_PART
               for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")):
            return facts
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        sheets = [element for element in workbook.iter() if element.tag.endswith("}sheet")]
        properties = next((element for element in workbook.iter() if element.tag.endswith("}workbookPr")), None)
        facts.date1904 = properties is not None and properties.get("date1904", "").lower() in ("1", "true")
        targets = {relation.get("Id"): (relation.get("Type", ""), _target("xl/", relation.get("Target", "")))
                   for relation in relations}
        if not sheets or sheets[0].get(f"{_REL}id") not in targets:
            return facts
        facts.sheet = targets[sheets[0].get(f"{_REL}id")][1]
        for kind, target in targets.values():
            if kind.endswith("/sharedStrings") and target in names:
                facts.shared_strings = target
            elif kind.endswith("/styles") and target in names:
                facts.styles = target
        if facts.sheet not in names:
            return facts
        facts.known = True
        if _plainly_dense(archive, facts.sheet, facts):
            long_cell = False
        else:
            long_cell = _scan_part(archive, facts.sheet, b"</c>", max_cell_bytes, facts)
        long_string = facts.shared_strings is not None and _scan_part(
            archive, facts.shared_strings, b"</si>", max_cell_bytes, None)
        facts.long_value_possible = long_cell or long_string
    return facts


def _plainly_dense(archive: zipfile.ZipFile, name: str, facts: WorkbookFacts) -> bool:
    """A sheet that compresses like ordinary data (at most MAX_COMPRESSION_RATIO) and whose declared
    dimension it can hold needs no scan: no value in it can be far longer than the file (an over-long
    one is then quarantined from the column chunks), and calamine will not pad it with empty rows. Saves
    a decompression of the sheet (≈0.1 s per 100,000 rows)."""
    info = archive.getinfo(name)
    if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        return False
    with archive.open(name) as part:
        head = part.read(4096)
    dimension = _DIMENSION.search(head)
    if not dimension or not (dimension.group(4) or dimension.group(2)):
        return False
    rows = int(dimension.group(4) or dimension.group(2))
    if rows * _MIN_ROW_BYTES > info.file_size:  # more rows declared than the part can hold: sparse, or a lie
        return False
    last_letters = dimension.group(3) or dimension.group(1)
    facts.declared_columns = column_index(last_letters.decode()) + 1 if last_letters else None
    facts.rows_present = facts.last_row = rows
    return True


def _scan_part(archive: zipfile.ZipFile, name: str, end_tag: bytes, limit: int, facts: WorkbookFacts | None) -> bool:
    """Stream a part once: whether any stretch between two `end_tag`s is longer than `limit` bytes (an
    element's text cannot be longer than its XML), and for a sheet the rows and the dimension."""
    overlap = 64
    last_end, offset, tail, longest_gap_over = 0, 0, b"", False
    with archive.open(name) as part:
        while piece := part.read(_PIECE):
            data = tail + piece
            base = offset - len(tail)
            first = data.find(end_tag)
            if first < 0:
                if base + len(data) - last_end > limit:
                    longest_gap_over = True
            else:
                if base + first - last_end > limit:
                    longest_gap_over = True
                last_end = base + data.rfind(end_tag) + len(end_tag)
            if facts is not None:
                if offset == 0 and (dimension := _DIMENSION.search(data, 0, 4096)):
                    last_letters = dimension.group(3) or dimension.group(1)
                    facts.declared_columns = column_index(last_letters.decode()) + 1 if last_letters else None
                facts.rows_present += piece.count(b"<row ") + piece.count(b"<row>")
                last = data.rfind(b"<row ")
                if last >= 0 and (row := _ROW_NUMBER.match(data, last)):
                    facts.last_row = max(facts.last_row, int(row.group(1)))
            offset += len(piece)
            tail = data[-overlap:]
    if offset - last_end > limit:
        longest_gap_over = True
    return longest_gap_over


class _Text:
    """Text of one element, accumulated up to `limit` UTF-8 bytes; past it only counted and hashed."""

    __slots__ = ("limit", "parts", "size", "digest", "prefix")

    def __init__(self, limit: int, prefix_chars: int):
        self.limit, self.parts, self.size, self.digest = limit, [], 0, None
        self.prefix = prefix_chars

    def add(self, text: str) -> None:
        data = text.encode("utf-8")
        self.size += len(data)
        if self.digest is not None:
            self.digest.update(data)
            return
        self.parts.append(text)
        if self.size > self.limit:
            whole = "".join(self.parts)
            self.digest = hashlib.sha256(whole.encode("utf-8"))
            self.prefix = whole[:self.prefix]
            self.parts = []

    def value(self) -> str | Oversized:
        if self.digest is None:
            return "".join(self.parts)
        return Oversized(self.size, self.prefix, self.digest.hexdigest())


def _local(name: str) -> str:
    return name[name.rfind(":") + 1:]


def _expat_pieces(archive: zipfile.ZipFile, name: str, parser) -> None:
    with archive.open(name) as part:
        while piece := part.read(_PIECE):
            parser.Parse(piece, False)
    parser.Parse(b"", True)


def read_shared_strings(archive: zipfile.ZipFile, name: str, limit: int, prefix_chars: int) -> list[str | Oversized]:
    strings: list[str | Oversized] = []
    state = {"text": None, "capture": False, "phonetic": 0}

    def start(tag, attributes):
        tag = _local(tag)
        if tag == "si":
            state["text"] = _Text(limit, prefix_chars)
        elif tag == "rPh":
            state["phonetic"] += 1
        elif tag == "t" and not state["phonetic"]:
            state["capture"] = True

    def end(tag):
        tag = _local(tag)
        if tag == "si":
            strings.append(state["text"].value())
        elif tag == "rPh":
            state["phonetic"] -= 1
        elif tag == "t":
            state["capture"] = False

    def text(data):
        if state["capture"]:
            state["text"].add(data)

    parser = ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    _expat_pieces(archive, name, parser)
    return strings


_BUILTIN_DATE_FORMATS = {14: "date", 15: "date", 16: "date", 17: "date", 18: "time", 19: "time", 20: "time",
                         21: "time", 22: "datetime", 45: "time", 46: "time", 47: "time"}
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')


def _format_kind(code: str) -> str | None:
    code = _FORMAT_NOISE.sub("", code).lower()
    has_date = "d" in code or "y" in code or ("m" in code and "h" not in code and "s" not in code)
    has_time = "h" in code or "s" in code
    return "datetime" if has_date and has_time else "date" if has_date else "time" if has_time else None


def read_date_styles(archive: zipfile.ZipFile, name: str | None) -> list[str | None]:
    """Per cell style index: "date", "time", "datetime" or None."""
    if name is None or archive.getinfo(name).file_size > _MAX_SMALL_PART:
        return []
    root = ElementTree.fromstring(archive.read(name))
    custom = {int(element.get("numFmtId", "-1")): _format_kind(element.get("formatCode", ""))
              for element in root.iter() if element.tag.endswith("}numFmt")}
    cell_formats = next((element for element in root if element.tag.endswith("}cellXfs")), None)
    kinds = []
    for xf in cell_formats if cell_formats is not None else ():
        number_format = int(xf.get("numFmtId", "0"))
        kinds.append(custom.get(number_format, _BUILTIN_DATE_FORMATS.get(number_format)))
    return kinds


def _serial_to_python(value: float, kind: str, date1904: bool):
    base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    moment = base + dt.timedelta(days=value)
    if kind == "time":
        return moment.time()
    if kind == "date" and moment.time() == dt.time(0):
        return moment.date()
    return moment


@dataclass
class _RowState:
    number: int = 0
    cells: dict = field(default_factory=dict)


def sheet_rows(path, facts: WorkbookFacts, *, limit: int, prefix_chars: int, max_column: int | None,
               first_row: int, max_rows: int, too_many_rows) -> Iterator[tuple[int, list]]:
    """(Excel row number, cells) of the rows present in the first sheet from `first_row` (1-based) on,
    cells up to `max_column` (0-based, inclusive) padded with "", values typed as calamine gives them (str,
    int, float, bool, date, datetime, time) or `Oversized`. `too_many_rows(number)` is raised past max_rows."""
    with zipfile.ZipFile(path) as archive:
        if facts.strings is None:  # read once per workbook: the header search and the records share them
            facts.strings = read_shared_strings(archive, facts.shared_strings, limit, prefix_chars) \
                if facts.shared_strings else []
        strings = facts.strings
        styles = read_date_styles(archive, facts.styles)
        ready: list[tuple[int, list]] = []
        row = _RowState()
        cell: dict = {}
        state = {"text": None, "in_cell": False, "phonetic": 0, "column": -1, "capture": False}

        def start(tag, attributes):
            tag = _local(tag)
            if tag == "c":
                reference = attributes.get("r")
                column = column_index(reference.rstrip("0123456789")) if reference else state["column"] + 1
                state["column"] = column
                state["in_cell"] = max_column is None or column <= max_column
                cell.clear()
                cell.update(type=attributes.get("t", "n"), style=attributes.get("s"), column=column, value=None)
            elif tag == "row":
                number = attributes.get("r")
                row.number = int(number) if number else row.number + 1
                row.cells = {}
                state["column"] = -1
                if row.number > max_rows:
                    raise too_many_rows(row.number)
            elif not state["in_cell"]:
                return
            elif tag in ("v", "t") and not state["phonetic"]:
                state["text"] = state["text"] or _Text(limit, prefix_chars)
                state["capture"] = True
            elif tag == "rPh":
                state["phonetic"] += 1

        def end(tag):
            tag = _local(tag)
            if tag == "c":
                if state["in_cell"] and state["text"] is not None:
                    row.cells[cell["column"]] = _cell_value(cell, state["text"].value(), strings, styles,
                                                            facts.date1904)
                state["text"], state["in_cell"] = None, False
            elif tag == "row":
                if row.number >= first_row and row.cells:
                    width = max(row.cells) + 1
                    values = [""] * width
                    for column, value in row.cells.items():
                        values[column] = value
                    ready.append((row.number, values))
            elif tag in ("v", "t"):
                state["capture"] = False
            elif tag == "rPh":
                state["phonetic"] -= 1

        def text(data):
            if state["capture"] and state["in_cell"] and not state["phonetic"]:
                state["text"].add(data)

        parser = ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
        with archive.open(facts.sheet) as part:
            while piece := part.read(_PIECE >> 2):
                parser.Parse(piece, False)
                yield from ready
                ready.clear()
        parser.Parse(b"", True)
        yield from ready


def _cell_value(cell: dict, text: str | Oversized, strings: list, styles: list, date1904: bool):
    if isinstance(text, Oversized):
        return text
    kind = cell["type"]
    if kind == "s":
        try:
            return strings[int(text)]
        except (ValueError, IndexError):
            return ""
    if kind in ("inlineStr", "str", "e"):
        return text
    if kind == "b":
        return text.strip() == "1"
    if kind == "d":
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    if not text:
        return ""
    try:
        number = float(text)
    except ValueError:
        return text
    style = cell["style"]
    date_kind = styles[int(style)] if style and style.isdigit() and int(style) < len(styles) else None
    if date_kind:
        try:
            return _serial_to_python(number, date_kind, date1904)
        except (OverflowError, ValueError):
            return number
    return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
