"""What the nightly benchmark measures: the process tree's memory (sampled), the DAG tasks' wall times
(from Airflow's metadata database), and the latency of statisticians' queries on `published`."""

from __future__ import annotations

import math
import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

GATE_TASKS = ("validate_raw", "validate_marts")


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (0..1) by linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def process_kind(cmdline: list[str], parent_kind: str | None = None, parent_cmdline: list[str] | None = None) -> str:
    """What a process of the night's tree is, from its command line: the `python -m pipeline run` driver, an
    `airflow dags test <dag>` process (which runs its DAG's tasks in-process: ingest, Great Expectations,
    publish, reports), a worker it forks, dbt, or something else."""
    if parent_kind and cmdline and cmdline == parent_cmdline:  # a fork (multiprocessing) keeps the command line
        return parent_kind if parent_kind.endswith("(forked worker)") else f"{parent_kind} (forked worker)"
    text = " ".join(cmdline)
    names = [Path(part).name for part in cmdline[:3]]  # '.venv/bin/python .venv/bin/dbt build': a script
    if "dbt" in names:
        return "dbt"
    if " -m pipeline" in f" {text}" or text.endswith("pipeline run"):
        return "pipeline run (driver)"
    if "great_expectations" in text or " -m quality" in text:
        return "great expectations"
    if "airflow" in names:
        if "test" in cmdline and cmdline.index("test") + 1 < len(cmdline):
            return f"airflow dags test {cmdline[cmdline.index('test') + 1]}"
        return "airflow (other)"
    if parent_kind and parent_kind.startswith("airflow"):
        return "airflow task process (forked)"
    return Path(cmdline[0]).name if cmdline else "unknown"


def postgres_kind(cmdline: list[str]) -> str:
    """A backend's title is 'postgres: <role> <database> <host>(<port>) <state>'; an autovacuum worker's
    'postgres: autovacuum worker <database>'; the server's own processes (checkpointer, background writer, WAL
    writer, I/O workers, launchers) name only themselves."""
    title = " ".join(cmdline)
    parts = title.split()
    if "parallel worker" in title:
        return "postgres parallel worker"
    if "autovacuum worker" in title:
        return "postgres backend (autovacuum)"
    if title.startswith("postgres:") and len(parts) >= 4 and ("(" in parts[3] or parts[3] == "[local]"):
        return f"postgres backend ({parts[1]})"
    return "postgres (server processes)"


@dataclass
class MemorySampler:
    """Samples every `interval` s the RSS of a process tree and of the PostgreSQL backends of one database.
    Keeps per process kind the peak RSS of one process, and a time series of the tree's total."""
    root_pid: int
    postmaster_pid: int | None
    database: str
    interval: float = 0.2
    peak_by_kind: dict[str, float] = field(default_factory=dict)  # MiB, one process
    peak_private_by_kind: dict[str, float] = field(default_factory=dict)  # MiB, RSS minus shared pages
    # (epoch s, tree MiB, backends MiB, biggest tree process MiB (not the driver), its kind)
    series: list[tuple[float, float, float, float, str]] = field(default_factory=list)
    samples: int = 0
    cpu_seconds_by_pid: dict[int, tuple[str, float]] = field(default_factory=dict)  # last seen user+system

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._kinds: dict[int, str] = {}
        self._cmdlines: dict[int, list[str]] = {}

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _note(self, kind: str, info) -> None:
        rss = info.rss / 2**20
        private = (info.rss - getattr(info, "shared", 0)) / 2**20
        self.peak_by_kind[kind] = max(self.peak_by_kind.get(kind, 0.0), rss)
        self.peak_private_by_kind[kind] = max(self.peak_private_by_kind.get(kind, 0.0), private)

    def _note_cpu(self, process: psutil.Process, kind: str) -> None:
        try:
            times = process.cpu_times()
        except psutil.Error:
            return
        self.cpu_seconds_by_pid[process.pid] = (kind, times.user + times.system)

    def cpu_seconds_by_kind(self) -> dict[str, float]:
        """CPU seconds (user + system) the sampled processes used, by kind (as last seen: a process that lived
        less than one interval is missed)."""
        totals: dict[str, float] = {}
        for kind, seconds in self.cpu_seconds_by_pid.values():
            totals[kind] = totals.get(kind, 0.0) + seconds
        return totals

    def _kind(self, process: psutil.Process) -> str:
        if process.pid not in self._kinds:
            try:
                parent = process.ppid()
            except psutil.Error:
                parent = None
            cmdline = process.cmdline()
            self._cmdlines[process.pid] = cmdline
            self._kinds[process.pid] = process_kind(cmdline, self._kinds.get(parent), self._cmdlines.get(parent))
        return self._kinds[process.pid]

    def sample(self) -> None:
        tree_total = backends_total = biggest = 0.0
        biggest_kind = ""
        try:
            root = psutil.Process(self.root_pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            processes = []
        for process in processes:
            try:
                kind, info = self._kind(process), process.memory_info()
            except psutil.Error:
                continue
            self._note(kind, info)
            self._note_cpu(process, kind)
            tree_total += info.rss / 2**20
            if info.rss / 2**20 > biggest and process.pid != self.root_pid:
                biggest, biggest_kind = info.rss / 2**20, kind
        if self.postmaster_pid:
            try:
                server = psutil.Process(self.postmaster_pid).children()
            except psutil.Error:
                server = []
            ours = set()
            for process in server:
                try:
                    cmdline = process.cmdline()
                    title = " ".join(cmdline)
                    # parallel workers' titles name their leader, not the database
                    leader = title.rsplit("PID ", 1)[-1].split()[0] if "parallel worker for PID" in title else ""
                    backend = "(" in title or "[local]" in title or "autovacuum worker" in title
                    # the server's own processes (WAL writer, checkpointer, I/O workers) work for the night too;
                    # backends of other databases do not
                    if backend and self.database not in title and not (leader.isdigit() and int(leader) in ours):
                        continue
                    ours.add(process.pid)
                    kind, info = postgres_kind(cmdline), process.memory_info()
                except psutil.Error:
                    continue
                self._note(kind, info)
                self._note_cpu(process, kind)
                backends_total += info.rss / 2**20
        self.series.append((time.time(), tree_total, backends_total, biggest, biggest_kind))
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def peaks_between(self, start: float, end: float) -> dict:
        """Over the samples taken in [start, end] (epoch s): the peak summed RSS of the tree and of the
        backends, and the peak RSS of the biggest single process of the tree (the driver left out), with its
        kind: a task's own peak, since `dags test` runs one task at a time."""
        inside = [row for row in self.series if start <= row[0] <= end]
        if not inside:
            return {}
        top = max(inside, key=lambda row: row[3])
        return {"peak_tree_rss_mib": round(max(row[1] for row in inside), 1),
                "peak_backends_rss_mib": round(max(row[2] for row in inside), 1),
                "peak_process_rss_mib": round(top[3], 1), "peak_process_kind": top[4]}


# --- Airflow's metadata: the task instances of the last run of each DAG --------------------------------------

def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # Airflow stores UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def dag_runs_since(airflow_db: Path, since_epoch: float) -> list[dict]:
    """The DAG runs that started after `since_epoch`, each with its task instances (wall seconds from
    start_date/end_date, which Airflow writes as each task starts and ends)."""
    with sqlite3.connect(f"file:{airflow_db}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        runs = [dict(row) for row in db.execute(
            "select dag_id, run_id, state, start_date, end_date from dag_run order by start_date")]
        found = []
        for run in runs:
            start = _epoch(run["start_date"])
            if start is None or start < since_epoch - 1:
                continue
            tasks = []
            for row in db.execute("select task_id, state, start_date, end_date from task_instance "
                                  "where dag_id = ? and run_id = ? order by start_date", (run["dag_id"], run["run_id"])):
                task_start, task_end = _epoch(row["start_date"]), _epoch(row["end_date"])
                tasks.append({"task_id": row["task_id"], "state": row["state"], "start": task_start, "end": task_end,
                              "seconds": round(task_end - task_start, 2) if task_start and task_end else None})
            end = _epoch(run["end_date"])
            found.append({"dag_id": run["dag_id"], "run_id": run["run_id"], "state": run["state"], "start": start,
                          "end": end, "seconds": round(end - start, 2) if end else None, "tasks": tasks})
    return found


def gate_seconds(tasks: list[dict]) -> float:
    return sum(t["seconds"] or 0 for t in tasks if t["task_id"] in GATE_TASKS)


def tasks_seconds(tasks: list[dict], prefix: str) -> float:
    """Summed wall time of the tasks whose id starts with `prefix` (`airflow dags test` runs tasks one at a
    time, in one process, so the sum is their share of the night)."""
    return sum(t["seconds"] or 0 for t in tasks if t["task_id"].startswith(prefix))


# --- statisticians' queries on published ---------------------------------------------------------------------

QUERIES = {
    "one indicator x province x period": (
        "select indicator_id, period, admin_code, admin_name, sex, age_group, ethnicity, category, value, unit,"
        " suppression from published.indicator_values"
        " where indicator_id = %(indicator)s and admin_level = 'province' and admin_code = %(province)s"
        " and period = %(period)s"),
    "a province's trend over periods": (
        "select period, sex, age_group, ethnicity, category, value, suppression from published.indicator_values"
        " where indicator_id = %(indicator)s and admin_level = 'province' and admin_code = %(province)s"
        " and period_type = %(period_type)s order by period"),
    "all provinces for one period": (
        "select admin_code, admin_name, sex, age_group, ethnicity, category, value, suppression"
        " from published.indicator_values"
        " where indicator_id = %(indicator)s and admin_level = 'province' and period = %(period)s"
        " order by admin_code"),
}


def query_plan(cells: list[tuple[str, str, str, str]], count: int, seed: int = 13) -> list[tuple[str, dict]]:
    """`count` queries, the three kinds in turn, parameters drawn (seeded) from the published (indicator,
    period, period_type, province) cells."""
    rng = random.Random(seed)
    kinds = list(QUERIES)
    plan = []
    for index in range(count):
        indicator, period, period_type, province = rng.choice(cells)
        plan.append((kinds[index % len(kinds)], {"indicator": indicator, "period": period,
                                                 "period_type": period_type, "province": province}))
    return plan


def run_statistician_queries(url: str, count: int = 1000, seed: int = 13) -> dict:
    """Run `count` mixed queries from one connection (autocommit) and time each client-side, rows fetched.
    Never as server-side prepared statements (psycopg prepares a query run 5 times): BI tools mostly do not."""
    import psycopg

    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        cells = conn.execute(
            "select distinct indicator_id, period, period_type, admin_code from published.indicator_values"
            " where admin_level = 'province'").fetchall()
        if not cells:
            return {"queries": 0, "note": "nothing published at province level"}
        plan = query_plan(cells, count, seed)
        timings: dict[str, list[float]] = {kind: [] for kind in QUERIES}
        rows: dict[str, int] = {kind: 0 for kind in QUERIES}
        for kind, params in plan:
            started = time.perf_counter()
            fetched = conn.execute(QUERIES[kind], params).fetchall()
            timings[kind].append((time.perf_counter() - started) * 1000)
            rows[kind] += len(fetched)
    every = [t for values in timings.values() for t in values]
    summary = {"queries": len(every), "distinct_cells": len(cells),
               "p50_ms": round(percentile(every, 0.5), 2), "p95_ms": round(percentile(every, 0.95), 2),
               "max_ms": round(max(every), 2), "by_kind": {}}
    for kind, values in timings.items():
        summary["by_kind"][kind] = {"queries": len(values), "p50_ms": round(percentile(values, 0.5), 2),
                                    "p95_ms": round(percentile(values, 0.95), 2),
                                    "mean_rows": round(rows[kind] / max(1, len(values)), 1)}
    return summary
