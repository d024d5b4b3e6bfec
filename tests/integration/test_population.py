"""The population feed (dan_so) end to end below dbt: load, quarantine, supersession by year, and its
quality suite against a real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from ingest.geography import REFERENCE_DIR
from ingest.run import ingest_feed
from quality import run_suites
from synthetic import generate_population_feed

pytestmark = pytest.mark.integration

HEADER = "Năm,Mã tỉnh,Mã xã,Tuổi,Giới tính,Dân số\n"


@pytest.fixture
def seeded_warehouse(fresh_warehouse):
    """The reference communes the suite compares with, as `dbt seed` would load them (faster)."""
    with psycopg.connect(fresh_warehouse) as conn:
        conn.execute("create schema reference")
        for table in ("admin_units_2025", "admin_units_pre2025"):
            path = REFERENCE_DIR / f"{table}.csv"
            columns = path.open(encoding="utf-8").readline().strip().split(",")
            conn.execute(f"create table reference.{table} ({', '.join(c + ' text' for c in columns)})")
            with conn.cursor().copy(f"copy reference.{table} from stdin (format csv, header true)") as copy:
                copy.write(path.read_bytes())
    return fresh_warehouse


def deliver(tmp_path, name: str, body: str):
    folder = tmp_path / "dan_so"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(HEADER + body, encoding="utf-8")


def test_generated_estimates_load_whole_and_pass_their_suite(seeded_warehouse, tmp_path):
    manifest = generate_population_feed(tmp_path, scale=0.01, seed=3, years=(2024, 2025), provinces=("15",))
    results = ingest_feed("dan_so", tmp_path)
    assert {r.status for r in results} == {"loaded"}
    assert sum(r.rows_loaded for r in results) == sum(f.rows for f in manifest.files)
    outcome = run_suites(["raw_dan_so"])
    assert outcome.passed and outcome.suites[0].warning_failures == 0
    with psycopg.connect(seeded_warehouse) as conn:
        vintages = dict(conn.execute("select period_key, min(admin_vintage) from raw.dan_so group by 1").fetchall())
    assert vintages == {"2024": "pre_2025_07", "2025": "2025_07"}  # 1 July 2025 is post-reform


def test_bad_rows_are_quarantined_with_their_reason(fresh_warehouse, tmp_path):
    deliver(tmp_path, "bad.csv", "2025,01,00004,3,Nam,120\n25,01,00004,3,Nữ,110\n2025,01,00004,121,Nữ,90\n"
                                 "2025,01,00004,4,Nữ,-5\n2025,01,00004,15+,Nữ,900\n2025,01,00004,mười,Nam,9\n")
    (result,) = ingest_feed("dan_so", tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 1, 5)
    with psycopg.connect(fresh_warehouse) as conn:
        reasons = conn.execute("select line_number, column_name, reason from quarantine.rejected_rows"
                               " order by line_number").fetchall()
    assert reasons == [(3, "Năm", "year '25' is not a year of four digits"),
                       (4, "Tuổi", "age 121 is outside 0–120"),
                       (5, "Dân số", "population '-5' is not a whole number"),
                       (6, "Tuổi", "age '15+': an open-ended group must start at 18 or above"),
                       (7, "Tuổi", "age 'mười' is not a whole number of years, nor an open-ended group such as 80+")]


def test_estimates_of_all_ages_close_with_an_open_ended_group(seeded_warehouse, tmp_path):
    """Today's files of children stay valid; a file of all ages reads 80+ (or "80 tuổi trở lên") as age 80,
    open-ended, and a commune whose single years stop short of its open-ended group is a warning."""
    deliver(tmp_path, "children.csv", "2025,01,00004,0,Nam,12\n2025,01,00004,17,Nữ,11\n")
    deliver(tmp_path, "adults.csv", "".join(f"2025,08,00691,{age},Nam,10\n" for age in range(18))
            + "2025,08,00691,18+,Nam,70\n2025,08,00691,0,Nữ,9\n2025,08,00691,80 tuổi trở lên,Nữ,40\n")
    results = ingest_feed("dan_so", tmp_path)
    assert sum(r.rows_quarantined for r in results) == 0
    with psycopg.connect(seeded_warehouse) as conn:
        rows = conn.execute("select province_code, sex, age, age_is_open_ended, population from raw.dan_so"
                            " where age_is_open_ended or age = 17 order by 1, 2, 3").fetchall()
    assert rows == [("01", "female", 17, False, 11), ("08", "female", 80, True, 40), ("08", "male", 17, False, 10),
                    ("08", "male", 18, True, 70)]
    outcome = run_suites(["raw_dan_so"])
    assert outcome.passed
    gaps = [m for m in outcome.messages
            if m.startswith("warning") and "every single year of age below the open-ended group" in m]
    # commune 00691 (Tuyên Quang, 08): its women jump from 0 to 80+; its men (0–17, then 18+) and province 01 are whole
    assert len(gaps) == 1 and "province 08" in gaps[0] and "1 commune-sex" in gaps[0]


def test_a_duplicate_estimate_fails_the_suite_naming_province_and_year(seeded_warehouse, tmp_path):
    deliver(tmp_path, "dup.csv", "2025,01,00004,3,Nam,120\n2025,01,00004,3,Nam,121\n")
    ingest_feed("dan_so", tmp_path)
    outcome = run_suites(["raw_dan_so"])
    assert outcome.blocked
    errors = [m for m in outcome.messages if m.startswith("error")]
    assert any("one estimate per commune, age and sex" in m and "province 01" in m and "2025" in m for m in errors)


def test_a_missing_commune_is_reported_as_a_warning(seeded_warehouse, tmp_path):
    deliver(tmp_path, "partial.csv", "2025,01,00004,3,Nam,120\n")  # Hà Nội has 126 communes
    ingest_feed("dan_so", tmp_path)
    outcome = run_suites(["raw_dan_so"])
    assert outcome.passed
    warnings = [m for m in outcome.messages if m.startswith("warning")]
    assert any("every commune of a delivered province has an estimate" in m and "province 01" in m for m in warnings)


def test_a_newer_estimate_for_a_province_and_year_supersedes_the_older(fresh_warehouse, tmp_path):
    import os
    import time

    deliver(tmp_path, "v1.csv", "2025,01,00004,3,Nam,120\n2024,01,00001,3,Nam,50\n")
    ingest_feed("dan_so", tmp_path)
    deliver(tmp_path, "v2.csv", "2025,01,00004,3,Nam,125\n")
    later = time.time() + 10
    os.utime(tmp_path / "dan_so" / "v2.csv", (later, later))
    results = ingest_feed("dan_so", tmp_path)
    assert results[-1].rows_superseded == 1
    with psycopg.connect(fresh_warehouse) as conn:
        current = conn.execute("select period_key, population from raw.dan_so where superseded_by_batch is null"
                               " order by 1").fetchall()
    assert current == [("2024", 50), ("2025", 125)]
