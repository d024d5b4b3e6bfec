"""End to end: the child register and abuse cases through the real Airflow DAG. Published totals equal an
independent computation from the JSON-lines files; small counts are suppressed with no single suppressed
cell left to recover by subtraction; and no personal ID, pseudonym, name or birth date reaches marts or
published."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import psycopg
import pytest
from landing_reader import completed_years, current_province, periods_of, to_current_province

from pipeline.airflow_local import run_dag
from synthetic import generate_abuse_cases_feed, generate_child_register_feed

pytestmark = pytest.mark.e2e

PROVINCES = ("01", "15")
PERIODS = ("2024-H1", "2024-H2", "2025-H1", "2025-H2")
SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "reference"
# Thông tư 07/2016/TT-BCA, Phụ lục I: the province of birth registration is 0 + the 63 old province codes
with open(SEEDS / "admin_units_pre2025.csv", encoding="utf-8") as seed:
    BIRTH_PROVINCES = {"0" + row["province_code"] for row in csv.DictReader(seed)}


def id_verdict(child: dict) -> str:
    """The personal ID's verdict, computed here from the rule (ingest.personal_ids is what is tested)."""
    pid = str(child.get("ma_dinh_danh") or "")
    if not pid:
        return "missing"
    padded = pid.zfill(12) if pid.isdigit() and not pid.startswith("0") else pid
    if not re.fullmatch(r"\d{12}", padded) or padded[:3] not in BIRTH_PROVINCES:
        return "malformed"
    century, sex = divmod(int(padded[3]), 2)
    born = f"{19 + century}{padded[4:6]}"
    return "valid" if born == child["ngay_sinh"][:4] and sex == (child["gioi_tinh"] == "nu") else "inconsistent"


def _objects(landing: Path, feed: str, quarantined: set | None):
    """The objects of a feed's files; without `quarantined`, every line that parses (for the scan)."""
    for path in sorted((landing / feed).iterdir()):
        with open(path, encoding="utf-8-sig") as handle:
            for line, text in enumerate(handle, start=1):
                if not text.strip() or (quarantined is not None and (path.name, line) in quarantined):
                    continue
                try:
                    item = json.loads(text)
                except json.JSONDecodeError:
                    if quarantined is not None:
                        raise
                    continue
                if isinstance(item, dict):
                    yield item


def _register_expected(landing, quarantined, to_new):
    """(indicator, period, area) -> (numerator, denominator) from each province's latest snapshot."""
    snapshots = defaultdict(list)  # (own province, snapshot date) -> children
    for child in _objects(landing, "ldxh_tre_em", quarantined):
        snapshots[(child["ma_tinh"], child["ngay_cap_nhat"])].append(child)
    chosen = {}  # (period, own province) -> latest snapshot date
    for province, snapshot in snapshots:
        for period in periods_of(date.fromisoformat(snapshot)):
            chosen[(period, province)] = max(chosen.get((period, province), ""), snapshot)
    post = {(period, province) for (period, province), snapshot in chosen.items() if snapshot >= "2025-07-01"}
    counts = defaultdict(Counter)
    for (period, province), snapshot in chosen.items():
        day = date.fromisoformat(snapshot)
        current = current_province(province, day, to_new)
        if day < date(2025, 7, 1) and (period, current) in post:
            continue  # the new province's own snapshot of the period is used instead
        for child in snapshots[(province, snapshot)]:
            age = completed_years(date.fromisoformat(child["ngay_sinh"]), day)
            groups = bool(child["hcdb"])
            for area in (current, "VN"):
                c = counts[(period, area)]
                c["children"] += 1
                c["special"] += groups
                c["assisted"] += groups and child["tro_giup"]["duoc_tro_giup"]
                if groups and child["tro_giup"]["duoc_tro_giup"]:
                    for form in {form.strip().lower() for form in child["tro_giup"].get("hinh_thuc") or []}:
                        c["tro_giup:" + form] += 1
                c["aged_5_15"] += 5 <= age <= 15
                c["labour"] += 5 <= age <= 15 and child["lao_dong"] == "trai_quy_dinh"
                c["with_id"] += id_verdict(child) == "valid"
                c["under5"] += age < 5
                c["under5_with_id"] += age < 5 and id_verdict(child) == "valid"
    expected = {}
    # every unit gets every form delivered anywhere, 0 where none of its children received it
    forms = {key for c in counts.values() for key in c if key.startswith("tro_giup:")}
    for (period, area), c in counts.items():
        expected[("special_circumstances_rate", period, area)] = (c["special"], c["children"])
        expected[("special_circumstances_assisted_rate", period, area)] = (c["assisted"], c["special"])
        expected[("child_labour_rate", period, area)] = (c["labour"], c["aged_5_15"])
        expected[("register_id_completeness_rate", period, area)] = (c["with_id"], c["children"])
        expected[("register_id_completeness_rate_under5", period, area)] = (c["under5_with_id"], c["under5"])
        for category in forms:
            expected[("special_circumstances_assisted_by_form_rate", period, area, category)] = (c[category], c["special"])
    return expected


def _abuse_expected(landing, quarantined, to_new):
    children, cases, offenders, handled = defaultdict(set), Counter(), Counter(), Counter()
    for case in _objects(landing, "ldxh_xam_hai", quarantined):
        day = date.fromisoformat(case["ngay_phat_hien"])
        current = current_province(case["ma_tinh"], day, to_new)
        for period in periods_of(day):
            for area in (current, "VN"):
                cases[(period, area)] += 1
                offenders[(period, area)] += case["so_doi_tuong"]
                handled[("cases", case["xu_ly"], period, area)] += 1
                handled[("offenders", case["xu_ly"], period, area)] += case["so_doi_tuong"]
                for number, victim in enumerate(case["nan_nhan"], start=1):
                    children[(period, area)].add(victim.get("ma_dinh_danh") or f"{case['ma_vu']}:{number}")
    expected = {}
    for key in cases:
        expected[("abused_children", *key)] = (len(children[key]), None)
        expected[("abuse_cases", *key)] = (cases[key], None)
        expected[("abuse_offenders", *key)] = (offenders[key], None)
        expected[("abuse_cases_criminal", *key)] = (handled[("cases", "hinh_su", *key)], None)
        expected[("abuse_offenders_criminal", *key)] = (handled[("offenders", "hinh_su", *key)], None)
        expected[("abuse_offenders_administrative", *key)] = (handled[("offenders", "hanh_chinh", *key)], None)
    return expected


def _personal_values(landing):
    ids, names, births = set(), set(), set()
    for child in _objects(landing, "ldxh_tre_em", None):
        if len(str(child.get("ma_dinh_danh") or "")) >= 9:  # placeholders such as 123 identify nobody
            ids.add(str(child.get("ma_dinh_danh")))
        names.add(str(child.get("ho_ten")))
        births.add(str(child.get("ngay_sinh")))
    for case in _objects(landing, "ldxh_xam_hai", None):
        for victim in case.get("nan_nhan") or []:
            if isinstance(victim, dict) and victim.get("ma_dinh_danh"):
                ids.add(str(victim["ma_dinh_danh"]))
    return ids, names, births


def test_child_affairs_publish_protected_values_that_match_the_files(fresh_warehouse, tmp_path):
    landing = tmp_path / "landing"
    generate_child_register_feed(landing, scale=0.005, seed=17, provinces=PROVINCES, invalid_rate=0.005)
    generate_abuse_cases_feed(landing, scale=1.0, seed=17, periods=PERIODS, provinces=PROVINCES, invalid_rate=0.01)
    assert run_dag(fresh_warehouse, landing, airflow_home=tmp_path / "airflow") == 0

    with psycopg.connect(fresh_warehouse) as conn:
        quarantined = {(name, line) for name, line in conn.execute(
            "select file_name, line_number from quarantine.rejected_rows")}
        rows = conn.execute(
            """select indicator_id, period, admin_level, admin_code, sex, age_group, category, numerator, denominator,
                      value, suppression
                 from published.indicator_values""").fetchall()
        rules = dict(conn.execute("select indicator_id, min_count from reference.disclosure_rules").fetchall())
        ids, names, births = _personal_values(landing)
        leaks = _scan(conn, ids | names, births)
        quality = conn.execute(
            """select sum(records_counted), sum(records_quarantined), sum(records_id_missing), sum(records_id_malformed),
                      sum(records_id_inconsistent), sum(records_complete)
                 from published.register_data_quality""").fetchone()
        cleanup = Counter(conn.execute(
            "select problem_kind from quarantine.register_cleanup_list").fetchall())
        register_quarantined = conn.execute(
            "select count(*) from quarantine.rejected_rows where feed = 'ldxh_tre_em'").fetchone()[0]
        scorecard = conn.execute(
            """select s.current_province_code, s.period, s.register_id_completeness_pct, v.value,
                      s.deliveries_received, s.rows_read
                 from published.quality_scorecard as s
                 left join published.indicator_values as v
                   on v.indicator_id = 'register_id_completeness_rate' and v.admin_level = 'province'
                  and v.admin_code = s.current_province_code and v.period = s.period and v.sex = 'total'
                where s.period = '2025-H1'""").fetchall()
        # the scorecard per feed sums to the scorecard
        unsummed = conn.execute(
            """select count(*) from published.quality_scorecard as s
                 full join (select current_province_code, period, sum(deliveries_expected) as expected,
                                   sum(deliveries_received) as received, sum(rows_read) as read,
                                   sum(rows_quarantined) as quarantined, count(*) as feeds
                              from published.quality_scorecard_feeds group by 1, 2) as f
                   on f.current_province_code = s.current_province_code and f.period = s.period
                where (s.deliveries_expected, s.deliveries_received, s.rows_read, s.rows_quarantined)
                      is distinct from (f.expected, f.received, f.read, f.quarantined)""").fetchone()[0]
        register_feed = conn.execute(
            """select sum(rows_quarantined) from published.quality_scorecard_feeds
                where feed = 'ldxh_tre_em' and period = '2025-H1'""").fetchone()[0]
        # outliers: the published view against the values it names, and the night's warnings
        shown = conn.execute(
            """select o.indicator_id, o.value, v.value, v.suppression, v.withheld
                 from published.indicator_outliers as o
                 left join published.indicator_values as v
                   on v.indicator_id = o.indicator_id and v.period = o.period and v.admin_level = o.admin_level
                  and v.admin_code = o.admin_code and v.sex = 'total' and v.age_group = 'total'
                  and v.ethnicity = 'total' and v.category = 'total'""").fetchall()
        scored = conn.execute(
            """select count(*), count(*) filter (where v.suppression is not null),
                      (select count(distinct (admin_code, period)) from marts.fct_indicator_outliers)
                 from marts.fct_indicator_outliers as o
                 join published.indicator_values as v
                   on v.indicator_id = o.indicator_id and v.period = o.period and v.admin_level = o.admin_level
                  and v.admin_code = o.admin_code and v.sex = 'total' and v.age_group = 'total'
                  and v.ethnicity = 'total' and v.category = 'total'""").fetchone()
        warned = conn.execute(
            """select count(*), min(message) from audit.quality_results
                where suite = 'marts_indicator_values' and not success and severity = 'warning'
                  and expectation like 'rate is not an outlier%%'
                  and run_id = (select run_id from audit.pipeline_runs order by started_at desc limit 1)""").fetchone()

    to_new = to_current_province()
    totals = {(ind, period, code): (num, den) for ind, period, level, code, sex, age, cat, num, den, _, _ in rows
              if level in ("national", "province") and sex == "total" and age == "total" and cat == "total"}
    expected = {**_register_expected(landing, quarantined, to_new), **_abuse_expected(landing, quarantined, to_new)}
    # assistance by form (category tro_giup:<form>): a form given to fewer than 5 children of a province is
    # suppressed, and so may be another province's (secondary); the rest equals the files' count
    by_form = {key: expected.pop(key) for key in [key for key in expected if len(key) == 4]}
    published_forms = {(period, code, cat): (num, den, flag) for ind, period, level, code, sex, age, cat, num, den, _, flag
                       in rows if ind == "special_circumstances_assisted_by_form_rate"}
    periods = {period for _, period, _, _ in by_form}  # years and half-years (report rounds re-cut them)
    assert len(by_form) >= 20
    assert {key for key in published_forms if key[0] in periods} == {key[1:] for key in by_form}
    for (_, period, area, category), (numerator, denominator) in by_form.items():
        got_numerator, got_denominator, flag = published_forms[(period, area, category)]
        assert got_denominator == denominator, (period, area, category)
        assert got_numerator == (None if flag else numerator), (period, area, category)
        assert flag is None or numerator < 5 or flag.startswith("secondary"), (period, area, category, flag)
    for key, (numerator, denominator) in expected.items():
        assert key in totals, key
        assert totals[key][0] == numerator and (denominator is None or totals[key][1] == denominator), key
    assert len(expected) > 40

    # Disclosure control: no small count of a sensitive indicator at commune level or in a breakdown...
    sensitive = [row for row in rows if row[0] in rules]
    exposed = [row for row in sensitive if row[10] is None and row[7] is not None and 0 < row[7] < rules[row[0]]
               and (row[2] == "commune" or any(part != "total" for part in row[4:7]))
               and row[0] in ("abused_children", "abuse_cases", "children_special_circumstances", "child_labourers")]
    assert exposed == []
    suppressed = [row for row in sensitive if row[10] is not None]
    assert suppressed and all(row[7] is None and row[9] is None for row in suppressed)
    assert any(row[10].startswith("secondary") for row in suppressed)
    # ... and no total with its sex breakdown (total, male, female) has exactly one suppressed cell, which
    # could be recovered by subtraction
    by_sex = defaultdict(dict)
    for ind, period, level, code, sex, age, cat, _num, _, _, flag in sensitive:
        if age == "total" and not cat.startswith("hinh_thuc:"):
            by_sex[(ind, period, level, code, cat)][sex] = flag
    groups = {key: cells for key, cells in by_sex.items() if "total" in cells and len(cells) > 1}
    exposed_groups = {key: cells for key, cells in groups.items() if sum(flag is not None for flag in cells.values()) == 1}
    assert groups and exposed_groups == {}

    assert leaks == []

    # Outliers (issue 14): the view shows only values the release publishes, never a suppressed one, though the
    # mart scores suppressed commune values too; every scored unit and period is a warning of the night
    outliers, suppressed_outliers, places = scored
    assert outliers > 0 and suppressed_outliers > 0
    assert shown and all(value == published_value and flag is None and reason is None
                         for _, value, published_value, flag, reason in shown)
    assert len(shown) <= outliers - suppressed_outliers
    assert warned[0] == places and "modified z" in warned[1]

    # Issue 14: children without a valid ID count (above), and the data-quality table and the clean-up list
    # account for every record of the register's files
    verdicts = Counter(id_verdict(child) for child in _objects(landing, "ldxh_tre_em", quarantined))
    assert verdicts["missing"] and verdicts["malformed"] and verdicts["inconsistent"]
    assert quality == (sum(verdicts.values()), register_quarantined, verdicts["missing"], verdicts["malformed"],
                       verdicts["inconsistent"], verdicts["valid"])
    assert {kind: n for (kind,), n in cleanup.items() if kind in ("missing", "malformed", "inconsistent")} == \
        {kind: verdicts[kind] for kind in ("missing", "malformed", "inconsistent")}
    assert sum(cleanup.values()) == verdicts["missing"] + verdicts["malformed"] + verdicts["inconsistent"] + \
        register_quarantined
    assert unsummed == 0 and register_feed > 0
    # the scorecard of each province carries its ID completeness as published, and its deliveries
    delivered = [row for row in scorecard if row[4] > 0]  # every province is owed deliveries; two sent them
    assert {code for code, *_ in delivered} == set(PROVINCES)
    assert all(card == round(value, 2) and read > 0 for _, _, card, value, _, read in delivered)


def _scan(conn, values: set[str], births: set[str]) -> list[str]:
    """Every column of every table and view in marts and published: no personal ID, name or pseudonym as a
    value, and no column that could hold a birth date (a date column holding one of the children's)."""
    leaks = []
    columns = conn.execute(
        """select table_schema, table_name, column_name, data_type from information_schema.columns
            where table_schema in ('marts', 'published') order by 1, 2, 3""").fetchall()
    for schema, table, column, data_type in columns:
        relation = f'"{schema}"."{table}"'
        if data_type in ("text", "character varying", "jsonb", "json", "ARRAY"):
            hit = conn.execute(
                f"""select count(*) from {relation}
                     where "{column}"::text = any(%s) or "{column}"::text ~ '[0-9a-f]{{64}}'""",
                (list(values),)).fetchone()[0]
            if hit:
                leaks.append(f"{schema}.{table}.{column}: {hit} personal value(s)")
        elif data_type == "date" and "birth" in column:
            leaks.append(f"{schema}.{table}.{column}: a birth date column")
        elif data_type == "date":
            hit = conn.execute(f'select count(*) from {relation} where "{column}"::text = any(%s)'
                               f" and {relation}.\"{column}\" < date '2025-01-01' - interval '1 year'",
                               (list(births),)).fetchone()[0]
            calendars = (("marts", "dim_period"), ("marts", "dim_indicator"), ("published", "dim_period"),
                         ("marts", "fct_feed_completeness"), ("published", "feed_completeness"))
            if hit and (schema, table) not in calendars:  # first and last days of periods
                leaks.append(f"{schema}.{table}.{column}: {hit} value(s) equal to a child's birth date")
    return leaks
