"""Crash and concurrency safety (issue 12): loads, the bootstrap, `python -m warehouse url`, releases and the
readers of published views run at the same time without deadlocks, waits or mixed releases.

- an unchanged bootstrap and the URL commands take no lock on any table (they finish while every warehouse
  table is locked ACCESS EXCLUSIVE by another session);
- two loads (as the loader role) run in parallel, and a bootstrap and the URL commands run during their COPY;
- a bootstrap whose DDL did change fails with a clear message after lock_timeout instead of deadlocking;
- fifty readers (report_reader) of published.indicator_values during releases each see one whole release.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from warehouse.roles import role_name, role_url

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HEADER = "Mã sự kiện,Ngày sinh,Giới tính,Sinh sống,Cân nặng (g),Mã tỉnh,Mã xã,Mã dân tộc mẹ,Nơi sinh\n"


def bootstrap(conn: psycopg.Connection | None = None, **kwargs) -> bool:
    """The DAG's bootstrap: the warehouse DDL with the raw tables of every feed."""
    from ingest.schema import ingest_ddl
    from warehouse.schema import bootstrap as run

    return run(conn, extra_ddl=ingest_ddl(), **kwargs)


def url_command(url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`python -m warehouse url [...]` in its own process, as `make db-url` runs it."""
    env = {**os.environ, "WAREHOUSE_URL": url}
    return subprocess.run([sys.executable, "-m", "warehouse", "url", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=timeout, check=True)


def warehouse_tables(conn: psycopg.Connection) -> list[str]:
    return [name for (name,) in conn.execute(
        """select format('%I.%I', n.nspname, c.relname) from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname in ('raw', 'audit', 'quarantine', 'published') and c.relkind in ('r', 'v', 'p')
              and (n.nspname, c.relname) <> ('audit', 'bootstrap_state')
            order by 1""")]


def test_an_unchanged_bootstrap_and_the_url_commands_take_no_table_lock(fresh_warehouse):
    assert not bootstrap()  # the fixture bootstrapped: nothing changed since
    with psycopg.connect(fresh_warehouse) as holder:
        tables = warehouse_tables(holder)
        assert "raw.y_te_sinh" in tables and "published.indicator_values" in tables
        holder.execute("lock table " + ", ".join(tables) + " in access exclusive mode")  # held until the end
        started = time.monotonic()
        with psycopg.connect(fresh_warehouse, autocommit=True, options="-c lock_timeout=5s") as conn:
            assert not bootstrap(conn)  # a lock wait would fail it after 5 s
        for role in ("analyst", "report_reader", "loader", "transformer"):
            printed = url_command(fresh_warehouse, "--role", role, timeout=30).stdout.strip()
            assert printed == role_url(role, fresh_warehouse)
        assert url_command(fresh_warehouse, timeout=30).stdout.strip() == fresh_warehouse
        assert time.monotonic() - started < 60
        waiting = holder.execute("select count(*) from pg_locks where not granted").fetchone()[0]
        assert waiting == 0
        holder.rollback()


def test_a_changed_bootstrap_gives_up_on_a_running_load_with_a_clear_message(fresh_warehouse, monkeypatch):
    from warehouse.schema import BootstrapLockTimeout

    monkeypatch.setenv("WAREHOUSE_BOOTSTRAP_LOCK_TIMEOUT", "1s")
    with psycopg.connect(role_url("loader", fresh_warehouse)) as load:  # a load's open transaction
        load.execute("insert into audit.load_batches (feed, file_name, file_path, file_sha256, file_bytes, status)"
                     " values ('y_te_sinh', 'f.csv', '/f.csv', 'x', 1, 'running')")
        started = time.monotonic()
        with pytest.raises(BootstrapLockTimeout, match="waited more than 1s for a lock held by a running load"):
            bootstrap(force=True)  # as after a code change: its DDL needs the tables the load writes
        assert time.monotonic() - started < 30
        load.commit()  # the load was not disturbed
    assert bootstrap(force=True)  # and once the load is over, the bootstrap goes through


def births_file(folder: Path, name: str, rows: int, first_day: date, seed: int) -> Path:
    """A births delivery of one province (Hà Nội) and one half-year, `rows` rows."""
    generator = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for number in range(rows):
            day = first_day + timedelta(days=generator.randrange(170))
            handle.write(f"S{seed}-{number},{day:%d/%m/%Y},{generator.choice(('Nam', 'Nữ'))},C,"
                         f"{generator.randrange(2500, 4200)},01,00004,01,CSYT\n")
    return path


def _active_copy(conn: psycopg.Connection) -> bool:
    return conn.execute(
        "select exists (select 1 from pg_stat_activity where datname = current_database() and usename = %s"
        " and state = 'active' and query ilike 'copy %%raw%%')", (role_name("loader"),)).fetchone()[0]


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_parallel_loads_with_a_bootstrap_and_url_commands_during_the_copy(fresh_warehouse, tmp_path, monkeypatch,
                                                                          attempt):
    from ingest.pseudonymise import pseudonymisation_key
    from ingest.run import ingest_feed
    from warehouse.connection import acting_as

    monkeypatch.setenv("PSEUDONYMISATION_KEY", "concurrency-test-key-" + "k" * 32)
    pseudonymisation_key.cache_clear()
    rows = 60_000
    landings = [tmp_path / "first", tmp_path / "second"]
    births_file(landings[0] / "y_te_sinh", f"hanoi-2024-H1-{attempt}.csv", rows, date(2024, 1, 1), seed=attempt)
    births_file(landings[1] / "y_te_sinh", f"hanoi-2024-H2-{attempt}.csv", rows, date(2024, 7, 1), seed=10 + attempt)
    results, failures = {}, []

    def load(landing: Path) -> None:
        try:
            with acting_as("loader"):  # as the DAG's ingest tasks
                results[landing.name] = ingest_feed("y_te_sinh", landing=landing, run_id=f"parallel-{attempt}")
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=load, args=(landing,)) for landing in landings]
    with psycopg.connect(fresh_warehouse, autocommit=True) as watcher:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while not _active_copy(watcher) and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.005)
        during_copy = _active_copy(watcher)
        # During the COPY: the DAG's bootstrap (unchanged: nothing to do) and `make db-url [ROLE=…]`.
        with psycopg.connect(fresh_warehouse, autocommit=True, options="-c lock_timeout=20s") as conn:
            assert not bootstrap(conn)
        url_command(fresh_warehouse, "--role", "analyst")
        url_command(fresh_warehouse)
        for thread in threads:
            thread.join(timeout=300)
        assert not any(thread.is_alive() for thread in threads), "a load hangs"
    pseudonymisation_key.cache_clear()
    assert not failures, failures
    assert during_copy, "the loads ended before a COPY was seen: make the files larger"
    for landing in landings:
        (result,) = results[landing.name]
        assert (result.status, result.rows_read, result.rows_loaded + result.rows_quarantined) == ("loaded", rows, rows)
    with psycopg.connect(fresh_warehouse) as conn:
        assert conn.execute("select count(*) from audit.load_batches where status = 'loaded'").fetchone() == (2,)
        assert conn.execute("select count(*) from raw.y_te_sinh").fetchone()[0] == sum(
            result.rows_loaded for (result,) in results.values())


# --- releases and their readers --------------------------------------------------------------------------

MARTS = """
create schema marts;
create table marts.fct_published_values as
select 'live_births'::text as indicator_id, '2025'::text as period, 'year'::text as period_type,
       'commune'::text as admin_level, lpad(n::text, 5, '0') as admin_code, 'Xã ' || n as admin_name,
       'total'::text as sex, 'total'::text as age_group, 'total'::text as ethnicity, 'total'::text as category,
       n::numeric as numerator, null::numeric as denominator, n::numeric as value, 'births'::text as unit,
       null::text as suppression
  from generate_series(1, 4000) as n;
create table marts.dim_indicator (
    indicator_id text, tt13_code text, name_vi text, name_en text, kind text, unit text,
    unit_label_vi text, multiplier numeric, numerator_definition text, denominator_definition text,
    responsible_agency text, legal_basis text, notes text, numerator_measure text, source_feeds text,
    annex text, indicator_group text, breakdowns text, period_types text, is_sensitive boolean);
insert into marts.dim_indicator (indicator_id, name_vi, name_en, kind, unit)
values ('live_births', 'Số trẻ đẻ ra sống', 'Live births', 'count', 'births');
create table marts.dim_indicator_target (
    indicator_id text, scope text, target_year integer, target_value numeric, direction text,
    period_types text, baseline_year integer, baseline_value numeric, source text);
create table marts.dim_period (
    period text, period_type text, start_date date, end_date date, round_name_vi text, deadline date,
    province_deadlines jsonb);
insert into marts.dim_period values ('2025', 'year', '2025-01-01', '2025-12-31', null, null, null);
create table marts.dim_admin_unit (
    vintage text, admin_level text, admin_code text, admin_name text, province_code text,
    valid_from date, valid_to date, current_province_code text, admin_type text, current_commune_code text);
"""

READ = """
with v as (select release_id from published.indicator_values)
select count(distinct release_id), count(*), min(release_id), max(release_id),
       (select row_count from published.releases where release_id = (select min(release_id) from v))
  from v"""


def _pass_gate(conn: psycopg.Connection, run_id: str) -> None:
    for suite in ("marts_indicator_values",):
        conn.execute("""insert into audit.quality_runs (run_id, suite, started_at, finished_at, success, error_failures,
                                                        warning_failures) values (%s, %s, now(), now(), true, 0, 0)""",
                     (run_id, suite))


def test_fifty_readers_each_see_one_whole_release_while_releases_are_made(fresh_warehouse):
    from publish.release import create_release
    from warehouse.connection import acting_as

    with psycopg.connect(fresh_warehouse, autocommit=True) as owner:
        owner.execute(MARTS)
        assert bootstrap(owner)  # dbt's schema appeared: handed to the transformer, which publishes
        _pass_gate(owner, "run-0")
    with acting_as("transformer"):
        first = create_release("run-0", ["marts_indicator_values"])
    stop, seen, failures = threading.Event(), [], []
    reader_url = role_url("report_reader", fresh_warehouse)
    ready = threading.Barrier(51)

    def read() -> None:
        try:
            with psycopg.connect(reader_url, autocommit=True) as conn:
                ready.wait(timeout=120)
                while True:
                    done = stop.is_set()
                    seen.append(conn.execute(READ).fetchone())
                    if done:
                        return
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
            if not ready.broken:
                ready.abort()

    readers = [threading.Thread(target=read) for _ in range(50)]
    for thread in readers:
        thread.start()
    releases = [first.release_id]
    try:
        ready.wait(timeout=120)
        for number in range(1, 4):
            with psycopg.connect(fresh_warehouse, autocommit=True) as owner:  # tonight's dbt build: new values
                owner.execute("update marts.fct_published_values set value = value + 1, numerator = numerator + 1")
                _pass_gate(owner, f"run-{number}")
            with acting_as("transformer"):
                release = create_release(f"run-{number}", ["marts_indicator_values"])
            assert release.is_new and release.row_count == 4000
            releases.append(release.release_id)
            time.sleep(0.3)
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=300)
    assert not failures, failures[:3]
    assert len(seen) >= 100
    for distinct, rows, lowest, highest, row_count in seen:
        assert (distinct, lowest) == (1, highest), "a query saw two releases"
        assert rows == row_count == 4000, f"release {lowest}: {rows} rows of {row_count}"
        assert lowest in releases
    assert len({lowest for _, _, lowest, _, _ in seen}) >= 2, "the readers never saw a release change"
