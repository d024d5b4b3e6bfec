"""Run the nightly DAG locally, offline, with `airflow dags test` and a SQLite metadata database
kept in .warehouse/airflow (no scheduler, no API server)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "child_stats_nightly"
# Under a scheduler the reports DAG runs when the release asset changes; `dags test` runs one DAG only, so the
# local run starts it after the nightly DAG, as the scheduler would.
REPORTS_DAG_ID = "child_stats_reports"


def airflow_env(warehouse_url: str, landing_dir: Path, airflow_home: Path | None = None) -> dict[str, str]:
    home = airflow_home or PROJECT_ROOT / ".warehouse" / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
        "AIRFLOW__CORE__PARALLELISM": "4",
        "GX_ANALYTICS_ENABLED": "False",
        "WAREHOUSE_URL": warehouse_url,  # the owner's: the bootstrap task's alone (warehouse/connection.py)
        "WAREHOUSE_ROLE": "transformer",  # every other connection of the tasks and callbacks (loads: loader)
        "LANDING_DIR": str(landing_dir),
        "NO_PROXY": "*",
    }


def _airflow(*args: str, env: dict[str, str], capture: bool = False) -> subprocess.CompletedProcess:
    airflow = Path(sys.executable).with_name("airflow")
    output = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True} if capture else {}
    return subprocess.run([str(airflow), *args], env=env, cwd=PROJECT_ROOT, **output)


def ensure_metadata_db(env: dict[str, str]) -> None:
    marker = Path(env["AIRFLOW_HOME"]) / ".migrated"
    if marker.exists():
        return
    result = _airflow("db", "migrate", env=env, capture=True)
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}")
    marker.touch()


# What a person watching the run wants to see; everything else goes to the log file only.
_CONSOLE = re.compile(r"\[DAG TEST\] (start|end) task|Task failed|^(error|warning): |QualityGateFailed|"
                      r"PublicationBlocked|Error|published release")


def _console_line(line: str) -> str:
    match = re.search(r"\[DAG TEST\] (start|end) task task_id=(\S+)", line)
    if match:
        return f"  {match.group(1):>5} {match.group(2)}"
    return "  " + re.sub(r"^\S+Z \[\w+\s*\] ", "", line).strip()[:300]


def run_dag(warehouse_url: str, landing_dir: Path, airflow_home: Path | None = None, *,
            quiet: bool = False, dag_ids: tuple[str, ...] = (DAG_ID, REPORTS_DAG_ID)) -> int:
    """Run the nightly DAG, then the reports DAG, each once in-process; returns airflow's exit code of the
    first that fails (0 when every task succeeded). The full Airflow output goes to a log file under
    AIRFLOW_HOME/logs/dags-test/."""
    env = airflow_env(warehouse_url, landing_dir, airflow_home)
    env["PIPELINE_TRIGGERED_BY"] = "test"  # audit.pipeline_runs tells these runs from the scheduler's
    ensure_metadata_db(env)
    for dag_id in dag_ids:
        code = _dags_test(dag_id, env, quiet)
        if code != 0:
            return code
    return 0


def _dags_test(dag_id: str, env: dict[str, str], quiet: bool) -> int:
    log_dir = Path(env["AIRFLOW_HOME"]) / "logs" / "dags-test"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{dag_id}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"
    airflow = Path(sys.executable).with_name("airflow")
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen([str(airflow), "dags", "test", dag_id], env=env, cwd=PROJECT_ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        for line in process.stdout:
            log.write(line)
            if not quiet and _CONSOLE.search(line):
                print(_console_line(line), flush=True)
        code = process.wait()
    if not quiet:
        print(f"  full Airflow log of {dag_id}: {log_path}")
    return code
