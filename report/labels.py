"""Words, symbols and number formats shared by every output, in Vietnamese as the report forms use them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from report.data import Indicator

STATUS_LABEL = {"official": "SỐ LIỆU CHÍNH THỨC", "provisional": "SỐ LIỆU SƠ BỘ"}
STATUS_NOTE = {
    "official": "Số liệu đã được phê duyệt (official: signed off by a statistician).",
    "provisional": "Số liệu sơ bộ, chưa được phê duyệt (provisional: not signed off).",
}

# A cell without a number shows a symbol, never a number that could be summed.
SYMBOLS = {
    "suppressed": "x",   # small count of a sensitive indicator, or a cell that would reveal one
    "withheld": "..",    # failed a quality check (or aggregates a value that did)
    "missing": "-",      # no denominator, or not published for the unit
}
LEGEND = [
    (SYMBOLS["suppressed"], "Số liệu được che để bảo vệ trẻ em (số nhỏ của chỉ tiêu nhạy cảm, hoặc ô có thể suy ra ô bị che)",
     "Suppressed to protect children (a small count of a sensitive indicator, or a cell that would reveal one)"),
    (SYMBOLS["withheld"], "Số liệu tạm giữ lại, chưa công bố do không đạt kiểm tra chất lượng",
     "Withheld: failed a quality check, or aggregates a value that did"),
    (SYMBOLS["missing"], "Không có số liệu (không có mẫu số hoặc chưa báo cáo)",
     "No value (no denominator, or not reported)"),
]

BREAKDOWN_NAMES = {"sex": "Giới tính", "age_group": "Nhóm tuổi", "ethnicity": "Dân tộc", "category": "Phân loại"}
BREAKDOWN_NAMES_EN = {"sex": "Sex", "age_group": "Age group", "ethnicity": "Ethnicity", "category": "Category"}
VALUE_NAMES = {
    "total": "Tổng số", "male": "Nam", "female": "Nữ", "kinh": "Kinh", "minority": "Dân tộc thiểu số",
    "0-5": "0–5 tuổi", "6-10": "6–10 tuổi", "11-15": "11–15 tuổi",
    # school levels (dropout, enrolment)
    "TH": "Tiểu học", "THCS": "Trung học cơ sở", "THPT": "Trung học phổ thông",
    # forms and settings of abuse (Luật Trẻ em 2016, Điều 4; feed ldxh_xam_hai)
    "hinh_thuc:bao_luc": "Hình thức: bạo lực", "hinh_thuc:boc_lot": "Hình thức: bóc lột",
    "hinh_thuc:xam_hai_tinh_duc": "Hình thức: xâm hại tình dục", "hinh_thuc:mua_ban": "Hình thức: mua bán",
    "hinh_thuc:bo_roi": "Hình thức: bỏ rơi", "hinh_thuc:bo_mac": "Hình thức: bỏ mặc", "hinh_thuc:khac": "Hình thức: khác",
    "moi_truong:gia_dinh": "Môi trường: gia đình", "moi_truong:truong_hoc": "Môi trường: trường học",
    "moi_truong:cong_dong": "Môi trường: cộng đồng", "moi_truong:moi_truong_mang": "Môi trường: môi trường mạng",
    "moi_truong:khac": "Môi trường: khác",
    # forms of assistance to children in special circumstances (register: tro_giup.hinh_thuc)
    "tro_giup:tro_cap_xa_hoi": "Hình thức trợ giúp: trợ cấp xã hội", "tro_giup:y_te": "Hình thức trợ giúp: y tế",
    "tro_giup:giao_duc": "Hình thức trợ giúp: giáo dục", "tro_giup:cham_soc_thay_the": "Hình thức trợ giúp: chăm sóc thay thế",
    "tro_giup:tu_van": "Hình thức trợ giúp: tư vấn",
    # groups of children in special circumstances (Luật Trẻ em 2016, Điều 10, khoản 1)
    "a": "a) Trẻ em mồ côi cả cha và mẹ", "b": "b) Trẻ em bị bỏ rơi", "c": "c) Trẻ em không nơi nương tựa",
    "d": "d) Trẻ em khuyết tật", "đ": "đ) Trẻ em nhiễm HIV/AIDS", "e": "e) Trẻ em vi phạm pháp luật",
    "g": "g) Trẻ em nghiện ma túy", "h": "h) Trẻ em phải bỏ học kiếm sống chưa hoàn thành phổ cập giáo dục THCS",
    "i": "i) Trẻ em bị tổn hại nghiêm trọng về thể chất và tinh thần do bị bạo lực", "k": "k) Trẻ em bị bóc lột",
    "l": "l) Trẻ em bị xâm hại tình dục", "m": "m) Trẻ em bị mua bán",
    "n": "n) Trẻ em mắc bệnh hiểm nghèo hoặc phải điều trị dài ngày thuộc hộ nghèo, cận nghèo",
    "o": "o) Trẻ em di cư, lánh nạn, tị nạn chưa xác định được cha mẹ hoặc không có người chăm sóc",
}

# TT 13/2021 report form: Phụ lục I groups I–VI, then Phụ lục II.
ANNEX_I_GROUPS = [
    "I Chỉ tiêu chung về trẻ em",
    "II Sức khỏe, dinh dưỡng trẻ em",
    "III Bảo vệ trẻ em",
    "IV Giáo dục trẻ em",
    "V Văn hóa, vui chơi, giải trí cho trẻ em",
    "VI Trẻ em tham gia vào các vấn đề trẻ em",
]

LEVEL_NAMES = {"national": "Toàn quốc", "province": "Tỉnh/thành phố", "commune": "Xã/phường/đặc khu"}


def value_name(value: str) -> str:
    """The form's wording of a breakdown cell; codes without one (vaccine doses such as 5IN1_3) as they are, and
    a form of assistance the list does not know (the register's codes are open) under its family's name."""
    if value not in VALUE_NAMES and value.startswith("tro_giup:"):
        return "Hình thức trợ giúp: " + value.removeprefix("tro_giup:").replace("_", " ")
    return VALUE_NAMES.get(value, value)


def decimals(unit: str, kind: str) -> int:
    """Digits shown: counts whole, rates per 1,000 / 100,000 and percentages with one or two."""
    if kind == "count":
        return 0
    return 2 if unit.startswith("%") else 1


def format_number(value: Decimal | float | None, digits: int) -> str:
    """Vietnamese number format: '.' for thousands, ',' for decimals (1.234,5)."""
    if value is None:
        return ""
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)  # as statisticians round
    text = f"{rounded:,.{digits}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def is_formula_like(text: str) -> bool:
    """Text a spreadsheet could take for a formula (OWASP CSV injection): written as text, never as a formula."""
    return bool(text) and text[0] in "=+-@\t\r"


ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8}


def group_order(indicator: Indicator) -> tuple:
    """TT 13 order: Phụ lục I groups I–VI, then Phụ lục II; the coded indicators first within a group."""
    group = indicator.indicator_group or ""
    annex_rank = {"I": 0, "II": 1}.get(indicator.annex or "", 2)
    if indicator.annex == "I" and group in ANNEX_I_GROUPS:
        return (annex_rank, ANNEX_I_GROUPS.index(group) + 1, group)
    return (annex_rank, ROMAN.get(group.split(" ", 1)[0], 99), group)


def indicator_order(indicator: Indicator) -> tuple:
    return (*group_order(indicator), indicator.tt13_code is None, indicator.tt13_code or "",
            indicator.kind != "rate", indicator.indicator_id)
