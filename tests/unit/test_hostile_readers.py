"""The readers on hostile files: bounded time and memory, exact quarantine, the rest of the file loads.

Limits are lowered by monkeypatching the module constants, so every case runs on small files in well under
a second of CPU; each case asserts its own CPU-time bound (process time: other work on the machine does not
count)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
import zipfile
from contextlib import contextmanager
from datetime import date, datetime, time as clock
from pathlib import Path

import pytest
import xlsxwriter

from bench.hostile_files import write_big_cell_xlsx, write_huge_dimension_xlsx
from ingest import readers, xlsx_stream
from ingest.encoding import excerpt, find_mojibake
from ingest.readers import CsvSource, EmptyFile, JsonlSource, MalformedRecord, UnreadableFile, XlsxSource

HEADER = "Mã,Tên,Giới tính,Nơi sinh"
KiB = 1 << 10


@contextmanager
def cpu_seconds(bound: float):
    started = time.process_time()
    yield
    spent = time.process_time() - started
    assert spent < bound, f"took {spent:.2f} s of CPU, bound {bound} s"


@pytest.fixture(scope="module")
def warmed_up(tmp_path_factory):
    """One small file through each reader first: the imports they do on first use are not the work."""
    folder = tmp_path_factory.mktemp("warm")
    read_csv_file(write(folder, HEADER + "\n" + rows(1, 2)))
    path = folder / "warm.xlsx"
    write_huge_dimension_xlsx(path)
    list(XlsxSource(path).chunks())
    list(JsonlSource(write(folder, '{"a": 1}\n', "warm.jsonl"), expected_headers={"a"}).chunks())


@contextmanager
def peak_memory(bound: int):
    """Python and numpy allocations (tracemalloc) stay under `bound` bytes (use with `warmed_up`)."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < bound, f"peak {peak:,} bytes, bound {bound:,}"


@pytest.fixture
def small_limits(monkeypatch):
    """64 KiB cells, 16 KiB blocks, quoted values of 3 lines at most, 64 KiB looked at for mojibake."""
    monkeypatch.setattr(readers, "MAX_CELL_BYTES", 64 * KiB)
    monkeypatch.setattr(readers, "MOJIBAKE_SAMPLE_BYTES", 64 * KiB)
    monkeypatch.setattr(readers, "BLOCK_BYTES", 16 * KiB)
    monkeypatch.setattr(readers, "MAX_QUOTED_LINES", 3)


def read_csv_file(path: Path):
    """(header, [(line, cells)], [MalformedRecord]) of a CSV."""
    source = CsvSource(path)
    records, malformed = [], []
    for chunk in source.chunks():
        records += [(int(line), chunk.record(i)) for i, line in enumerate(chunk.lines)]
        malformed += chunk.malformed
    return source.header, records, sorted(malformed, key=lambda item: item.line)


def write(tmp_path: Path, data: str | bytes, name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def rows(first: int, count: int) -> str:
    return "".join(f"E{i},Tên {i},Nam,CSYT\n" for i in range(first, first + count))


# ------------------------------------------------------------------------------------------------ CSV quotes

def test_a_stray_quote_in_an_unquoted_value_quarantines_that_row_only(tmp_path):
    path = write(tmp_path, HEADER + "\n" + rows(1, 2) + 'E3,Nguyen "Van A,Nam,CSYT\n' + rows(4, 2))
    with cpu_seconds(1):
        header, records, malformed = read_csv_file(path)
    assert header == ["Mã", "Tên", "Giới tính", "Nơi sinh"]
    assert [line for line, _ in records] == [2, 3, 5, 6]
    bad, = malformed
    assert (bad.line, bad.column, bad.cells) == (4, None, ["E3", 'Nguyen "Van A', "Nam", "CSYT"])
    assert bad.reason == ('unbalanced quote: a quote (") in the middle of a value, at line 4; '
                          'quote the whole value and double the quotes inside it ("")')


def test_a_quote_opening_a_value_that_never_closes_costs_one_row(tmp_path):
    path = write(tmp_path, HEADER + "\n" + rows(1, 1) + '"E2,Nguyen Van A,Nam,CSYT\n' + rows(3, 3))
    header, records, malformed = read_csv_file(path)
    assert [(line, cells[0]) for line, cells in records] == [(2, "E1"), (4, "E3"), (5, "E4"), (6, "E5")]
    bad, = malformed
    assert (bad.line, bad.cells) == (3, ["E2,Nguyen Van A,Nam,CSYT"])
    assert bad.reason.startswith("unbalanced quote: the quoted value opened at line 3 never closes")
    assert bad.reason.endswith("reading resumed at line 4")


def test_a_quoted_value_longer_than_the_line_limit_is_unbalanced_and_reading_resumes(tmp_path, small_limits):
    text = (HEADER + "\n" + rows(1, 1) + 'E2,"Nguyen,Nam,CSYT\n' + rows(3, 5)
            + 'E8,"ghi\nchú\nba dòng",Nam,CSYT\n' + rows(9, 1))
    header, records, malformed = read_csv_file(write(tmp_path, text))
    assert [(line, cells[0]) for line, cells in records] == [
        (2, "E1"), (4, "E3"), (5, "E4"), (6, "E5"), (7, "E6"), (8, "E7"), (9, "E8"), (12, "E9")]
    assert records[-2][1] == ["E8", "ghi\nchú\nba dòng", "Nam", "CSYT"]  # 2 line breaks: within the limit
    bad, = malformed
    assert bad.line == 3
    assert bad.reason == ("unbalanced quote: the quoted value opened at line 3 never closes (a value may span 3 "
                          "lines at most); reading resumed at line 4")


def test_an_opening_quote_is_blamed_when_a_later_quote_cannot_close_it(tmp_path):
    # The stray quote at line 3 would pair with the quote of line 5's value: the damage stays one row.
    text = HEADER + "\n" + rows(1, 1) + '"E2,Nguyen,Nam,CSYT\n' + rows(3, 1) + 'E4,"x\ny",Nam,CSYT\n'
    header, records, malformed = read_csv_file(write(tmp_path, text))
    assert [(line, cells) for line, cells in records] == [(2, ["E1", "Tên 1", "Nam", "CSYT"]),
                                                         (4, ["E3", "Tên 3", "Nam", "CSYT"]),
                                                         (5, ["E4", "x\ny", "Nam", "CSYT"])]
    assert [item.line for item in malformed] == [3]


def test_well_formed_quoting_is_untouched(tmp_path):
    text = HEADER + "\n" + 'E1,"Lê ""Bé"" Na",Nữ,"CSYT"\nE2,"",Nam,"a,b"\r\nE3,"x\r\ny",Nam,KHAC\n'
    header, records, malformed = read_csv_file(write(tmp_path, text))
    assert malformed == []
    assert records == [(2, ["E1", 'Lê "Bé" Na', "Nữ", "CSYT"]), (3, ["E2", "", "Nam", "a,b"]),
                       (4, ["E3", "x\r\ny", "Nam", "KHAC"])]


@pytest.mark.parametrize("megabytes", [1, 4])
def test_stray_quotes_cost_linear_time(tmp_path, megabytes):
    """The issue's file: 4 MB with a stray quote took 78 s of CPU (quotes re-counted for every newline)."""
    body = rows(1, megabytes * 40_000)
    text = HEADER + "\n" + 'E0,Nguyen "Van A,Nam,CSYT\n' + body + '"E9,open,Nam,CSYT\n' + rows(1, 10)
    with cpu_seconds(1.5 * megabytes):
        header, records, malformed = read_csv_file(write(tmp_path, text))
    assert len(records) == megabytes * 40_000 + 10
    assert [item.line for item in malformed] == [2, megabytes * 40_000 + 3]


def test_a_stray_quote_on_every_other_line_costs_linear_time(tmp_path):
    lines = [f'E{i},Nguyen "Van A,Nam,CSYT' if i % 2 else f"E{i},An,Nam,CSYT" for i in range(40_000)]
    with cpu_seconds(2):
        header, records, malformed = read_csv_file(write(tmp_path, HEADER + "\n" + "\n".join(lines) + "\n"))
    assert [line for line, _ in records] == list(range(2, 40_002, 2))
    assert [item.line for item in malformed] == list(range(3, 40_002, 2))


def test_line_numbers_stay_exact_around_quote_problems_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "BLOCK_BYTES", 512)
    monkeypatch.setattr(readers, "MAX_QUOTED_LINES", 4)
    rng = random.Random(7)
    lines, expected, bad_lines, line = [HEADER], [], [], 1
    for i in range(800):
        kind = rng.random()
        if kind < 0.03:
            text, bad = f'E{i},Nguyen "Van,Nam,CSYT', True
        elif kind < 0.06:
            text, bad = f'"E{i},Nguyen,Nam,CSYT', True
        elif kind < 0.10:
            text, bad = f'E{i},"hai\ndòng",Nam,CSYT', False
        elif kind < 0.13:
            text, bad = "", None
        else:
            text, bad = f"E{i},Tên,Nam,CSYT", False
        lines.append(text)
        if bad:
            bad_lines.append(line + 1)
        elif bad is False:
            expected.append((line + 1, f"E{i}"))
        line += 1 + text.count("\n")
    # a value opened on the last line is unbalanced at the end of the file; the next-to-last rows are fine
    path = write(tmp_path, "\n".join(lines) + "\n")
    header, records, malformed = read_csv_file(path)
    assert [(number, cells[0]) for number, cells in records] == expected
    assert [item.line for item in malformed] == bad_lines


# ------------------------------------------------------------------------------------------------ long values

def test_a_cell_over_the_limit_is_quarantined_with_its_column_a_prefix_and_a_hash(tmp_path, small_limits, warmed_up):
    cell = '"' + "Bệnh viện " * 40_000 + '"'  # ≈ 480 KB, 7.5 × the limit
    path = write(tmp_path, HEADER + "\n" + rows(1, 3) + f"E4,Tên,Nam,{cell}\n" + rows(5, 3))
    with cpu_seconds(1), peak_memory(1 << 20):
        header, records, malformed = read_csv_file(path)
    assert [line for line, _ in records] == [2, 3, 4, 6, 7, 8]
    bad, = malformed
    length = len(cell.encode())
    digest = hashlib.sha256(cell.encode()).hexdigest()
    assert (bad.line, bad.column) == (5, "Nơi sinh")
    assert bad.reason == (f"the value in column 'Nơi sinh' is {length:,} bytes long, over the limit of 65,536 bytes "
                          f"(INGEST_MAX_CELL_BYTES); it starts {excerpt(cell, 40)}, sha256 {digest}")
    kept, = bad.cells
    assert kept.startswith('"B\\u1ec7nh vi\\u1ec7n') and kept.endswith(f"… ({length:,} bytes, sha256 {digest})")
    assert len(kept) < 2000


def test_an_unquoted_cell_over_the_limit_names_its_column(tmp_path, small_limits):
    path = write(tmp_path, HEADER + "\n" + "E1," + "x" * 100_000 + ",Nam,CSYT\n" + rows(2, 1))
    header, records, malformed = read_csv_file(path)
    assert [line for line, _ in records] == [3]
    assert (malformed[0].line, malformed[0].column) == (2, "Tên")
    assert "the value in column 'Tên' is 100,000 bytes long" in malformed[0].reason


def test_a_line_over_the_limit_of_short_cells_is_a_row_problem(tmp_path, small_limits):
    line = "E1" + ",CSYT" * 30_000
    path = write(tmp_path, HEADER + "\n" + rows(1, 1) + line + "\n" + rows(2, 1))
    with cpu_seconds(1):
        header, records, malformed = read_csv_file(path)
    assert [line for line, _ in records] == [2, 4]
    bad, = malformed
    assert (bad.line, bad.column) == (3, None)
    digest = hashlib.sha256((line + "\n").encode()).hexdigest()
    assert bad.reason == (f"the line is {len(line) + 1:,} bytes long, over the limit of 65,536 bytes "
                          f"(INGEST_MAX_CELL_BYTES); it starts {excerpt(line, 40)}, sha256 {digest}")


def test_a_long_cell_beyond_the_header_has_no_column(tmp_path, small_limits):
    path = write(tmp_path, HEADER + "\n" + "E1,Tên,Nam,CSYT," + "y" * 70_000 + "\n")
    _, records, malformed = read_csv_file(path)
    assert records == [] and malformed[0].column is None
    assert malformed[0].reason.startswith("the value in cell 5 (beyond the header's 4) is 70,000 bytes long")


def test_a_long_value_at_the_end_of_a_file_without_a_last_line_break(tmp_path, small_limits):
    path = write(tmp_path, HEADER + "\n" + rows(1, 1) + 'E2,Tên,Nam,"' + "z" * 90_000 + '"')
    _, records, malformed = read_csv_file(path)
    assert [line for line, _ in records] == [2]
    assert (malformed[0].line, malformed[0].column) == (3, "Nơi sinh")


@pytest.mark.parametrize("kind", ["cell", "line"])
def test_memory_stays_flat_past_a_huge_record(tmp_path, small_limits, warmed_up, kind):
    """A 16 MiB cell or line against a 64 KiB limit: the reader holds about a block, never the record."""
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.write((HEADER + "\n" + rows(1, 2)).encode())
        handle.write(b'E3,Ten,Nam,"' if kind == "cell" else b"E3")
        chunk = b"x" * (1 << 20) if kind == "cell" else b",CSYT" * 200_000
        for _ in range(16):
            handle.write(chunk)
        handle.write(b'"\n' if kind == "cell" else b"\n")
        handle.write(rows(4, 2).encode())
    with cpu_seconds(2), peak_memory(2 << 20):
        _, records, malformed = read_csv_file(path)
    assert [line for line, _ in records] == [2, 3, 5, 6]
    assert [item.line for item in malformed] == [4]


# ------------------------------------------------------------------------------------------------ header, empty

def test_a_quoted_line_break_in_a_header_cell_is_allowed(tmp_path):
    path = write(tmp_path, 'Mã,"Tên\nđầy đủ",Giới tính\r\nE1,An,Nam\r\nE2,Bình,Nữ\r\n')
    header, records, malformed = read_csv_file(path)
    assert header == ["Mã", "Tên\nđầy đủ", "Giới tính"]
    assert records == [(3, ["E1", "An", "Nam"]), (4, ["E2", "Bình", "Nữ"])] and malformed == []


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n", b"\r\n\r\n"])
def test_a_file_without_a_header_line_is_an_empty_file(tmp_path, content):
    with pytest.raises(EmptyFile, match=r"^file.csv: the file is empty \(no header line\)$"):
        CsvSource(write(tmp_path, content))
    assert issubclass(EmptyFile, UnreadableFile)


@pytest.mark.parametrize("content", [HEADER, HEADER + "\n", "\ufeff" + HEADER + "\r\n"])
def test_a_header_only_file_yields_no_records(tmp_path, content):
    source = CsvSource(write(tmp_path, content))
    assert source.header == HEADER.split(",") and list(source.chunks()) == []


def test_a_header_with_an_unclosed_quote_is_unreadable(tmp_path):
    with pytest.raises(UnreadableFile, match=r"the header line is not valid CSV \(unbalanced quote"):
        CsvSource(write(tmp_path, 'Mã,"Tên,Giới tính\nE1,An,Nam\n'))


# ------------------------------------------------------------------------------------------------ mojibake

def double_encoded(text: str) -> str:
    """UTF-8 read as Windows-1252 (its five undefined bytes as Latin-1, as most tools do) and kept."""
    return "".join(bytes([byte]).decode("cp1252", errors="ignore") or chr(byte) for byte in text.encode("utf-8"))


def test_double_encoded_utf8_in_a_csv_is_rejected_with_line_and_excerpt(tmp_path):
    path = write(tmp_path, HEADER + "\n" + rows(1, 2) + f"E3,{double_encoded('Nguyễn Thị Hoa')},{double_encoded('Nữ')},CSYT\n")
    with pytest.raises(UnreadableFile) as caught:
        CsvSource(path)
    message = str(caught.value)
    assert message.startswith("file.csv: the text is double-encoded UTF-8 (mojibake) at line 4: 'E3,Nguyá»…n Th")
    assert "holds 'á»…', which is how 'ễ' reads" in message and "re-export the file as UTF-8" in message


def test_double_encoded_header_is_rejected(tmp_path):
    with pytest.raises(UnreadableFile, match=r"mojibake\) at line 1: 'MÃ£"):
        CsvSource(write(tmp_path, double_encoded(HEADER) + "\n" + rows(1, 1)))


def test_genuine_vietnamese_names_are_not_mojibake():
    from synthetic.education import _name

    names = [" ".join(_name(random.Random(seed), "Nữ" if seed % 2 else "Nam", f"{seed % 54 + 1:02d}"))
             for seed in range(20_000)]
    names += ["Hà Nội", "Thừa Thiên Huế", "Bà Rịa – Vũng Tàu", "Đắk Lắk", "Ê Đê", "Â", "Ôn Thị Ánh", "Ưng Hoàng Phúc",
              "Cơ sở y tế “Hồng Đức”", "Lê Văn A…", "© 2024 Sở Y tế", "Trẻ em ≤ 5 tuổi: 80 %"]
    assert [name for name in names if find_mojibake(name)] == []
    assert all(find_mojibake(double_encoded(name)) for name in names[:2000] if not name.isascii())


def test_double_encoded_jsonl_is_rejected(tmp_path):
    path = write(tmp_path, json.dumps({"ho_ten": double_encoded("Trần Văn Đức")}, ensure_ascii=False) + "\n",
                 "file.jsonl")
    with pytest.raises(UnreadableFile, match=r"mojibake\) at line 1"):
        JsonlSource(path, expected_headers={"ho_ten"})


# ------------------------------------------------------------------------------------------------ messages

def test_arrow_errors_are_quoted_short_and_escaped(tmp_path):
    source = CsvSource(write(tmp_path, HEADER + "\n"))
    error = source._unreadable(ValueError("CSV parse error: Expected 4 columns, got 1: " + "x\x00" * 5000))
    assert len(str(error)) < 200 and "\\x00" in str(error)


# ------------------------------------------------------------------------------------------------ JSON lines

def test_an_empty_jsonl_file_is_an_empty_file(tmp_path):
    with pytest.raises(EmptyFile, match="the file is empty"):
        JsonlSource(write(tmp_path, "\n \n", "file.jsonl"), expected_headers={"ho_ten"})


def test_a_jsonl_line_over_the_limit_is_read_past(tmp_path, small_limits, warmed_up):
    long_line = json.dumps({"ho_ten": "A" * 200_000})
    path = write(tmp_path, '{"ho_ten": "An"}\n' + long_line + '\n{"ho_ten": "Bình"}\n', "file.jsonl")
    source = JsonlSource(path, expected_headers={"ho_ten"})
    with peak_memory(1 << 20):
        chunks = list(source.chunks())
    assert [list(chunk.lines) for chunk in chunks] == [[1, 3]]
    bad, = chunks[0].malformed
    digest = hashlib.sha256((long_line + "\n").encode()).hexdigest()
    assert bad.line == 2 and bad.reason.startswith(f"the line is {len(long_line) + 1:,} bytes long")
    assert bad.reason.endswith(f"sha256 {digest}") and len(bad.cells[0]) < 400


# ------------------------------------------------------------------------------------------------ XLSX

BIRTH_HEADER = ["Mã sự kiện", "Ngày sinh", "Giới tính", "Sinh sống", "Cân nặng (g)", "Mã tỉnh", "Mã xã",
                "Mã dân tộc mẹ", "Nơi sinh"]


def read_xlsx(source: XlsxSource):
    records, malformed = [], []
    for chunk in source.chunks():
        records += [(int(line), chunk.record(i)) for i, line in enumerate(chunk.lines)]
        malformed += chunk.malformed
    return records, malformed


def test_a_huge_declared_dimension_costs_nothing(tmp_path):
    path = tmp_path / "wide.xlsx"
    write_huge_dimension_xlsx(path)
    assert path.stat().st_size < 10_000
    with cpu_seconds(0.5):
        source = XlsxSource(path)
        records, malformed = read_xlsx(source)
    assert source.header == BIRTH_HEADER
    assert records == [(2, ["E1", "01/02/2024", "Nam", "C", "3100", "01", "00001", "01", "CSYT"])]
    assert malformed == []  # the far cell, past the header and its margin, is not read


def test_a_value_within_the_margin_right_of_the_header_still_makes_the_row_malformed(tmp_path):
    path = tmp_path / "wide.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, BIRTH_HEADER)
    sheet.write_row(1, 0, ["E1"] + [1] * 8)
    sheet.write_row(2, 0, ["E2"] + [1] * 8)
    sheet.write_string(2, 9 + readers.COLUMN_MARGIN - 1, "lạc")
    sheet.write_string(1_048_575, 16_383, "xa")
    workbook.close()
    records, malformed = read_xlsx(XlsxSource(path))
    assert [line for line, _ in records] == [2]
    assert [(item.line, item.reason) for item in malformed] == [(3, "the row has 73 cells but the header has 9")]


def test_a_huge_shared_string_is_quarantined_without_being_held(tmp_path, monkeypatch, warmed_up):
    monkeypatch.setattr(readers, "MAX_CELL_BYTES", 64 * KiB)
    path = tmp_path / "big.xlsx"
    write_big_cell_xlsx(path, 32 << 20)  # 32 MiB of text, zipped to about 32 KiB
    assert path.stat().st_size < 100_000
    with cpu_seconds(5), peak_memory(8 << 20):
        source = XlsxSource(path)
        records, malformed = read_xlsx(source)
    assert [line for line, _ in records] == [2, 3, 4, 5, 6, 8, 9, 10] + list(range(11, 22))
    bad, = malformed
    text = "Bệnh viện ".encode() * ((32 << 20) // len("Bệnh viện ".encode()))
    assert (bad.line, bad.column) == (7, "Nơi sinh")
    assert bad.reason == (f"the value in column 'Nơi sinh' (I) is {len(text):,} bytes long, over the limit of "
                          f"65,536 bytes (INGEST_MAX_CELL_BYTES); it starts {excerpt(text.decode(), 40)}, "
                          f"sha256 {hashlib.sha256(text).hexdigest()}")
    assert bad.cells[:8] == ["E6", "01/02/2024", "Nam", "C", "3100", "01", "00001", "01"]
    assert len(bad.cells[8]) < 2000


def test_a_sheet_over_the_row_limit_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_SHEET_ROWS", 5)
    path = tmp_path / "long.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, BIRTH_HEADER)
    for row in range(1, 10):
        sheet.write_row(row, 0, [f"E{row}"] * 9)
    workbook.close()
    with pytest.raises(UnreadableFile, match=r"^long.xlsx: the first sheet has 10 rows or more, over the limit of 5 "
                                             r"\(INGEST_MAX_SHEET_ROWS\)$"):
        read_xlsx(XlsxSource(path))


def test_the_row_limit_holds_while_streaming_too(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_SHEET_ROWS", 5)
    monkeypatch.setattr(xlsx_stream, "inspect_workbook", lambda path, limit: xlsx_stream.WorkbookFacts())
    path = tmp_path / "long.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, BIRTH_HEADER)
    for row in range(1, 10):
        sheet.write_row(row, 0, [f"E{row}"] * 9)
    workbook.close()
    monkeypatch.setattr(readers, "inspect_workbook", lambda path, limit: xlsx_stream.WorkbookFacts())
    with pytest.raises(UnreadableFile, match="the first sheet has 6 rows or more"):
        read_xlsx(XlsxSource(path))


def test_double_encoded_text_cells_are_rejected(tmp_path):
    path = tmp_path / "moji.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, BIRTH_HEADER)
    sheet.write_row(1, 0, ["E1", "01/02/2024", double_encoded("Nữ")])
    workbook.close()
    with pytest.raises(UnreadableFile, match=r"^moji.xlsx: the text is double-encoded UTF-8 \(mojibake\) at row 2"):
        XlsxSource(path)


def test_the_bounded_reader_reads_cells_as_calamine_does(tmp_path, monkeypatch):
    """The expat reader (used for sparse or over-long workbooks) gives the same records as calamine."""
    path = tmp_path / "types.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    moment = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    hours = workbook.add_format({"num_format": "hh:mm"})
    sheet.write_row(0, 1, ["Mã", "Ngày", "Lúc", "Giờ", "Số", "Cờ", "Lỗi", "Ghi chú"])
    sheet.write_string(1, 1, "E1")
    sheet.write_datetime(1, 2, date(2024, 2, 1), day)
    sheet.write_datetime(1, 3, datetime(2024, 9, 5, 8, 30), moment)
    sheet.write_datetime(1, 4, clock(8, 30), hours)
    sheet.write_number(1, 5, 31215001234)
    sheet.write_boolean(1, 6, True)
    sheet.write_formula(1, 7, "=NA()", None, "#N/A")
    sheet.write_string(1, 8, "Lê Thị Ánh")
    sheet.write_row(3, 1, ["E2", "", "", "", 1.5, False, "", "x"])
    sheet.write_string(4, 0, "lạc")
    sheet.write_row(4, 1, ["E3"])
    workbook.close()
    expected = read_xlsx(XlsxSource(path))
    monkeypatch.setattr(xlsx_stream.WorkbookFacts, "needs_bounded_reader", property(lambda self: True))
    assert read_xlsx(XlsxSource(path)) == expected
    assert expected[0][0] == (2, ["E1", "01/02/2024", "05/09/2024", "08:30:00", "31215001234", "TRUE", "#N/A",
                                  "Lê Thị Ánh"])


def test_an_xlsx_that_is_a_zip_bomb_of_one_string_stays_bounded(tmp_path, monkeypatch, warmed_up):
    """The inspection alone on the 8 MiB string: counters only."""
    monkeypatch.setattr(readers, "MAX_CELL_BYTES", 64 * KiB)
    path = tmp_path / "big.xlsx"
    write_big_cell_xlsx(path, 32 << 20)
    with peak_memory(4 << 20):
        facts = xlsx_stream.inspect_workbook(path, 64 * KiB)
    assert facts.long_value_possible and facts.needs_bounded_reader and facts.rows_present == 21
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").file_size > 32 << 20


def test_malformed_record_has_an_optional_column():
    assert MalformedRecord(3, ["a"], "why").column is None
    assert MalformedRecord(3, ["a"], "why", "Tên").column == "Tên"


def test_a_long_cell_in_an_ordinary_workbook_is_quarantined_too(tmp_path, monkeypatch):
    """A value over the limit in a workbook that compresses like ordinary data (calamine reads it: it is no
    larger than a few times the file) is quarantined from the column chunk, like the bounded reader's."""
    monkeypatch.setattr(readers, "MAX_CELL_BYTES", 1000)
    rng = random.Random(3)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzăâđêôơư ") for _ in range(5000))
    path = tmp_path / "noisy.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, BIRTH_HEADER)
    for row in range(1, 6):
        sheet.write_row(row, 0, [f"E{row}", 1, 1, 1, 1, 1, 1, 1, noise if row == 3 else "CSYT"])
    workbook.close()
    source = XlsxSource(path)
    assert not source._facts.needs_bounded_reader
    records, malformed = read_xlsx(source)
    assert [line for line, _ in records] == [2, 3, 5, 6]
    bad, = malformed
    assert (bad.line, bad.column) == (4, "Nơi sinh")
    assert bad.reason.startswith(f"the value in column 'Nơi sinh' (I) is {len(noise.encode()):,} bytes long")
    assert bad.reason.endswith(f"sha256 {hashlib.sha256(noise.encode()).hexdigest()}")


def test_the_limits_take_their_defaults_from_the_environment():
    code = "from ingest import readers as r; print(r.MAX_CELL_BYTES, r.MAX_SHEET_ROWS, r.MAX_QUOTED_LINES)"
    env = {"INGEST_MAX_CELL_BYTES": "4096", "INGEST_MAX_SHEET_ROWS": "1_000", "INGEST_MAX_QUOTED_LINES": "7"}
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, **env}).stdout.split()
    assert shown == ["4096", "1000", "7"]
    assert (readers.MAX_CELL_BYTES, readers.MAX_SHEET_ROWS) == (1 << 20, 2_000_000)  # without them


def test_a_quote_problem_spanning_long_lines_keeps_only_a_prefix(tmp_path, small_limits):
    # A record of two 40 KB lines whose second line opens a value that never closes: 80 KB set aside.
    text = HEADER + "\n" + 'E1,"' + "a" * 40_000 + '\nb",' + "c" * 40_000 + ',"open,CSYT\n' + rows(2, 5)
    _, records, malformed = read_csv_file(write(tmp_path, text))
    assert [line for line, _ in records] == [4, 5, 6, 7, 8]
    bad, = malformed
    assert bad.line == 2 and bad.reason.startswith("unbalanced quote: the quoted value opened at line 3 never")
    assert len(bad.cells) == 1 and len(bad.cells[0]) < 2000 and "(80,020 bytes, sha256 " in bad.cells[0]


def write_inline_big_cell_xlsx(path: Path, cell_bytes: int) -> None:
    """Five births whose row 4 holds its `Nơi sinh` as an inline string of `cell_bytes` in the sheet part."""
    draft = path.with_suffix(".draft.xlsx")
    workbook = xlsxwriter.Workbook(str(draft))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, BIRTH_HEADER)
    for row in range(1, 6):
        sheet.write_row(row, 0, [f"E{row}", 1, 1, 1, 1, 1, 1, 1, "CSYT"])
    workbook.close()
    with zipfile.ZipFile(draft) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, data)
                continue
            start = data.index(b'<c r="I4"')
            end = data.index(b"</c>", start) + 4
            with target.open(info.filename, "w", force_zip64=True) as part:
                part.write(data[:start] + b'<c r="I4" t="inlineStr"><is><t>')
                for _ in range(cell_bytes // (1 << 20)):
                    part.write(b"z" * (1 << 20))
                part.write(b"</t></is></c>" + data[end:])
    draft.unlink()


def test_a_huge_inline_string_in_the_sheet_is_quarantined_without_being_held(tmp_path, monkeypatch, warmed_up):
    monkeypatch.setattr(readers, "MAX_CELL_BYTES", 64 * KiB)
    path = tmp_path / "inline.xlsx"
    write_inline_big_cell_xlsx(path, 16 << 20)
    assert path.stat().st_size < 100_000
    with cpu_seconds(3), peak_memory(4 << 20):
        source = XlsxSource(path)
        records, malformed = read_xlsx(source)
    assert source._facts.long_value_possible
    assert [line for line, _ in records] == [2, 3, 5, 6]
    bad, = malformed
    assert (bad.line, bad.column) == (4, "Nơi sinh")
    digest = hashlib.sha256(b"z" * (16 << 20)).hexdigest()
    assert bad.reason.startswith(f"the value in column 'Nơi sinh' (I) is {16 << 20:,} bytes long")
    assert bad.reason.endswith(f"sha256 {digest}")


def test_invalid_utf8_after_a_long_line_is_found_at_its_line_and_character(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "BLOCK_BYTES", 1000)
    path = write(tmp_path, (HEADER + "\n" + rows(1, 1) + "E2," + "ệ" * 2000).encode() + b"\xff,Nam,CSYT\n")
    with pytest.raises(UnreadableFile, match=r"not valid UTF-8 at line 3, character 2004 \(byte b'\\xff'\)"):
        read_csv_file(path)
