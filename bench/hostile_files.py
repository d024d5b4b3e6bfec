"""Hostile landing files through the readers: time and peak memory, each read in a fresh subprocess.

    .venv/bin/python -m bench.hostile_files                 # all cases, sizes as in bench/README.md
    .venv/bin/python -m bench.hostile_files --scale 0.1     # everything ten times smaller (a quick look)
    .venv/bin/python -m bench.hostile_files --cases stray_quote_4mb,huge_dimension_xlsx

Files are generated, streaming, in a temp directory (about 1 GB at scale 1; removed at the end). Each case is
read by `reader_for(path)(path, …).chunks()` to the last chunk in a child process (`--child`), which
reports wall and CPU time from opening the file to the last chunk, its peak RSS (VmHWM from /proc/self/status, and
`getrusage(RUSAGE_SELF).ru_maxrss`), its RSS before the work (imports), rows, quarantined records and the
first reason. The table is Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HEADER = ["Mã sự kiện", "Ngày sinh", "Giới tính", "Sinh sống", "Cân nặng (g)", "Mã tỉnh", "Mã xã",
          "Mã dân tộc mẹ", "Nơi sinh"]
ROW = "E{},01/02/2024,Nam,C,3100,01,00001,01,CSYT\n"
MiB = 1 << 20


def _write_rows(handle, first: int, count: int) -> None:
    for start in range(first, first + count, 10_000):
        handle.write("".join(ROW.format(i) for i in range(start, min(first + count, start + 10_000))).encode())


def write_normal_csv(path: Path, megabytes: float) -> None:
    """A valid births file of about `megabytes` (the project's generator)."""
    from synthetic.feeds import write_births_csv
    write_births_csv(path, int(megabytes * MiB / 63), seed=13)


def _repeat(handle, unit: bytes, total: int) -> None:
    total = int(total)
    block = unit * max(1, MiB // len(unit))
    written = 0
    while written + len(block) <= total:
        handle.write(block)
        written += len(block)
    handle.write(unit * ((total - written) // len(unit)))


def write_big_cell_csv(path: Path, cell_bytes: int) -> None:
    """Ten rows, one with a quoted `Nơi sinh` of `cell_bytes` (no line break in it), ten rows."""
    with open(path, "wb") as handle:
        handle.write((",".join(HEADER) + "\n").encode())
        _write_rows(handle, 1, 10)
        handle.write(b'E11,01/02/2024,Nam,C,3100,01,00001,01,"')
        _repeat(handle, "Bệnh viện ".encode(), cell_bytes)
        handle.write(b'"\n')
        _write_rows(handle, 12, 10)


def write_long_line_csv(path: Path, line_bytes: int) -> None:
    """Ten rows, one line of `line_bytes` made of short cells (a row-level problem), ten rows."""
    with open(path, "wb") as handle:
        handle.write((",".join(HEADER) + "\n").encode())
        _write_rows(handle, 1, 10)
        handle.write(b"E11")
        _repeat(handle, b",CSYT", line_bytes)
        handle.write(b"\n")
        _write_rows(handle, 12, 10)


def write_stray_quote_csv(path: Path, megabytes: float) -> None:
    """Rows of `megabytes`, the sixth with a stray quote inside an unquoted name (the 78 s file of the issue)
    and the eighth with a quote opening a value that never closes."""
    rows = int(megabytes * MiB / 40)
    with open(path, "wb") as handle:
        handle.write((",".join(HEADER) + "\n").encode())
        _write_rows(handle, 1, 5)
        handle.write(b'E6,01/02/2024,Nguyen "Van A,C,3100,01,00001,01,CSYT\n')
        _write_rows(handle, 7, 1)
        handle.write(b'E8,01/02/2024,"Nguyen Van A,C,3100,01,00001,01,CSYT\n')
        _write_rows(handle, 9, rows - 8)


def write_huge_dimension_xlsx(path: Path) -> None:
    """A 7 KB workbook whose sheet declares A1:XFD1048576 and holds a header, one row and one far cell."""
    import xlsxwriter
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, ROW.format(1).strip().split(","))
    sheet.write_string(1_048_575, 16_383, "xa")
    workbook.close()


def write_big_cell_xlsx(path: Path, cell_bytes: int, rows: int = 20) -> None:
    """A workbook of `rows` births whose row 7 holds, as a shared string, a `Nơi sinh` of `cell_bytes`:
    it zips to about a thousandth of that. Written by xlsxwriter with a marker, then the shared-strings part
    is rewritten, streaming, with the long text in place of the marker."""
    import xlsxwriter
    marker = "@@LONG@@"
    draft = path.with_suffix(".draft.xlsx")
    workbook = xlsxwriter.Workbook(str(draft))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for row in range(1, rows + 1):
        cells = ROW.format(row).strip().split(",")
        if row == 6:
            cells[-1] = marker
        sheet.write_row(row, 0, cells)
    workbook.close()
    with zipfile.ZipFile(draft) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != "xl/sharedStrings.xml":
                target.writestr(info, data)
                continue
            before, after = data.split(marker.encode())
            with target.open(info.filename, "w", force_zip64=True) as part:
                part.write(before)
                _repeat(part, "Bệnh viện ".encode(), cell_bytes)
                part.write(after)
    draft.unlink()


CASES = {
    # name: (writer, size argument at scale 1, description)
    "normal_csv_100mb": (write_normal_csv, 100, "valid births CSV, ≈100 MB"),
    "big_cell_csv_300mb": (write_big_cell_csv, 300 * MiB, "CSV, one quoted cell of 300 MB"),
    "long_line_csv_200mb": (write_long_line_csv, 200 * MiB, "CSV, one line of 200 MB (short cells)"),
    "stray_quote_1mb": (write_stray_quote_csv, 1, "CSV with a stray and an unclosed quote, 1 MB"),
    "stray_quote_2mb": (write_stray_quote_csv, 2, "same, 2 MB"),
    "stray_quote_4mb": (write_stray_quote_csv, 4, "same, 4 MB"),
    "stray_quote_8mb": (write_stray_quote_csv, 8, "same, 8 MB"),
    "huge_dimension_xlsx": (write_huge_dimension_xlsx, None, "7 KB XLSX declaring A1:XFD1048576, one far cell"),
    "big_cell_xlsx_300mb": (write_big_cell_xlsx, 300 * MiB, "XLSX, one shared string of 300 MB"),
}


def _vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _vm_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(path: Path) -> dict:
    import pyarrow as pa

    import ingest.feeds  # noqa: F401  registers the feeds
    from ingest.readers import UnreadableFile, reader_for
    from ingest.spec import FEEDS

    pa.array(["warm up"])  # Arrow's one-off start-up is not the work
    before = _vm_rss_mib()
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = quarantined = 0
    first_reason = error = None
    try:
        source = reader_for(path)(path, expected_headers={column.key for column in FEEDS["y_te_sinh"].columns})
        for chunk in source.chunks():
            rows += chunk.size
            quarantined += len(chunk.malformed)
            if chunk.malformed and first_reason is None:
                first_reason = f"line {chunk.malformed[0].line}: {chunk.malformed[0].reason}"
    except UnreadableFile as rejected:
        error = str(rejected)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mib": _vm_hwm_mib(), "before_mib": before,
            "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rows": rows, "quarantined": quarantined, "first_reason": first_reason, "rejected": error}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (default 1)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, default all")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="hostile_") as folder:
        for name in args.cases.split(","):
            writer, size, description = CASES[name]
            path = Path(folder) / (name + (".xlsx" if "xlsx" in name else ".csv"))
            if size is None:
                writer(path)
            else:
                writer(path, size * args.scale)
            measured = subprocess.run([sys.executable, "-m", "bench.hostile_files", "--child", str(path)],
                                      capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
            result = json.loads(measured.stdout.strip().splitlines()[-1])
            result.update(case=name, description=description, file_bytes=path.stat().st_size)
            results.append(result)
            path.unlink()
            print(f"{name}: {result['seconds']:.2f} s, peak {result['peak_mib']:.0f} MiB", file=sys.stderr)
    print("| case | file | wall s | CPU s | peak RSS MiB (VmHWM) | RSS before work MiB | ru_maxrss MiB | rows "
          "| quarantined | outcome |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        outcome = r["rejected"] or r["first_reason"] or "all rows loaded"
        print(f"| {r['case']}: {r['description']} | {r['file_bytes'] / MiB:,.2f} MiB | {r['seconds']:.2f} | "
              f"{r['cpu_seconds']:.2f} | "
              f"{r['peak_mib']:.1f} | {r['before_mib']:.1f} | {r['ru_maxrss_mib']:.1f} | {r['rows']:,} | "
              f"{r['quarantined']:,} | {outcome[:160]} |")
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
