"""Issue 12: data defects go through the gate, not around it.

The incident: register snapshots of old Lào Cai (10) and Yên Bái (15), merged into new Lào Cai (15), each held a
child with the placeholder ID `123` (re-padded to 000000000123 and pseudonymised to the same key). The
uniqueness test of int_child_register__period_children failed, `dbt build` exited non-zero and the night
published nothing without a word from the gate. Here: the duplicate is resolved by the model's rule, a data
test that fails (a duplicate injected into a mart, a warning) is recorded in audit.quality_results and
withholds or reports as designed while the steps go on; a defect of the code still fails the transform."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import psycopg
import pytest

from pipeline import steps

pytestmark = pytest.mark.integration

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
PLACEHOLDER = "123"  # what a commune officer typed for children without an ID: malformed, no key (issue 14)
MISTYPED = "010316000555"  # well formed (Lào Cai, a girl born 2016), typed for a girl in 10 and a boy in 15
MOVED = "015314000777"  # a girl registered in Yên Bái who moved to Lào Cai before June: in both snapshots

# A duplicate injected into the mart the release reads: one value of the register (children in the register,
# Lào Cai, 2025-H1) twice. Failing rows name indicator, level, unit and period: the gate pins it.
INJECTED_DUPLICATE = """
-- test fixture (tests/integration/test_dbt_data_tests_gate.py): a duplicate injected into the mart
with injected as (
    select * from {{ ref('fct_indicator_values') }}
    union all
    select * from {{ ref('fct_indicator_values') }}
    where indicator_id = 'children_in_register' and admin_level = 'province' and admin_code = '15'
        and period = '2025-H1' and sex = 'total'
)
select indicator_id, period, admin_level, admin_code, sex, age_group, ethnicity, category, count(*) as occurrences
from injected
group by indicator_id, period, admin_level, admin_code, sex, age_group, ethnicity, category
having count(*) > 1
"""
BROKEN_MODEL = "select * from {{ ref('a_model_that_does_not_exist') }}\n"


def _child(pid: str, born: str, sex: str, province: str, commune: str, snapshot: str, groups=()) -> str:
    return json.dumps({
        "ma_dinh_danh": pid, "ho_ten": "Nguyễn Thị Test", "ngay_sinh": born, "gioi_tinh": sex,
        "ma_dan_toc": "01", "ma_tinh": province, "ma_xa": commune, "hcdb": list(groups),
        "tro_giup": {"duoc_tro_giup": bool(groups), "hinh_thuc": ["y_te"] if groups else []},
        "khuyet_tat": "d" in groups, "lao_dong": "khong", "ngay_cap_nhat": snapshot}, ensure_ascii=False)


def _snapshot(folder: Path, province: str, communes: tuple[str, str], snapshot: str, extra: list[str]) -> int:
    """Twenty ordinary children (IDs of the province, like the register's) and the extra lines."""
    lines = [_child(f"0{province}{2 + i % 2}{10 + i % 6:02d}{i:06d}", f"20{10 + i % 6}-0{1 + i % 9}-1{i % 9}",
                    "nam" if i % 2 == 0 else "nu", province, communes[i % 2], snapshot, ["d"] if i % 5 == 0 else [])
             for i in range(1, 21)]
    lines += extra
    (folder / f"ldxh_tre_em_{province}_{snapshot}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


@pytest.fixture
def incident_landing(tmp_path, monkeypatch) -> Path:
    landing = tmp_path / "landing"
    folder = landing / "ldxh_tre_em"
    folder.mkdir(parents=True)
    # old Lào Cai (10) on 30 June, old Yên Bái (15) on 15 June: both count for new Lào Cai (15) in 2025-H1
    _snapshot(folder, "10", ("02635", "02641"), "2025-06-30", [
        _child(MISTYPED, "2016-02-01", "nu", "10", "02635", "2025-06-30"),
        _child(PLACEHOLDER, "2019-03-03", "nam", "10", "02635", "2025-06-30"),
        _child(MOVED, "2014-05-05", "nu", "10", "02641", "2025-06-30")])
    _snapshot(folder, "15", ("04249", "04252"), "2025-06-15", [
        _child(MISTYPED, "2020-09-09", "nam", "15", "04249", "2025-06-15"),
        _child(PLACEHOLDER, "2019-03-03", "nam", "15", "04249", "2025-06-15"),
        _child(MOVED, "2014-05-05", "nu", "15", "04252", "2025-06-15", groups=["d"])])
    _snapshot(folder, "01", ("00001", "00004"), "2025-06-30", [])  # Hà Nội: normal data
    monkeypatch.setenv("LANDING_DIR", str(landing))
    return landing


@pytest.fixture
def dbt_file():
    """Write a file into the dbt project for one test; it is removed whatever happens."""
    written = []

    def write(relative: str, text: str) -> Path:
        path = DBT_DIR / relative
        path.write_text(text, encoding="utf-8")
        written.append(path)
        return path

    yield write
    for path in written:
        path.unlink(missing_ok=True)


def test_the_incident_publishes_the_rule_resolves_the_duplicate_and_data_tests_go_through_the_gate(
        fresh_warehouse, incident_landing, dbt_file, monkeypatch):
    from pipeline.report import run_summary
    from quality import dbt_tests

    run_id = "i12-incident"
    loaded = steps.ingest("ldxh_tre_em", run_id)
    assert loaded["rows_quarantined"] == 0 and loaded["rows_loaded"] == 66
    steps.load_reference()
    steps.validate(list(steps.RAW_SUITES.values()), run_id)
    dbt_file("tests/tmp_i12_injected_duplicate_in_mart.sql", INJECTED_DUPLICATE)

    steps.transform(run_id)  # a failed data test does not stop the build; it is recorded for the run
    # the mart gate may run on another worker, without this build's dbt/target: it reads what was recorded
    monkeypatch.setattr(dbt_tests, "DBT_TARGET_DIR", incident_landing / "another-worker")
    steps.validate(steps.MART_SUITES, run_id)  # nor the gate: the failure is pinned, the values are withheld
    release_id = steps.publish(run_id)

    with psycopg.connect(fresh_warehouse) as conn:
        # the rule: the moved girl is one child, from the latest snapshot; the two children under the
        # mistyped ID are two children, flagged; the two boys under the placeholder 123 (same birth date and sex,
        # which made them one child when 123 was re-padded and pseudonymised) have no key: two children
        children = conn.execute(
            """select count(*), count(distinct child_key), count(*) filter (where is_shared_key)
                 from intermediate.int_child_register__period_children
                where period = '2025-H1' and current_province_code = '15'""").fetchone()
        assert children == (42 + 1 + 2, 42, 2)
        moved = conn.execute(
            """select p.snapshot_date, p.is_special_circumstances
                 from intermediate.int_child_register__period_children as p
                where p.period = '2025-H1' and not p.is_shared_key and p.child_key in (
                      select personal_id_pseudonym from raw.ldxh_tre_em group by 1 having count(*) = 2)""").fetchall()
        assert moved == [(date(2025, 6, 30), False)]  # old Lào Cai's record, not Yên Bái's (group d)
        in_register = conn.execute(
            """select numerator from marts.fct_indicator_values
                where indicator_id = 'children_in_register' and admin_level = 'province' and admin_code = '15'
                  and period = '2025-H1' and sex = 'total' and category = 'total'""").fetchone()
        assert in_register == (45,)

        assert conn.execute("select count(*) from audit.quality_runs where run_id = %s and suite = 'dbt_data_tests'",
                            (run_id,)).fetchone() == (1,)  # recorded by the transform, read back by the gate
        results = conn.execute(
            """select expectation, expectation_type, severity, success, pinned, admin_code, period, message,
                      failing_rows::text
                 from audit.quality_results where run_id = %s and suite = 'dbt_data_tests'
                order by quality_result_id""", (run_id,)).fetchall()
        by_test = {}
        for row in results:
            by_test.setdefault(row[0], []).append(row)
        # the register's uniqueness test passes: the rule resolved the duplicate upstream
        unique = next(rows for name, rows in by_test.items() if "period, record_key, current_province_code" in name)
        assert [row[3] for row in unique] == [True]
        # the children sharing the mistyped ID: a warning, reported (not pinned, nothing withheld)
        shared = by_test[next(name for name in by_test if name.startswith("each child has a personal ID of its own"))]
        assert {(row[2], row[3], row[4]) for row in shared} == {("warning", False, False)}
        assert ("15", "2025-H1") in {(row[5], row[6]) for row in shared}
        message = next(row[7] for row in shared if row[6] == "2025-H1")
        assert "failed for province 15, period 2025-H1: 2 failing row(s), e.g. period_type=half_year" in message
        # the injected duplicate: an error pinned to the value, which the release withholds
        injected = by_test["tmp i12 injected duplicate in mart"]
        assert [(row[1], row[2], row[3], row[4], row[5], row[6]) for row in injected] == [
            ("dbt:singular", "error", False, True, "15", "2025-H1")]
        assert injected[0][7].startswith("error: tmp i12 injected duplicate in mart failed for children_in_register, "
                                         "province 15, period 2025-H1: 1 failing row(s) (occurrences=2)")
        # no personal ID, pseudonym or name in any message or stored row
        pseudonyms = {key for (key,) in conn.execute("select distinct personal_id_pseudonym from raw.ldxh_tre_em")
                      if key is not None}
        for row in results:
            text = f"{row[7] or ''} {row[8] or ''}"
            assert not any(key in text for key in pseudonyms)
            assert MISTYPED not in text and MOVED not in text and "Nguyễn" not in text

        released = {(indicator, code, period): (value, withheld) for indicator, code, period, value, withheld in conn.execute(
            """select indicator_id, admin_code, period, value, withheld from published.release_values
                where release_id = %s and sex = 'total' and category = 'total' and admin_level <> 'commune'
                  and indicator_id = 'children_in_register'""", (release_id,))}
        assert released[("children_in_register", "15", "2025-H1")][0] is None
        assert released[("children_in_register", "15", "2025-H1")][1].startswith(
            "tmp i12 injected duplicate in mart: 1 failing row(s)")
        assert released[("children_in_register", "VN", "2025-H1")][1].startswith("aggregates children_in_register")
        assert released[("children_in_register", "01", "2025-H1")] == (20, None)  # Hà Nội's values go out

        summary = run_summary(conn, run_id)
    print(summary)
    assert "dbt_data_tests / tmp i12 injected duplicate in mart" in summary
    assert "failing row(s)" in summary


def test_a_defect_of_the_code_still_fails_the_transform(fresh_warehouse, dbt_file):
    dbt_file("models/marts/tmp_i12_broken_model.sql", BROKEN_MODEL)
    with pytest.raises(subprocess.CalledProcessError):
        steps.transform()


# --- the gate's reading of a build, on hand-made dbt results (no dbt run) ----------------------------------

def _target(tmp_path: Path, tests: list[dict]) -> Path:
    """run_results.json and manifest.json of a `dbt build` holding these tests: each a dict with name, status,
    failures, sql (the compiled test), parents and optionally meta."""
    target = tmp_path / "target"
    target.mkdir()
    nodes, parents, results = {}, {"model.child_stats.stg_x": ["source.child_stats.raw.x"], "seed.child_stats.s": []}, []
    for test in tests:
        unique_id = f"test.child_stats.{test['name']}"
        nodes[unique_id] = {"name": test["name"], "description": "", "config": {"meta": test.get("meta", {})},
                            "test_metadata": None, "depends_on": {"nodes": test["parents"]}, "columns": {}}
        parents[unique_id] = test["parents"]
        results.append({"unique_id": unique_id, "status": test["status"], "failures": test["failures"],
                        "compiled_code": test["sql"], "message": None})
    (target / "run_results.json").write_text(json.dumps({"args": {"which": "build"}, "results": results,
                                                          "metadata": {"generated_at": "2026-12-07T01:00:00Z"}}))
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes, "parent_map": parents, "sources": {}}))
    return target


def test_a_data_test_that_pins_nothing_blocks_with_its_count_and_examples_and_no_personal_column(
        fresh_warehouse, tmp_path, monkeypatch):
    from publish.release import PublicationBlocked, create_release
    from quality import dbt_tests

    duplicates = ("select * from (values ('15', '2025-H1', 'k' || repeat('a', 63), 2), ('15', '2025-H1', "
                  "'k' || repeat('b', 63), 3)) as t (current_province_code, period, child_key, occurrences)")
    monkeypatch.setattr(dbt_tests, "DBT_TARGET_DIR", _target(tmp_path, [
        {"name": "register_children_once", "status": "warn", "failures": 2, "sql": duplicates,
         "parents": ["model.child_stats.stg_x"]},
        {"name": "quiet_check", "status": "pass", "failures": 0, "sql": "select 1 where false",
         "parents": ["model.child_stats.stg_x"], "meta": {"quality_severity": "warning"}}]))

    with pytest.raises(steps.QualityGateFailed) as failed:
        steps.validate(["dbt_data_tests"], "i12-blocked")
    assert "error: register children once failed for province 15, period 2025-H1: 2 failing row(s), e.g. " \
           "occurrences=2; occurrences=3" in str(failed.value)
    assert "aaaa" not in str(failed.value) and "child_key" not in str(failed.value)
    with psycopg.connect(fresh_warehouse) as conn:
        rows = conn.execute("""select expectation, severity, success, pinned, failing_rows::text from audit.quality_results
                                where run_id = 'i12-blocked' order by quality_result_id""").fetchall()
        assert [row[:4] for row in rows] == [("register children once", "error", False, False),
                                             ("quiet check", "warning", True, False)]
        assert "aaaa" not in rows[0][4]
    with pytest.raises(PublicationBlocked, match="register children once failed"):
        create_release("i12-blocked", ["dbt_data_tests"])


def test_a_failed_test_of_reference_data_only_is_a_code_defect_and_a_data_test_is_not(tmp_path):
    from quality.dbt_tests import build_results, code_defects

    _, tests = build_results(_target(tmp_path, [
        {"name": "catalogue_rule", "status": "warn", "failures": 1, "sql": "select 1",
         "parents": ["seed.child_stats.s"]},
        {"name": "delivered_rule", "status": "warn", "failures": 5, "sql": "select 1",
         "parents": ["model.child_stats.stg_x"]},
        {"name": "broken_sql", "status": "error", "failures": 0, "sql": "select",
         "parents": ["model.child_stats.stg_x"]}]))
    assert [test.name for test in code_defects(tests)] == ["catalogue_rule", "broken_sql"]
    assert [test.from_data for test in tests] == [False, True, True]


def test_results_of_another_dbt_command_are_not_read_as_the_build(tmp_path):
    from quality.dbt_tests import BuildResultsMissing, build_results

    target = _target(tmp_path, [])
    (target / "run_results.json").write_text(json.dumps({"args": {"which": "seed"}, "results": []}))
    with pytest.raises(BuildResultsMissing, match="dbt seed"):
        build_results(target)
