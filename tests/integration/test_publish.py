"""Releases against a real PostgreSQL: the gate, immutability, history, and what users see."""

from __future__ import annotations

import psycopg
import pytest

from publish.release import PublicationBlocked, create_release

pytestmark = pytest.mark.integration

SUITES = ["raw_y_te_sinh", "marts_indicator_values"]


@pytest.fixture
def warehouse(fresh_warehouse):
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        conn.execute("""
            create schema marts;
            create table marts.fct_published_values (
                indicator_id text, period text, period_type text, admin_level text, admin_code text,
                admin_name text, sex text, age_group text, ethnicity text, category text,
                numerator numeric, denominator numeric, value numeric, unit text, suppression text);
            create table marts.dim_indicator (
                indicator_id text, tt13_code text, name_vi text, name_en text, kind text, unit text,
                unit_label_vi text, multiplier numeric, numerator_definition text, denominator_definition text,
                responsible_agency text, legal_basis text, notes text, numerator_measure text, source_feeds text,
                annex text, indicator_group text, breakdowns text, period_types text, is_sensitive boolean);
            create table marts.dim_indicator_target (
                indicator_id text, scope text, target_year integer, target_value numeric, direction text,
                period_types text, baseline_year integer, baseline_value numeric, source text);
            create table marts.dim_period (
                period text, period_type text, start_date date, end_date date, round_name_vi text, deadline date,
                province_deadlines jsonb);
            insert into marts.dim_period values ('2025', 'year', '2025-01-01', '2025-12-31', null, null, null);
            create table marts.dim_admin_unit (
                vintage text, admin_level text, admin_code text, admin_name text, province_code text,
                valid_from date, valid_to date, current_province_code text, admin_type text,
                current_commune_code text);
            insert into marts.dim_indicator (indicator_id, tt13_code, name_vi, name_en, kind, unit, multiplier) values
                ('under5_mortality_rate', '0202', 'Tỷ suất chết của trẻ em dưới 5 tuổi', 'Under-five mortality rate',
                 'rate', 'per 1,000 live births', 1000);
            insert into marts.fct_published_values values
                ('under5_mortality_rate', '2025', 'year', 'national', 'VN', 'Việt Nam', 'total', 'total', 'total',
                 'total', 20, 1000, 20, 'per 1,000 live births', null),
                ('under5_mortality_rate', '2025', 'year', 'province', '15', 'Tỉnh Lào Cai', 'total', 'total',
                 'total', 'total', 3, 100, 30, 'per 1,000 live births', null);
        """)
        yield conn


def gate(conn, run_id: str, errors: dict[str, int] | None = None) -> None:
    for suite in SUITES:
        failures = (errors or {}).get(suite, 0)
        conn.execute(
            """insert into audit.quality_runs (run_id, suite, started_at, finished_at, success, error_failures,
                                               warning_failures) values (%s, %s, now(), now(), %s, %s, 0)""",
            (run_id, suite, failures == 0, failures))


def published(conn):
    return conn.execute("select release_id, admin_code, value, indicator_name_vi from published.indicator_values"
                        " order by admin_code").fetchall()


def test_no_release_without_a_passed_gate(warehouse):
    with pytest.raises(PublicationBlocked, match="quality suites not run: raw_y_te_sinh, marts_indicator_values"):
        create_release("run-1", SUITES)
    gate(warehouse, "run-2", errors={"marts_indicator_values": 2})
    with pytest.raises(PublicationBlocked,
                       match="error-level checks that cannot be pinned to values failed in marts_indicator_values"):
        create_release("run-2", SUITES)
    assert published(warehouse) == []


def test_release_snapshots_values_and_the_catalogue(warehouse):
    gate(warehouse, "run-1")
    release = create_release("run-1", SUITES)
    assert release.is_new and release.row_count == 2 and release.periods == ["2025"]
    assert published(warehouse) == [(release.release_id, "15", 30, "Tỷ suất chết của trẻ em dưới 5 tuổi"),
                                    (release.release_id, "VN", 20, "Tỷ suất chết của trẻ em dưới 5 tuổi")]
    quality = warehouse.execute("select quality_results from published.releases").fetchone()[0]
    assert set(quality) == set(SUITES)


def test_a_failed_gate_leaves_the_previous_release_in_place(warehouse):
    gate(warehouse, "run-1")
    first = create_release("run-1", SUITES)
    warehouse.execute("update marts.fct_published_values set value = 999 where admin_code = '15'")
    gate(warehouse, "run-2", errors={"marts_indicator_values": 1})
    with pytest.raises(PublicationBlocked):
        create_release("run-2", SUITES)
    assert {row[0] for row in published(warehouse)} == {first.release_id}
    assert published(warehouse)[0][2] == 30


def test_unchanged_values_keep_the_release_and_changes_make_a_new_one(warehouse):
    gate(warehouse, "run-1")
    first = create_release("run-1", SUITES)
    gate(warehouse, "run-2")
    again = create_release("run-2", SUITES)
    assert (again.release_id, again.is_new) == (first.release_id, False)

    warehouse.execute("update marts.fct_published_values set numerator = 4, value = 40 where admin_code = '15'")
    gate(warehouse, "run-3")
    second = create_release("run-3", SUITES)
    assert second.is_new and second.release_id != first.release_id
    assert published(warehouse)[0][:3] == (second.release_id, "15", 40)
    history = warehouse.execute("select release_id, value from published.release_values where admin_code = '15'"
                                " order by release_id").fetchall()
    assert history == [(first.release_id, 30), (second.release_id, 40)]


def test_releases_are_immutable(warehouse):
    gate(warehouse, "run-1")
    create_release("run-1", SUITES)
    for statement in ("update published.release_values set value = 0", "delete from published.releases",
                      "delete from published.release_indicators"):
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
            warehouse.execute(statement)


def test_published_columns_are_documented_in_the_database(warehouse):
    comments = warehouse.execute("""
        select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a
         where a.attrelid = 'published.indicator_values'::regclass and a.attnum > 0""").fetchall()
    names = [name for name, _ in comments]
    for stored in ("published.value_versions", "published.release_values"):
        assert warehouse.execute("""select count(*) from pg_attribute a where a.attrelid = %s::regclass
                                       and a.attnum > 0 and col_description(a.attrelid, a.attnum) is null""",
                                 (stored,)).fetchone() == (0,), stored
    for required in ("release_id", "indicator_id", "period", "period_type", "admin_level", "admin_code", "admin_name",
                     "sex", "age_group", "ethnicity", "category", "numerator", "denominator", "value", "unit",
                     "suppression"):
        assert required in names
    assert all(description for _, description in comments)


def test_a_release_carries_the_suppression_flags(warehouse):
    """Suppressed rows are published in their place with numerator and value null and the reason; a night whose
    values are unchanged but whose flags changed makes a new release."""
    warehouse.execute("""
        insert into marts.dim_indicator (indicator_id, name_vi, name_en, kind, unit) values
            ('abused_children', 'Số trẻ em bị xâm hại', 'Abused children', 'count', 'children');
        insert into marts.fct_published_values values
            ('abused_children', '2025', 'year', 'province', '15', 'Tỉnh Lào Cai', 'total', 'total', 'total', 'total',
             11, null, 11, 'children', null),
            ('abused_children', '2025', 'year', 'province', '15', 'Tỉnh Lào Cai', 'male', 'total', 'total', 'total',
             null, null, null, 'children', 'primary: fewer than 5'),
            ('abused_children', '2025', 'year', 'province', '15', 'Tỉnh Lào Cai', 'female', 'total', 'total', 'total',
             null, null, null, 'children', 'secondary: protects a suppressed cell')""")
    gate(warehouse, "run-1")
    first = create_release("run-1", SUITES)
    assert first.row_count == 5
    rows = warehouse.execute("""select release_id, sex, numerator, value, suppression from published.indicator_values
                                 where indicator_id = 'abused_children' order by sex""").fetchall()
    assert rows == [(first.release_id, "female", None, None, "secondary: protects a suppressed cell"),
                    (first.release_id, "male", None, None, "primary: fewer than 5"),
                    (first.release_id, "total", 11, 11, None)]
    assert warehouse.execute("select count(*) from published.indicator_values where suppression is null"
                             ).fetchone()[0] == 2 + 1  # the two mortality rows and the total

    warehouse.execute("update marts.fct_published_values set suppression = 'primary: fewer than 3' where sex = 'male'")
    gate(warehouse, "run-2")
    second = create_release("run-2", SUITES)
    assert second.is_new and second.release_id != first.release_id
    assert warehouse.execute("select suppression from published.indicator_values where sex = 'male'"
                             ).fetchone() == ("primary: fewer than 3",)


def _three_releases(conn) -> list[str]:
    """Lào Cai 30 → 40 → 30 (changed, then back); the nation 20, missing from the second release, 20 again."""
    releases = []
    for run_id, lao_cai, nation in (("run-1", 30, True), ("run-2", 40, False), ("run-3", 30, True)):
        conn.execute("update marts.fct_published_values set value = %s where admin_code = '15'", (lao_cai,))
        if not nation:
            conn.execute("create table nation as select * from marts.fct_published_values where admin_code = 'VN';"
                         "delete from marts.fct_published_values where admin_code = 'VN'")
        elif conn.execute("select to_regclass('nation')").fetchone()[0]:
            conn.execute("insert into marts.fct_published_values select * from nation; drop table nation")
        gate(conn, run_id)
        releases.append(create_release(run_id, SUITES).release_id)
    return releases


def test_a_release_stores_only_the_values_it_changes(warehouse):
    first, second, third = _three_releases(warehouse)
    versions = warehouse.execute("""select admin_code, value, first_release_seq, last_release_seq
                                      from published.value_versions order by admin_code, first_release_seq""").fetchall()
    assert versions == [("15", 30, 1, 1), ("15", 40, 2, 2), ("15", 30, 3, None), ("VN", 20, 1, 1), ("VN", 20, 3, None)]
    assert warehouse.execute("select release_id, changed_count from published.releases order by release_seq"
                             ).fetchall() == [(first, 2), (second, 2), (third, 2)]
    history = warehouse.execute("select release_id, admin_code, value from published.release_values"
                                " order by release_id, admin_code").fetchall()
    assert history == [(first, "15", 30), (first, "VN", 20), (second, "15", 40), (third, "15", 30), (third, "VN", 20)]
    # a night that changes nothing adds nothing
    gate(warehouse, "run-4")
    assert not create_release("run-4", SUITES).is_new
    assert warehouse.execute("select count(*) from published.value_versions").fetchone() == (5,)


def test_versions_are_immutable_but_for_closing(warehouse):
    gate(warehouse, "run-1")
    create_release("run-1", SUITES)
    for statement in ("update published.value_versions set value = 0",
                      "update published.value_versions set last_release_seq = 1, value = 0",
                      "delete from published.value_versions",
                      "insert into published.release_values (release_id, indicator_id, period, period_type,"
                      " admin_level, admin_code, sex, age_group, ethnicity, category, unit)"
                      " select release_id, indicator_id, period, period_type, admin_level, admin_code, sex,"
                      " age_group, ethnicity, category, unit from published.release_values"):
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
            warehouse.execute(statement)
    warehouse.execute("update published.value_versions set last_release_seq = 1")
    with pytest.raises(psycopg.errors.RaiseException, match="can only be closed"):
        warehouse.execute("update published.value_versions set last_release_seq = null")


def test_bootstrap_turns_an_older_warehouse_s_full_copies_into_versions(warehouse):
    """A warehouse from before value versions kept every value of every release in a table, and before that had
    no disclosure control or release governance: it gets the columns, and its copies become versions that
    show the same history."""
    from warehouse.schema import bootstrap

    releases = _three_releases(warehouse)
    history = warehouse.execute("select release_id, indicator_id, admin_code, value, unit from published.release_values"
                                " order by release_id, indicator_id, admin_code").fetchall()
    warehouse.execute("""
        create temporary table copies as select * from published.release_values;
        drop view published.release_values cascade;
        drop table published.value_versions cascade;
        drop view published.latest_release cascade;
        alter table published.releases drop column release_seq, drop column changed_count,
                                       drop column withheld_count, drop column withheld;
        alter table published.release_indicators drop column annex, drop column indicator_group;
        create table published.release_values (
            release_id text not null references published.releases (release_id), indicator_id text not null,
            period text not null, period_type text not null, admin_level text not null, admin_code text not null,
            admin_name text, sex text not null, age_group text not null, ethnicity text not null,
            category text not null, numerator numeric, denominator numeric, value numeric, unit text not null,
            primary key (release_id, indicator_id, period, admin_level, admin_code, sex, age_group, ethnicity, category));
        insert into published.release_values
        select release_id, indicator_id, period, period_type, admin_level, admin_code, admin_name, sex, age_group,
               ethnicity, category, numerator, denominator, value, unit from copies;
        create trigger release_values_immutable before update or delete on published.release_values
            for each statement execute function published.refuse_change();""")
    bootstrap(force=True)
    assert warehouse.execute("select relkind from pg_class where oid = 'published.release_values'::regclass"
                             ).fetchone() == ("v",)
    assert warehouse.execute("select release_id from published.releases order by release_seq").fetchall() == [
        (release,) for release in releases]
    assert warehouse.execute("select release_id, indicator_id, admin_code, value, unit from published.release_values"
                             " order by release_id, indicator_id, admin_code").fetchall() == history
    assert warehouse.execute("select count(*) from published.value_versions").fetchone() == (5,)
    assert warehouse.execute("select count(*), count(suppression), count(withheld) from published.indicator_values"
                             " where release_id = %s", (releases[-1],)).fetchone() == (2, 0, 0)
    assert warehouse.execute("select withheld_count from published.latest_release").fetchone() == (None,)
    assert warehouse.execute("select count(*), count(annex) from published.dim_indicator").fetchone() == (1, 0)
    # the next release carries on from the converted versions
    warehouse.execute("update marts.fct_published_values set value = 50 where admin_code = '15'")
    gate(warehouse, "run-5")
    assert create_release("run-5", SUITES).is_new
    assert published(warehouse)[0][2] == 50
    assert warehouse.execute("select count(*) from published.value_versions").fetchone() == (6,)
