"""Cell parsers: each turns one delivered cell into a typed value or raises CellError with a reason.

Parsers return the value as the text PostgreSQL's COPY expects (ISO dates, `t`/`f`), because rows go
straight to COPY. Results are cached per parser: codes, dates and labels repeat heavily in every feed,
and the cache is what keeps validation close to the speed of a bare COPY.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date

from ingest.text import nfc


class CellError(ValueError):
    """A cell that breaks a rule; the message is the reason users read in quarantine."""


_CACHE_LIMIT = 200_000


@dataclass
class Parser(ABC):
    required: bool = True
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __call__(self, raw: str | None):
        raw = (raw or "").strip()
        if not raw:
            if self.required:
                raise CellError("required value is missing")
            return None
        cached = self._cache.get(raw)
        if cached is None:
            try:
                cached = (True, self.parse(nfc(raw)))
            except CellError as error:
                cached = (False, str(error))
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[raw] = cached
        ok, result = cached
        if not ok:
            raise CellError(result)
        return result

    @abstractmethod
    def parse(self, value: str):
        """Turn a non-empty NFC cell into its value, or raise CellError."""


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
    """Free text or an identifier: kept as delivered (NFC). Not cached: identifiers rarely repeat."""

    max_length: int = 200

    def __call__(self, raw: str | None):
        value = nfc((raw or "").strip())
        if not value:
            if self.required:
                raise CellError("required value is missing")
            return None
        if len(value) > self.max_length:
            raise CellError(f"value longer than {self.max_length} characters")
        return value

    def parse(self, value: str) -> str:
        return value
