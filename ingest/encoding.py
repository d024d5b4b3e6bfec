"""Text checks shared by the readers: short escaped excerpts of file content, and double-encoded UTF-8.

Double-encoded UTF-8 ("mojibake") is UTF-8 that a tool read as Windows-1252 (or Latin-1) and wrote again
as UTF-8: `Nguyễn` becomes `Nguyá»…n`, `Nữ` becomes `Ná»¯`. The bytes are valid UTF-8, so it passes the
encoding check, and every name would be loaded garbled. The test here is precise rather than statistical:
a run of characters that maps back, byte for byte, through Windows-1252 to one complete UTF-8 sequence of a
Vietnamese letter (or a combining tone mark). Genuine Vietnamese text never holds such a run: it needs a
Latin-1 letter from Â to ô immediately followed by one to three of the characters Windows-1252 puts at bytes
0x80-0xBF (€ … ‰ ' " • – ™ ¡ © « ° ± ² ´ µ ¶ · » ¿ …), which no Vietnamese word contains.
"""

from __future__ import annotations

import re
import unicodedata

EXCERPT_CHARS = 80  # the longest piece of a file a message may quote


def excerpt(text: str | bytes, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped quotation of file content for a message: repr of at most `limit` characters
    (control characters, quotes and newlines escaped), with `…` when cut."""
    if isinstance(text, bytes):
        text = text[:limit * 4].decode("utf-8", errors="replace")
    if len(text) > limit:
        return repr(text[:limit]) + "…"
    return repr(text)


def _byte_of_each_character() -> dict[str, int]:
    """Character → byte for a Windows-1252 decoding, the five bytes it leaves undefined read as Latin-1
    (what most tools do), and the C1 controls a Latin-1 decoding gives for 0x80-0x9F."""
    table = {}
    for byte in range(0x80, 0x100):
        try:
            table[bytes([byte]).decode("cp1252")] = byte
        except UnicodeDecodeError:
            table[chr(byte)] = byte
        table.setdefault(chr(byte), byte)
    return table


_BYTE_OF = _byte_of_each_character()
_CONTINUATION = "".join(re.escape(char) for char, byte in _BYTE_OF.items() if 0x80 <= byte <= 0xBF)
# A lead byte of a 2-4 byte UTF-8 sequence (0xC2-0xF4 are the letters Â-ô) and its continuation bytes.
_CANDIDATE = re.compile(f"[\u00c2-\u00f4][{_CONTINUATION}]{{1,3}}")


def _vietnamese_letter(char: str) -> bool:
    code = ord(char)
    return ((0x00C0 <= code <= 0x01B0 or 0x1EA0 <= code <= 0x1EF9) and unicodedata.category(char).startswith("L")
            or 0x0300 <= code <= 0x0323)


def _undo(run: str) -> str | None:
    """The character a candidate run stood for, if it is exactly one UTF-8 sequence."""
    data = bytes(_BYTE_OF[char] for char in run)
    expected = 2 if data[0] < 0xE0 else 3 if data[0] < 0xF0 else 4
    if len(data) != expected:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def find_mojibake(text: str) -> tuple[int, str, str] | None:
    """(index, garbled run, what it stood for) of the first double-encoded Vietnamese letter, or None."""
    for match in _CANDIDATE.finditer(text):
        run = match.group()
        # The run may have swallowed a following character that starts the next sequence: try shorter too.
        for end in range(len(run), 1, -1):
            letter = _undo(run[:end])
            if letter is not None and _vietnamese_letter(letter):
                return match.start(), run[:end], letter
    return None


def mojibake_message(name: str, line: int, line_text: str, index_in_line: int, run: str, letter: str,
                     where: str = "line") -> str:
    start = max(0, index_in_line - 20)
    return (f"{name}: the text is double-encoded UTF-8 (mojibake) at {where} {line}: {excerpt(line_text[start:start + 60])} "
            f"holds {run!r}, which is how {letter!r} reads after being decoded as Windows-1252 and encoded "
            "again; re-export the file as UTF-8 from the original data")


def check_text_sample(name: str, text: str, first_line: int = 1) -> str | None:
    """The message for the first double-encoded letter in `text` (a sample of a file, from `first_line`),
    or None."""
    found = find_mojibake(text)
    if found is None:
        return None
    index, run, letter = found
    line_start = text.rfind("\n", 0, index) + 1
    line_end = text.find("\n", index)
    line_text = text[line_start:line_end if line_end >= 0 else len(text)]
    line = first_line + text.count("\n", 0, index)
    return mojibake_message(name, line, line_text, index - line_start, run, letter)
