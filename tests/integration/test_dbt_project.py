"""The dbt project on its own: `dbt build` (seeds, models, data tests and the unit tests with
hand-computed values) passes on a fresh warehouse, and model docs reach the database."""

from __future__ import annotations

import psycopg
import pytest

from pipeline.dbt import build

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built_warehouse(server_url):
    import uuid
    from urllib.parse import urlparse, urlunparse

    name = f"test_dbt_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = urlunparse(urlparse(server_url)._replace(path="/" + name))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAREHOUSE_URL", url)
        from ingest.schema import setup_warehouse as bootstrap

        bootstrap()
        build(url)  # raises CalledProcessError if any model, data test or unit test fails
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def test_reference_geography_is_loaded(built_warehouse):
    with psycopg.connect(built_warehouse) as conn:
        counts = dict(conn.execute("""select vintage || ':' || admin_level, count(*) from marts.dim_admin_unit
                                       group by 1""").fetchall())
    assert counts["2025_07:province"] == 34 and counts["2025_07:commune"] == 3321
    assert counts["pre_2025_07:province"] == 63


def test_every_old_province_maps_into_one_current_province(built_warehouse):
    with psycopg.connect(built_warehouse) as conn:
        rows = conn.execute("""select admin_code, current_province_code from marts.dim_admin_unit
                                where vintage = 'pre_2025_07' and admin_level = 'province'""").fetchall()
    mapping = dict(rows)
    assert len(mapping) == 63 and len(set(mapping.values())) == 34
    assert mapping["10"] == "15" and mapping["15"] == "15"  # old Lào Cai and Yên Bái are new Lào Cai (15)


def test_catalogue_has_the_mortality_indicators(built_warehouse):
    with psycopg.connect(built_warehouse) as conn:
        rows = dict(conn.execute("select indicator_id, unit from marts.dim_indicator").fetchall())
    assert rows["live_births"] == "births"
    for indicator in ("neonatal_mortality_rate", "infant_mortality_rate", "under5_mortality_rate"):
        assert rows[indicator] == "per 1,000 live births"


def test_model_column_docs_reach_the_database(built_warehouse):
    with psycopg.connect(built_warehouse) as conn:
        described = conn.execute("""
            select count(*) filter (where col_description(a.attrelid, a.attnum) is not null), count(*)
              from pg_attribute a where a.attrelid = 'marts.fct_indicator_values'::regclass and a.attnum > 0""").fetchone()
    assert described[0] == described[1] > 0


def test_report_rounds_are_periods_with_the_calendar_windows(built_warehouse):
    from datetime import date

    with psycopg.connect(built_warehouse) as conn:
        rounds = {period: rest for period, *rest in conn.execute(
            """select period, period_type, start_date, end_date, round_name_vi, deadline, includes_pre_reform_dates,
                      province_deadlines
                 from marts.dim_period where period in ('2025-R6', '2025-RY', '2026-R6')""").fetchall()}
    # six-month: 15/12 of the previous year to 14/6; annual: 15/12 to 14/12 — the 2025 rounds straddle the
    # reform of 1 July 2025 (RY) or end before it (R6); Quảng Ngãi (51) files on the 20th
    assert rounds["2025-R6"][:6] == ["report_round", date(2024, 12, 15), date(2025, 6, 14), "6 tháng",
                                     date(2025, 5, 15), True]
    assert rounds["2025-RY"][:6] == ["report_round", date(2024, 12, 15), date(2025, 12, 14), "năm",
                                     date(2025, 11, 15), True]
    assert rounds["2025-R6"][6] == {"51": "2025-05-20", "52": "2025-05-15"}  # Bình Định (52) is in new Gia Lai
    assert rounds["2025-RY"][6] == {"51": "2025-11-20"}
    assert rounds["2026-R6"][5] is False  # starts 15/12/2025: post-reform only


def test_what_releases_read_has_enforced_contracts_and_exposures_and_the_docs_open_on_the_overview(built_warehouse):
    """After the build, dbt's manifest: the models the release copies are contracted (a renamed or retyped
    column fails the build, not the night's publish), the outputs are exposures downstream of them, and
    the docs site opens on the project's own overview."""
    import json
    from pathlib import Path

    manifest = json.loads((Path(__file__).resolve().parents[2] / "dbt" / "target" / "manifest.json").read_text())
    models = {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    for name in ("fct_published_values", "dim_indicator", "dim_period", "dim_admin_unit", "dim_indicator_target"):
        assert models[name]["contract"]["enforced"], name
        assert all(column.get("data_type") for column in models[name]["columns"].values()), name
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert {"published_release", "report_workbooks", "report_html", "open_data_files"} <= set(exposures)
    assert "model.child_stats.fct_published_values" in exposures["report_workbooks"]["depends_on"]["nodes"]
    overview = [d for d in manifest["docs"].values() if d["name"] == "__overview__" and d["package_name"] == "child_stats"]
    assert overview and "How to read `published`" in overview[0]["block_contents"]
    with psycopg.connect(built_warehouse) as conn:
        targets = dict(conn.execute("""select target_year, target_value from marts.dim_indicator_target
                                        where indicator_id = 'full_immunisation_rate_under1' and scope = 'VN'""").fetchall())
    assert targets == {2025: 97, 2030: 98}  # QĐ 23/QĐ-TTg
