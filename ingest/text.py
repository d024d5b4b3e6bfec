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

