"""The report workbook a province (or the nation) files: a cover, one sheet per TT 13/2021 group, the
breakdowns, the communes (or provinces), and the notes with the legend.

Every number is a numeric cell with a number format; a value that is not published shows a symbol (never
a number that could be summed). Text from data is always written as text: the workbook is opened with
formulas, URLs and numbers-from-strings off, and every string goes through write_string.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from report.data import BREAKDOWNS, Indicator, ReportData, Unit, Value
from report.labels import (
    ANNEX_I_GROUPS,
    BREAKDOWN_NAMES,
    LEGEND,
    STATUS_LABEL,
    STATUS_NOTE,
    SYMBOLS,
    decimals,
    indicator_order,
    value_name,
)
from report.manifest import OutputFile

TITLE = "BÁO CÁO THỐNG KÊ VỀ TÌNH HÌNH TRẺ EM VÀ TÌNH HÌNH XÂM HẠI TRẺ EM"
LEGAL_BASIS = "Thông tư 13/2021/TT-BLĐTBXH ngày 30/9/2021 (bộ chỉ tiêu thống kê về tình hình trẻ em và tình hình xâm hại trẻ em)"
FEED_SECTORS = {
    "y_te": "Ngành Y tế (Health)",
    "giao_duc": "Ngành Giáo dục và Đào tạo (Education)",
    "ldxh": "Ngành Lao động – Thương binh và Xã hội (Labour and social affairs)",
    "dan_so": "Dân số (Population estimates)",
}
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def workbook_name(unit: Unit, period: str) -> str:
    return f"workbooks/bao-cao-{period}-{'toan-quoc' if unit.is_nation else unit.admin_code}.xlsx"


_SHARED: tuple[ReportData, Path] | None = None  # what forked workers inherit instead of a pickled copy


def _write_one(index: int) -> None:
    data, folder = _SHARED
    unit = data.units[index]
    _Workbook(data, unit, folder / workbook_name(unit, data.period.period)).write()


def write_workbooks(data: ReportData, folder: Path, workers: int | None = None) -> list[OutputFile]:
    """One workbook per unit; several at a time on a multi-core machine (forked workers share the data)."""
    global _SHARED
    (folder / "workbooks").mkdir(parents=True, exist_ok=True)
    workers = workers or min(4, os.cpu_count() or 1)
    _SHARED = (data, folder)
    try:
        # a daemonic process (a Celery prefork worker) may not have children: then one at a time
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods() \
                and not multiprocessing.current_process().daemon:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                list(pool.map(_write_one, range(len(data.units))))
        else:
            for index in range(len(data.units)):
                _write_one(index)
    finally:
        _SHARED = None
    return [OutputFile(workbook_name(u, data.period.period), "workbook", u.admin_code, u.status) for u in data.units]


def sheet_groups(data: ReportData) -> list[tuple[str, str, list[Indicator]]]:
    """(sheet name, group title, indicators) in the order of the report form: Phụ lục I groups I–VI, then
    the groups of Phụ lục II. Indicators of the period's type only."""
    of_period = [i for i in data.indicators.values() if data.period.period_type in i.period_types]
    by_group: dict[tuple[str, str], list[Indicator]] = defaultdict(list)
    for indicator in of_period:
        by_group[(indicator.annex or "I", indicator.indicator_group or "")].append(indicator)
    groups = [("I", g) for g in ANNEX_I_GROUPS]
    groups += sorted(k for k in by_group if k not in groups)
    sheets = []
    for annex, group in groups:
        numeral = group.split(" ", 1)[0]
        title = f"Phụ lục {annex} – Nhóm {group}"
        indicators = sorted(by_group.get((annex, group), []), key=indicator_order)
        sheets.append((f"PL{annex} nhóm {numeral}", title, indicators))
    return sheets


def _cell_order(cell: str) -> tuple:
    """Breakdown cells as the forms list them: total, male before female, Kinh before minorities."""
    return (CELL_ORDER.get(cell, 9), cell)


CELL_ORDER = {"total": 0, "male": 1, "female": 2, "kinh": 1, "minority": 2}


class _Workbook:
    def __init__(self, data: ReportData, unit: Unit, path: Path):
        self.data, self.unit, self.path = data, unit, path
        self.book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
        self.book.set_properties({"title": f"{TITLE} – {unit.admin_name} – {data.period.name_vi}",
                                  "subject": LEGAL_BASIS, "comments": f"release {data.release_id}"})
        level = "national" if unit.is_nation else "province"
        own = [v for v in data.values_of(unit.admin_code) if v.admin_level == level]
        self.totals = {v.indicator_id: v for v in own if v.is_total}
        self.cells = [v for v in own if not v.is_total]
        self.previous = {v.indicator_id: v for v in data.previous_of(unit.admin_code)
                         if v.admin_level == level and v.is_total}
        self.formats = self._formats()
        self.widths: dict[str, dict[int, float]] = {}
        self.heights: dict[str, dict[int, int]] = {}

    # -- formats ---------------------------------------------------------------------------------------
    def _formats(self) -> dict:
        add = self.book.add_format
        base = {"font_name": "Times New Roman", "font_size": 11, "valign": "vcenter"}
        cell = {**base, "border": 1}
        formats = {
            "title": add({**base, "bold": True, "font_size": 14}),
            "subtitle": add({**base, "italic": True}),
            "status": add({**base, "bold": True, "font_color": "#9C0006" if self.unit.status == "provisional"
                           else "#006100", "font_size": 12}),
            "header": add({**cell, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "align": "center"}),
            "text": add({**cell, "text_wrap": True}),
            "label": add({**base, "bold": True}),
            "plain": add({**base, "text_wrap": True}),
            "symbol": add({**cell, "align": "center"}),
            "year": add({**cell, "num_format": "0", "align": "center"}),
        }
        for digits in (0, 1, 2):
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
            formats[f"n{digits}"] = add({**cell, "num_format": pattern})
            formats[f"d{digits}"] = add({**cell, "num_format": "+" + pattern + ";-" + pattern + ";0"})
        return formats

    # -- helpers ---------------------------------------------------------------------------------------
    def _text(self, sheet, row: int, col: int, text: str | None, fmt: str = "text") -> None:
        text = "" if text is None else str(text)
        sheet.write_string(row, col, text, self.formats[fmt])
        self._fit_height(sheet, row, col, text, fmt)

    def _set_width(self, sheet, col: int, width: float) -> None:
        sheet.set_column(col, col, width)
        self.widths.setdefault(sheet.name, {})[col] = width

    def _fit_height(self, sheet, row: int, col: int, text: str, fmt: str) -> None:
        """Row heights are written, not left to the viewer: not every spreadsheet program (nor every printer
        driver) grows a row for wrapped text by itself."""
        width = self.widths.get(sheet.name, {}).get(col)
        per_line = (width or 0) * 1.4  # Times New Roman 11: about 1.4 characters per unit of column width
        if not width or fmt not in ("text", "plain") or len(text) <= per_line:
            return
        lines = int(-(-len(text) // per_line))
        heights = self.heights.setdefault(sheet.name, {})
        if lines > heights.get(row, 1):
            heights[row] = lines
            sheet.set_row(row, 15 * lines)

    def _number(self, sheet, row: int, col: int, number: Decimal | None, digits: int, status: str = "published",
                fmt: str = "n") -> None:
        if number is None:
            sheet.write_string(row, col, SYMBOLS.get(status, SYMBOLS["missing"]), self.formats["symbol"])
        else:
            sheet.write_number(row, col, float(number), self.formats[f"{fmt}{digits}"])

    def _banner(self, sheet, title: str) -> int:
        """Title, unit and period, and the status on every sheet; returns the next free row."""
        period = self.data.period
        self._text(sheet, 0, 0, title, "title")
        where = "Toàn quốc" if self.unit.is_nation else self.unit.admin_name
        self._text(sheet, 1, 0, f"{where} – {period.name_vi} ({period.period}) – mã phát hành {self.data.release_id}",
                   "subtitle")
        status = STATUS_LABEL[self.unit.status]
        if period.is_preliminary and period.data_until:
            status += f" – số liệu đến ngày {period.data_until:%d/%m/%Y}"
        self._text(sheet, 2, 0, status, "status")
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
        sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        sheet.set_header(f"&L&8{STATUS_LABEL[self.unit.status]}&R&8{where} – {period.period}")
        sheet.set_footer("&C&8Trang &P / &N")
        return 4

    def _table_header(self, sheet, row: int, headers: list[tuple[str, float]], rows: int = 0) -> int:
        """Column headers, frozen and printed on every page; with `rows`, a filter over the table."""
        if rows:
            sheet.autofilter(row, 0, row + rows, len(headers) - 1)
        for col, (name, width) in enumerate(headers):
            self._text(sheet, row, col, name, "header")
            self._set_width(sheet, col, width)
        sheet.set_row(row, 45)
        sheet.freeze_panes(row + 1, 0)
        sheet.repeat_rows(row)
        return row + 1

    # -- sheets ----------------------------------------------------------------------------------------
    def write(self) -> None:
        self._cover()
        for sheet_name, title, indicators in sheet_groups(self.data):
            self._group(sheet_name, title, indicators)
        self._breakdowns()
        self._units()
        self._notes()
        self.book.close()

    def _cover(self) -> None:
        sheet = self.book.add_worksheet("Bìa")
        period, unit = self.data.period, self.unit
        row = self._banner(sheet, TITLE)
        deadline = (period.province_deadlines.get(unit.admin_code) if not unit.is_nation else None) or period.deadline
        if isinstance(deadline, str):  # from jsonb
            deadline = date.fromisoformat(deadline)
        approval = unit.approval
        lines = [
            ("Căn cứ", LEGAL_BASIS),
            ("Đơn vị báo cáo", "Toàn quốc (Việt Nam)" if unit.is_nation else f"{unit.admin_name} (mã {unit.admin_code})"),
            ("Kỳ báo cáo", f"{period.name_vi} ({period.period})"),
            ("Kỳ báo cáo định kỳ", f"Báo cáo {period.round_name_vi}" if period.round_name_vi else "Kỳ theo năm dương lịch"),
            ("Phạm vi số liệu", f"{period.first_day:%d/%m/%Y} – {period.last_day:%d/%m/%Y}"),
            ("Hạn nộp báo cáo", f"{deadline:%d/%m/%Y}" if deadline else ""),
            ("Mã phát hành (release)", self.data.release_id),
            ("Tình trạng số liệu", STATUS_LABEL[unit.status] + " – " + STATUS_NOTE[unit.status]),
            ("Số liệu sơ bộ đến ngày", f"{period.data_until:%d/%m/%Y}" if period.is_preliminary and period.data_until
             else ""),
            ("Ngày lập báo cáo", f"{self.data.made_at:%d/%m/%Y %H:%M}"),
            ("Người phê duyệt", f"{approval.approved_by} ({approval.approved_at:%d/%m/%Y %H:%M}, phê duyệt số "
                                f"{approval.approval_id})" if approval else "Chưa phê duyệt"),
            ("Ghi chú phê duyệt", approval.note if approval and approval.note else ""),
        ]
        self._set_width(sheet, 0, 28)
        self._set_width(sheet, 1, 100)
        for label, text in lines:
            self._text(sheet, row, 0, label, "label")
            self._text(sheet, row, 1, text, "plain")
            row += 1
        row += 1
        self._legend(sheet, row)

    def _legend(self, sheet, row: int) -> int:
        """The symbols a cell without a number shows; returns the last row written."""
        self._text(sheet, row, 0, "Ký hiệu", "label")
        for symbol, vi, en in LEGEND:
            row += 1
            self._text(sheet, row, 0, symbol, "symbol")
            self._text(sheet, row, 1, f"{vi} ({en})", "plain")
        return row

    def _group(self, sheet_name: str, title: str, indicators: list[Indicator]) -> None:
        sheet = self.book.add_worksheet(sheet_name)
        row = self._banner(sheet, title)
        period = self.data.period
        row = self._table_header(sheet, row, [
            ("STT", 5), ("Mã số", 7), ("Chỉ tiêu", 50), ("Đơn vị tính", 18), (f"{period.name_vi}", 13),
            (f"Cùng kỳ năm trước ({period.year_earlier})", 13), ("Thay đổi", 10), ("Mục tiêu", 9),
            ("Năm mục tiêu", 8), ("Đánh giá", 20), ("Tiến độ theo xu hướng", 13), ("Mã chỉ tiêu (CSDL)", 30)])
        if not indicators:
            yearly = [i for i in self.data.indicators.values() if i.indicator_group == title.split("Nhóm ", 1)[1]]
            self._text(sheet, row, 2, "Các chỉ tiêu của nhóm này chỉ tổng hợp theo năm (indicators of this group are "
                                      "annual only)." if yearly else
                       "Chưa có chỉ tiêu nào của nhóm này được tổng hợp từ nguồn số liệu hiện có "
                       "(no indicator of this group has a source yet).", "plain")
            return
        for number, indicator in enumerate(indicators, start=1):
            digits = decimals(indicator.unit, indicator.kind)
            current, previous = self.totals.get(indicator.indicator_id), self.previous.get(indicator.indicator_id)
            sheet.write_number(row, 0, number, self.formats["n0"])
            self._text(sheet, row, 1, indicator.tt13_code)
            self._text(sheet, row, 2, indicator.name_vi)
            self._text(sheet, row, 3, indicator.unit_vi)
            self._cell(sheet, row, 4, current, digits)
            self._cell(sheet, row, 5, previous, digits)
            change = (current.value - previous.value
                      if current and previous and current.value is not None and previous.value is not None else None)
            self._number(sheet, row, 6, change, digits, "missing", fmt="d")
            target = self.data.target_for(indicator.indicator_id, self.unit.admin_code, period)
            if target:
                self._number(sheet, row, 7, target.target_value, max(digits, 1))
                sheet.write_number(row, 8, target.target_year, self.formats["year"])
                met = target.is_met(current.value if current else None)
                verdict = "" if met is None else ("Đạt" if met else "Chưa đạt")
                if target.scope == "VN" and not self.unit.is_nation and verdict:
                    verdict += " (MT quốc gia)"
                self._text(sheet, row, 9, verdict)
                self._text(sheet, row, 10, self._progress(indicator.indicator_id, target.target_year))
            else:
                for col in (7, 8, 9, 10):
                    self._text(sheet, row, col, "")
            self._text(sheet, row, 11, indicator.indicator_id)
            row += 1

    def _progress(self, indicator_id: str, target_year: int) -> str:
        """On track or not by the linear trend of complete years (published.target_progress)."""
        row = next((p for p in self.data.progress if p["indicator_id"] == indicator_id
                    and p["admin_code"] == self.unit.admin_code and p["target_year"] == target_year), None)
        if row is None or row["is_on_track"] is None:
            return ""
        return "Đúng tiến độ" if row["is_on_track"] else "Chậm tiến độ"

    def _cell(self, sheet, row: int, col: int, value: Value | None, digits: int) -> None:
        self._number(sheet, row, col, value.value if value else None, digits, value.status if value else "missing")

    def _breakdowns(self) -> None:
        sheet = self.book.add_worksheet("Phân tổ")
        row = self._banner(sheet, "Các chỉ tiêu theo phân tổ chủ yếu (giới tính, nhóm tuổi, dân tộc, phân loại)")
        row = self._table_header(sheet, row, [
            ("Chỉ tiêu", 44), ("Đơn vị tính", 14), ("Phân tổ", 12), ("Nhóm", 26), ("Giá trị", 13), ("Tử số", 12),
            ("Mẫu số", 12), ("Mã chỉ tiêu (CSDL)", 30)], rows=len(self.cells))
        indicators = self.data.indicators
        for value in sorted(self.cells, key=lambda v: (v.indicator_id, *map(_cell_order, v.breakdown))):
            indicator = indicators[value.indicator_id]
            dimension = next((b for b, cell in zip(BREAKDOWNS, value.breakdown) if cell != "total"), "")
            group = ", ".join(value_name(c) if b == "category" else f"{BREAKDOWN_NAMES[b]}: {value_name(c)}"
                              for b, c in zip(BREAKDOWNS, value.breakdown) if c != "total")
            self._text(sheet, row, 0, indicator.name_vi)
            self._text(sheet, row, 1, indicator.unit_vi)
            self._text(sheet, row, 2, BREAKDOWN_NAMES.get(dimension, dimension))
            self._text(sheet, row, 3, group)
            self._value_columns(sheet, row, 4, value, indicator)
            self._text(sheet, row, 7, value.indicator_id)
            row += 1

    def _value_columns(self, sheet, row: int, col: int, value: Value, indicator: Indicator) -> None:
        digits = decimals(indicator.unit, indicator.kind)
        self._number(sheet, row, col, value.value, digits, value.status)
        self._number(sheet, row, col + 1, value.numerator, 0, value.status)
        if indicator.kind == "rate":
            self._number(sheet, row, col + 2, value.denominator, 0, "missing" if value.denominator is None
                         and not value.suppression else value.status)
        else:
            self._text(sheet, row, col + 2, "")

    def _units(self) -> None:
        """A province's communes; for the nation, its provinces (each with its own approval status)."""
        if self.unit.is_nation:
            sheet = self.book.add_worksheet("Tỉnh, thành phố")
            title = "Các chỉ tiêu theo tỉnh, thành phố (địa giới từ 1/7/2025)"
            values = [v for v in self.data.values if v.admin_level == "province" and v.is_total]
        else:
            sheet = self.book.add_worksheet("Xã, phường")
            title = "Các chỉ tiêu theo xã, phường, đặc khu (địa giới từ 1/7/2025)"
            values = [v for v in self.data.values_of(self.unit.admin_code) if v.admin_level == "commune" and v.is_total]
        row = self._banner(sheet, title)
        row = self._table_header(sheet, row, [
            ("Mã đơn vị", 10), ("Tên đơn vị", 28), ("Chỉ tiêu", 44), ("Đơn vị tính", 14), ("Giá trị", 13),
            ("Tử số", 12), ("Mẫu số", 12), ("Tình trạng", 14), ("Mã chỉ tiêu (CSDL)", 30)], rows=len(values))
        indicators = self.data.indicators
        for value in sorted(values, key=lambda v: (v.indicator_id, v.admin_code)):
            indicator = indicators[value.indicator_id]
            self._text(sheet, row, 0, value.admin_code)
            self._text(sheet, row, 1, value.admin_name)
            self._text(sheet, row, 2, indicator.name_vi)
            self._text(sheet, row, 3, indicator.unit_vi)
            self._value_columns(sheet, row, 4, value, indicator)
            self._text(sheet, row, 7, "chính thức" if value.approval_status == "official" else "sơ bộ")
            self._text(sheet, row, 8, value.indicator_id)
            row += 1

    def _notes(self) -> None:
        sheet = self.book.add_worksheet("Ghi chú")
        row = self._banner(sheet, "Khái niệm, phương pháp tính, nguồn số liệu và ký hiệu")
        row = self._table_header(sheet, row, [
            ("Mã số", 8), ("Chỉ tiêu", 36), ("Tên tiếng Anh", 26), ("Đơn vị tính", 14), ("Tử số", 40),
            ("Mẫu số", 32), ("Nguồn số liệu", 26), ("Cơ quan chịu trách nhiệm", 28), ("Căn cứ pháp lý", 28),
            ("Ghi chú", 50)])
        for _sheet_name, _, indicators in sheet_groups(self.data):
            for indicator in indicators:
                sources = sorted({sector for feed in (indicator.source_feeds or "").split("|") if feed
                                  for prefix, sector in FEED_SECTORS.items() if feed.startswith(prefix)})
                for col, text in enumerate([indicator.tt13_code, indicator.name_vi, indicator.name_en,
                                            indicator.unit_vi, indicator.numerator_definition,
                                            indicator.denominator_definition, "; ".join(sources),
                                            indicator.responsible_agency, indicator.legal_basis, indicator.notes]):
                    self._text(sheet, row, col, text)
                row += 1
        row += 1
        row = self._legend(sheet, row) + 2
        self._text(sheet, row, 0, "Tình trạng", "label")
        for status in ("official", "provisional"):
            row += 1
            self._text(sheet, row, 1, f"{STATUS_LABEL[status]}: {STATUS_NOTE[status]}", "plain")
        row += 2
        self._text(sheet, row, 0, "Tỷ lệ", "label")
        self._text(sheet, row + 1, 1, "Tỷ lệ ở mọi cấp được tính lại từ tổng tử số và tổng mẫu số (không lấy bình quân "
                                      "các tỷ lệ). Rates are recomputed from summed numerators and denominators at "
                                      "every level, never averaged.", "plain")
