"""Cell parsers: each turns one delivered cell into a typed value or raises CellError with a reason.

Parsers return the value as the text PostgreSQL's COPY expects (ISO dates, `t`/`f`), because rows go
straight to COPY. They work a column of a chunk at a time (Arrow arrays) and parse each distinct value
once, remembering it: codes, dates and labels repeat heavily in every feed, so per cell only Arrow's
C++ kernels run, and validation stays close to the speed of a bare COPY.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from ingest import personal_ids
from ingest.text import nfc


class CellError(ValueError):
    """A cell that breaks a rule; the message is the reason users read in quarantine."""


_CACHE_LIMIT = 200_000


@dataclass
class Parser(ABC):
    """Parses whole columns of a chunk at once: each distinct delivered value is parsed once and
    remembered, then the column is a dictionary lookup per cell."""

    required: bool = True
    _values: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _reasons: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @abstractmethod
    def parse(self, value: str):
        """Turn a non-empty, trimmed NFC cell into its value, or raise CellError."""

    def _learn(self, raw: str) -> None:
        text = raw.strip()
        if not text:
            if self.required:
                self._reasons[raw] = "required value is missing"
            else:
                self._values[raw] = None
            return
        try:
            self._values[raw] = self.parse(nfc(text))
        except CellError as error:
            self._reasons[raw] = str(error)

    def column(self, cells: pa.Array | Sequence[str]) -> tuple[pa.Array, list[tuple[int, str]]]:
        """Values of a column (null where a cell is bad) and the (row index, reason) of each bad cell.
        Only the column's distinct values reach Python; the per-cell work is Arrow's (C++)."""
        if not isinstance(cells, pa.Array):
            cells = pa.array(cells, pa.string())
        if len(self._values) + len(self._reasons) > _CACHE_LIMIT:
            self._values.clear()
            self._reasons.clear()
        encoded = cells.dictionary_encode()
        distinct = encoded.dictionary.to_pylist()
        for raw in distinct:
            if raw not in self._values and raw not in self._reasons:
                self._learn(raw)
        parsed = pa.array([self._values.get(raw) for raw in distinct], pa.string()).take(encoded.indices)
        bad = [position for position, raw in enumerate(distinct) if raw in self._reasons]
        if not bad:
            return parsed, []
        rows = pc.indices_nonzero(pc.is_in(encoded.indices, pa.array(bad, encoded.indices.type)))
        return parsed, [(row, self._reasons[distinct[encoded.indices[row].as_py()]]) for row in rows.to_pylist()]

    def __call__(self, raw: str | None):
        """One cell (convenience for callers outside the loader)."""
        values, errors = self.column([raw or ""])
        if errors:
            raise CellError(errors[0][1])
        return values[0].as_py()


_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass
class DayMonthYear(Parser):
    """`dd/mm/yyyy` (people's exports). Impossible dates such as 31/02/2024 are errors."""

    def parse(self, value: str) -> str:
        match = _DMY.match(value)
        if not match:
            raise CellError(f"date {value!r} is not in dd/mm/yyyy form")
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            raise CellError(f"date {value!r} does not exist") from None


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass
class IsoDate(Parser):
    """`yyyy-mm-dd` (JSON feeds). Impossible dates such as 2024-02-30 are errors."""

    def parse(self, value: str) -> str:
        match = _ISO.match(value)
        if not match:
            raise CellError(f"date {value!r} is not in yyyy-mm-dd form")
        year, month, day = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            raise CellError(f"date {value!r} does not exist") from None


@dataclass
class Code(Parser):
    """Zero-padded code of `width` digits; spreadsheet exports drop the leading zeros, so re-pad."""

    width: int = 2
    allowed: frozenset[str] | None = None
    label: str = "code"

    def parse(self, value: str) -> str:
        if not value.isdigit() or len(value) > self.width:
            raise CellError(f"{self.label} {value!r} is not a code of {self.width} digits")
        code = value.zfill(self.width)
        if self.allowed is not None and code not in self.allowed:
            raise CellError(f"{self.label} {code!r} is not in the code list")
        return code


@dataclass
class Choice(Parser):
    """A label from a fixed list, mapped to the warehouse's value (after NFC, case-insensitive)."""

    choices: dict[str, str] = field(default_factory=dict)
    label: str = "value"

    def __post_init__(self):
        self._folded = {nfc(key).casefold(): value for key, value in self.choices.items()}

    def parse(self, value: str) -> str:
        try:
            return self._folded[value.casefold()]
        except KeyError:
            allowed = ", ".join(self.choices)
            raise CellError(f"{self.label} {value!r} is not one of: {allowed}") from None


@dataclass
class WholeNumber(Parser):
    minimum: int | None = None
    maximum: int | None = None
    label: str = "number"

    def parse(self, value: str) -> str:
        if not value.isdigit():
            raise CellError(f"{self.label} {value!r} is not a whole number")
        number = int(value)
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise CellError(f"{self.label} {number} is outside {self.minimum}–{self.maximum}")
        return str(number)


@dataclass
class Text(Parser):
    """Free text or an identifier: kept as delivered (NFC, trimmed). Not cached: identifiers rarely repeat."""

    max_length: int = 200

    def parse(self, value: str) -> str:
        if len(value) > self.max_length:
            raise CellError(f"value longer than {self.max_length} characters")
        return value

    def column(self, cells: pa.Array | Sequence[str]) -> tuple[pa.Array, list[tuple[int, str]]]:
        if not isinstance(cells, pa.Array):
            cells = pa.array(cells, pa.string())
        values = pc.utf8_normalize(pc.utf8_trim_whitespace(cells), "NFC")
        lengths = pc.utf8_length(values)
        missing = pc.equal(lengths, 0) if self.required else pa.array([False] * len(values), pa.bool_())
        too_long = pc.greater(lengths, self.max_length)
        bad = pc.or_(missing, too_long)
        if not pc.any(bad).as_py():
            return pc.if_else(pc.equal(lengths, 0), pa.scalar(None, pa.string()), values), []
        errors = [(row, "required value is missing" if missing[row].as_py()
                   else f"value longer than {self.max_length} characters")
                  for row in pc.indices_nonzero(bad).to_pylist()]
        return pc.if_else(pc.or_(bad, pc.equal(lengths, 0)), pa.scalar(None, pa.string()), values), errors


@dataclass
class Pseudonymised(Parser):
    """An identifier of a person, stored only as its keyed pseudonym (ingest.pseudonymise): never the
    value itself, neither in raw nor in quarantine."""

    def pseudonymise(self, value: str) -> str:
        from ingest.pseudonymise import pseudonym

        return pseudonym(self.canonical(value))

    def canonical(self, value: str) -> str:
        return value

    def quarantine_text(self, value: str) -> str:
        """What quarantine keeps of a delivered cell: its pseudonym, never the value."""
        return "pseudonym:" + self.pseudonymise(value)

    def parse(self, value: str) -> str:
        self.check(value)
        return self.pseudonymise(value)

    def check(self, value: str) -> None:
        """Raise CellError for a malformed identifier (the message must not echo it)."""


@dataclass
class PersonalId(Pseudonymised):
    """A 12-digit personal ID (Mã định danh), checked for its structure (ingest.personal_ids: province of
    birth registration, century and sex, year of birth). A spreadsheet may have dropped the leading zeros:
    re-padded before hashing, so the same person gets the same pseudonym in every feed.

    `flag_invalid`: a blank or malformed ID does not refuse the row; the pseudonym is null and the
    companion column (PersonalIdCheck) says why, so the child still counts (the child register)."""

    width: int = personal_ids.WIDTH
    flag_invalid: bool = False

    def canonical(self, value: str) -> str:
        return personal_ids.canonical(value)

    def check(self, value: str) -> None:
        problem = personal_ids.structure_problem(value)
        if problem:
            raise CellError(problem)  # never echo the ID itself

    def parse(self, value: str) -> str | None:
        if self.flag_invalid and personal_ids.structure_problem(value):
            return None
        return super().parse(value)


@dataclass
class PersonalIdCheck(Parser):
    """The verdict on a personal ID cell, stored next to its pseudonym (which is null unless the ID is
    well formed): `missing` (blank), `malformed|<reason>`, or `valid|<year of birth>|<sex>` as the ID
    encodes them. A feed's derived column (ingest.feeds.child_affairs) compares the year and sex with the
    record's own and turns the verdict into `valid`, `inconsistent`, `missing` or `malformed`."""

    required: bool = False

    def parse(self, value: str) -> str:
        problem = personal_ids.structure_problem(value)
        if problem:
            return f"malformed|{problem}"
        facts = personal_ids.facts(value)
        return f"valid|{facts.birth_year}|{facts.sex}"


@dataclass
class RegistryId(Pseudonymised):
    """A sector system's own person code (e.g. the immunisation registry's Mã đối tượng). Hashed within
    its namespace, so codes of different systems never link by accident."""

    namespace: str = ""
    max_length: int = 64

    def canonical(self, value: str) -> str:
        return f"{self.namespace}|{value.strip()}"

    def check(self, value: str) -> None:
        if len(value) > self.max_length:
            raise CellError(f"person code longer than {self.max_length} characters")


_DECIMAL = re.compile(r"^(\d{1,6})(?:[.,](\d{1,4}))?$")


@dataclass
class DecimalNumber(Parser):
    """A decimal with a comma or a point as separator (`12,5` or `12.5`), within [minimum, maximum]."""

    minimum: float | None = None
    maximum: float | None = None
    label: str = "number"
    unit: str = ""

    def parse(self, value: str) -> str:
        match = _DECIMAL.match(value)
        if not match:
            raise CellError(f"{self.label} {value!r} is not a number (digits with one decimal comma or point)")
        text = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
        number = float(text)
        if (self.minimum is not None and number < self.minimum) or (
                self.maximum is not None and number > self.maximum):
            raise CellError(f"{self.label} {text}{self.unit} is outside the physiological limits "
                            f"{self.minimum:g}–{self.maximum:g}{self.unit}")
        return text
