"""Run dbt against the warehouse: credentials come from WAREHOUSE_URL or the embedded server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

from warehouse.connection import warehouse_url

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt"


def dbt_env(url: str | None = None) -> dict[str, str]:
    parsed = urlparse(url or warehouse_url())
    return {
        **os.environ,
        "DBT_PG_HOST": parsed.hostname or "127.0.0.1",
        "DBT_PG_PORT": str(parsed.port or 5432),
        "DBT_PG_USER": unquote(parsed.username or "postgres"),
        "DBT_PG_PASSWORD": unquote(parsed.password or ""),
        "DBT_PG_DATABASE": parsed.path.lstrip("/") or "postgres",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(*args: str, url: str | None = None) -> None:
    """Run a dbt command in the project; raises CalledProcessError (dbt's own output shown) on failure."""
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    subprocess.run(command, check=True, env=dbt_env(url), cwd=DBT_PROJECT_DIR)


def build(url: str | None = None) -> None:
    """Seeds, models and their tests (including unit tests) in dependency order."""
    run_dbt("build", url=url)
