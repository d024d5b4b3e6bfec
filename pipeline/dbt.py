"""Run dbt against the warehouse as the `transformer` role (warehouse/roles.py), which owns the dbt schemas
and what dbt builds there; credentials come from WAREHOUSE_URL or the embedded server, with the role's name
and password. An explicit `url` (tests) is used as given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt"
# dbt commands that create or replace relations: the readers' grants follow them (share_dbt_schemas)
BUILDING_COMMANDS = ("build", "run", "seed", "snapshot")


def transformer_url() -> str:
    from warehouse.roles import role_url

    return role_url("transformer")


# Memory for each sort and hash of dbt's queries (PostgreSQL's default is 4MB): the marts group and join
# millions of values on eight text columns, and spill to disk below this. 64MB: fct_indicator_values,
# fct_published_values, fct_indicator_absent_zeros and their data tests 56-66 s -> 46-51 s on the 1 % sample
# (python -m bench.publish_release, two runs of each). Set per connection through libpq's PGOPTIONS, so it
# needs no privilege on the server; DBT_WORK_MEM changes it, and a work_mem in the caller's own PGOPTIONS
# comes after and wins.
DEFAULT_DBT_WORK_MEM = "64MB"


def dbt_env(url: str | None = None) -> dict[str, str]:
    parsed = urlparse(url or transformer_url())
    work_mem = os.environ.get("DBT_WORK_MEM", DEFAULT_DBT_WORK_MEM)
    return {
        **os.environ,
        "PGOPTIONS": f"-c work_mem={work_mem} {os.environ.get('PGOPTIONS', '')}".strip(),
        "DBT_PG_HOST": parsed.hostname or "127.0.0.1",
        "DBT_PG_PORT": str(parsed.port or 5432),
        "DBT_PG_USER": unquote(parsed.username or "postgres"),
        "DBT_PG_PASSWORD": unquote(parsed.password or ""),
        "DBT_PG_DATABASE": parsed.path.lstrip("/") or "postgres",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(*args: str, url: str | None = None) -> None:
    """Run a dbt command in the project; raises CalledProcessError (dbt's own output shown) on failure. After
    a command that builds, the readers' grants on the dbt schemas (one a first build created included) are set
    by the same role, without DDL on any table."""
    url = url or transformer_url()
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    try:
        subprocess.run(command, check=True, env=dbt_env(url), cwd=DBT_PROJECT_DIR)
    finally:
        if args and args[0] in BUILDING_COMMANDS:
            _share(url)


def _share(url: str) -> None:
    import logging

    import psycopg

    from warehouse.roles import share_dbt_schemas

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            share_dbt_schemas(conn)
    except psycopg.Error as exc:  # the next bootstrap grants them; never fail a build for it
        logging.getLogger(__name__).warning("could not grant the readers on the dbt schemas: %s", exc)


def build(url: str | None = None) -> None:
    """Seeds, models and their tests (including unit tests) in dependency order."""
    run_dbt("build", url=url)
