"""The structure of the 12-digit personal ID (số định danh cá nhân, Mã định danh).

Nghị định 137/2015/NĐ-CP, Điều 13, and Thông tư 07/2016/TT-BCA, Điều 7 (since replaced by Thông tư
59/2021/TT-BCA with the same structure): the ID is 12 digits,

- digits 1–3: the province (tỉnh, thành phố trực thuộc trung ương) where the birth was registered, from
  the code list of Thông tư 07/2016/TT-BCA Phụ lục I (63 codes, 001 Hà Nội … 096 Cà Mau: the statistics
  office's province codes with a leading 0). The 2025 reform did not re-number IDs, and the 34 new
  provinces reuse codes of this list;
- digit 4: century of birth and sex: 0 male / 1 female born 1900–1999, 2 / 3 born 2000–2099, 4 / 5 in the
  22nd century, 6 / 7 in the 23rd, 8 / 9 in the 24th;
- digits 5–6: the last two digits of the year of birth;
- digits 7–12: a random number.

Sources: lawnet.vn, "12 chữ số trên thẻ căn cước công dân có ý nghĩa gì?" (quoting Nghị định 137/2015 Điều
13 and the code list of Thông tư 07/2016 Điều 7); the Phụ lục I list as published with the circular.

A citizen whose birth was registered abroad carries a country code in digits 1–3; this check does not
know those codes, so such an ID is reported as malformed (the child still counts in the register, and the
record is on the clean-up list for a person to look at).

Messages never echo the ID or any of its digits.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 12
# Thông tư 07/2016/TT-BCA, Phụ lục I: province of birth registration (the 63 provinces before 2025).
_PROVINCE_CODES = ("01 02 04 06 08 10 11 12 14 15 17 19 20 22 24 25 26 27 30 31 33 34 35 36 37 38 40 42 44 45 46 48 "
                   "49 51 52 54 56 58 60 62 64 66 67 68 70 72 74 75 77 79 80 82 83 84 86 87 89 91 92 93 94 95 96")
BIRTH_REGISTRATION_PROVINCES = frozenset(f"0{code}" for code in _PROVINCE_CODES.split())


@dataclass(frozen=True)
class IdFacts:
    """What a well-formed ID says about its holder."""

    birth_year: int
    sex: str  # male / female


def canonical(value: str) -> str:
    """A spreadsheet drops leading zeros: an ID of fewer than 12 digits that does not start with 0 is
    re-padded (every valid ID starts with 0: the province codes run 001–096)."""
    return value.strip().zfill(WIDTH)


def structure_problem(value: str) -> str | None:
    """Why a delivered ID (trimmed) is not a well-formed personal ID, or None when it is."""
    if not value.isdigit() or len(value) > WIDTH:
        return f"personal ID is not {WIDTH} digits"
    # A spreadsheet strips every leading zero; a short ID that still starts with one lost a digit.
    if len(value) < WIDTH and value.startswith("0"):
        return f"personal ID has {len(value)} digits and a leading zero: a digit is missing"
    if canonical(value)[:3] not in BIRTH_REGISTRATION_PROVINCES:
        return ("personal ID's first three digits are not a province of birth registration "
                "(Thông tư 07/2016/TT-BCA, Phụ lục I): a placeholder or a mistyped ID")
    return None


def facts(value: str) -> IdFacts:
    """Year of birth and sex a well-formed ID encodes (call structure_problem first)."""
    padded = canonical(value)
    century_and_sex = int(padded[3])
    return IdFacts(birth_year=1900 + 100 * (century_and_sex // 2) + int(padded[4:6]),
                   sex="female" if century_and_sex % 2 else "male")
