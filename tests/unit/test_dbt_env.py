"""dbt's environment: where the warehouse is, and the memory its queries may sort and hash in."""

from __future__ import annotations

from pipeline.dbt import dbt_env

URL = "postgresql://transformer:s%40cret@db.example:6543/warehouse"


def test_credentials_come_from_the_url(monkeypatch):
    env = dbt_env(URL)
    assert (env["DBT_PG_HOST"], env["DBT_PG_PORT"], env["DBT_PG_USER"], env["DBT_PG_PASSWORD"],
            env["DBT_PG_DATABASE"]) == ("db.example", "6543", "transformer", "s@cret", "warehouse")


def test_work_mem_is_raised_for_dbt_and_the_caller_s_options_win(monkeypatch):
    monkeypatch.delenv("PGOPTIONS", raising=False)
    monkeypatch.delenv("DBT_WORK_MEM", raising=False)
    assert dbt_env(URL)["PGOPTIONS"] == "-c work_mem=64MB"
    monkeypatch.setenv("DBT_WORK_MEM", "256MB")
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=0 -c work_mem=32MB")
    # libpq applies the options in order: the caller's own work_mem, after ours, is the one in force
    assert dbt_env(URL)["PGOPTIONS"] == "-c work_mem=256MB -c statement_timeout=0 -c work_mem=32MB"
