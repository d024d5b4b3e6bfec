"""Vietnamese personal names by sex and ethnicity (Kinh, northern minorities, Hmong, Khmer, Central
Highlands), for whole arrays of people (``draw_names``) or one at a time (``person_name``)."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from synthetic.population import ETHNICITY_CODES
from synthetic.textbytes import Piece, Vocabulary


def _nfc(words: str) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", w) for w in words.split())


def _cum(weights: Sequence[float]) -> tuple[float, ...]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return tuple(out)


_KINH_SURNAMES = _nfc("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đào Đinh Trương "
                      "Mai Tạ")
_KINH_SURNAME_CUM = _cum((38, 11, 9.5, 7, 4, 2, 4.5, 2.5, 1.5, 2.1, 2, 1.4, 1.3, 1.3, 1, 0.5, 0.8, 0.7, 0.6,
                          0.4, 0.3))
assert len(_KINH_SURNAMES) == len(_KINH_SURNAME_CUM)
_MIDDLE = {"Nam": _nfc("Văn Đức Minh Quang Hữu Gia Anh Thành Hoàng Trọng Công Đăng Bảo Tuấn Quốc"),
           "Nữ": _nfc("Thị Ngọc Thu Thanh Minh Khánh Bảo Phương Hà Quỳnh Kim Mai Thảo Diệu Hồng")}
_GIVEN = {"Nam": _nfc("An Bảo Dũng Duy Hùng Huy Khang Khoa Khôi Kiên Long Lâm Minh Nam Nhật Phúc Quân Sơn Tài "
                      "Thắng Tiến Trung Tuấn Việt Vinh Đạt Hải Hiếu Hưng Phong Thịnh Tùng"),
          "Nữ": _nfc("Anh Châu Chi Diệp Giang Hà Hân Hương Lan Linh My Ngân Ngọc Nhi Oanh Phương Quyên Thảo "
                     "Trang Trâm Uyên Vân Vy Yến Thư Hằng Nga Thủy Nhung Hoa")}
_NORTHERN_SURNAMES = _nfc("Hoàng Nông Lường Lò Quàng Vi Lục Hà Đinh Lương Triệu Bàn Ma Sầm")
_HMONG = {"surnames": _nfc("Giàng Sùng Vàng Thào Lý Hạng Mùa Lầu Vừ Chảo"),
          "Nam": _nfc("A Seo Mí Văn"), "Nữ": _nfc("Thị Thị Thị"),
          "given": _nfc("Páo Dếnh Chứ Pó Súa Mỷ Dở Chá Lử Sính Pàng Mai Dua Sùng Khua")}
_KHMER = {"surnames": _nfc("Thạch Sơn Danh Kim Lâm Chau Lý Trà"),
          "given": _nfc("Sóc Phol Kha Rinh Sương Tha Pha Ry Vy Na Rom Đa Nít Sa")}
_HIGHLANDS = {"clans": _nfc("Niê Êban Adrơng Byă Mlô Ksơr Siu Kpă Hđơk Rơchăm"),
              "given": _nfc("Bhin Blim Kông Jut Thuôn Sương Đen Hen Bliêng Nguăn Yơn Krông Djuê")}
_HMONG_CODES = {"08"}
_KHMER_CODES = {"05"}
_HIGHLAND_CODES = {"10", "12", "13", "14", "16", "20", "21", "22"}
_NORTHERN_CODES = {"02", "03", "06", "07", "09", "15", "18", "25"}


# --- arrays of names -------------------------------------------------------------------------------------
# A full name is four parts, each an entry of NAME_PARTS ("" when unused): "<surname> " "<middle> " "<given>"
# for most, "Y "/"H'" "<given>" " <clan>" in the Central Highlands.
_PARTS: list[str] = [""]
_PART: dict[str, int] = {"": 0}


def _ids(texts: Sequence[str], prefix: str = "", suffix: str = "") -> np.ndarray:
    out = []
    for t in texts:
        text = f"{prefix}{t}{suffix}"
        if text not in _PART:
            _PART[text] = len(_PARTS)
            _PARTS.append(text)
        out.append(_PART[text])
    return np.array(out, dtype=np.int64)


_SEXES = ("Nam", "Nữ")
_KINH_SURNAME_IDS = _ids(_KINH_SURNAMES, suffix=" ")
_KINH_CUM = np.array(_KINH_SURNAME_CUM)
_NORTHERN_IDS = _ids(_NORTHERN_SURNAMES, suffix=" ")
_MIDDLE_IDS = [_ids(_MIDDLE[s], suffix=" ") for s in _SEXES]
_GIVEN_IDS = [_ids(_GIVEN[s]) for s in _SEXES]
_HMONG_SURNAME_IDS = _ids(_HMONG["surnames"], suffix=" ")
_HMONG_MIDDLE_IDS = [_ids(_HMONG[s], suffix=" ") for s in _SEXES]
_HMONG_GIVEN_IDS = _ids(_HMONG["given"])
_KHMER_SURNAME_IDS = _ids(_KHMER["surnames"], suffix=" ")
_KHMER_GIVEN_IDS = _ids(_KHMER["given"])
_THI = _ids(["Thị"], suffix=" ")[0]
_HIGHLAND_GIVEN_IDS = _ids(_HIGHLANDS["given"])
_HIGHLAND_PREFIX = _ids(["Y ", "H'"])
_CLAN_IDS = _ids(_HIGHLANDS["clans"], prefix=" ")
NAME_PARTS = Vocabulary(_PARTS)
NAME_PARTS_NFD = Vocabulary([unicodedata.normalize("NFD", p) for p in _PARTS])
_CODE_INDEX = {code: i for i, code in enumerate(ETHNICITY_CODES)}


def _in(codes: set[str]) -> np.ndarray:
    mask = np.zeros(len(ETHNICITY_CODES), dtype=bool)
    mask[[_CODE_INDEX[c] for c in codes]] = True
    return mask


_IS_HMONG, _IS_KHMER = _in(_HMONG_CODES), _in(_KHMER_CODES)
_IS_HIGHLAND, _IS_NORTHERN = _in(_HIGHLAND_CODES), _in(_NORTHERN_CODES)


@dataclass(frozen=True)
class Names:
    """Four parts per person (indexes into NAME_PARTS) and the given name's part (for sorting)."""

    parts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

    @property
    def given(self) -> np.ndarray:
        """The part holding the given name (the third, in every form)."""
        return self.parts[2]

    def pieces(self, nfd: bool = False) -> list[Piece]:
        vocab = NAME_PARTS_NFD if nfd else NAME_PARTS
        return [vocab.piece(p) for p in self.parts]

    def text(self, i: int) -> str:
        return "".join(_PARTS[int(p[i])] for p in self.parts)


def _choose(rng: np.random.Generator, ids: np.ndarray, n: int) -> np.ndarray:
    return ids[(rng.random(n) * len(ids)).astype(np.int64)]


def draw_names(rng: np.random.Generator, girl: np.ndarray, ethnicity: np.ndarray) -> Names:
    """Names of people of the given sexes (True: girl) and ethnicities (indexes into ETHNICITY_CODES)."""
    n = len(girl)
    girl = np.asarray(girl, dtype=bool)
    eth = np.asarray(ethnicity, dtype=np.int64)
    hmong, khmer, highland = _IS_HMONG[eth], _IS_KHMER[eth], _IS_HIGHLAND[eth]
    u_north = rng.random(n)
    kinh_surname = _KINH_SURNAME_IDS[np.minimum(np.searchsorted(_KINH_CUM, rng.random(n) * _KINH_CUM[-1], "right"),
                                                len(_KINH_CUM) - 1)]
    surname = np.where(_IS_NORTHERN[eth] & (u_north < 0.6), _choose(rng, _NORTHERN_IDS, n), kinh_surname)
    middle = np.where(girl, _choose(rng, _MIDDLE_IDS[1], n), _choose(rng, _MIDDLE_IDS[0], n))
    given = np.where(girl, _choose(rng, _GIVEN_IDS[1], n), _choose(rng, _GIVEN_IDS[0], n))
    last = np.zeros(n, dtype=np.int64)
    # Hmong: surname, A/Seo/Mí/Văn or Thị, given
    surname = np.where(hmong, _choose(rng, _HMONG_SURNAME_IDS, n), surname)
    middle = np.where(hmong, np.where(girl, _choose(rng, _HMONG_MIDDLE_IDS[1], n),
                                      _choose(rng, _HMONG_MIDDLE_IDS[0], n)), middle)
    given = np.where(hmong, _choose(rng, _HMONG_GIVEN_IDS, n), given)
    # Khmer: surname, "Thị" for some girls, given
    surname = np.where(khmer, _choose(rng, _KHMER_SURNAME_IDS, n), surname)
    middle = np.where(khmer, np.where(girl & (rng.random(n) < 0.6), _THI, 0), middle)
    given = np.where(khmer, _choose(rng, _KHMER_GIVEN_IDS, n), given)
    # Central Highlands: "Y <given> <clan>" for boys, "H'<given> <clan>" for girls
    surname = np.where(highland, _HIGHLAND_PREFIX[girl.astype(np.int64)], surname)
    middle = np.where(highland, 0, middle)
    given = np.where(highland, _choose(rng, _HIGHLAND_GIVEN_IDS, n), given)
    last = np.where(highland, _choose(rng, _CLAN_IDS, n), last)
    return Names((surname, middle, given, last))


def person_name(rng: random.Random, sex: str, ethnicity: str) -> tuple[str, str]:
    """(full name, given name) in NFC of one person (``sex`` Nam/Nữ, ``ethnicity`` a GSO code): ``draw_names``
    for a single person, seeded from ``rng``."""
    one = draw_names(np.random.default_rng(rng.getrandbits(64)), np.array([sex == "Nữ"]),
                     np.array([_CODE_INDEX[ethnicity]]))
    return one.text(0), _PARTS[int(one.given[0])]
