"""The aggregate-report workbook (bao_cao_tong_hop) the communes fill: one per province and year, one row per
commune of the year's geography with its code and name filled in, Vietnamese headers exactly as the loader
reads them (ingest/feeds/aggregate_reports.py), data validation on every input cell and an instructions
sheet. `make template YEAR=2025` writes them to templates/<year>/; the filled files go to
landing/bao_cao_tong_hop/ under the same name.

The data sheet is the first (the loader reads the first sheet); the title block above the header is skipped
by the loader, which finds the header row.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import xlsxwriter

from ingest.feeds.aggregate_reports import FEED, FIGURES, RECOGNITION, YES_NO
from ingest.geography import REFERENCE_DIR, vintage_of

DATA_SHEET = "Báo cáo"
INSTRUCTIONS_SHEET = "Hướng dẫn"
HEADER_ROW = 4  # 0-based: rows 0–3 are the title block
FIXED = ("Năm", "Mã tỉnh", "Mã xã", "Tên xã")
HEADERS = (*FIXED, *(column.header for column in FIGURES), *(column.header for column in RECOGNITION))
UNITS_FILES = {"pre_2025_07": "admin_units_pre2025.csv", "2025_07": "admin_units_2025.csv"}


@dataclass(frozen=True)
class Commune:
    code: str
    name: str


def file_name(province: str, year: int) -> str:
    return f"{FEED}_{province}_{year}.xlsx"


def provinces_and_communes(year: int) -> dict[str, tuple[str, list[Commune]]]:
    """{province code: (name, communes)} of the geography in force at the end of `year`."""
    vintage = vintage_of(f"{year}-12-31")
    out: dict[str, tuple[str, list[Commune]]] = {}
    with open(REFERENCE_DIR / UNITS_FILES[vintage], encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name, communes = out.setdefault(row["province_code"], (row["province_name"], []))
            communes.append(Commune(row["commune_code"], row["commune_name"]))
    return {code: (name, sorted(communes, key=lambda c: c.code)) for code, (name, communes) in sorted(out.items())}


def write_template(path: Path, year: int, province: str, province_name: str, communes: list[Commune],
                   filled: Mapping[str, Mapping[str, object]] | None = None, created: datetime | None = None) -> Path:
    """The workbook of one province and year; `filled` ({commune code: {header: value}}) writes figures in
    (the sample generator's filled reports), otherwise the input cells are empty. `created` fixes the
    workbook's creation date (the same bytes for the same content)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False})
    if created is not None:
        book.set_properties({"created": created})
    title = book.add_format({"bold": True, "font_size": 14})
    bold = book.add_format({"bold": True})
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "border": 1, "bg_color": "#DDEBF7"})
    fixed = book.add_format({"border": 1, "bg_color": "#F2F2F2", "num_format": "@"})
    cell = book.add_format({"border": 1, "bg_color": "#FFFFE0"})
    text_cell = book.add_format({"border": 1, "bg_color": "#FFFFE0", "num_format": "@"})
    sheet = book.add_worksheet(DATA_SHEET)
    sheet.write_string(0, 0, f"BÁO CÁO TỔNG HỢP CẤP XÃ VỀ TRẺ EM NĂM {year}", title)
    sheet.write_string(1, 0, f"Tỉnh/thành phố: {province_name} (mã {province})", bold)
    sheet.write_string(2, 0, "Điền các ô màu vàng; xem trang «Hướng dẫn». Không sửa mã, tên và tiêu đề cột.")
    for col, text in enumerate(HEADERS):
        sheet.write_string(HEADER_ROW, col, text, header)
        sheet.set_column(col, col, 10 if col < 3 else (28 if col == 3 else 18))
    sheet.set_row(HEADER_ROW, 90)
    first, last = HEADER_ROW + 1, HEADER_ROW + len(communes)
    for offset, commune in enumerate(communes):
        row = first + offset
        for col, text in enumerate((str(year), province, commune.code, commune.name)):
            sheet.write_string(row, col, text, fixed)
        values = (filled or {}).get(commune.code, {})
        for col, name in enumerate(HEADERS[len(FIXED):], start=len(FIXED)):
            value = values.get(name)
            if isinstance(value, int):
                sheet.write_number(row, col, value, cell)
            elif value is not None:
                sheet.write_string(row, col, str(value), text_cell)
            else:
                sheet.write_blank(row, col, None, text_cell if name == RECOGNITION[0].header else cell)
    if communes:
        _validations(sheet, first, last, year)
    sheet.freeze_panes(HEADER_ROW + 1, 4)
    _instructions(book.add_worksheet(INSTRUCTIONS_SHEET), year, bold)
    book.close()
    return path


def _validations(sheet, first: int, last: int, year: int) -> None:
    columns = {name: index for index, name in enumerate(HEADERS)}
    for column in FIGURES:
        col = columns[column.header]
        if column.sql_type == "boolean":
            rule = {"validate": "list", "source": list(YES_NO), "input_title": "Có / Không",
                    "error_message": "Chọn Có hoặc Không."}
        else:
            rule = {"validate": "integer", "criteria": ">=", "value": 0, "input_title": "Số nguyên ≥ 0",
                    "error_message": "Nhập số nguyên không âm (0 nếu không có)."}
        sheet.data_validation(first, col, last, col, {**rule, "error_title": "Giá trị không hợp lệ"})
    villages, facilities = columns[FIGURES[0].header], columns[FIGURES[1].header]
    sheet.data_validation(first, facilities, last, facilities, {
        "validate": "custom", "value": f"=AND(ISNUMBER({_a1(first, facilities)}),"
                                       f"{_a1(first, facilities)}<={_a1(first, villages)})",
        "error_title": "Giá trị không hợp lệ",
        "error_message": "Số thôn có điểm văn hóa, thể thao không vượt quá số thôn, tổ dân phố."})
    decision, recognised = columns[RECOGNITION[0].header], columns[RECOGNITION[1].header]
    sheet.data_validation(first, decision, last, decision, {"validate": "length", "criteria": "<=", "value": 100})
    sheet.data_validation(first, recognised, last, recognised, {
        "validate": "integer", "criteria": "between", "minimum": 2000, "maximum": year,
        "error_title": "Giá trị không hợp lệ", "error_message": f"Năm công nhận từ 2000 đến {year}."})


def _a1(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


INSTRUCTIONS = (
    "Mỗi xã, phường, đặc khu điền một dòng; để trống cả dòng nếu xã chưa báo cáo. Không để trống một ô khi đã "
    "điền các ô khác của dòng: ghi 0 khi không có.",
    "Số thôn, tổ dân phố có điểm văn hóa, thể thao cho trẻ em (chỉ tiêu 0501): không vượt quá số thôn, tổ dân phố.",
    "Xã có điểm vui chơi cho trẻ em (0502): Có / Không.",
    "Số trẻ em từ 7 tuổi trở lên được lấy ý kiến về các vấn đề liên quan đến trẻ em (0601) trong năm.",
    "Số trẻ em được trang bị kiến thức, kỹ năng an toàn khi tham gia môi trường mạng (0605) trong năm.",
    "Số trường hợp tảo hôn và số trẻ em bị tai nạn, thương tích không tử vong trong năm.",
    "Xã được công nhận phù hợp với trẻ em (Quyết định 06/QĐ-TTg ngày 03/01/2019): Có / Không; khi Có, ghi số quyết định "
    "và năm công nhận.",
    "Gửi tệp về thư mục landing/bao_cao_tong_hop/, giữ nguyên tên tệp. Tệp gửi lại thay thế tệp trước của tỉnh "
    "và năm đó.",
)


def _instructions(sheet, year: int, bold) -> None:
    sheet.set_column(0, 0, 110)
    sheet.write_string(0, 0, f"Hướng dẫn điền báo cáo tổng hợp cấp xã về trẻ em năm {year}", bold)
    for row, text in enumerate(INSTRUCTIONS, start=2):
        sheet.write_string(row, 0, f"{row - 1}. {text}")


def write_templates(year: int, folder: Path, provinces: list[str] | None = None) -> list[Path]:
    """One workbook per province of the year's geography (or of `provinces`) in `folder`/<year>/."""
    units = provinces_and_communes(year)
    unknown = sorted(set(provinces or ()) - set(units))
    if unknown:
        raise ValueError(f"province(s) {', '.join(unknown)} do not exist at the end of {year}")
    return [write_template(folder / str(year) / file_name(code, year), year, code, name, communes)
            for code, (name, communes) in units.items() if not provinces or code in provinces]
