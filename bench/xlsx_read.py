"""Reading an education-feed workbook into string columns: the project's XlsxSource against other readers.

    python -m bench.xlsx_read [--rows 100000] [--repeat 3] [--memory-rows 25000] [--output results.md]

Generates one workbook shaped like a CSDL ngành student export (`giao_duc_hoc_sinh` in
shared/domain/sources.md: a 4-row title block with merged cells, the 16 Vietnamese headers, real date
cells for Ngày sinh and Ngày trạng thái, numeric cells for Khối, Mã định danh, Mã dân tộc, Mã tỉnh and
Mã xã, text elsewhere) with xlsxwriter into a temp directory, then reads it with each method, every
measured run in a fresh Python subprocess:

  xlsx_source      ingest.readers.XlsxSource: python-calamine-plus streaming the sheet, header row found,
                   cells turned into the parsers' text, Arrow string columns in chunks (the real path)
  calamine         the same XlsxSource with its rows taken from upstream python-calamine (iter_rows)
  openpyxl         the same XlsxSource with its rows taken from openpyxl (read_only=True, values_only)
  *_raw            the library alone: iterate the sheet's rows, no header search, no conversion

Time is wall clock (`time.perf_counter`) from opening the file to the last chunk; process start, imports
and Arrow's one-off start-up (its first array: ~0.2 s and ~40 MiB, paid by the CSV path too) are not
timed. Memory is the child's VmHWM from /proc/self/status (its RSS high-water mark: interpreter, imports
and the work) next to its VmRSS just before the work; a second, smaller workbook is read once per method
to show whether memory grows with the file. The converted methods must give identical columns (a digest
of every chunk's Arrow buffers, taken with the clock stopped), or the run fails.
Prints a Markdown table; --output also writes it, with the machine, to a file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from itertools import islice
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH-RESULT "

HEADERS = ["Năm học", "Mã trường", "Cấp học", "Khối", "Mã học sinh", "Mã định danh", "Họ và tên", "Ngày sinh",
           "Giới tính", "Mã dân tộc", "Mã tỉnh", "Mã xã", "Trạng thái", "Ngày trạng thái", "Mã lý do thôi học",
           "Khuyết tật"]
TITLE_ROWS = ["SỞ GIÁO DỤC VÀ ĐÀO TẠO THÀNH PHỐ HÀ NỘI", "DANH SÁCH HỌC SINH", "Năm học 2024-2025"]  # + 1 blank

METHODS = {
    "xlsx_source": "`XlsxSource`: python-calamine-plus stream → header search → text → Arrow chunks",
    "calamine": "same, rows from upstream python-calamine `iter_rows()`",
    "openpyxl": "same, rows from openpyxl `read_only=True`, `iter_rows(values_only=True)`",
    "xlsx_source_raw": "python-calamine-plus `stream_sheet_by_index(0)` alone",
    "calamine_raw": "upstream python-calamine `get_sheet_by_index(0).iter_rows()` alone",
    "openpyxl_raw": "openpyxl read-only `iter_rows(values_only=True)` alone",
}


# ----------------------------------------------------------------------------------------------------
# The workbook
# ----------------------------------------------------------------------------------------------------

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
_MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thanh", "Hữu", "Thu"]
_GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Linh", "Mai", "Nam", "Phương", "Quân",
          "Thảo", "Trang", "Tuấn", "Vy", "Yến"]
_LEVELS = [("MN", ["NT", "MG"], 2019), ("TH", [1, 2, 3, 4, 5], 2014), ("THCS", [6, 7, 8, 9], 2010),
           ("THPT", [10, 11, 12], 2007)]


def student_rows(count: int, seed: int = 13):
    """Rows of a Hà Nội (01, pre-reform) 2024-2025 export as Excel would hold them."""
    rnd = random.Random(seed)
    schools = [(f"01{rnd.randint(0, 999999):06d}", *rnd.choice(_LEVELS)) for _ in range(60)]
    for index in range(count):
        school, level, grades, base_year = schools[index % len(schools)]
        grade = rnd.choice(grades)
        offset = grades.index(grade)
        born = date(base_year - offset, 1, 1) + timedelta(days=rnd.randrange(365))
        status = "01" if rnd.random() < 0.96 else rnd.choice(["02", "04", "05", "09"])
        changed = datetime(2024, 9, 5, 7, 30) if status == "01" else \
            datetime(2024, 9, 5) + timedelta(days=rnd.randrange(200), hours=rnd.randrange(24))
        yield [
            "2024-2025", school, level, grade, f"{school}{index:07d}",
            None if rnd.random() < 0.2 else 1_000_000_000 + rnd.randrange(10**11 - 10**9),  # 11-12 digits
            f"{rnd.choice(_FAMILY)} {rnd.choice(_MIDDLE)} {rnd.choice(_GIVEN)}", born, rnd.choice(["Nam", "Nữ"]),
            1 if rnd.random() < 0.9 else rnd.randint(2, 54), 1, rnd.choice([1, 4, 7, 10, 13, 16, 19, 22, 25]),
            status, changed, rnd.choice(["01", "02", "03", "06"]) if status in ("05", "09") else None,
            "C" if rnd.random() < 0.02 else "K",
        ]


def write_workbook(path: Path, rows: int, seed: int = 13) -> None:
    """xlsxwriter in its default mode: strings in the shared-string table, as Excel itself saves them."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Danh sách")
    bold = workbook.add_format({"bold": True, "align": "center"})
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    last = len(HEADERS) - 1
    for row, title in enumerate(TITLE_ROWS):
        sheet.merge_range(row, 0, row, last, title, bold)
    first = len(TITLE_ROWS) + 1  # one blank row, then the header
    sheet.write_row(first, 0, HEADERS, bold)
    for row, cells in enumerate(student_rows(rows, seed), start=first + 1):
        for column, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(row, column, value, day)
            else:
                sheet.write(row, column, value)
    workbook.close()


# ----------------------------------------------------------------------------------------------------
# Child side: one measured run per process
# ----------------------------------------------------------------------------------------------------

def _proc_status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _calamine_rows(path: Path, skip: int):
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    # Upstream iter_rows starts at the sheet's row 0 (rows above the data come back empty).
    return islice(workbook.get_sheet_by_index(0).iter_rows(), skip, None)


def _openpyxl_rows(path: Path, skip: int):
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    return workbook.worksheets[0].iter_rows(min_row=skip + 1, values_only=True)


def _source_class(method: str):
    from ingest.readers import XlsxSource

    if method == "xlsx_source":
        return XlsxSource
    rows = {"calamine": _calamine_rows, "openpyxl": _openpyxl_rows}[method]

    class Source(XlsxSource):
        def _open_rows(self, skip):
            return rows(self.path, skip)
    return Source


def _digest(digest, chunk) -> None:
    """Every column's offsets and characters, exactly (no copies, so the peak memory stays the work's)."""
    import numpy as np
    import pyarrow as pa

    digest.update(np.asarray(chunk.lines, dtype=np.int64).tobytes())
    for column in chunk.columns:
        if column.null_count:
            raise RuntimeError("a column holds nulls: empty cells must be \"\"")
        if column.offset:
            column = pa.concat_arrays([column])
        offsets = np.frombuffer(column.buffers()[1], dtype=np.int32, count=len(column) + 1)
        digest.update(offsets.tobytes())
        digest.update(memoryview(column.buffers()[2])[:int(offsets[-1])] if len(column) else b"")
    for record in chunk.malformed:
        digest.update(repr((record.line, record.cells, record.reason)).encode())


def _child(method: str, path: Path) -> dict:
    import pyarrow  # noqa: F401  imports are not timed; the libraries too

    import ingest.readers  # noqa: F401

    if method.startswith("calamine"):
        import python_calamine  # noqa: F401
    elif method.startswith("openpyxl"):
        import openpyxl  # noqa: F401
    else:
        import python_calamine_plus  # noqa: F401

    # Arrow's first array costs ~0.2 s and ~40 MiB once per process (the CSV path pays it too): not timed.
    pyarrow.array(["warm-up"], pyarrow.string())
    before = _proc_status_kib("VmRSS")
    digest = hashlib.sha256()
    rows = 0
    if method.endswith("_raw"):
        started = time.perf_counter()
        if method == "xlsx_source_raw":
            from python_calamine_plus import CalamineWorkbook
            iterator = iter(CalamineWorkbook.from_path(str(path)).stream_sheet_by_index(0))
        elif method == "calamine_raw":
            iterator = _calamine_rows(path, 0)
        else:
            iterator = _openpyxl_rows(path, 0)
        for _ in iterator:
            rows += 1
        seconds = time.perf_counter() - started
        header = None
    else:
        started = time.perf_counter()
        source = _source_class(method)(path)
        chunks = source.chunks()
        seconds = time.perf_counter() - started
        while True:
            started = time.perf_counter()
            chunk = next(chunks, None)
            seconds += time.perf_counter() - started
            if chunk is None:
                break
            rows += chunk.size + len(chunk.malformed)
            _digest(digest, chunk)  # the clock is stopped
        header = [source.header_row, source.header]
    return {"seconds": seconds, "rows": rows, "rss_before_kib": before, "hwm_kib": _proc_status_kib("VmHWM"),
            "digest": None if header is None else digest.hexdigest(), "header": header}


def _run_child(payload: dict) -> None:
    result = _child(payload["method"], Path(payload["path"]))
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------------------------------
# Parent side
# ----------------------------------------------------------------------------------------------------

def measure(method: str, path: Path) -> dict:
    payload = json.dumps({"method": method, "path": str(path)})
    process = subprocess.run([sys.executable, "-m", "bench.xlsx_read", "--child", payload], cwd=REPO,
                             capture_output=True, text=True, check=False)
    if process.returncode:
        raise RuntimeError(f"{method} failed:\n{process.stderr[-3000:]}")
    line = next(line for line in process.stdout.splitlines() if line.startswith(RESULT_PREFIX))
    return json.loads(line[len(RESULT_PREFIX):])


def _mib(kib: float) -> float:
    return kib / 1024


def _machine() -> dict:
    def first(path: str, key: str) -> str:
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    import pyarrow

    versions = {"pyarrow": pyarrow.__version__}
    for name in ("python-calamine-plus", "python-calamine", "openpyxl", "xlsxwriter"):
        try:
            from importlib.metadata import version
            versions[name] = version(name)
        except Exception:  # noqa: BLE001
            versions[name] = "not installed"
    return {"cpus": os.cpu_count(), "cpu": first("/proc/cpuinfo", "model name"),
            "memory": first("/proc/meminfo", "MemTotal"), "python": platform.python_version(),
            "kernel": platform.release(), "versions": versions}


def _table(summaries: dict, rows: int, memory_rows: int) -> str:
    lines = [f"| method | what | median s | rows/s (median) | min–max s | peak RSS MiB | RSS before work MiB "
             f"| peak RSS at {memory_rows:,} rows MiB |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for method, summary in summaries.items():
        lines.append(
            f"| {method} | {METHODS[method]} | {summary['median']:.2f} | {rows / summary['median']:,.0f} "
            f"| {summary['min']:.2f}–{summary['max']:.2f} | {summary['hwm_mib']:.0f} | {summary['before_mib']:.0f} "
            f"| {summary['small_hwm_mib']:.0f} |")
    return "\n".join(lines)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="student rows in the generated workbook")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per method (median reported)")
    parser.add_argument("--memory-rows", type=int, default=25_000,
                        help="rows of a second, smaller workbook read once per method: does memory grow?")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated, from: " + ", ".join(METHODS))
    parser.add_argument("--output", type=Path, help="also write the Markdown results here")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _run_child(json.loads(args.child))
        return 0
    methods = [method.strip() for method in args.methods.split(",") if method.strip()]
    unknown = [method for method in methods if method not in METHODS]
    if unknown:
        parser.error(f"unknown method(s): {', '.join(unknown)}")

    with tempfile.TemporaryDirectory(prefix="bench_xlsx_") as folder:
        path, small = Path(folder) / "hoc_sinh.xlsx", Path(folder) / "hoc_sinh_small.xlsx"
        started = time.perf_counter()
        write_workbook(path, args.rows, args.seed)
        generated = time.perf_counter() - started
        write_workbook(small, args.memory_rows, args.seed)
        _log(f"generated {args.rows:,} rows in {generated:.1f} s ({path.stat().st_size / 2**20:.1f} MiB)")
        runs: dict[str, list[dict]] = {method: [] for method in methods}
        for repeat in range(args.repeat):  # round robin, so drift hits every method alike
            for method in methods:
                result = measure(method, path)
                _log(f"  {method} #{repeat + 1}: {result['seconds']:.2f} s, {result['rows']:,} rows, "
                     f"peak {_mib(result['hwm_kib']):.0f} MiB")
                runs[method].append(result)
        smalls = {method: measure(method, small) for method in methods}
        size_mib = path.stat().st_size / 2**20

    expected_rows = args.rows + len(TITLE_ROWS) + 2  # raw methods also count the title block and header
    digests = {}
    for method, results in runs.items():
        for result in results:
            wanted = expected_rows if method.endswith("_raw") else args.rows
            if result["rows"] != wanted:
                raise RuntimeError(f"{method} read {result['rows']:,} rows, expected {wanted:,}")
            if result["digest"]:
                digests.setdefault(result["digest"], []).append(method)
                if result["header"] != [len(TITLE_ROWS) + 2, HEADERS]:
                    raise RuntimeError(f"{method} found the header {result['header']}")
    if len(digests) > 1:
        raise RuntimeError(f"the readers disagree on the columns: {digests}")

    summaries = {}
    for method, results in runs.items():
        seconds = [result["seconds"] for result in results]
        summaries[method] = {
            "median": statistics.median(seconds), "min": min(seconds), "max": max(seconds),
            "hwm_mib": _mib(statistics.median(result["hwm_kib"] for result in results)),
            "before_mib": _mib(statistics.median(result["rss_before_kib"] for result in results)),
            "small_hwm_mib": _mib(smalls[method]["hwm_kib"]),
        }
    machine = _machine()
    report = "\n".join([
        f"XLSX read, {args.rows:,} student rows × {len(HEADERS)} columns ({size_mib:.1f} MiB), "
        f"median of {args.repeat}, {date.today().isoformat()}",
        "",
        _table(summaries, args.rows, args.memory_rows),
        "",
        f"Identical columns from every converted reader: {'yes' if len(digests) == 1 else 'n/a'}. "
        f"Generating the workbook (xlsxwriter) took {generated:.1f} s.",
        f"Machine: {machine['cpus']} CPUs ({machine['cpu']}), {machine['memory']}, Python {machine['python']}, "
        f"kernel {machine['kernel']}; " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()) + ".",
    ])
    print(report)
    if args.output:
        args.output.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
