"""Text normalisation shared by every reader: NFC, header keys, zero-padded codes."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(value: str) -> str:
    # ASCII is already NFC; the check is far cheaper than normalising every cell.
    return value if value.isascii() else unicodedata.normalize("NFC", value)


def header_key(header: str) -> str:
    """How headers are matched: NFC, trimmed, inner whitespace collapsed, case-folded."""
    return _SPACES.sub(" ", nfc(header).strip()).casefold()


def excerpt(value: str, limit: int = 24) -> str:
    """A cell of a file as messages may quote it: escaped (repr) and cut to `limit` characters, so that no
    message carries more than a short excerpt of what was delivered (a file may hold anything, a key too)."""
    return repr(value if len(value) <= limit else value[:limit] + "…")
