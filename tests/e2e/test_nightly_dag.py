"""End to end: the real Airflow DAG (airflow dags test) against a real PostgreSQL, on generated feeds.
Published values are checked against values computed here, independently, from the landing files."""

from __future__ import annotations

import csv
import os
import re
import time
import unicodedata
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import psycopg
import pytest
from landing_reader import REFERENCE, parse_date, periods_of, read_rows

from pipeline.airflow_local import run_dag
from synthetic import generate_health_feeds, generate_population_feed

pytestmark = pytest.mark.e2e

PROVINCES = ("01", "15", "08")  # Hà Nội; new Lào Cai (old 10 + 15); new Tuyên Quang (old 02 + 08)
PERIODS = ("2024-H2", "2025-H1", "2025-H2")
_read, _date = read_rows, parse_date
CALENDAR = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "catalogue" / "reporting_calendar.csv"


def _rounds() -> list[tuple[str, date, date]]:
    """The report rounds of the calendar seed (national rows): period, first and last day of the window."""
    with open(CALENDAR, encoding="utf-8") as handle:
        return [(row["period"], date.fromisoformat(row["window_start"]), date.fromisoformat(row["window_end"]))
                for row in csv.DictReader(handle) if not row["province_code"]]


ROUNDS = _rounds()


def _periods(day: date) -> list[str]:
    """Year, half-year and the report rounds whose window holds the day (2025-R6: 15/12/2024–14/6/2025)."""
    return periods_of(day) + [period for period, start, end in ROUNDS if start <= day <= end]


def _expected_measures(landing: Path, quarantined: set[tuple[str, int]]) -> dict:
    """(period, province or VN, sex) -> Counter of live births and deaths by age, from the files."""
    with open(REFERENCE / "province_conversion_2025.csv", encoding="utf-8") as handle:
        to_new = {row["old_province_code"]: row["new_province_code"] for row in csv.DictReader(handle)}
    sexes = {"nam": "male", "nữ": "female"}
    measures: dict = defaultdict(Counter)

    def add(day: date, province: str, sex: str | None, measure: str) -> None:
        current = to_new[province.zfill(2)] if day < date(2025, 7, 1) else province.zfill(2)
        for period in _periods(day):
            for area in (current, "VN"):
                measures[(period, area, "total")][measure] += 1
                if sex:
                    measures[(period, area, sex)][measure] += 1

    for path in sorted((landing / "y_te_sinh").iterdir()):
        for line, row in _read(path):
            if (path.name, line) in quarantined or row["sinh sống"] != "C":
                continue
            add(_date(row["ngày sinh"]), row["mã tỉnh"], sexes.get(row["giới tính"].casefold()), "live_births")
    for path in sorted((landing / "y_te_tu_vong").iterdir()):
        for line, row in _read(path):
            if (path.name, line) in quarantined:
                continue
            born, died = _date(row["ngày sinh"]), _date(row["ngày mất"])
            years = died.year - born.year - ((died.month, died.day) < (born.month, born.day))
            sex = sexes[row["giới tính"].casefold()]
            for measure, applies in (("neonatal_deaths", (died - born).days < 28), ("infant_deaths", years < 1),
                                     ("under5_deaths", years < 5)):
                if applies:
                    add(died, row["mã tỉnh"], sex, measure)
    return measures


RATES = {"neonatal_mortality_rate": "neonatal_deaths", "infant_mortality_rate": "infant_deaths",
         "under5_mortality_rate": "under5_deaths"}


def test_nightly_dag_publishes_values_that_match_an_independent_computation(fresh_warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    manifest = generate_health_feeds(landing, scale=0.02, seed=7, periods=PERIODS, provinces=PROVINCES,
                                     invalid_rate=0.01)
    population = generate_population_feed(landing, scale=0.02, seed=7, years=(2024, 2025), provinces=PROVINCES)
    assert run_dag(fresh_warehouse, landing, airflow_home=tmp_path / "airflow") == 0

    with psycopg.connect(fresh_warehouse) as conn:
        # Row accounting: every batch balances, and every delivered row is in raw or quarantine.
        batches = conn.execute("select file_name, status, rows_read, rows_loaded, rows_quarantined"
                               " from audit.load_batches").fetchall()
        assert all(read == loaded + quarantined for _, _, read, loaded, quarantined in batches)
        loaded_files = {name: (read, quarantined) for name, status, read, _, quarantined in batches if status == "loaded"}
        for entry in manifest.files:
            name = Path(entry.path).name
            if name in loaded_files:  # header-only files of empty periods may be identical re-deliveries
                assert loaded_files[name] == (entry.rows, entry.invalid_total), name
        assert sum(e.rows for e in manifest.files + population.files) == sum(read for _, _, read, _, _ in batches)

        quarantined = {(name, line) for name, line in conn.execute(
            "select file_name, line_number from quarantine.rejected_rows")}
        published = conn.execute(
            """select indicator_id, period, admin_code, sex, numerator, denominator, value, release_id
                 from published.indicator_values where admin_level in ('national', 'province')
                  and age_group = 'total' and ethnicity = 'total'""").fetchall()
        release = conn.execute("select release_id, row_count, quality_results from published.latest_release").fetchone()
        runs = conn.execute("select dag_id, triggered_by, state, release_id, ended_at is not null"
                            " from audit.pipeline_runs").fetchall()
        events = conn.execute("select event, message from audit.pipeline_events where severity <> 'info'").fetchall()

    expected = _expected_measures(landing, quarantined)
    assert release is not None and release[1] > 0
    # the run recorded itself: started by `dags test`, ended successfully with the release it made
    assert runs == [("child_stats_nightly", "test", "success", release[0], True)]
    # the only warnings: the feeds this landing does not deliver are stale (dbt source freshness)
    delivered = {path.name for path in landing.iterdir()}
    assert {event for event, _ in events} <= {"feed_stale"}
    assert not {message.split(":")[0] for _, message in events} & delivered
    from pipeline.steps import MART_SUITES, RAW_SUITES

    assert set(release[2]) == {*RAW_SUITES.values(), *MART_SUITES}  # the release records every suite it passed
    values = {(ind, period, area, sex): (num, den, val) for ind, period, area, sex, num, den, val, _ in published}
    assert {area for _, _, area, _ in values} == {"VN", *PROVINCES}
    checked = 0
    for (period, area, sex), counts in expected.items():
        births = counts["live_births"]
        if not births:  # a round whose window barely touches the data (deaths of a fortnight, say)
            continue
        assert values[("live_births", period, area, sex)][0] == births, (period, area, sex)
        for indicator, measure in RATES.items():
            numerator, denominator, value = values[(indicator, period, area, sex)]
            assert (numerator, denominator) == (counts[measure], births), (indicator, period, area, sex)
            assert float(value) == pytest.approx(1000 * counts[measure] / births, abs=5e-5)
            checked += 1
    assert checked >= 3 * 3 * 4 * 3  # periods × sexes × areas × rates, at least
    # Report rounds are computed like calendar periods over their windows: the annual round of 2025 runs from
    # 15/12/2024 (old province codes) across the reform to 14/12/2025 (new codes).
    rounds_checked = {period for (period, _, _) in expected if period.endswith(("-R6", "-RY"))}
    assert {"2025-R6", "2025-RY"} <= rounds_checked
    # Children under 16 by year on the current provinces: 2024 files carry old provinces, summed.
    with open(REFERENCE / "province_conversion_2025.csv", encoding="utf-8") as handle:
        to_new = {row["old_province_code"]: row["new_province_code"] for row in csv.DictReader(handle)}
    children: Counter = Counter()
    for entry in population.files:
        current = to_new[entry.province] if entry.vintage == "pre_2025_07" else entry.province
        for area in (current, "VN"):
            children[(entry.period, area)] += entry.counts["children_under_16"]
    for (year, area), expected_children in children.items():
        assert values[("child_population", year, area, "total")][0] == expected_children, (year, area)
    # 2025 combines H1 records (old codes) and H2 records (new codes) on the current provinces.
    assert values[("live_births", "2025", "15", "total")][0] == (
        values[("live_births", "2025-H1", "15", "total")][0] + values[("live_births", "2025-H2", "15", "total")][0])

    # The DAG rendered the report outputs of the latest half-year and year from the release: every workbook
    # (34 provinces and the nation), and the national workbook's under-5 mortality is the published value.
    with psycopg.connect(fresh_warehouse) as conn:
        latest_ended = {period for (period,) in conn.execute(
            """select max(period) from published.release_periods
                where release_id = %s and not is_preliminary and period_type in ('year', 'half_year')
                group by period_type""", (release[0],))}
        totals = {(indicator, period, area): value for indicator, period, area, value in conn.execute(
            """select indicator_id, period, coalesce(province_code, 'VN'), value from published.indicator_values
                where admin_level in ('national', 'province') and period = any(%s) and sex = 'total'
                  and age_group = 'total' and ethnicity = 'total' and category = 'total'""", (list(latest_ended),))}
    _check_rendered_reports(tmp_path / "reports", totals, release[0], latest_ended)


def _check_rendered_reports(reports: Path, totals: dict, release_id: str, latest_ended: set[str]) -> None:
    """Every total in the group sheets of the national workbook and of the delivering provinces' workbooks
    is the published value (a symbol where none is published)."""
    import json

    import openpyxl

    manifests = sorted(reports.glob("*/manifest.json"))
    assert {m.parent.name for m in manifests} == latest_ended  # the latest ended half-year and year
    assert "2025" in latest_ended
    for path in manifests:
        period = path.parent.name
        manifest = json.loads(path.read_text(encoding="utf-8"))
        kinds = Counter(entry["kind"] for entry in manifest["files"])
        assert kinds["workbook"] == 35 and kinds["html"] == 35 and kinds["sdmx"] >= 1 and kinds["csv"] >= 2
        assert {entry["release_id"] for entry in manifest["files"]} == {release_id}
        compared = 0
        for area in ("VN", *PROVINCES):
            name = "toan-quoc" if area == "VN" else area
            book = openpyxl.load_workbook(path.parent / f"workbooks/bao-cao-{period}-{name}.xlsx", read_only=True)
            for sheet in book.worksheets:
                if not sheet.title.startswith("PL"):
                    continue
                for row in sheet.iter_rows(min_row=6, values_only=True):
                    if len(row) < 12 or not row[11]:
                        continue
                    published = totals.get((row[11], period, area))
                    if published is None:
                        assert row[4] in ("-", "..", "x"), (period, area, row)
                    else:
                        assert row[4] == pytest.approx(float(published), abs=1e-9), (period, area, row)
                        compared += 1
        assert compared > (20 if period == "2025" else 0), period  # a later half-year may hold cohorts only
        if period == "2025":
            national = openpyxl.load_workbook(path.parent / "workbooks/bao-cao-2025-toan-quoc.xlsx", read_only=True)
            rows = {row[11]: row for row in national["PLI nhóm II"].iter_rows(min_row=6, values_only=True)
                    if len(row) > 11 and row[11]}
            assert rows["under5_mortality_rate"][4] == pytest.approx(float(totals[("under5_mortality_rate", "2025", "VN")]))


# Indicators whose numerator comes from the deaths feed: a bad deaths delivery withholds these.
DEATH_NUMERATORS = ("neonatal_deaths", "infant_deaths", "under5_deaths", "neonatal_mortality_rate",
                    "infant_mortality_rate", "under5_mortality_rate", "injury_deaths_under16", "injury_death_rate",
                    "drowning_deaths_under16", "drowning_death_rate")


def _ten_times(source: Path, target: Path) -> int:
    """A correction of a deaths file with every death ten times (new event ids): a delivery gone wrong."""
    with open(source, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], [row for row in rows[1:] if any(row)]
    event = next(i for i, name in enumerate(header)
                 if " ".join(unicodedata.normalize("NFC", name).split()).casefold() == "mã sự kiện")
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for copy in range(10):
            for row in body:
                writer.writerow([f"{cell}-x{copy}" if i == event else cell for i, cell in enumerate(row)])
    return 10 * len(body)


def _release_rows(conn, release_id: str) -> dict:
    rows = conn.execute(
        """select indicator_id, period, period_type, admin_level, admin_code, coalesce(province_code, 'VN'), sex,
                  age_group, ethnicity, category, numerator, value, withheld, suppression
             from published.release_values where release_id = %s""", (release_id,)).fetchall()
    return {tuple(row[:10]): row[10:] for row in rows}


def test_a_bad_delivery_withholds_exactly_the_values_built_on_it(fresh_warehouse, tmp_path):
    landing = tmp_path / "landing"
    provinces, periods = ("01", "15"), ("2025-H1", "2025-H2")
    generate_health_feeds(landing, scale=0.05, seed=11, periods=periods, provinces=provinces, invalid_rate=0)
    generate_population_feed(landing, scale=0.05, seed=11, years=(2025,), provinces=provinces)
    airflow_home = tmp_path / "airflow"
    assert run_dag(fresh_warehouse, landing, airflow_home=airflow_home) == 0
    with psycopg.connect(fresh_warehouse) as conn:
        (first_release,) = conn.execute("select release_id from published.latest_release").fetchone()
        before = _release_rows(conn, first_release)

    # Hà Nội's deaths of 2025-H2 delivered again with every death ten times: a realistic province (about
    # 1,200 births a half-year) whose mortality becomes ten times too high.
    original = landing / "y_te_tu_vong" / "y_te_tu_vong_01_2025-H2.csv"
    correction = landing / "y_te_tu_vong" / "y_te_tu_vong_01_2025-H2_v2.csv"
    assert _ten_times(original, correction) > 100
    later = time.time() + 60
    os.utime(correction, (later, later))

    assert run_dag(fresh_warehouse, landing, airflow_home=airflow_home) == 0  # the night succeeds
    with psycopg.connect(fresh_warehouse) as conn:
        release = conn.execute("select release_id, withheld_count, withheld from published.latest_release").fetchone()
        after = _release_rows(conn, release[0])
        windows = dict((period, (start, end)) for period, start, end in conn.execute(
            "select period, lower(data_window), upper(data_window) - 1 from published.release_periods"
            " where release_id = %s", (release[0],)))
        from pipeline.report import latest_run_id, run_summary

        summary = run_summary(conn, latest_run_id(conn))
    assert release[0] != first_release and release[1] > 0
    # Withheld now, for every sex and ethnicity: what the deaths of Hà Nội 2025-H2 built (its mortality rates
    # and death counts, injury and drowning deaths; its communes too), and the nation's and the year's values
    # that contain them. The births of the same half-year stay. Nothing else changes (the report rounds
    # whose window reaches into the bad half-year are checked below).
    expected = {key for key in after if key[0] in DEATH_NUMERATORS and key[5] in ("01", "VN")
                and key[1] in ("2025-H2", "2025")}
    assert {key[6] for key in expected} == {"total", "male", "female"} and {key[3] for key in expected} == {
        "national", "province", "commune"}
    newly_withheld = {key for key, (_, _, reason, _) in after.items()
                      if reason and not before[key][2] and key[2] != "report_round"}
    assert newly_withheld == expected
    bad_half = windows["2025-H2"]
    for key, (numerator, value, reason, suppression) in after.items():
        if key in expected:
            assert numerator is None and value is None and reason, key
        elif key[2] == "report_round" and windows[key[1]][0] <= bad_half[1] and windows[key[1]][1] >= bad_half[0]:
            # a round reaching into the bad half-year holds part of that delivery: withheld with it
            if key[0] in DEATH_NUMERATORS and key[5] in ("01", "VN"):
                assert numerator is None and value is None and reason, key
        else:
            if (numerator, value, reason) != before[key][:3]:
                # disclosure control decides its secondary cells again when withheld cells leave a group (Hà Nội's
                # injury deaths by sex, and the nation's): another province's cell may be suppressed now, or shown
                # again, but no number changes
                was_suppressed, is_suppressed = before[key][3] is not None, suppression is not None
                assert reason is None and was_suppressed != is_suppressed, key
                assert ((numerator, value) if is_suppressed else before[key][:2]) == (None, None), key
            # everything else: as published before
    assert after[("under5_mortality_rate", "2025-RY", "report_round", "province", "01", "01", "total", "total",
                  "total", "total")][2] is not None
    # the run summary lists the withheld groups before the headline values, and prints null values
    assert summary.index("Withheld by failed quality checks") < summary.index("Headline values")
    assert re.search(r"(neonatal|infant|under5)_mortality_rate, province 01, 2025-H2: value within plausible bounds",
                     summary)
    assert re.search(r"2025\s+under5_mortality_rate\s+withheld per 1,000 live births", summary)


def test_education_and_population_publish_next_to_mortality(fresh_warehouse, tmp_path):
    """Students (CSV and Excel), population and health feeds in one DAG run: dropout rates by level and
    ethnicity and preschool attendance match counts computed from the generator and the files."""
    from synthetic import generate_education_feed

    landing = tmp_path / "landing"
    provinces = ("01", "15")
    generate_health_feeds(landing, scale=0.005, seed=5, periods=("2025-H1",), provinces=provinces)
    generate_population_feed(landing, scale=0.005, seed=5, years=(2023, 2024, 2025), provinces=provinces)
    education = generate_education_feed(landing, scale=0.005, seed=5, provinces=provinces, invalid_rate=0.005)
    assert {Path(f.path).suffix for f in education.files} == {".csv", ".xlsx"}
    assert run_dag(fresh_warehouse, landing, airflow_home=tmp_path / "airflow") == 0

    with open(REFERENCE / "province_conversion_2025.csv", encoding="utf-8") as handle:
        to_new = {row["old_province_code"]: row["new_province_code"] for row in csv.DictReader(handle)}
    counts: dict = defaultdict(Counter)
    for entry in education.files:
        end_year = str(int(entry.period[:4]) + 1)
        current = to_new[entry.province] if entry.vintage == "pre_2025_07" else entry.province
        for area in (current, "VN"):
            counts[(end_year, area)].update(entry.counts)
    population: dict = defaultdict(Counter)  # (reporting year, area) -> persons by age, start-year estimates
    for path in sorted((landing / "dan_so").iterdir()):
        for _, row in _read(path):
            year, province = int(row["năm"]), row["mã tỉnh"].zfill(2)
            current = to_new[province] if year < 2025 else province
            if not row["tuổi"].isdigit():  # the open-ended 80+ of a file of all ages: adults only
                continue
            for area in (current, "VN"):
                population[(str(year + 1), area)][int(row["tuổi"])] += int(row["dân số"])

    with psycopg.connect(fresh_warehouse) as conn:
        rows = conn.execute(
            """select indicator_id, period, admin_code, ethnicity, category, numerator, denominator, value
                 from published.indicator_values
                where admin_level in ('national', 'province') and sex = 'total' and age_group = 'total'""").fetchall()
        # Names and personal IDs never leave raw: no column for them anywhere else, and no name as a value.
        leaks = conn.execute(
            """select table_schema || '.' || table_name || '.' || column_name from information_schema.columns
                where column_name in ('full_name', 'personal_id', 'ho_ten')
                  and table_schema not in ('raw', 'pg_catalog', 'information_schema')""").fetchall()
        some_name = conn.execute("select full_name from raw.giao_duc_hoc_sinh where full_name is not null limit 1").fetchone()[0]
        published_text = conn.execute("select count(*) from published.indicator_values where admin_name = %s",
                                      (some_name,)).fetchone()[0]
    assert leaks == [] and published_text == 0
    values = {(ind, period, area, eth, cat): (num, den, val) for ind, period, area, eth, cat, num, den, val in rows}
    assert any(ind == "under5_mortality_rate" for ind, *_ in values)  # published next to mortality

    checked = 0
    for (period, area), c in counts.items():
        for level in ("th", "thcs", "thpt"):
            numerator, denominator, value = values[("dropout_rate", period, area, "total", level.upper())]
            assert (numerator, denominator) == (c[f"dropouts_{level}"], c[f"enrolled_start_{level}"]), (period, area, level)
            assert float(value) == pytest.approx(100 * float(numerator) / float(denominator), abs=5e-5)
            checked += 1
        minority = values[("dropout_rate", period, area, "minority", "total")]
        assert minority[:2] == (sum(c[f"dropouts_{lv}_minority"] for lv in ("th", "thcs", "thpt")),
                                sum(c[f"enrolled_start_{lv}_minority"] for lv in ("th", "thcs", "thpt")))
        ages = population[(period, area)]
        kindergarten = values[("kindergarten_attendance_rate_3_5", period, area, "total", "total")]
        assert kindergarten[:2] == (sum(c[f"mg_enrolled_start_age{a}"] for a in (3, 4, 5)), ages[3] + ages[4] + ages[5])
        age5 = values[("kindergarten_attendance_rate_age5", period, area, "total", "total")]
        assert age5[:2] == (c["mg_enrolled_start_age5"], ages[5])
        nursery = values[("nursery_attendance_rate", period, area, "total", "total")]
        assert nursery[0] == c["nursery_enrolled_start"]
        assert float(nursery[1]) == pytest.approx(0.75 * ages[0] + ages[1] + ages[2])
        checked += 1
    assert checked == 3 * 3 * 4  # 3 reporting years × 3 areas (01, 15, VN) × (3 levels + preschool)
