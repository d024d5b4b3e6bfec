"""Run the nightly DAG locally, offline, with `airflow dags test` and a SQLite metadata database
kept in .warehouse/airflow (no scheduler, no API server)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "child_stats_nightly"


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
        "WAREHOUSE_URL": warehouse_url,
        "LANDING_DIR": str(landing_dir),
        "NO_PROXY": "*",
    }


def _airflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(airflow), *args], env=env, cwd=PROJECT_ROOT)


def ensure_metadata_db(env: dict[str, str]) -> None:
    marker = Path(env["AIRFLOW_HOME"]) / ".migrated"
    if marker.exists():
        return
    result = _airflow("db", "migrate", env=env)
    if result.returncode != 0:
        raise RuntimeError("airflow db migrate failed")
    marker.touch()


def run_dag(warehouse_url: str, landing_dir: Path, airflow_home: Path | None = None) -> int:
    """Run one full DAG run in-process; returns airflow's exit code (0 when every task succeeded)."""
    env = airflow_env(warehouse_url, landing_dir, airflow_home)
    ensure_metadata_db(env)
    return _airflow("dags", "test", DAG_ID, env=env).returncode
