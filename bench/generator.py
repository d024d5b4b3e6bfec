"""How fast does the synthetic generator write each feed? (`python -m bench.generator --scale 0.05`)

Every feed of the ingest registry is generated once, in this process and on one core (the student feed's
worker processes are switched off), into a temporary landing folder at ``--scale`` of the nation. For each
generator: CPU time (``time.process_time``: this process only), wall time, rows written (the manifest's
count, invalid rows included) and bytes on disk, hence rows per second of CPU = rows per second per core.
The three big feeds (register, students, doses) have a target of 1 million rows per second per core.
Results: a Markdown table on stdout and ``bench/results/generator-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from synthetic.manifest import Manifest
from synthetic.sample import FEED_GENERATORS, SEED

RESULTS = Path(__file__).resolve().parent / "results"
BIG_FEEDS = ("ldxh_tre_em", "giao_duc_hoc_sinh", "y_te_tiem_chung")
TARGET_ROWS_PER_CPU_SECOND = 1_000_000


def _machine() -> dict[str, object]:
    memory = None
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = round(pages * size / 2 ** 30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "memory_gib": memory, "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def run(scale: float, seed: int, invalid_rate: float, landing: Path) -> list[dict[str, object]]:
    results = []
    for feeds, generate in FEED_GENERATORS:
        options = {"workers": 1} if "giao_duc_hoc_sinh" in feeds else {}
        cpu, wall = time.process_time(), time.perf_counter()
        generate(landing, scale=scale, seed=seed, invalid_rate=invalid_rate, **options)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        manifest = Manifest.load(landing)
        rows = sum(manifest.totals(feed)["rows"] for feed in feeds)
        size = sum((landing / f.path).stat().st_size for f in manifest.files if f.feed in feeds)
        results.append({"feeds": list(feeds), "rows": rows, "bytes": size, "cpu_s": round(cpu, 3),
                        "wall_s": round(wall, 3), "rows_per_cpu_s": round(rows / cpu) if cpu else None,
                        "big": feeds[0] in BIG_FEEDS})
        print(f"  {', '.join(feeds)}: {rows:,} rows in {cpu:.1f} s CPU", file=sys.stderr, flush=True)
    return results


def table(results: list[dict[str, object]]) -> str:
    lines = ["| feed | rows | MB | CPU s | wall s | rows/s per core | target |", "|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        rate = r["rows_per_cpu_s"] or 0
        target = ("≥ 1 M: met" if rate >= TARGET_ROWS_PER_CPU_SECOND else "≥ 1 M: **missed**") if r["big"] else ""
        lines.append(f"| {', '.join(r['feeds'])} | {r['rows']:,} | {r['bytes'] / 1e6:,.1f} | {r['cpu_s']:.1f} "
                     f"| {r['wall_s']:.1f} | {rate:,} | {target} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generator", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.05, help="share of the national volume (default 0.05)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--invalid-rate", type=float, default=0.002)
    parser.add_argument("--keep", type=Path, default=None, help="write the landing here and keep it")
    args = parser.parse_args(argv)
    landing = args.keep or Path(tempfile.mkdtemp(prefix="bench_generator_"))
    started = time.perf_counter()
    try:
        results = run(args.scale, args.seed, args.invalid_rate, landing)
    finally:
        if args.keep is None:
            shutil.rmtree(landing, ignore_errors=True)
    print(table(results))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"generator-{date.today().isoformat()}.json"
    out.write_text(json.dumps({
        "command": f"python -m bench.generator --scale {args.scale} --seed {args.seed} --invalid-rate {args.invalid_rate}",
        "scale": args.scale, "seed": args.seed, "invalid_rate": args.invalid_rate, "machine": _machine(),
        "total_wall_s": round(time.perf_counter() - started, 1), "feeds": results,
    }, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
