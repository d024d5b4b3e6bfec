"""A corpus of hostile deliveries, generated, each with the outcome it must have: status, rows loaded and
quarantined, a fragment of the message. The integration test loads it through the loader with a time
bound; `python -m tests.hostile_corpus DIR` writes it as a landing folder for `make run LANDING_DIR=DIR`.

Every case uses its own province (first commune of each pre-reform province, 2025-H1), so the cases never
supersede one another; cases about corrections deliver two files of one province.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "reference" / "admin_units_pre2025.csv"
BIRTHS_HEADER = ["Mã sự kiện", "Ngày sinh", "Giới tính", "Sinh sống", "Cân nặng (g)", "Mã tỉnh", "Mã xã",
                 "Mã dân tộc mẹ", "Nơi sinh"]
MIB = 1 << 20


@dataclass
class Case:
    name: str                 # what the case is
    feed: str
    files: list[str]          # file names in delivery order; the outcome is the last file's
    status: str
    loaded: int
    quarantined: int
    fragment: str = ""        # in the batch reason (or in a quarantine reason when the file loads)
    extra: dict = field(default_factory=dict)


def first_communes() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    with open(REFERENCE, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            seen.setdefault(row["province_code"], row["commune_code"])
    return sorted(seen.items())


def birth_rows(count: int, province: str, commune: str, *, prefix: str = "E", month: int = 3,
               year: int = 2025) -> list[list[str]]:
    return [[f"{prefix}{province}-{i}", f"{1 + i % 28:02d}/{month:02d}/{year}", "Nam" if i % 2 else "Nữ", "C",
             str(2800 + i % 900), province, commune, "01", "CSYT"] for i in range(count)]


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def xlsx_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    for r, cells in enumerate([header, *rows]):
        for c, value in enumerate(cells):
            sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


def patch_sheet(workbook: bytes, change: Callable[[str], str], part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """The workbook with one XML part (the first sheet's by default) rewritten by `change`."""
    source, out = zipfile.ZipFile(io.BytesIO(workbook)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == part:
                data = change(data.decode()).encode()
            target.writestr(item, data)
    return out.getvalue()


class _Writer:
    def __init__(self, landing: Path):
        self.landing, self.stamp = landing, time.time() - 3600

    def write(self, feed: str, name: str, data: bytes | str) -> str:
        folder = self.landing / feed
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        self.stamp += 1  # delivery order is file time order
        os.utime(path, (self.stamp, self.stamp))
        return name


def build_corpus(landing: Path) -> list[Case]:
    """Write every hostile case into `landing`; returns the cases with their expected outcomes."""
    writer = _Writer(landing)
    provinces = iter(first_communes())
    cases: list[Case] = []

    def births(case: str, rows: list[list[str]] | None = None, *, body: str | bytes | None = None,
               extension: str = "csv", period: str = "2025-H1", **expected) -> tuple[str, str]:
        province, commune = next(provinces)
        name = f"y_te_sinh_{province}_{period}_{case}.{extension}"
        data = body if body is not None else csv_text(BIRTHS_HEADER, rows or birth_rows(50, province, commune))
        if callable(data):
            data = data(province, commune)
        writer.write("y_te_sinh", name, data)
        cases.append(Case(case, "y_te_sinh", [name], **expected))
        return province, commune

    def body(make: Callable[[str, str], str | bytes]):
        return make

    # --- quotes -----------------------------------------------------------------------------------------
    births("stray_quote_mid_field", body=body(lambda p, c: csv_text(BIRTHS_HEADER, birth_rows(40, p, c)).replace(
        "CSYT\n", 'CS"YT\n', 1)), status="loaded", loaded=39, quarantined=1, fragment="quote")

    def unbalanced(p, c):
        rows = csv_text(BIRTHS_HEADER, birth_rows(60, p, c)).splitlines(keepends=True)
        rows[11] = rows[11].replace(",CSYT", ',"CSYT')  # line 12: a quote that never closes
        return "".join(rows)
    births("unbalanced_quote", body=body(unbalanced), status="loaded", loaded=59, quarantined=1, fragment="quote")

    def quote_at_end(p, c):
        return csv_text(BIRTHS_HEADER, birth_rows(30, p, c)) + f'Z1,01/03/2025,Nam,C,3000,{p},{c},01,"CSYT\n'
    births("quote_open_at_end_of_file", body=body(quote_at_end), status="loaded", loaded=30, quarantined=1,
           fragment="quote")

    # --- size limits -----------------------------------------------------------------------------------
    def long_cell(p, c):
        rows = birth_rows(20, p, c)
        rows[5][0] = "X" * (2 * MIB)
        return csv_text(BIRTHS_HEADER, rows)
    births("cell_over_1_mib", body=body(long_cell), status="loaded", loaded=19, quarantined=1,
           fragment="INGEST_MAX_CELL_BYTES")

    def long_line(p, c):
        text = csv_text(BIRTHS_HEADER, birth_rows(20, p, c)).splitlines(keepends=True)
        text.insert(8, "y" * (3 * MIB) + "\n")
        return "".join(text)
    births("line_over_1_mib", body=body(long_line), status="loaded", loaded=20, quarantined=1,
           fragment="INGEST_MAX_CELL_BYTES")

    # --- headers and emptiness -------------------------------------------------------------------------
    births("header_with_quoted_newline", body=body(lambda p, c: csv_text(
        [*BIRTHS_HEADER, "Ghi chú\n(không bắt buộc)"], [[*row, "ghi chú"] for row in birth_rows(25, p, c)])),
        status="loaded", loaded=25, quarantined=0)
    births("header_only", body=csv_text(BIRTHS_HEADER, []), status="empty", loaded=0, quarantined=0,
           fragment="no records")
    births("zero_bytes", body=b"", status="empty", loaded=0, quarantined=0, fragment="empty")
    births("bom_crlf", body=body(lambda p, c: "\ufeff" + csv_text(BIRTHS_HEADER, birth_rows(15, p, c))
                                 .replace("\n", "\r\n")), status="loaded", loaded=15, quarantined=0)
    births("wrong_cell_count", body=body(lambda p, c: csv_text(BIRTHS_HEADER, birth_rows(10, p, c)) + "A,B,C\n"),
           status="loaded", loaded=10, quarantined=1, fragment="cells but the header has 9")

    # --- encodings ---------------------------------------------------------------------------------------
    births("legacy_encoding", body=body(lambda p, c: csv_text(BIRTHS_HEADER, birth_rows(10, p, c))
                                        .encode("utf-8").replace("Nữ".encode(), b"N\xfe")),
           status="rejected", loaded=0, quarantined=0, fragment="not valid UTF-8")
    births("double_encoded_utf8", body=body(lambda p, c: csv_text(BIRTHS_HEADER, birth_rows(10, p, c))
                                            .encode("utf-8").decode("cp1252", errors="replace").encode("utf-8")),
           status="rejected", loaded=0, quarantined=0, fragment="encod")
    births("not_a_csv_at_all", body=zipfile_bytes(), status="rejected", loaded=0, quarantined=0, fragment="")
    births("wrong_extension", extension="txt", status="rejected", loaded=0, quarantined=0, fragment=".csv")

    # --- workbooks ------------------------------------------------------------------------------------
    cases.extend(_workbook_cases(writer, provinces))

    # --- paths -------------------------------------------------------------------------------------------
    secret = landing / ".secret-key"
    secret.write_text("PSEUDONYMISATION-KEY-DO-NOT-LEAK\n")
    link = landing / "y_te_sinh" / "y_te_sinh_99_2025-H1_symlink.csv"
    link.symlink_to(secret)
    cases.append(Case("symlink_to_a_secret", "y_te_sinh", [link.name], "rejected", 0, 0, "symbolic link",
                      extra={"secret": "PSEUDONYMISATION-KEY-DO-NOT-LEAK"}))

    # --- corrections -----------------------------------------------------------------------------------
    province, commune = next(provinces)
    first = writer.write("y_te_sinh", f"y_te_sinh_{province}_2024-H2.csv",
                         csv_text(BIRTHS_HEADER, birth_rows(40, province, commune, month=9, year=2024)))
    second = writer.write("y_te_sinh", f"y_te_sinh_{province}_2025-H1_misdated.csv", csv_text(
        BIRTHS_HEADER, birth_rows(30, province, commune) + [["M1", "15/12/2024", "Nữ", "C", "3000", province, commune,
                                                             "01", "CSYT"]]))
    cases.append(Case("misdated_row_in_a_correction", "y_te_sinh", [first, second], "loaded", 30, 1,
                      "outside the delivery's period", extra={"province": province, "kept": ("2024-H2", 40)}))

    province, commune = next(provinces)
    big = writer.write("y_te_sinh", f"y_te_sinh_{province}_2025-H1.csv",
                       csv_text(BIRTHS_HEADER, birth_rows(1453, province, commune)))
    small = writer.write("y_te_sinh", f"y_te_sinh_{province}_2025-H1_fix.csv",
                         csv_text(BIRTHS_HEADER, birth_rows(5, province, commune, prefix="F")))
    cases.append(Case("correction_shrinking_a_cell", "y_te_sinh", [big, small], "loaded", 5, 0,
                      "waiting for confirmation", extra={"province": province, "kept": ("2025-H1", 1453)}))

    # --- JSON lines ---------------------------------------------------------------------------------------
    province, commune = next(provinces)
    case_line = {"ma_vu": "V1", "ngay_phat_hien": "2025-03-01", "hinh_thuc": ["khac"], "moi_truong": "gia_dinh",
                 "nan_nhan": [{"gioi_tinh": "nam", "duoc_ho_tro": True, "ngay_sinh": "2016-03-20",
                               "ma_dinh_danh": "001216010791"}],
                 "so_doi_tuong": 1, "xu_ly": "hinh_su", "so_tien_phat": 0, "ma_tinh": province, "ma_xa": commune}
    name = writer.write("ldxh_xam_hai", f"ldxh_xam_hai_{province}_2025-H1_broken_lines.jsonl",
                        json.dumps(case_line, ensure_ascii=False) + "\n{not json\n[1, 2]\n")
    cases.append(Case("jsonl_broken_lines", "ldxh_xam_hai", [name], "loaded", 1, 2, "not valid JSON"))
    return cases


def zipfile_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "not a csv")
    return out.getvalue()


SCHOOL_HEADER = ["Năm học", "Mã trường", "Cấp học", "Khối", "Mã học sinh", "Mã định danh", "Họ và tên", "Ngày sinh",
                 "Giới tính", "Mã dân tộc", "Mã tỉnh", "Mã xã", "Trạng thái", "Ngày trạng thái", "Mã lý do thôi học",
                 "Khuyết tật"]


def school_rows(count: int, province: str, commune: str) -> list[list[str]]:
    return [["2024-2025", f"T{province}", "TH", "3", f"S{i}", "", "Nguyễn Văn An", f"{1 + i % 28:02d}/05/2016",
             "Nam" if i % 2 else "Nữ", "01", province, commune, "01", "05/09/2024", "", "K"] for i in range(count)]


def _workbook_cases(writer: _Writer, provinces) -> list[Case]:
    """Workbooks go to the school feed, the one delivered as .xlsx."""
    cases = []

    def deliver(case: str, data: bytes, **expected) -> None:
        name = writer.write("giao_duc_hoc_sinh", f"giao_duc_hoc_sinh_{province}_2024-2025_{case}.xlsx", data)
        cases.append(Case(case, "giao_duc_hoc_sinh", [name], **expected))

    province, commune = next(provinces)
    book = xlsx_bytes(SCHOOL_HEADER, school_rows(30, province, commune))
    deliver("xlsx_declares_A1_XFD1048576", patch_sheet(book, lambda xml: re.sub(
        r'<dimension ref="[^"]+"/>', '<dimension ref="A1:XFD1048576"/>', xml).replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')),
        status="loaded", loaded=30, quarantined=None)
    province, commune = next(provinces)
    rows = school_rows(20, province, commune)
    rows[3][6] = "HUGE-CELL"  # Excel stops at 32,767 characters: the 2 MiB cell is written into the XML
    deliver("xlsx_cell_over_1_mib", patch_sheet(xlsx_bytes(SCHOOL_HEADER, rows),
                                                lambda xml: xml.replace("HUGE-CELL", "Z" * (2 * MIB)),
                                                part="xl/sharedStrings.xml"),
            status="loaded", loaded=19, quarantined=1, fragment="INGEST_MAX_CELL_BYTES")
    province, commune = next(provinces)
    whole = xlsx_bytes(SCHOOL_HEADER, school_rows(20, province, commune))
    deliver("xlsx_truncated", whole[: len(whole) // 2], status="rejected", loaded=0, quarantined=0, fragment="xlsx")
    return cases


if __name__ == "__main__":
    target = Path(sys.argv[1])
    for case in build_corpus(target):
        print(f"{case.feed}/{case.files[-1]}: {case.name} -> {case.status}")
