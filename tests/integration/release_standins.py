"""Stand-ins for what dbt builds and what a night records, small enough to know every value by hand:
the marts a release reads (dim_indicator, dim_period, dim_admin_unit, fct_published_values), quality runs
with or without pinned failures, and load batches with their coverage (deliveries).

Geography: current provinces 01 (Hà Nội, old 01) and 15 (Lào Cai, old 10 and 15); commune 00004 in 01.
Periods: 2025, 2025-H1, 2025-H2, 2025-R6 (15/12/2024–14/6/2025), 2025-RY (15/12/2024–14/12/2025)."""

from __future__ import annotations

import json

import psycopg

PERIODS = [  # period, type, start, end, round name, deadline
    ("2025", "year", "2025-01-01", "2025-12-31", None, None),
    ("2025-H1", "half_year", "2025-01-01", "2025-06-30", None, None),
    ("2025-H2", "half_year", "2025-07-01", "2025-12-31", None, None),
    ("2025-R6", "report_round", "2024-12-15", "2025-06-14", "6 tháng", "2025-05-15"),
    ("2025-RY", "report_round", "2024-12-15", "2025-12-14", "năm", "2025-11-15"),
]
UNITS = [("national", "VN", "Việt Nam"), ("province", "01", "Thành phố Hà Nội"), ("province", "15", "Tỉnh Lào Cai"),
         ("commune", "00004", "Phường Ba Đình")]
SEXES = ("total", "male", "female")
# births and under-5 deaths per (unit, period, sex): made-up but consistent numbers (not sums; it does not matter)
BIRTHS = 1000
DEATHS = 20

_SCHEMA = """
create schema if not exists marts;
create table marts.dim_indicator (
    indicator_id text primary key, tt13_code text, name_vi text, name_en text, kind text, unit text,
    unit_label_vi text, multiplier numeric, numerator_measure text, denominator_measure text,
    numerator_definition text, denominator_definition text, responsible_agency text, legal_basis text,
    notes text, source_feeds text, annex text, indicator_group text, breakdowns text, period_types text,
    is_sensitive boolean);
create table marts.dim_indicator_target (
    indicator_id text, scope text, target_year integer, target_value numeric, direction text, period_types text,
    baseline_year integer, baseline_value numeric, source text);
create table marts.dim_period (
    period text primary key, period_type text, year integer, half integer, start_date date, end_date date,
    round_name_vi text, deadline date, includes_pre_reform_dates boolean, province_deadlines jsonb);
create table marts.dim_admin_unit (
    vintage text, admin_level text, admin_code text, admin_name text, province_code text,
    valid_from date, valid_to date, current_province_code text, admin_type text, current_commune_code text);
create table marts.fct_published_values (
    indicator_id text, period text, period_type text, admin_level text, admin_code text, admin_name text,
    sex text, age_group text, ethnicity text, category text, numerator numeric, denominator numeric,
    value numeric, unit text, suppression text);
insert into marts.dim_indicator (indicator_id, name_vi, name_en, kind, unit, multiplier, numerator_measure,
                                 denominator_measure, source_feeds) values
    ('under5_mortality_rate', 'Tỷ suất chết của trẻ em dưới 5 tuổi', 'Under-five mortality rate', 'rate',
     'per 1,000 live births', 1000, 'under5_deaths', 'live_births', 'y_te_tu_vong|y_te_sinh'),
    ('under5_deaths', 'Số trẻ em dưới 5 tuổi tử vong', 'Under-five deaths', 'count', 'deaths', null,
     'under5_deaths', null, 'y_te_tu_vong'),
    ('live_births', 'Số trẻ em sinh ra sống', 'Live births', 'count', 'births', null, 'live_births', null,
     'y_te_sinh');
update marts.dim_indicator set annex = 'I', indicator_group = 'II Sức khỏe, dinh dưỡng trẻ em', breakdowns = 'sex',
    period_types = 'year|half_year|report_round', is_sensitive = false,
    tt13_code = case indicator_id when 'under5_mortality_rate' then '0202' end;
insert into marts.dim_admin_unit values
    ('2025_07', 'province', '01', 'Thành phố Hà Nội', '01', '2025-07-01', null, '01', null, null),
    ('2025_07', 'province', '15', 'Tỉnh Lào Cai', '15', '2025-07-01', null, '15', null, null),
    ('2025_07', 'commune', '00004', 'Phường Ba Đình', '01', '2025-07-01', null, '01', 'Phường', '00004'),
    ('pre_2025_07', 'province', '01', 'Thành phố Hà Nội', '01', null, '2025-06-30', '01', null, null),
    ('pre_2025_07', 'province', '10', 'Tỉnh Lào Cai', '10', null, '2025-06-30', '15', null, null),
    ('pre_2025_07', 'province', '15', 'Tỉnh Yên Bái', '15', null, '2025-06-30', '15', null, null);
insert into marts.dim_indicator_target values
    ('under5_mortality_rate', 'VN', 2025, 18.5, 'at_most', 'year|half_year|report_round', 2020, 22.3, 'test');
"""


def create_marts(conn: psycopg.Connection) -> None:
    conn.execute(_SCHEMA)
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into marts.dim_period values (%s, %s, 2025, null, %s, %s, %s, %s, %s, null)",
            [(p, t, s, e, r, d, s < "2025-07-01") for p, t, s, e, r, d in PERIODS])
        rows = []
        for period, period_type, *_ in PERIODS:
            for level, code, name in UNITS:
                for sex in SEXES:
                    rows += [("live_births", period, period_type, level, code, name, sex, BIRTHS, None, BIRTHS, "births"),
                             ("under5_deaths", period, period_type, level, code, name, sex, DEATHS, None, DEATHS, "deaths"),
                             ("under5_mortality_rate", period, period_type, level, code, name, sex, DEATHS, BIRTHS,
                              1000 * DEATHS / BIRTHS, "per 1,000 live births")]
        cursor.executemany(
            """insert into marts.fct_published_values values
               (%s, %s, %s, %s, %s, %s, %s, 'total', 'total', 'total', %s, %s, %s, %s, null)""", rows)


def record_gate(conn: psycopg.Connection, run_id: str, suites: list[str], pinned: list[dict] | None = None,
                blocking: int = 0) -> None:
    """A quality run of each suite; the first suite also gets the given pinned failures (failing rows of
    one check) and `blocking` error failures that pin nothing."""
    for number, suite in enumerate(suites):
        errors = (1 if pinned and number == 0 else 0) + (blocking if number == 0 else 0)
        (quality_run_id,) = conn.execute(
            """insert into audit.quality_runs (run_id, suite, started_at, finished_at, success, error_failures,
                                               blocking_failures, warning_failures)
               values (%s, %s, now(), now(), %s, %s, %s, 0) returning quality_run_id""",
            (run_id, suite, errors == 0, errors, blocking if number == 0 else 0)).fetchone()
        if pinned and number == 0:
            conn.execute(
                """insert into audit.quality_results (quality_run_id, run_id, suite, expectation, expectation_type,
                                                      severity, success, pinned, failing_rows, message)
                   values (%s, %s, %s, 'value within plausible bounds', 'unexpected_rows_expectation', 'error',
                           false, true, %s::jsonb, 'error: value within plausible bounds failed')""",
                (quality_run_id, run_id, suite, json.dumps(pinned)))
        if blocking and number == 0:
            conn.execute(
                """insert into audit.quality_results (quality_run_id, run_id, suite, expectation, expectation_type,
                                                      severity, success, pinned, message)
                   values (%s, %s, %s, 'no duplicate keys', 'expect_compound_columns_to_be_unique', 'error',
                           false, false, 'error: no duplicate keys failed: 2 of 10 rows')""",
                (quality_run_id, run_id, suite))


def deliver(conn: psycopg.Connection, feed: str, coverage: list[tuple[str, str, str, int]]) -> int:
    """A loaded batch of `feed` covering (province_code, admin_vintage, period_key, rows); returns its id."""
    (batch_id,) = conn.execute(
        """insert into audit.load_batches (feed, file_name, file_path, file_sha256, file_bytes, status, rows_read,
                                           rows_loaded)
           values (%s, 'f.csv', '/landing/f.csv', md5(random()::text), 1, 'loaded', %s, %s) returning batch_id""",
        (feed, sum(c[3] for c in coverage), sum(c[3] for c in coverage))).fetchone()
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into audit.batch_coverage (batch_id, feed, province_code, admin_vintage, period_key, rows)"
            " values (%s, %s, %s, %s, %s, %s)", [(batch_id, feed, *c) for c in coverage])
    return batch_id


def deliver_everything(conn: psycopg.Connection) -> list[int]:
    """Births and deaths from every province of both half-years of 2025 (old codes in H1, new in H2)."""
    coverage = [("01", "pre_2025_07", "2025-H1", 100), ("10", "pre_2025_07", "2025-H1", 60),
                ("15", "pre_2025_07", "2025-H1", 40), ("01", "2025_07", "2025-H2", 100),
                ("15", "2025_07", "2025-H2", 100)]
    return [deliver(conn, feed, coverage) for feed in ("y_te_sinh", "y_te_tu_vong")]
