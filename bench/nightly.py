"""The benchmark of the whole night (issue 13): `make bench-nightly SCALE=0.1`.

Generates a landing at a share of the nation, then runs the real nightly DAG (`python -m pipeline run`, as
`make run` does) four times against a throw-away database on the project's PostgreSQL: a full night, a quiet
night (nothing new), a night where one province re-delivers one period of every feed, and a night with 1 %
new records. Per night: wall time per DAG task (Airflow's metadata), rows loaded and rows/s, the gate's
share, peak memory per process kind, the database's size, and the latency of 1,000 statisticians' queries
on `published` as `report_reader`. Writes bench/results/nightly-<scale>-<date>.json and prints a table."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from bench import nightly_landing as landing_lib
from bench.nightly_measure import MemorySampler, dag_runs_since, gate_seconds, run_statistician_queries, tasks_seconds

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
AIRFLOW_DB = REPO / ".warehouse" / "airflow" / "airflow.db"  # pipeline.airflow_local's default home
NIGHTLY_DAG = "child_stats_nightly"
NIGHTS = ("full", "quiet", "redelivery", "new_records")
TARGETS = {  # issue 13, on 2 cores
    "full_night_seconds_at_0.1": 240,
    "quiet_share_of_full": 0.10,
    "redelivery_share_of_full": 0.15,
    "gate_share_of_full": 0.10,
    "query_p95_ms": 50,
    "task_peak_rss_mib": 1024,
}


def _log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _postmaster_pid(url: str) -> int | None:
    """The server's main process, if it runs on this machine (backends are its children)."""
    import psutil
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        backend = conn.execute("select pg_backend_pid()").fetchone()[0]
        try:
            return psutil.Process(backend).ppid()
        except psutil.Error:
            return None


def _night_facts(url: str, run_ids: list[str], since: datetime) -> dict:
    """What the night loaded (audit.load_batches of its runs) and the database's size afterwards."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        batches = conn.execute(
            """select status, count(*), coalesce(sum(rows_read), 0)::bigint, coalesce(sum(rows_loaded), 0)::bigint,
                      coalesce(sum(file_bytes), 0)::bigint
                 from audit.load_batches where run_id = any(%s) or (run_id is null and started_at >= %s)
                group by status order by status""", (run_ids, since)).fetchall()
        size = conn.execute("select pg_database_size(current_database())").fetchone()[0]
        raw_rows = conn.execute(
            "select coalesce(sum(n_live_tup), 0)::bigint from pg_stat_user_tables where schemaname = 'raw'").fetchone()[0]
    by_status = {status: {"files": files, "rows_read": read, "rows_loaded": loaded, "bytes": size_}
                 for status, files, read, loaded, size_ in batches}
    return {"batches_by_status": by_status,
            "rows_loaded": sum(v["rows_loaded"] for v in by_status.values()),
            "files_loaded": by_status.get("loaded", {}).get("files", 0),
            "database_bytes": size, "raw_rows_estimate": raw_rows}


def _redelivery_check(url: str, corrections: list[dict]) -> list[dict]:
    """Per correction file: its batch, and how many earlier coverage cells it superseded (audit)."""
    import psycopg

    names = [c["correction"] for c in corrections]
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            """select b.feed, b.file_name, b.batch_id, b.status, b.rows_loaded,
                      (select count(*) from audit.batch_coverage as o where o.superseded_by_batch = b.batch_id),
                      (select coalesce(sum(o.rows), 0)::bigint from audit.batch_coverage as o
                        where o.superseded_by_batch = b.batch_id),
                      (select bool_or(n.awaiting_confirmation) from audit.batch_coverage as n
                        where n.batch_id = b.batch_id)
                 from audit.load_batches as b where b.file_name = any(%s) order by b.feed""", (names,)).fetchall()
    return [{"feed": feed, "file": name, "batch_id": batch, "status": status, "rows_loaded": loaded,
             "cells_superseded": cells, "rows_superseded": superseded, "held_for_confirmation": bool(held)}
            for feed, name, batch, status, loaded, cells, superseded, held in rows]


def dbt_slowest(since_epoch: float, count: int = 15) -> list[dict]:
    """The night's slowest dbt nodes (models, tests) by execution time, from dbt's run_results.json when the
    night wrote it: what to profile when `dbt_build` is the bound."""
    path = REPO / "dbt" / "target" / "run_results.json"
    if not path.exists() or path.stat().st_mtime < since_epoch:
        return []
    results = json.loads(path.read_text()).get("results", [])
    slowest = sorted(results, key=lambda r: r.get("execution_time") or 0, reverse=True)[:count]
    return [{"node": r["unique_id"], "seconds": round(r.get("execution_time") or 0, 1), "status": r.get("status")}
            for r in slowest]


def run_night(name: str, url: str, landing: Path, workdir: Path, postmaster: int | None,
              database: str, interval: float) -> dict:
    """One `python -m pipeline run` against the bench database, its process tree sampled."""
    import psutil
    import psycopg

    env = {**os.environ, "WAREHOUSE_URL": url, "LANDING_DIR": str(landing), "PYTHONUNBUFFERED": "1"}
    log_path = workdir / f"night-{name}.log"
    with psycopg.connect(url, autocommit=True) as conn:
        since = conn.execute("select clock_timestamp()").fetchone()[0]
    started_epoch = time.time()
    machine_cpu_before, load_before = psutil.cpu_times(), os.getloadavg()[0]
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, "-m", "pipeline", "run"], cwd=REPO, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        sampler = MemorySampler(process.pid, postmaster, database, interval=interval).start()
        exit_code = process.wait()
        sampler.stop()
    wall = time.perf_counter() - started
    machine_cpu_after = psutil.cpu_times()
    machine_busy = sum(machine_cpu_after) - sum(machine_cpu_before) - (
        (machine_cpu_after.idle + machine_cpu_after.iowait) - (machine_cpu_before.idle + machine_cpu_before.iowait))
    ours = sampler.cpu_seconds_by_kind()
    runs = dag_runs_since(AIRFLOW_DB, started_epoch)
    nightly = next((r for r in runs if r["dag_id"] == NIGHTLY_DAG), None)
    tasks = nightly["tasks"] if nightly else []
    for run in runs:  # the reports DAG's task too: "any task"
        for task in run["tasks"]:
            if task["start"] and task["end"]:
                task.update(sampler.peaks_between(task["start"], task["end"]))
    facts = _night_facts(url, [r["run_id"] for r in runs], since)
    facts["dbt_slowest"] = dbt_slowest(started_epoch)
    dag_seconds = nightly["seconds"] if nightly else None
    ingest_seconds = tasks_seconds(tasks, "ingest_")
    gate = gate_seconds(tasks)
    rows = facts["rows_loaded"]
    return {
        "night": name,
        "exit_code": exit_code,
        "wall_seconds": round(wall, 1),  # the whole `python -m pipeline run`: bootstrap, both DAGs, summary
        "dag": {k: v for k, v in (nightly or {}).items() if k != "tasks"},
        "tasks": tasks,
        "other_dags": [r for r in runs if r["dag_id"] != NIGHTLY_DAG],
        "dag_seconds": dag_seconds,
        "ingest_tasks_seconds": round(ingest_seconds, 1),
        "gate_seconds": round(gate, 1),
        "gate_share": round(gate / dag_seconds, 3) if dag_seconds else None,
        "rows_per_s_ingest": round(rows / ingest_seconds) if ingest_seconds and rows else 0,
        "rows_per_s_dag": round(rows / dag_seconds) if dag_seconds and rows else 0,
        **facts,
        "memory": {
            "samples": sampler.samples,
            "interval_s": interval,
            "peak_rss_mib_by_kind": {k: round(v, 1) for k, v in sorted(sampler.peak_by_kind.items())},
            "peak_private_rss_mib_by_kind": {k: round(v, 1) for k, v in sorted(sampler.peak_private_by_kind.items())},
            "peak_tree_total_mib": round(max((row[1] for row in sampler.series), default=0), 1),
            "peak_backends_total_mib": round(max((row[2] for row in sampler.series), default=0), 1),
        },
        # Noise guard: this machine is shared. Other = the machine's busy CPU seconds not used by the night's
        # process tree or the bench database's backends.
        "cpu": {"machine_busy_seconds": round(machine_busy, 1),
                "night_cpu_seconds_by_kind": {k: round(v, 1) for k, v in sorted(ours.items())},
                "other_cpu_seconds": round(machine_busy - sum(ours.values()), 1),
                "cores": psutil.cpu_count(),
                "other_busy_cores_mean": round((machine_busy - sum(ours.values())) / wall, 2),
                "load_average_1m_before": round(load_before, 2),
                "load_average_1m_after": round(os.getloadavg()[0], 2)},
        "log": str(log_path),
    }


def task_peak(night: dict) -> tuple[float, str]:
    """The biggest process RSS while any task of the night's DAG runs ran (nightly and reports), and the
    task: `dags test` runs the tasks in its own process, one at a time (dbt in a child process)."""
    tasks = [*night["tasks"], *(t for run in night.get("other_dags", []) for t in run.get("tasks", []))]
    peaks = [(t["peak_process_rss_mib"], t["task_id"]) for t in tasks if t.get("peak_process_rss_mib")]
    return max(peaks, default=(0.0, "–"))


def _backend_peak(night: dict) -> float:
    return max((v for k, v in night["memory"]["peak_rss_mib_by_kind"].items() if k.startswith("postgres backend")),
               default=0.0)


TASK_COLUMNS = ("bootstrap", "ingest_*", "load_reference", "validate_raw", "dbt_build", "validate_marts", "publish")


def _task_seconds(night: dict, column: str) -> str:
    if column == "ingest_*":
        return f"{tasks_seconds(night['tasks'], 'ingest_'):.0f}"
    found = [t["seconds"] for t in night["tasks"] if t["task_id"] == column and t["seconds"] is not None]
    return f"{found[0]:.0f}" if found else "–"


def _cpu_cell(night: dict) -> str:
    """How busy the whole machine was, and how many cores the night's own processes got, over the night."""
    cpu, wall = night.get("cpu") or {}, night.get("wall_seconds")
    if not cpu or not wall:
        return "–"
    ours = sum(cpu["night_cpu_seconds_by_kind"].values())
    return f"{cpu['machine_busy_seconds'] / wall / cpu['cores']:.0%} / {ours / wall:.2f}"


def markdown_tables(report: dict) -> str:
    nights = report["nights"]
    full = nights.get("full", {}).get("dag_seconds")
    lines = ["| night | DAG s | vs full | " + " | ".join(f"{c} s" for c in TASK_COLUMNS)
             + " | gate share | rows loaded | rows/s (ingest) | peak task process MiB (task) | peak PG backend MiB"
             " | DB size MiB | query p50 / p95 ms | machine busy / night's CPU (cores) |",
             "|---|---:|---:|" + "---:|" * len(TASK_COLUMNS) + "---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, night in nights.items():
        dag = night["dag_seconds"]
        share = f"{dag / full:.0%}" if dag and full else "–"
        queries = night.get("queries") or {}
        latency = f"{queries['p50_ms']:.1f} / {queries['p95_ms']:.1f}" if queries.get("queries") else "–"
        peak_mib, peak_task = task_peak(night)
        lines.append(
            f"| {name}{'' if night['exit_code'] == 0 else ' (FAILED)'} | {dag:.0f} | {share} | "
            + " | ".join(_task_seconds(night, c) for c in TASK_COLUMNS)
            + f" | {night['gate_share']:.0%} | {night['rows_loaded']:,} | {night['rows_per_s_ingest']:,} "
            f"| {peak_mib:.0f} ({peak_task}) | {_backend_peak(night):.0f} | {night['database_bytes'] / 2**20:,.0f} "
            f"| {latency} | {_cpu_cell(night)} |")
    return "\n".join(lines) + "\n\n" + targets_table(report) + slowest_dbt_table(report)


def slowest_dbt_table(report: dict, count: int = 5) -> str:
    """Each night's slowest dbt nodes, when a night ran dbt."""
    rows = [f"| {name} | " + ", ".join(f"{item['node'].split('.')[-1]} {item['seconds']:.0f}"
                                       for item in night.get("dbt_slowest", [])[:count]) + " |"
            for name, night in report["nights"].items() if night.get("dbt_slowest")]
    if not rows:
        return ""
    return f"\n\n| night | slowest dbt nodes, s (top {count}) |\n|---|---|\n" + "\n".join(rows)


def target_rows(report: dict) -> list[tuple[str, str, str, bool | None]]:
    """(what, target, measured, met) for the issue's targets."""
    nights = report["nights"]
    full = nights.get("full", {})
    full_s = full.get("dag_seconds")
    rows = []
    scale = report["arguments"]["scale"]
    if full_s:
        met = full_s <= TARGETS["full_night_seconds_at_0.1"] if scale >= 0.1 else None
        rows.append(("full night (DAG)", "≤ 240 s at scale 0.1", f"{full_s:.0f} s at scale {scale:g}", met))
        for night, key, label in (("quiet", "quiet_share_of_full", "quiet night ÷ full"),
                                  ("redelivery", "redelivery_share_of_full", "one province's re-delivery ÷ full")):
            if nights.get(night, {}).get("dag_seconds"):
                share = nights[night]["dag_seconds"] / full_s
                rows.append((label, f"≤ {TARGETS[key]:.0%}", f"{share:.0%}", share <= TARGETS[key]))
        gate = full.get("gate_share")
        if gate is not None:
            rows.append(("gate (validate_raw + validate_marts) ÷ full night", f"≤ {TARGETS['gate_share_of_full']:.0%}",
                         f"{gate:.0%}", gate <= TARGETS["gate_share_of_full"]))
    p95 = max((n["queries"]["p95_ms"] for n in nights.values() if (n.get("queries") or {}).get("queries")), default=None)
    if p95 is not None:
        rows.append(("published query p95 (worst night)", f"< {TARGETS['query_p95_ms']} ms", f"{p95:.1f} ms",
                     p95 < TARGETS["query_p95_ms"]))
    peak = max((task_peak(n) for n in nights.values()), default=None)
    if peak is not None:
        rows.append(("peak RSS of any task's process", "≤ 1 GiB", f"{peak[0]:.0f} MiB ({peak[1]})",
                     peak[0] <= TARGETS["task_peak_rss_mib"]))
    return rows


def targets_table(report: dict) -> str:
    lines = ["| target (issue 13, 2 cores) | target | measured | |", "|---|---|---|---|"]
    for what, target, measured, met in target_rows(report):
        verdict = "n/a at this scale" if met is None else ("met" if met else "**missed**")
        lines.append(f"| {what} | {target} | {measured} | {verdict} |")
    return "\n".join(lines)


def _machine(url: str) -> dict:
    from bench.ingest_throughput import _machine as machine_of  # cores, RAM, CPU model, server settings

    machine = machine_of(url)
    machine["git_commit"] = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                           capture_output=True, text=True).stdout.strip()
    return machine


def _write(report: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nightly", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.01, help="share of the nation (default 0.01)")
    parser.add_argument("--seed", type=int, default=landing_lib.SEED)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="scratch folder for the landing and the logs (default .warehouse/bench/nightly-<scale>)")
    parser.add_argument("--nights", default=",".join(NIGHTS), help=f"comma-separated subset of {','.join(NIGHTS)}")
    parser.add_argument("--province", default="15", help="the province that re-delivers (file-name code)")
    parser.add_argument("--period", default="2025-H1", help="the half-year it re-delivers")
    parser.add_argument("--new-share", type=float, default=0.01, help="new records as a share of the landing's rows")
    parser.add_argument("--queries", type=int, default=1000, help="statisticians' queries after each night")
    parser.add_argument("--sample-interval", type=float, default=0.2, help="memory sampling period, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the bench database and the landing")
    parser.add_argument("--table", type=Path, default=None, help="only print the tables of a results JSON")
    args = parser.parse_args(argv)
    if args.table:
        print(markdown_tables(json.loads(args.table.read_text())))
        return 0
    nights = [n.strip() for n in args.nights.split(",") if n.strip()]
    unknown = set(nights) - set(NIGHTS)
    if unknown or not nights or nights[0] != "full":
        parser.error(f"--nights: a subset of {','.join(NIGHTS)} starting with full")

    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from warehouse.connection import owner_url
    from warehouse.roles import role_url

    bench_started = time.perf_counter()
    workdir = args.workdir or REPO / ".warehouse" / "bench" / f"nightly-{args.scale:g}"
    landing = workdir / "landing"
    if landing.exists():
        shutil.rmtree(landing)
    workdir.mkdir(parents=True, exist_ok=True)
    _log(f"generating the landing at scale {args.scale:g} in {landing} ...")
    generation = landing_lib.generate_landing(landing, args.scale, args.seed)
    _log(f"  {generation['files']:,} files, {generation['bytes'] / 2**20:,.0f} MiB in {generation['seconds']} s")

    url = owner_url()
    database = f"bench_nightly_{os.getpid()}"
    admin_conninfo = make_conninfo(url, dbname="postgres")
    bench_url = urlunparse(urlparse(url)._replace(path=f"/{database}"))  # a URL: the DAG's tools need one
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    report: dict = {}
    try:
        machine = _machine(bench_url)
        postmaster = _postmaster_pid(bench_url)
        report = {
            "benchmark": "nightly",
            "date": date.today().isoformat(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "arguments": {"scale": args.scale, "seed": args.seed, "nights": nights, "province": args.province,
                          "period": args.period, "new_share": args.new_share, "queries": args.queries,
                          "sample_interval_s": args.sample_interval},
            "machine": machine,
            "generation": generation,
            "nights": {},
            "notes": NOTES,
        }
        out = RESULTS_DIR / f"nightly-{args.scale:g}-{report['date']}.json"
        landing_rows = None
        for name in nights:
            preparation: dict = {}
            if name == "redelivery":
                preparation["corrections"] = landing_lib.write_redelivery(landing, args.province, args.period)
                _log(f"  re-delivery: {len(preparation['corrections'])} files of province {args.province} "
                     f"{args.period}")
            elif name == "new_records":
                with psycopg.connect(bench_url, autocommit=True) as conn:
                    new_feeds_rows = conn.execute(
                        "select coalesce(sum(rows_loaded), 0)::bigint from audit.load_batches where status = 'loaded' "
                        "and feed = any(%s)", (["y_te_sinh", "y_te_tu_vong", "y_te_can_do", "ldxh_tre_em",
                                                 "ldxh_xam_hai"],)).fetchone()[0]
                new_scale = landing_lib.new_records_scale(args.scale, args.new_share, landing_rows or 0, new_feeds_rows)
                started = time.perf_counter()
                new = landing_lib.write_new_records(landing, new_scale, args.seed + 1)
                preparation["new_records"] = {"scale": new.scale, "files": len(new.files), "commands": new.commands,
                                              "generation_seconds": round(time.perf_counter() - started, 1)}
                _log(f"  new records: {len(new.files)} files at scale {new.scale:.5f} ({landing_lib.NEW_PERIOD})")
            _log(f"night '{name}': python -m pipeline run ...")
            night = run_night(name, bench_url, landing, workdir, postmaster, database, args.sample_interval)
            night.update(preparation)
            if name == "full":
                landing_rows = night["rows_loaded"]
            if name == "redelivery":
                night["redelivery_check"] = _redelivery_check(bench_url, preparation["corrections"])
            if args.queries and night["exit_code"] == 0:
                night["queries"] = run_statistician_queries(role_url("report_reader", bench_url), args.queries)
            report["nights"][name] = night
            _write(report, out)  # after every night: a long run that fails later still leaves its numbers
            _log(f"  exit {night['exit_code']}, DAG {night['dag_seconds']} s (process {night['wall_seconds']} s), "
                 f"{night['rows_loaded']:,} rows loaded, gate {night['gate_seconds']} s, "
                 f"DB {night['database_bytes'] / 2**20:,.0f} MiB, "
                 f"query p95 {(night.get('queries') or {}).get('p95_ms')} ms")
        report["benchmark_wall_seconds"] = round(time.perf_counter() - bench_started, 1)
        _write(report, out)
        print(f"## Nightly benchmark, scale {args.scale:g} ({generation['files']:,} files generated in "
              f"{generation['seconds']} s)\n")
        print(markdown_tables(report))
        print(f"\nPostgreSQL {machine['postgres']['server_version']}, {machine['nproc']} CPUs "
              f"({machine['cpu'].get('Model name', '?')}), {machine['memory_total_gib']} GiB. "
              f"Benchmark took {report['benchmark_wall_seconds']:.0f} s. JSON: {out.relative_to(REPO)}")
        return 0 if all(n["exit_code"] == 0 for n in report["nights"].values()) else 1
    finally:
        if not args.keep:
            with psycopg.connect(admin_conninfo, autocommit=True) as admin:
                admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database)))
            shutil.rmtree(landing, ignore_errors=True)
        else:
            _log(f"kept: database {database}, landing {landing}")


NOTES = [
    "Each night is one `python -m pipeline run` (bootstrap, the nightly DAG and the reports DAG with `airflow "
    "dags test`, the summary) in a subprocess with WAREHOUSE_URL on a throw-away database and LANDING_DIR on "
    "the bench landing. dag_seconds is the nightly DAG run's end_date - start_date in Airflow's metadata "
    "database; task seconds are each task instance's end_date - start_date.",
    "ingest_tasks_seconds is the sum of the ingest_* tasks (`dags test` runs them one after another); "
    "rows_per_s_ingest = rows loaded (audit.load_batches of the night's runs) / that sum.",
    "gate_share = (validate_raw + validate_marts) / dag_seconds.",
    "Memory: the process tree of `python -m pipeline run` and the server's backends of the bench database, "
    "sampled every sample_interval_s with psutil; peak RSS of one process, by kind. Backends' RSS counts the "
    "shared buffers they touched; peak_private_rss_mib_by_kind subtracts shared pages. Airflow's `dags test` "
    "runs the tasks inside its own process, so that process's peak is the peak of the biggest task (ingest, "
    "Great Expectations, publish); dbt runs as its own process. Per task, peak_tree_rss_mib is the tree's "
    "summed RSS while the task ran.",
    "Queries: 1,000 by default, the three kinds in turn, parameters drawn (seed 13) from the province-level "
    "(indicator, period, period_type, province) cells of published.indicator_values, as report_reader, one "
    "autocommit connection, timed client-side including fetching every row.",
    "cpu: the machine is shared with other sessions; machine_busy_seconds is the machine's busy CPU time "
    "during the night (all cores), night_cpu_seconds_by_kind what the night's processes, the bench "
    "database's backends and the server's own processes used (as last sampled: processes shorter than one "
    "interval are missed); other_cpu_seconds the difference (other sessions, and what was missed).",
    "The re-delivery night: one province's file of one period per feed copied with '_r2' before the suffix, "
    "every 50th record dropped and every 100th changed (sex swapped; for the population feed the count + 1).",
    "The new-records night: a new half-year (2026-H1; register snapshot 2026-06-30) of births, deaths, growth, "
    "register and abuse, generated with seed+1 at the scale that makes it new_share of the full night's rows. "
    "New files for periods the warehouse holds would replace them (a newer file of a province-period is a "
    "correction), so new records can only arrive in a new period.",
]


if __name__ == "__main__":
    sys.exit(main())
