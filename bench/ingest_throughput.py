"""Load throughput of the births feed: the real ingest path against bare COPY and pandas.to_sql.

    python -m bench.ingest_throughput [--rows 1000000] [--repeat 3] [--to-sql-rows 100000]

One run, one generated CSV, one server (the project's PostgreSQL, in a throw-away database
`bench_ingest_<pid>` that is dropped at the end). Every measured run happens in a fresh Python
subprocess, so its peak memory is its own: the child reports VmHWM from /proc/self/status (the RSS
high-water mark of the whole child: interpreter, imports, connection and the work) and its RSS just
before the work started, so the work's own share is the difference. (Not `getrusage().ru_maxrss`:
on Linux it inherits the parent's high-water mark across fork+exec, see `_run_child`.) Times are wall-clock
(`time.perf_counter`) around the work only: process start, imports and connecting are not timed.

Methods (see bench/README.md for why these):
  ingest        ingest.loader.load_file end to end: hash, read, validate, COPY to raw, supersede, audit
  copy_rows     bare psycopg 3 COPY: csv.reader + copy.write_row of every row, unvalidated, text table
  copy_bytes    copy.write() of the file's bytes in 1 MB blocks, COPY (FORMAT csv, HEADER): the ceiling
  to_sql        pd.read_csv(dtype=str) + DataFrame.to_sql(method=None, chunksize=10_000), first N rows
Results: a Markdown table on stdout and JSON in bench/results/ingest_throughput-<date>.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
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
FEED = "y_te_sinh"
TEXT_TABLE = "bench_copy_text"     # plain table of text columns, no index, no constraint
TO_SQL_TABLE = "bench_to_sql"
COPY_BLOCK = 1 << 20
TARGET_VS_COPY = 0.5
TARGET_VS_TO_SQL = 10.0
RESULT_PREFIX = "BENCH-RESULT "
CONNINFO_ENV = "BENCH_INGEST_CONNINFO"


# ----------------------------------------------------------------------------------------------------
# Child side: one measured run per process.
# ----------------------------------------------------------------------------------------------------

def _proc_status_kib(field: str) -> int:
    """A memory line of /proc/self/status, in KiB (VmRSS: now; VmHWM: this process image's peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _rss_now_kib() -> int:
    return _proc_status_kib("VmRSS")


def _checkpoint(conn) -> None:
    """Start every run with no dirty buffers from the previous one (needs superuser; best effort)."""
    try:
        conn.execute("checkpoint")
    except Exception:  # noqa: BLE001 - a non-superuser server just skips it
        pass


def _child_ingest(conninfo: str, path: Path, rows: int) -> dict:
    import psycopg

    import ingest.feeds  # noqa: F401  registers the feeds
    from ingest.loader import load_file
    from ingest.spec import FEEDS

    spec = FEEDS[FEED]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # A clean slate each time, so neither the re-delivery skip nor supersession of an earlier
        # batch (the same file loaded by the previous repeat) changes the work measured.
        conn.execute(f"truncate raw.{FEED}, quarantine.rejected_rows, audit.load_batches "
                     "restart identity cascade")
        _checkpoint(conn)
        before = _rss_now_kib()
        started = time.perf_counter()
        result = load_file(conn, spec, path, run_id=f"bench-{os.getpid()}")
        seconds = time.perf_counter() - started
        loaded = conn.execute(f"select count(*) from raw.{FEED}").fetchone()[0]
    if result.status != "loaded" or result.rows_loaded != rows or loaded != rows:
        raise RuntimeError(f"ingest did not load the file whole: {result} ({loaded} rows in raw)")
    return {"seconds": seconds, "rows": result.rows_loaded, "rss_before_kib": before,
            "detail": {"rows_quarantined": result.rows_quarantined}}


def _child_copy_rows(conninfo: str, path: Path, rows: int) -> dict:
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("truncate {}").format(sql.Identifier(TEXT_TABLE)))
        _checkpoint(conn)
        before = _rss_now_kib()
        started = time.perf_counter()
        count = 0
        with conn.transaction(), conn.cursor() as cursor:
            with cursor.copy(sql.SQL("copy {} from stdin").format(sql.Identifier(TEXT_TABLE))) as copy:
                with open(path, encoding="utf-8-sig", newline="") as handle:
                    reader = csv.reader(handle)
                    next(reader)  # header
                    for row in reader:
                        copy.write_row(row)
                        count += 1
        seconds = time.perf_counter() - started
        loaded = conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(TEXT_TABLE))).fetchone()[0]
    if count != rows or loaded != rows:
        raise RuntimeError(f"bare COPY wrote {count} rows, the table holds {loaded}, expected {rows}")
    return {"seconds": seconds, "rows": count, "rss_before_kib": before}


def _child_copy_bytes(conninfo: str, path: Path, rows: int) -> dict:
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("truncate {}").format(sql.Identifier(TEXT_TABLE)))
        _checkpoint(conn)
        before = _rss_now_kib()
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cursor:
            statement = sql.SQL("copy {} from stdin (format csv, header)").format(sql.Identifier(TEXT_TABLE))
            with cursor.copy(statement) as copy, open(path, "rb") as handle:
                while block := handle.read(COPY_BLOCK):
                    copy.write(block)
        seconds = time.perf_counter() - started
        loaded = conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(TEXT_TABLE))).fetchone()[0]
    if loaded != rows:
        raise RuntimeError(f"COPY of the file's bytes left {loaded} rows, expected {rows}")
    return {"seconds": seconds, "rows": loaded, "rss_before_kib": before}


def _child_to_sql(conninfo: str, path: Path, rows: int) -> dict:
    import pandas as pd
    import psycopg
    from psycopg import sql
    from sqlalchemy import create_engine

    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(conninfo))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(TO_SQL_TABLE)))
        _checkpoint(conn)
    with engine.connect():  # open the pool's connection outside the timing, like the others
        pass
    before = _rss_now_kib()
    started = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, nrows=rows)
    read_seconds = time.perf_counter() - started
    frame.to_sql(TO_SQL_TABLE, engine, if_exists="replace", index=False, method=None, chunksize=10_000)
    seconds = time.perf_counter() - started
    engine.dispose()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        loaded = conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(TO_SQL_TABLE))).fetchone()[0]
    if loaded != rows:
        raise RuntimeError(f"to_sql left {loaded} rows, expected {rows}")
    return {"seconds": seconds, "rows": loaded, "rss_before_kib": before,
            "detail": {"read_csv_seconds": read_seconds, "pandas": pd.__version__}}


def _child_stages(conninfo: str, path: Path, rows: int) -> dict:
    """Where the ingest path's time goes, without a profiler: the same loop cut short at each stage.
    Mirrors ingest.loader._stream_into_batch (private helpers: if they change, this stage may fail)."""
    import gc

    import psycopg
    import pyarrow as pa
    import pyarrow.csv as arrow_csv
    from psycopg import sql

    import ingest.feeds  # noqa: F401
    from ingest.geography import admin_units
    from ingest.loader import _WRITE_OPTIONS, file_sha256, load_file
    from ingest.readers import CsvSource
    from ingest.spec import FEEDS
    from ingest.validate import RecordValidator

    spec = FEEDS[FEED]
    stages: dict[str, float] = {}
    value_names = [column.name for column in spec.columns] + ["admin_vintage", "period_key"]

    started = time.perf_counter()
    units = admin_units()
    stages["load reference admin units (once per process)"] = time.perf_counter() - started

    started = time.perf_counter()
    file_sha256(path)
    stages["hash (sha256)"] = time.perf_counter() - started

    gc.disable()  # as the loader does during a load
    started = time.perf_counter()
    for _ in CsvSource(path).chunks():
        pass
    stages["read (Arrow CSV, in blocks)"] = time.perf_counter() - started

    started = time.perf_counter()
    source = CsvSource(path)
    validator = RecordValidator(spec, source.header, units, path.name)
    for chunk in source.chunks():
        validator.check_columns(chunk.columns)
    stages["read + check"] = time.perf_counter() - started

    started = time.perf_counter()
    source = CsvSource(path)
    validator = RecordValidator(spec, source.header, units, path.name)
    for chunk in source.chunks():
        checked = validator.check_columns(chunk.columns)
        table = pa.table({"line_number": pa.array(chunk.lines, pa.int64()),
                          **{name: checked.columns[name] for name in value_names}})
        sink = pa.BufferOutputStream()
        arrow_csv.write_csv(table, sink, _WRITE_OPTIONS)
    stages["read + check + render COPY text"] = time.perf_counter() - started
    gc.enable()

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"truncate raw.{FEED}, quarantine.rejected_rows, audit.load_batches, audit.batch_coverage "
                     "restart identity cascade")
        _checkpoint(conn)
        started = time.perf_counter()
        result = load_file(conn, spec, path, run_id="bench-stages", units=units)
        stages["load_file end to end (reference units already loaded)"] = time.perf_counter() - started

        # The server's share alone: the rows ingest just wrote, as COPY text, copied back in with
        # write() of 1 MB blocks (no Python per row), into raw as it is and without its index.
        raw = sql.Identifier("raw", FEED)
        names = sql.SQL(", ").join(sql.Identifier(name) for name in writer_columns(spec))
        copy_out = sql.SQL("copy (select {} from {}) to stdout (format csv, delimiter E'\\t')").format(names, raw)
        with conn.cursor() as cursor, cursor.copy(copy_out) as copy:
            rendered = b"".join(bytes(block) for block in copy)
        stages_bytes_per_row = len(rendered) / max(1, result.rows_loaded)
        for label, keep_index in (("raw as it is (BRIN on batch_id)", True), ("raw without an index", False)):
            target = raw
            if not keep_index:
                target = sql.Identifier(f"bench_raw_variant_{len(stages)}")
                conn.execute(sql.SQL("create table {} (like {} including defaults)").format(target, raw))
            _checkpoint(conn)
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(sql.SQL("truncate {}").format(target))
                conn.execute("select set_config('ingest.batch_id', '1', true), set_config('ingest.source_file', "
                             "'bench.csv', true), set_config('ingest.file_sha256', repeat('0', 64), true)")
                copy_in = sql.SQL("copy {} ({}) from stdin (format csv, delimiter E'\\t')").format(target, names)
                with conn.cursor() as cursor, cursor.copy(copy_in) as copy:
                    for start in range(0, len(rendered), COPY_BLOCK):
                        copy.write(rendered[start:start + COPY_BLOCK])
                stages[f"server only: COPY of ingest's rows as text into {label} (not cumulative)"] = \
                    time.perf_counter() - started
                raise psycopg.Rollback()
    return {"rows": result.rows_loaded, "stages_seconds": stages, "copy_text_bytes_per_row": round(stages_bytes_per_row)}


def writer_columns(spec) -> list[str]:
    """The raw columns ingest sends in its COPY, as in ingest.loader (the batch's own facts are column
    defaults the server fills from settings of the load transaction)."""
    return ["line_number", *(column.name for column in spec.columns), "admin_vintage", "period_key", "extra_columns"]


def _child_profile(conninfo: str, path: Path, rows: int) -> dict:
    import cProfile
    import pstats

    import psycopg

    import ingest.feeds  # noqa: F401
    from ingest.loader import load_file
    from ingest.spec import FEEDS

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"truncate raw.{FEED}, quarantine.rejected_rows, audit.load_batches "
                     "restart identity cascade")
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        result = load_file(conn, FEEDS[FEED], path, run_id="bench-profile")
        profiler.disable()
        seconds = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    entries = []
    for (filename, line, function), (_cc, nc, tt, ct, _) in stats.stats.items():
        short = filename.replace(str(REPO) + "/", "")
        if "site-packages/" in short:
            short = short.split("site-packages/", 1)[1]
        entries.append({"function": f"{short}:{line}({function})", "calls": nc,
                        "tottime": tt, "cumtime": ct})
    top_self = sorted(entries, key=lambda e: e["tottime"], reverse=True)[:20]
    top_cum = sorted(entries, key=lambda e: e["cumtime"], reverse=True)[:20]
    return {"rows": result.rows_loaded, "profiled_seconds": seconds, "profile_total_tt": total,
            "top_by_self_time": top_self, "top_by_cumulative_time": top_cum}


CHILDREN = {
    "ingest": _child_ingest,
    "copy_rows": _child_copy_rows,
    "copy_bytes": _child_copy_bytes,
    "to_sql": _child_to_sql,
    "stages": _child_stages,
    "profile": _child_profile,
}


def _run_child(payload: dict) -> None:
    conninfo = os.environ.pop(CONNINFO_ENV)  # not on the command line: it holds the password
    result = CHILDREN[payload["method"]](conninfo, Path(payload["path"]), payload["rows"])
    # The peak is VmHWM, the RSS high-water mark of this process image. getrusage(RUSAGE_SELF).ru_maxrss
    # is kept for the record but is NOT used: Linux carries the parent's high-water mark over fork and
    # exec into ru_maxrss, so a child started from a fat parent reports at least the parent's RSS.
    result["peak_rss_kib"] = _proc_status_kib("VmHWM")
    result["ru_maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------------------------------
# Parent side: set up, run the children, summarise.
# ----------------------------------------------------------------------------------------------------

def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _other_activity(conninfo: str, database: str) -> int:
    """Active sessions of other databases on the same server (someone else's load skews the numbers)."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute(
            "select count(*) from pg_stat_activity where state = 'active' and backend_type = 'client backend' "
            "and pid <> pg_backend_pid() and datname is distinct from %s", (database,)).fetchone()[0]


def measure(method: str, conninfo: str, path: Path, rows: int, database: str | None = None) -> dict:
    payload = json.dumps({"method": method, "path": str(path), "rows": rows})
    context = {"load_average_1m_before": round(os.getloadavg()[0], 2)}
    if database:
        context["other_active_sessions_before"] = _other_activity(conninfo, database)
    busy_before, total_before = _cpu_jiffies()
    process = subprocess.Popen([sys.executable, "-m", "bench.ingest_throughput", "--child", payload],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, CONNINFO_ENV: conninfo})
    out, err = process.communicate()
    busy_after, total_after = _cpu_jiffies()
    # Whole machine, child start to exit (includes its imports): ~50% is one busy core of two.
    context["machine_cpu_busy_pct"] = round(100 * (busy_after - busy_before) / max(1, total_after - total_before))
    if database:
        context["other_active_sessions_after"] = _other_activity(conninfo, database)
    if process.returncode != 0:
        raise RuntimeError(f"{method} child failed ({process.returncode}):\n{err[-4000:]}")
    lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise RuntimeError(f"{method} child printed no result:\n{out[-2000:]}\n{err[-2000:]}")
    return {**json.loads(lines[-1][len(RESULT_PREFIX):]), **context}


def _mib(kib: float) -> float:
    return round(kib / 1024, 1)


def _summarise(runs: list[dict]) -> dict:
    seconds = [run["seconds"] for run in runs]
    rows = runs[0]["rows"]
    median = statistics.median(seconds)
    summary = {
        "rows": rows,
        "repeats": len(runs),
        "seconds_median": round(median, 3),
        "seconds_all": [round(s, 3) for s in seconds],
        "rows_per_s_median": round(rows / median),
        "rows_per_s_min": round(rows / max(seconds)),
        "rows_per_s_max": round(rows / min(seconds)),
        "peak_rss_mib": _mib(max(run["peak_rss_kib"] for run in runs)),
        "rss_before_work_mib": _mib(statistics.median(run["rss_before_kib"] for run in runs)),
    }
    summary["work_rss_mib"] = round(summary["peak_rss_mib"] - summary["rss_before_work_mib"], 1)
    summary["other_active_sessions_max"] = max(
        max(run.get("other_active_sessions_before", 0), run.get("other_active_sessions_after", 0)) for run in runs)
    summary["load_average_1m_before"] = [run["load_average_1m_before"] for run in runs]
    summary["machine_cpu_busy_pct"] = [run["machine_cpu_busy_pct"] for run in runs]
    details = [run["detail"] for run in runs if run.get("detail")]
    if details:
        summary["detail"] = details
    return summary


def _machine(conninfo: str) -> dict:
    import pandas
    import psycopg
    import sqlalchemy

    def run(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""

    cpu = {}
    for line in run("lscpu").splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "Hypervisor vendor"):
            cpu[key.strip()] = value.strip()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        settings = {name: conn.execute(f"show {name}").fetchone()[0]
                    for name in ("server_version", "synchronous_commit", "shared_buffers", "fsync",
                                 "max_wal_size", "wal_level")}
    commit = run("git", "-C", str(REPO), "rev-parse", "--short", "HEAD")
    dirty = bool(run("git", "-C", str(REPO), "status", "--porcelain", "--", "ingest", "warehouse"))
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_total_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "psycopg": f"{psycopg.__version__} ({psycopg.pq.__impl__})",
        "pandas": pandas.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "postgres": settings,
        "git_commit": commit + (" (ingest/ or warehouse/ modified)" if dirty else ""),
    }


def _table(summaries: dict[str, dict], ingest_rps: float) -> str:
    labels = {
        "ingest": "ingest: `load_file` (hash+read+validate+COPY+audit)",
        "copy_rows": "bare COPY: `csv.reader` + `write_row`, text table",
        "copy_bytes": "COPY of the file bytes, 1 MB `write()` (ceiling)",
        "to_sql": "`pd.read_csv` + `to_sql` (method=None, chunksize=10k)",
    }
    lines = ["| method | rows | median s | rows/s (median) | rows/s min–max | peak RSS MiB "
             "| RSS before work MiB | ingest ÷ this |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for method, summary in summaries.items():
        ratio = ingest_rps / summary["rows_per_s_median"]
        lines.append(
            f"| {labels[method]} | {summary['rows']:,} | {summary['seconds_median']:.2f} "
            f"| {summary['rows_per_s_median']:,} | {summary['rows_per_s_min']:,}–{summary['rows_per_s_max']:,} "
            f"| {summary['peak_rss_mib']} | {summary['rss_before_work_mib']} | {ratio:.2f} |")
    return "\n".join(lines)


def _sizes_table(memory: list[dict]) -> str:
    lines = ["| ingest of | rows/s | peak RSS MiB | RSS before work MiB | work's own MiB |",
             "|---|---:|---:|---:|---:|"]
    for entry in memory:
        lines.append(f"| {entry['rows']:,} rows ({entry['file_mib']} MiB) | {entry['rows_per_s']:,} "
                     f"| {entry['peak_rss_mib']} | {entry['rss_before_work_mib']} | {entry['work_rss_mib']} |")
    return "\n".join(lines)


def _stages_table(stages: dict, rows: int) -> str:
    lines = ["| stage (each timed on its own) | s | µs/row | rows/s |", "|---|---:|---:|---:|"]
    for name, seconds in stages["stages_seconds"].items():
        per_row = seconds / rows * 1e6
        rate = f"{round(rows / seconds):,}" if "once" not in name and seconds > 0 else "–"
        lines.append(f"| {name} | {seconds:.3f} | {per_row:.2f} | {rate} |")
    return "\n".join(lines)


def _profile_table(profile: dict, limit: int = 15) -> str:
    total = profile["profile_total_tt"]
    lines = ["| function | calls | self s | self % | cumulative s |", "|---|---:|---:|---:|---:|"]
    for entry in profile["top_by_self_time"][:limit]:
        lines.append(f"| `{entry['function']}` | {entry['calls']:,} | {entry['tottime']:.2f} "
                     f"| {100 * entry['tottime'] / total:.0f}% | {entry['cumtime']:.2f} |")
    return "\n".join(lines)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the generated births file")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per method (median reported)")
    parser.add_argument("--to-sql-rows", type=int, default=100_000,
                        help="pandas.to_sql runs on the first N rows of the same file (it is slow)")
    parser.add_argument("--memory-rows", type=int, default=200_000,
                        help="smaller file for the ingest memory comparison and the profile")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="stage breakdown + cProfile of ingest (auto: only if ingest < 50%% of bare COPY)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _run_child(json.loads(args.child))
        return 0
    if args.memory_rows >= args.rows:
        args.memory_rows = max(1, args.rows // 5)
    args.to_sql_rows = min(args.to_sql_rows, args.rows)

    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from ingest.schema import setup_warehouse as bootstrap
    from synthetic import write_births_csv
    from warehouse.connection import warehouse_url

    bench_started = time.perf_counter()
    url = warehouse_url()
    database = f"bench_ingest_{os.getpid()}"
    admin_conninfo = make_conninfo(url, dbname="postgres")
    conninfo = make_conninfo(url, dbname=database)
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    try:
        machine = _machine(conninfo)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            bootstrap(conn)

        big = workdir / "y_te_sinh_bench.csv"
        small = workdir / "y_te_sinh_bench_small.csv"
        _log(f"generating {args.rows:,} births (seed {args.seed}) in {workdir} ...")
        started = time.perf_counter()
        write_births_csv(big, args.rows, seed=args.seed)
        write_births_csv(small, args.memory_rows, seed=args.seed)
        generation_seconds = time.perf_counter() - started

        with open(big, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle))
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("create table {} ({})").format(
                sql.Identifier(TEXT_TABLE),
                sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(name)) for name in header)))

        plan = [("ingest", big, args.rows), ("copy_rows", big, args.rows),
                ("copy_bytes", big, args.rows), ("to_sql", big, args.to_sql_rows)]
        runs: dict[str, list[dict]] = {method: [] for method, _, _ in plan}
        for repeat in range(args.repeat):  # round robin, so drift of the machine hits every method alike
            for method, path, rows in plan:
                run = measure(method, conninfo, path, rows, database)
                runs[method].append(run)
                _log(f"  repeat {repeat + 1}/{args.repeat} {method:<10} {rows:>9,} rows "
                     f"{run['seconds']:7.2f} s  {rows / run['seconds']:>11,.0f} rows/s  "
                     f"peak RSS {_mib(run['peak_rss_kib'])} MiB  machine CPU {run['machine_cpu_busy_pct']}%  "
                     f"load {run['load_average_1m_before']}")
        summaries = {method: _summarise(method_runs) for method, method_runs in runs.items()}

        _log(f"ingest memory at {args.memory_rows:,} rows ...")
        small_run = measure("ingest", conninfo, small, args.memory_rows, database)
        memory = []
        for path, rows, peak, before, seconds in (
                (small, args.memory_rows, small_run["peak_rss_kib"], small_run["rss_before_kib"],
                 small_run["seconds"]),
                (big, args.rows, max(r["peak_rss_kib"] for r in runs["ingest"]),
                 statistics.median(r["rss_before_kib"] for r in runs["ingest"]),
                 summaries["ingest"]["seconds_median"])):
            memory.append({"rows": rows, "file_mib": round(path.stat().st_size / 2**20, 1),
                           "rows_per_s": round(rows / seconds), "peak_rss_mib": _mib(peak),
                           "rss_before_work_mib": _mib(before), "work_rss_mib": round(_mib(peak) - _mib(before), 1)})

        ingest_rps = summaries["ingest"]["rows_per_s_median"]
        ratio_copy = ingest_rps / summaries["copy_rows"]["rows_per_s_median"]
        ratio_bytes = ingest_rps / summaries["copy_bytes"]["rows_per_s_median"]
        ratio_to_sql = ingest_rps / summaries["to_sql"]["rows_per_s_median"]
        ratios = {
            "ingest_vs_bare_copy": round(ratio_copy, 3),
            "ingest_vs_copy_bytes": round(ratio_bytes, 3),
            "ingest_vs_to_sql": round(ratio_to_sql, 1),
            "target_vs_bare_copy": TARGET_VS_COPY,
            "target_vs_to_sql": TARGET_VS_TO_SQL,
            "meets_target_vs_bare_copy": ratio_copy >= TARGET_VS_COPY,
            "meets_target_vs_to_sql": ratio_to_sql >= TARGET_VS_TO_SQL,
        }

        stages = profile = None
        if args.profile == "always" or (args.profile == "auto" and ratio_copy < TARGET_VS_COPY):
            _log(f"profiling ingest on {args.memory_rows:,} rows (stage breakdown, then cProfile) ...")
            try:
                stages = measure("stages", conninfo, small, args.memory_rows)
            except RuntimeError as error:  # the stage breakdown leans on loader internals
                _log(f"  stage breakdown unavailable: {error}")
            profile = measure("profile", conninfo, small, args.memory_rows)

        total_seconds = time.perf_counter() - bench_started
        report = {
            "benchmark": "ingest_throughput",
            "feed": FEED,
            "date": date.today().isoformat(),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "arguments": {"rows": args.rows, "repeat": args.repeat, "to_sql_rows": args.to_sql_rows,
                          "memory_rows": args.memory_rows, "seed": args.seed},
            "file": {"rows": args.rows, "bytes": big.stat().st_size, "generation_seconds": round(generation_seconds, 2)},
            "machine": machine,
            "results": summaries,
            "ratios": ratios,
            "ingest_memory_by_size": memory,
            "stages": stages,
            "profile": profile,
            "benchmark_wall_seconds": round(total_seconds, 1),
            "notes": [
                "Each run is a fresh Python subprocess; times cover the work only (not start-up, imports or connecting).",
                "peak_rss_mib is the child's VmHWM (RSS high-water mark of the process image): interpreter + imports "
                "+ connection + work; rss_before_work_mib is VmRSS just before the timed work; work_rss_mib is the "
                "difference. getrusage(RUSAGE_SELF/RUSAGE_CHILDREN).ru_maxrss is not used: Linux carries the parent's "
                "high-water mark into it across fork+exec (a child of a 318 MiB parent reported 318 MiB, VmHWM 9 MiB).",
                "ingest includes loading the reference admin units (first call in the process), hashing, the audit "
                "row, validation, COPY to raw, the supersession update and the commit.",
                "Methods run round robin, repeat by repeat; each starts with a truncated target table and a CHECKPOINT.",
            ],
        }
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out = RESULTS_DIR / f"ingest_throughput-{report['date']}.json"
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

        print(f"## Load throughput, births feed ({args.rows:,} rows, {report['file']['bytes'] / 2**20:.0f} MiB CSV, "
              f"median of {args.repeat})\n")
        print(_table(summaries, ingest_rps))
        print()
        print(f"- ingest ÷ bare COPY (write_row): **{ratio_copy:.2f}** (target ≥ {TARGET_VS_COPY}: "
              f"{'met' if ratios['meets_target_vs_bare_copy'] else 'MISSED'})")
        print(f"- ingest ÷ COPY of the file bytes: {ratio_bytes:.2f}")
        print(f"- ingest ÷ pandas.to_sql: **{ratio_to_sql:.1f}×** (target ≥ {TARGET_VS_TO_SQL:g}: "
              f"{'met' if ratios['meets_target_vs_to_sql'] else 'MISSED'})")
        print(f"\n### Ingest memory as the file grows\n\n{_sizes_table(memory)}")
        if stages:
            print(f"\n### Where ingest's time goes ({stages['rows']:,} rows, no profiler)\n\n"
                  f"{_stages_table(stages, stages['rows'])}")
        if profile:
            print(f"\n### cProfile of load_file ({profile['rows']:,} rows; {profile['profiled_seconds']:.1f} s "
                  f"under the profiler), top by self time\n\n{_profile_table(profile)}")
        disturbed = [method for method, summary in summaries.items() if summary["other_active_sessions_max"]]
        if disturbed:
            print(f"\n**Warning**: other sessions were active on the same server during {', '.join(disturbed)} "
                  "(see other_active_sessions_* in the JSON): the numbers may be low; run again on a quiet machine.")
        print(f"\nPostgreSQL {machine['postgres']['server_version']} (synchronous_commit="
              f"{machine['postgres']['synchronous_commit']}), Python {machine['python']}, "
              f"{machine['nproc']} CPUs. Benchmark took {total_seconds:.0f} s. JSON: {out.relative_to(REPO)}")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        with psycopg.connect(admin_conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database)))


if __name__ == "__main__":
    sys.exit(main())
