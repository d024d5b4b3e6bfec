"""How long rendering the outputs of one period takes: every workbook (34 provinces and the nation), the
Open SDG CSV, the SDMX file and the HTML pages, from the latest release of the warehouse at WAREHOUSE_URL
(or the embedded one), read as report_reader exactly as `make report` does.

    python -m bench.render_reports [--period 2025 --period 2025-H1 ...] [--repeat 3] [--workbook-workers 1]

Each repetition times the data load and each writer separately (wall clock, median of --repeat) and records
the peak memory of the process (VmHWM). Results go to bench/results/render_reports-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg

RESULTS = Path(__file__).resolve().parent / "results"


def _peak_memory_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _time(step, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = step(*args)
    return time.perf_counter() - started, result


def measure(conn: psycopg.Connection, period: str, folder: Path, workbook_workers: int | None = None) -> dict:
    from report.data import load_report
    from report.sdmx import write_sdmx
    from report.site import write_site
    from report.tidy_csv import write_tidy_csv
    from report.workbook import write_workbooks

    seconds, data = _time(load_report, conn, period)
    timings = {"load": seconds}
    timings["workbooks"], _ = _time(write_workbooks, data, folder, workbook_workers)
    for name, writer in (("csv", write_tidy_csv), ("sdmx", write_sdmx), ("html", write_site)):
        timings[name], _ = _time(writer, data, folder)
    timings["total"] = sum(timings.values())
    return {"values": len(data.values), "units": len(data.units), **timings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.render_reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--period", action="append", default=[])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workbook-workers", type=int, default=None,
                        help="processes writing workbooks (default: up to 4, one per core; 1 = one at a time)")
    args = parser.parse_args(argv)

    from report.data import latest_periods
    from warehouse.roles import role_url

    results = {}
    with psycopg.connect(role_url("report_reader"), autocommit=True) as conn:
        periods = args.period or latest_periods(conn)
        for period in periods:
            runs = []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as folder:
                    runs.append(measure(conn, period, Path(folder), args.workbook_workers))
            results[period] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            line = ", ".join(f"{key} {value:.1f} s" for key, value in results[period].items()
                             if key not in ("values", "units"))
            print(f"{period}: {results[period]['values']:,} values, {results[period]['units']} units: {line}")
    results["peak_memory_mib"] = _peak_memory_mib()
    print(f"peak memory {results['peak_memory_mib']:.0f} MiB")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"render_reports-{date.today():%Y-%m-%d}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
