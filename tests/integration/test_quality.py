"""The quality gate against a real PostgreSQL: each test gets its own fresh database (fresh_warehouse),
with the raw tables from bootstrap, the province conversion seed, and stand-in candidate marts
(marts.fct_indicator_values, marts.dim_indicator) holding a small clean candidate set."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from quality import run_suites
from quality.__main__ import main as quality_cli
from quality.suites import SuiteError, load_suite

pytestmark = pytest.mark.integration

ALL_SUITES = ["raw_y_te_sinh", "raw_y_te_tu_vong", "marts_indicator_values"]
PROVINCE_CONVERSION = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "reference" / "province_conversion_2025.csv"

# Births as loaded: (province_code as delivered, admin_vintage, period_key, birth_date, superseded_by_batch).
# H1 2025 carries pre-reform codes: 02 (Hà Giang) is now 08, 10 (Lào Cai) is now 15.
BIRTHS = [
    ("01", "pre_2025_07", "2025-H1", "2025-02-01", None),
    ("02", "pre_2025_07", "2025-H1", "2025-03-15", None),
    ("10", "pre_2025_07", "2025-H1", "2025-05-20", None),
    ("04", "pre_2025_07", "2025-H1", "2025-04-02", 2),  # superseded: Cao Bằng needs no value
    ("01", "2025_07", "2025-H2", "2025-08-09", None),
    ("15", "2025_07", "2025-H2", "2025-11-30", None),
]
# Candidate values exist for these units (current geography).
PROVINCE_PERIODS = [("01", "2025-H1"), ("08", "2025-H1"), ("15", "2025-H1"), ("01", "2025-H2"), ("15", "2025-H2")]
NATIONAL_PERIODS = [("2025-H1", "half_year"), ("2025-H2", "half_year"), ("2025", "year")]

DIM_INDICATOR = [
    # indicator_id, unit, multiplier, plausible_min, plausible_max, numerator_within_denominator
    ("live_births", "births", None, None, None, False),
    ("neonatal_mortality_rate", "per 1,000 live births", 1000, 0, 40, True),
    ("infant_mortality_rate", "per 1,000 live births", 1000, 0, 50, True),
    ("under5_mortality_rate", "per 1,000 live births", 1000, 2, 60, True),
    ("sex_ratio_at_birth", "boys per 100 girls", 100, 90, 130, False),  # numerator may exceed denominator
]


def _values_for(admin_level: str, admin_code: str, period: str, period_type: str, rates=(5, 10, 15)) -> list[tuple]:
    births = 1000
    nmr, imr, u5mr = rates
    rows = [("live_births", births, None, births, "births"),
            ("neonatal_mortality_rate", nmr * births // 1000, births, nmr, "per 1,000 live births"),
            ("infant_mortality_rate", imr * births // 1000, births, imr, "per 1,000 live births"),
            ("under5_mortality_rate", u5mr * births // 1000, births, u5mr, "per 1,000 live births"),
            ("sex_ratio_at_birth", 560, 500, 112, "boys per 100 girls")]
    return [(indicator, period, period_type, admin_level, admin_code, f"unit {admin_code}", "total", "total", "total",
             "total", numerator, denominator, value, unit)
            for indicator, numerator, denominator, value, unit in rows]


def clean_candidate_values() -> list[tuple]:
    rows = []
    for code, period in PROVINCE_PERIODS:
        rows += _values_for("province", code, period, "half_year")
    for period, period_type in NATIONAL_PERIODS:
        rows += _values_for("national", "VN", period, period_type)
    # A commune may exceed the province-level bounds (small numbers): not an error.
    rows += _values_for("commune", "00004", "2025-H1", "half_year", rates=(40, 80, 120))
    return rows


def _create_candidates(conn: psycopg.Connection) -> None:
    conn.execute("""
        create schema if not exists marts;
        create schema if not exists reference;
        create table reference.province_conversion_2025 (
            old_province_code text, old_province_name text, new_province_code text, new_province_name text);
        create table marts.dim_indicator (
            indicator_id text primary key, name_vi text, name_en text, kind text, unit text, multiplier numeric,
            plausible_min numeric, plausible_max numeric, interval_method text, flag_above numeric,
            flag_reason text, numerator_within_denominator boolean);
        create table marts.dim_indicator_bounds (
            indicator_id text, category text, plausible_min numeric, plausible_max numeric);
        create table marts.fct_indicator_values (
            indicator_id text, period text, period_type text, admin_level text, admin_code text, admin_name text,
            sex text, age_group text, ethnicity text, category text,
            numerator numeric, denominator numeric, value numeric, unit text,
            ci_lower numeric, ci_upper numeric);
        -- dbt builds it from fct_indicator_values in the same build; empty here unless a test plants an outlier
        create table marts.fct_indicator_outliers (
            indicator_id text, period text, period_type text, admin_level text, admin_code text, admin_name text,
            compared_with text, value numeric, numerator numeric, denominator numeric, others bigint,
            median numeric, mad numeric, modified_z numeric, direction text);
    """)
    with conn.cursor().copy("copy reference.province_conversion_2025 from stdin (format csv, header true)") as copy:
        copy.write(PROVINCE_CONVERSION.read_bytes())
    with conn.cursor() as cursor:
        cursor.executemany(
            """insert into marts.dim_indicator (indicator_id, name_vi, name_en, unit, multiplier, plausible_min,
                                                plausible_max, numerator_within_denominator)
               values (%s, %s, %s, %s, %s, %s, %s, %s)""",
            [(i, i, i, unit, mult, low, high, within) for i, unit, mult, low, high, within in DIM_INDICATOR])
        cursor.executemany(
            """insert into marts.fct_indicator_values (indicator_id, period, period_type, admin_level, admin_code,
                   admin_name, sex, age_group, ethnicity, category, numerator, denominator, value, unit)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            clean_candidate_values())


def _load_raw(conn: psycopg.Connection) -> None:
    with conn.cursor() as cursor:
        cursor.executemany(
            """insert into raw.y_te_sinh (batch_id, source_file, file_sha256, loaded_at, line_number, event_id,
                   birth_date, sex, is_live_birth, birth_weight_g, province_code, commune_code, mother_ethnicity_code,
                   birth_place, admin_vintage, period_key, superseded_by_batch)
               values (1, 'sinh.csv', 'x', now(), %s, %s, %s, 'female', true, 3100, %s, %s, '01', 'CSYT', %s, %s, %s)""",
            [(line, f"S{line}", birth_date, province, f"{province}004" if superseded is None else "ABC", vintage,
              period, superseded)
             for line, (province, vintage, period, birth_date, superseded) in enumerate(BIRTHS, start=2)])
        cursor.execute(
            """insert into raw.y_te_tu_vong (batch_id, source_file, file_sha256, loaded_at, line_number, event_id,
                   birth_date, death_date, sex, province_code, commune_code, ethnicity_code, cause_code,
                   admin_vintage, period_key)
               values (1, 'tu_vong.csv', 'x', now(), 2, 'D2', '2024-03-01', '2025-02-10', 'male', '01', '00004', '01',
                       'benh', 'pre_2025_07', '2025-H1')""")


class Warehouse:
    def __init__(self, url: str):
        self.url = url

    def execute(self, sql: str, params=()) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


@pytest.fixture(autouse=True)
def data_docs_dir(tmp_path, monkeypatch):
    """The Data Docs of the test's runs go to the test's folder, not to the project's .warehouse/."""
    monkeypatch.setenv("GX_DATA_DOCS_DIR", str(tmp_path / "gx-data-docs"))
    return tmp_path / "gx-data-docs"


@pytest.fixture
def warehouse(fresh_warehouse) -> Warehouse:
    """A fresh bootstrapped database (tests/conftest.py) with the seed, stand-in marts and raw rows."""
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        _create_candidates(conn)
        _load_raw(conn)
    return Warehouse(fresh_warehouse)


def _failed(outcome, suite: str) -> dict:
    return {check.expectation: check for check in outcome[suite].checks if not check.success}


def test_clean_candidate_set_passes(warehouse):
    outcome = run_suites(ALL_SUITES, run_id="clean")

    assert outcome.passed and not outcome.blocked
    assert outcome.messages == []
    assert all(check.success for suite in outcome.suites for check in suite.checks)
    runs = warehouse.execute("select suite, success, error_failures, warning_failures from audit.quality_runs "
                             "where run_id = 'clean' order by suite")
    assert runs == [("marts_indicator_values", True, 0, 0), ("raw_y_te_sinh", True, 0, 0),
                    ("raw_y_te_tu_vong", True, 0, 0)]


def test_negative_count_fails_with_error_severity(warehouse):
    warehouse.execute("""update marts.fct_indicator_values set numerator = -5, value = -5
                          where indicator_id = 'live_births' and admin_code = '15' and period = '2025-H1'""")

    outcome = run_suites(["marts_indicator_values"])

    assert outcome.blocked
    failed = _failed(outcome, "marts_indicator_values")
    assert set(failed) == {"numerator not negative"}
    check = failed["numerator not negative"]
    assert check.severity == "error"
    assert check.observed["unexpected_count"] == 1
    [message] = check.messages
    assert message.startswith("error: numerator not negative failed: 1 of ")
    assert "indicator_id=live_births" in message and "admin_code=15" in message and "period=2025-H1" in message


def test_numerator_above_denominator_names_indicator_province_and_period(warehouse):
    warehouse.execute("""update marts.fct_indicator_values set numerator = 1010
                          where indicator_id = 'infant_mortality_rate' and admin_code = '08' and period = '2025-H1'""")

    outcome = run_suites(["marts_indicator_values"])

    # an error, pinned to the value it names: the release withholds it instead of being blocked
    assert not outcome.passed and not outcome.blocked
    assert [check.expectation for check in outcome.withholding] == ["numerator within denominator"]
    assert set(_failed(outcome, "marts_indicator_values")) == {"numerator within denominator"}
    assert outcome.messages == ["error: numerator within denominator failed for infant_mortality_rate, province 08, "
                                "period 2025-H1: numerator 1010 > denominator 1000"]


def test_value_outside_catalogue_bounds_names_province_and_period(warehouse):
    warehouse.execute("""update marts.fct_indicator_values set value = 95.2
                          where indicator_id = 'under5_mortality_rate' and admin_code = '15' and period = '2025-H1'""")

    outcome = run_suites(["marts_indicator_values"])

    assert not outcome.passed and [check.pinned for check in outcome.withholding] == [True]
    assert outcome.messages == ["error: value within plausible bounds failed for under5_mortality_rate, province 15, "
                                "period 2025-H1: value 95.2 outside [2, 60]"]


def test_bounds_fail_only_when_the_whole_confidence_interval_is_outside(warehouse):
    # 95.2‰ is above [2, 60]; with an interval reaching down to 55‰ it is sampling noise (a warning), with
    # one from 70‰ it is not (an error pinned to the value).
    warehouse.execute("""update marts.fct_indicator_values set value = 95.2, ci_lower = 55, ci_upper = 150
                          where indicator_id = 'under5_mortality_rate' and admin_code = '15' and period = '2025-H1'""")

    outcome = run_suites(["marts_indicator_values"])
    assert outcome.passed
    assert outcome.messages == ["warning: value outside plausible bounds within sampling noise failed for "
                                "under5_mortality_rate, province 15, period 2025-H1: value 95.2 outside [2, 60], but "
                                "its confidence interval 55–150 reaches the bounds: look at it, it is not failed"]

    warehouse.execute("""update marts.fct_indicator_values set ci_lower = 70
                          where indicator_id = 'under5_mortality_rate' and admin_code = '15' and period = '2025-H1'""")
    outcome = run_suites(["marts_indicator_values"])
    assert not outcome.passed and not outcome.blocked
    assert outcome.messages == ["error: value within plausible bounds failed for under5_mortality_rate, province 15, "
                                "period 2025-H1: value 95.2 outside [2, 60], and so is its whole confidence "
                                "interval 70–150"]


def test_a_value_below_the_bounds_fails_when_its_interval_is_wholly_below(warehouse):
    # the sex ratio of a subgroup: 80 with interval 70–88 is wholly below [90, 130]; 80 with 70–100 is not
    warehouse.execute("""update marts.fct_indicator_values set value = 80, ci_lower = 70, ci_upper = 88
                          where indicator_id = 'sex_ratio_at_birth' and admin_code = 'VN' and period = '2025'""")
    failed = _failed(run_suites(["marts_indicator_values"]), "marts_indicator_values")
    assert set(failed) == {"value within plausible bounds"}

    warehouse.execute("""update marts.fct_indicator_values set ci_upper = 100
                          where indicator_id = 'sex_ratio_at_birth' and admin_code = 'VN' and period = '2025'""")
    failed = _failed(run_suites(["marts_indicator_values"]), "marts_indicator_values")
    assert set(failed) == {"value outside plausible bounds within sampling noise"}


def test_a_value_above_the_flag_level_warns_without_blocking(warehouse):
    warehouse.execute("update marts.dim_indicator set flag_above = 14, flag_reason = 'deaths of visitors counted'"
                      " where indicator_id = 'under5_mortality_rate'")

    outcome = run_suites(["marts_indicator_values"])

    assert outcome.passed
    warned = [m for m in outcome.messages if m.startswith("warning: value above the level the catalogue flags")]
    # the catalogue's reason is in the message
    assert any("province 15" in m and "2025-H1" in m and m.endswith("deaths of visitors counted") for m in warned)


def test_an_outlier_is_a_warning_with_its_scores_furthest_first(warehouse):
    warehouse.execute(
        """insert into marts.fct_indicator_outliers values
           ('under5_mortality_rate', '2025-H1', 'half_year', 'province', '15', 'Lào Cai', 'peers', 15, 15, 1000, 33,
            5.2, 1.1, 5.94, 'high'),
           ('under5_mortality_rate', '2025-H1', 'half_year', 'province', '15', 'Lào Cai', 'history', 15, 15, 1000, 5,
            8.0, 1.0, 4.86, 'high'),
           ('under5_mortality_rate', '2025-H1', 'half_year', 'commune', '00004', 'Ba Đình', 'peers', 0.5, 1, 200, 125,
            9.0, 0.8, -7.17, 'low')""")

    outcome = run_suites(["marts_indicator_values"])

    assert outcome.passed  # a warning: nothing is withheld for being unusual
    warned = [m for m in outcome.messages if m.startswith("warning: rate is not an outlier")]
    assert len(warned) == 2  # one per unit and period, both scores of province 15 in one line
    assert "commune 00004" in warned[0] and "modified z -7.17 against its peers (value 0.5, median 9" in warned[0]
    assert "province 15" in warned[1] and "period 2025-H1" in warned[1]
    assert "modified z 5.94 against its peers" in warned[1] and "; modified z 4.86 against its own history" in warned[1]


def test_a_category_s_own_bounds_override_the_indicator_s(warehouse):
    # Dropout-style bounds by category: here the 'total' category of under-5 mortality gets [0, 12].
    warehouse.execute("insert into marts.dim_indicator_bounds values ('under5_mortality_rate', 'total', 0, 12)")

    outcome = run_suites(["marts_indicator_values"])

    failed = _failed(outcome, "marts_indicator_values")
    assert set(failed) == {"value within plausible bounds"}
    assert any("value 15 outside [0, 12]" in m for m in failed["value within plausible bounds"].messages)


def test_bounds_come_from_the_catalogue(warehouse):
    # The clean set passes with under5 = 15; tighten the catalogue and the same values fail.
    warehouse.execute("update marts.dim_indicator set plausible_max = 12 where indicator_id = 'under5_mortality_rate'")

    outcome = run_suites(["marts_indicator_values"])

    failed = _failed(outcome, "marts_indicator_values")
    assert set(failed) == {"value within plausible bounds"}
    pinned = {(f.admin_code, f.period) for f in failed["value within plausible bounds"].failures}
    assert pinned == {*PROVINCE_PERIODS, *(("VN", period) for period, _ in NATIONAL_PERIODS)}  # not the commune


def test_duplicate_key_fails(warehouse):
    warehouse.execute("""insert into marts.fct_indicator_values
                         select * from marts.fct_indicator_values
                          where indicator_id = 'live_births' and admin_code = '01' and period = '2025-H1'""")

    outcome = run_suites(["marts_indicator_values"])

    assert outcome.blocked  # a column check only gives examples: it cannot pin what it concerns
    failed = _failed(outcome, "marts_indicator_values")
    assert set(failed) == {"no duplicate keys"}
    assert not failed["no duplicate keys"].pinned
    [message] = failed["no duplicate keys"].messages
    assert message.startswith("error: no duplicate keys failed: 2 of ")
    assert "indicator_id=live_births, period=2025-H1, admin_level=province, admin_code=01" in message


def test_missing_province_fails_completeness(warehouse):
    # Tuyên Quang (08) reported H1 births under the old Hà Giang code 02; its live births are missing.
    warehouse.execute("""delete from marts.fct_indicator_values
                          where indicator_id = 'live_births' and admin_level = 'province' and admin_code = '08'""")

    outcome = run_suites(["marts_indicator_values"])

    # pinned to the missing value: the release withholds what would aggregate it (the nation, the year)
    assert not outcome.passed and not outcome.blocked
    [message] = outcome.messages
    assert message.startswith("error: every reporting province has live births failed for live_births, "
                              "province 08, period 2025-H1: ")


def test_warning_only_failure_does_not_block(warehouse, capsys):
    warehouse.execute("""update marts.fct_indicator_values set value = 20
                          where indicator_id = 'infant_mortality_rate' and admin_code = '01' and period = '2025-H2'""")

    outcome = run_suites(["marts_indicator_values"], run_id="warn")

    assert outcome.passed and not outcome.blocked
    assert outcome.messages == ["warning: U5MR >= IMR >= NMR failed for under5_mortality_rate, province 01, "
                                "period 2025-H2: U5MR 15, IMR 20, NMR 5"]
    assert warehouse.execute("select success, error_failures, warning_failures from audit.quality_runs "
                             "where run_id = 'warn'") == [(True, 0, 1)]
    assert quality_cli(["marts_indicator_values"]) == 0
    assert "warning: U5MR >= IMR >= NMR failed" in capsys.readouterr().out


def test_an_error_pinned_to_values_exits_0_and_says_it_will_withhold(warehouse, capsys):
    warehouse.execute("update marts.fct_indicator_values set value = 95.2 where indicator_id = 'under5_mortality_rate' "
                      "and admin_code = '15' and period = '2025-H1'")

    assert quality_cli(["marts_indicator_values"]) == 0
    out = capsys.readouterr().out
    assert "error: value within plausible bounds failed for under5_mortality_rate, province 15" in out
    assert "quality gate: passed; 1 error-level check(s) failed for named values, which the release will withhold" in out


def test_an_error_that_cannot_be_pinned_makes_the_cli_exit_1(warehouse, capsys):
    warehouse.execute("update marts.fct_indicator_values set numerator = -1 where indicator_id = 'live_births' "
                      "and admin_code = '15' and period = '2025-H1'")

    assert quality_cli(["marts_indicator_values"]) == 1
    out = capsys.readouterr().out
    assert "error: numerator not negative failed" in out
    assert "quality gate: BLOCKED" in out
    assert "1 error(s) (1 blocking)" in out


def test_raw_suite_catches_a_bad_code_in_current_rows_only(warehouse):
    warehouse.execute("""insert into raw.y_te_sinh (batch_id, source_file, file_sha256, loaded_at, line_number,
                             event_id, birth_date, sex, is_live_birth, province_code, commune_code, mother_ethnicity_code,
                             birth_place, admin_vintage, period_key)
                         values (3, 'sinh_79.csv', 'y', now(), 7, 'S7', '2025-03-01', 'male', true, '79', '2676',
                                 '01', 'CSYT', 'pre_2025_07', '2025-H1')""")

    outcome = run_suites(["raw_y_te_sinh"])

    assert outcome.blocked
    failed = _failed(outcome, "raw_y_te_sinh")
    assert set(failed) == {"commune_code is 5 digits"}  # the superseded row's 'ABC' is not counted
    check = failed["commune_code is 5 digits"]
    assert check.severity == "error" and check.observed["unexpected_count"] == 1
    assert "source_file=sinh_79.csv, line_number=7, province_code=79, period_key=2025-H1, commune_code=2676" \
        in check.messages[0]


def test_raw_deaths_suite_catches_death_before_birth(warehouse):
    warehouse.execute("update raw.y_te_tu_vong set death_date = '2023-12-31', period_key = '2023-H2'")

    outcome = run_suites(["raw_y_te_tu_vong"])

    assert outcome.blocked
    assert set(_failed(outcome, "raw_y_te_tu_vong")) == {"death_date on or after birth_date"}


def test_results_land_in_audit_with_admin_code_and_period(warehouse):
    warehouse.execute("""update marts.fct_indicator_values set numerator = denominator + 1
                          where indicator_id = 'neonatal_mortality_rate' and admin_level = 'province'
                            and (admin_code, period) in (('01', '2025-H1'), ('15', '2025-H2'))""")

    outcome = run_suites(["marts_indicator_values"], run_id="audit")

    suite = outcome["marts_indicator_values"]
    failures = warehouse.execute(
        """select admin_code, period, severity, failing_rows -> 0 ->> 'indicator_id', message
             from audit.quality_results
            where run_id = 'audit' and not success and expectation = 'numerator within denominator'
            order by admin_code""")
    assert [row[:4] for row in failures] == [("01", "2025-H1", "error", "neonatal_mortality_rate"),
                                             ("15", "2025-H2", "error", "neonatal_mortality_rate")]
    assert failures[0][4].startswith("error: numerator within denominator failed for neonatal_mortality_rate, "
                                     "province 01, period 2025-H1")
    run = warehouse.execute("""select quality_run_id, success, error_failures from audit.quality_runs
                                where run_id = 'audit'""")
    assert run == [(suite.quality_run_id, False, 1)]
    passed = warehouse.execute("""select count(*) from audit.quality_results
                                   where quality_run_id = %s and success and admin_code is null""",
                               (suite.quality_run_id,))
    assert passed == [(len(suite.checks) - 1,)]


def test_missing_candidate_table_blocks_instead_of_passing(warehouse):
    warehouse.execute("drop table marts.fct_indicator_values")

    outcome = run_suites(["marts_indicator_values"])

    assert outcome.blocked
    [message] = outcome.messages
    assert message.startswith("error: suite marts_indicator_values could not run: ")
    assert warehouse.execute("select success, error_failures from audit.quality_runs") == [(False, 1)]


def test_a_check_that_cannot_be_evaluated_blocks(warehouse):
    warehouse.execute("drop table marts.dim_indicator")

    outcome = run_suites(["marts_indicator_values"])

    assert outcome.blocked
    failed = _failed(outcome, "marts_indicator_values")
    assert set(failed) == {"numerator within denominator", "value within plausible bounds",
                           "value outside plausible bounds within sampling noise",
                           "value above the level the catalogue flags", "counts do not jump between consecutive periods"}
    assert not any(check.pinned for check in failed.values())  # a check that could not run pins nothing
    for check in failed.values():
        [message] = check.messages
        assert message.startswith(f"{check.severity}: {check.expectation} could not be evaluated: ")
        assert "dim_indicator" in message


def test_an_expectation_without_severity_is_refused(tmp_path, monkeypatch):
    import quality.suites

    (tmp_path / "bad.yml").write_text(
        "name: bad\nmeta: {batch: {schema: raw, table: y_te_sinh}}\n"
        "expectations:\n  - {type: expect_column_values_to_not_be_null, description: x, kwargs: {column: sex}}\n")
    monkeypatch.setattr(quality.suites, "SUITES_DIR", tmp_path)

    with pytest.raises(SuiteError, match="severity must be one of critical, warning"):
        load_suite("bad")
