"""The report outputs of a real release (stand-in marts, release_standins.py) on a real PostgreSQL, read
back as their users read them: workbooks with openpyxl, CSV with the csv module, the manifest as JSON.
Every number in a workbook is compared with published for that unit and period."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import openpyxl
import psycopg
import pytest
from release_standins import create_marts, deliver_everything, record_gate

from publish.approval import approve
from publish.release import create_release
from report.__main__ import main as report_main
from report.render import render_period
from warehouse.roles import role_url

pytestmark = pytest.mark.integration

SUITES = ["raw_y_te_sinh", "marts_indicator_values"]
NASTY_NAME = '=HYPERLINK("http://x","y")'
MALE_U5MR_15_H1 = {"indicator_id": "under5_mortality_rate", "admin_level": "province", "admin_code": "15",
                   "period": "2025-H1", "sex": "male", "age_group": "total", "ethnicity": "total",
                   "category": "total", "detail": "value 95 outside [0, 60]"}


@pytest.fixture
def released(fresh_warehouse):
    """A release with Lào Cai's male under-5 rate of 2025-H1 withheld, a commune named like a formula, and
    Hà Nội's 2025-H1 approved."""
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        create_marts(conn)
        conn.execute("update marts.fct_published_values set admin_name = %s where admin_code = '00004'", (NASTY_NAME,))
        conn.execute("update marts.dim_admin_unit set admin_name = %s where admin_code = '00004'", (NASTY_NAME,))
        deliver_everything(conn)
        record_gate(conn, "run-1", SUITES, pinned=[MALE_U5MR_15_H1])
        create_release("run-1", SUITES)
    with psycopg.connect(role_url("approver", fresh_warehouse), autocommit=True) as conn:
        approve(conn, "2025-H1", "01", "Nguyễn Thị Thống Kê", "đã rà soát", False, None)
    return fresh_warehouse


@pytest.fixture
def rendered(released, tmp_path):
    with psycopg.connect(role_url("report_reader", released), autocommit=True) as conn:
        return render_period(conn, "2025-H1", tmp_path)


def published_values(url: str, period: str) -> dict:
    """(indicator, level, code, sex) → (value, status) as a report shows them: official where approved."""
    with psycopg.connect(url) as conn:
        approved = {code for (code,) in conn.execute(
            "select admin_code from published.current_approvals where period = %s", (period,))}
        rows = conn.execute(
            """select indicator_id, admin_level, admin_code, sex, value, coalesce(province_code, 'VN'), 'official'
                 from published.official_values where period = %(p)s
               union all
               select indicator_id, admin_level, admin_code, sex, value, coalesce(province_code, 'VN'), 'provisional'
                 from published.indicator_values where period = %(p)s""", {"p": period}).fetchall()
    return {tuple(r[:4]): r[4] for r in rows if (r[5] in approved) == (r[6] == "official")}


def test_the_manifest_lists_every_file_written(rendered):
    manifest = json.loads((rendered.folder / "manifest.json").read_text(encoding="utf-8"))
    written = {str(p.relative_to(rendered.folder)) for p in rendered.folder.rglob("*")
               if p.is_file() and p.name != "manifest.json"}
    assert {entry["path"] for entry in manifest["files"]} == written
    assert {entry["kind"] for entry in manifest["files"]} == {"workbook", "csv", "sdmx", "html"}
    for entry in manifest["files"]:
        assert set(entry) >= {"path", "kind", "admin_code", "release_id", "approval_status"}
        assert entry["release_id"] == rendered.release_id
    workbooks = {e["admin_code"]: e["approval_status"] for e in manifest["files"] if e["kind"] == "workbook"}
    assert workbooks == {"VN": "provisional", "01": "official", "15": "provisional"}
    pages = {e["admin_code"] for e in manifest["files"] if e["kind"] == "html"}
    assert pages == {"VN", "01", "15"}


def test_every_workbook_number_equals_published(released, rendered):
    expected = published_values(released, "2025-H1")
    compared = 0
    for path in (rendered.folder / "workbooks").glob("*.xlsx"):
        book = openpyxl.load_workbook(path)
        code = "toan-quoc" if path.stem.endswith("toan-quoc") else path.stem.rsplit("-", 1)[1]
        unit = ("national", "VN") if code == "toan-quoc" else ("province", code)
        group = book["PLI nhóm II"]
        for row in group.iter_rows(min_row=6, values_only=True):
            if row[11] is None:
                continue
            want = expected[(row[11], *unit, "total")]
            assert _cell(row[4]) == _number(want), (path.name, row)
            compared += 1
        for row in book["Phân tổ"].iter_rows(min_row=6, values_only=True):
            sex = {"Giới tính: Nam": "male", "Giới tính: Nữ": "female"}[row[3]]
            assert _cell(row[4]) == _number(expected[(row[7], *unit, sex)]), (path.name, row)
            compared += 1
        units = book["Tỉnh, thành phố" if code == "toan-quoc" else "Xã, phường"]
        for row in units.iter_rows(min_row=6, values_only=True):
            level = "province" if code == "toan-quoc" else "commune"
            assert _cell(row[4]) == _number(expected[(row[8], level, row[0], "total")]), (path.name, row)
            compared += 1
    assert compared == 3 * 3 + 3 * 2 * 3 + 2 * 3 + 3  # totals, sex cells, provinces, one commune


def _cell(cell):
    return Decimal(str(cell)).quantize(Decimal("0.0001")) if isinstance(cell, (int, float)) else cell


def _number(value):
    return ".." if value is None else Decimal(value).quantize(Decimal("0.0001"))


def test_workbooks_show_symbols_status_and_print_as_filed(rendered):
    book = openpyxl.load_workbook(rendered.folder / "workbooks" / "bao-cao-2025-H1-15.xlsx")
    for sheet in book.worksheets:
        assert sheet["A3"].value.startswith("SỐ LIỆU SƠ BỘ"), sheet.title
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize in (9, "9")
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert [s.title for s in book.worksheets][:2] == ["Bìa", "PLI nhóm I"]
    breakdowns = book["Phân tổ"]
    assert breakdowns.freeze_panes == "A6" and breakdowns.print_title_rows == "$5:$5"
    male = next(r for r in breakdowns.iter_rows(min_row=6)
                if r[7].value == "under5_mortality_rate" and r[3].value == "Giới tính: Nam")
    assert male[4].value == ".." and male[4].data_type == "s"   # withheld: a symbol, never a number
    numbers = [r[4] for r in breakdowns.iter_rows(min_row=6) if r[4].value != ".."]
    assert numbers and all(c.data_type == "n" and c.number_format != "General" for c in numbers)
    cover = {r[0].value: r[1].value for r in book["Bìa"].iter_rows(min_row=5) if r[0].value}
    assert cover["Đơn vị báo cáo"] == "Tỉnh Lào Cai (mã 15)" and cover["Người phê duyệt"] == "Chưa phê duyệt"
    legend = [r[0].value for r in book["Ghi chú"].iter_rows() if r[0].value in ("x", "..", "-")]
    assert legend == ["x", "..", "-"]

    approved = openpyxl.load_workbook(rendered.folder / "workbooks" / "bao-cao-2025-H1-01.xlsx")
    assert approved["Bìa"]["A3"].value.startswith("SỐ LIỆU CHÍNH THỨC")
    cover = {r[0].value: r[1].value for r in approved["Bìa"].iter_rows(min_row=5) if r[0].value}
    assert cover["Người phê duyệt"].startswith("Nguyễn Thị Thống Kê")


def test_text_from_data_is_never_a_formula(rendered):
    book = openpyxl.load_workbook(rendered.folder / "workbooks" / "bao-cao-2025-H1-01.xlsx")
    names = [r[1] for r in book["Xã, phường"].iter_rows(min_row=6)]
    assert names and all(c.value == NASTY_NAME and c.data_type == "s" for c in names)
    for path in (rendered.folder / "csv" / "data").glob("*.csv"):
        for row in csv.reader(path.open(encoding="utf-8")):
            assert not any(cell.startswith("=") for cell in row), path.name


def test_tidy_csv_holds_the_published_values_of_the_period(released, rendered):
    expected = published_values(released, "2025-H1")
    with open(rendered.folder / "csv" / "data" / "indicator_under5_mortality_rate.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["Period", "Sex", "GeoCode", "Units", "Value"]
    levels = {"VN": "national", "01": "province", "15": "province", "00004": "commune"}
    of_period = {(r["GeoCode"], r["Sex"] or "total"): Decimal(r["Value"]) for r in rows if r["Period"] == "2025-H1"}
    want = {(code, sex): value for (indicator, level, code, sex), value in expected.items()
            if indicator == "under5_mortality_rate" and value is not None}
    assert of_period == {key: Decimal(value) for key, value in want.items()}
    assert ("15", "male") not in of_period  # withheld: no row
    assert set(levels) >= {code for code, _ in of_period}


def test_make_report_cli_renders_a_period_and_refuses_an_unknown_one(released, tmp_path, capsys):
    assert report_main(["--period", "2025", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "2025" / "manifest.json").exists()
    assert report_main(["--period", "1999-H1", "--out", str(tmp_path)]) == 1
    assert "1999-H1 is not in release" in capsys.readouterr().err


# --- targets and the BI layer ----------------------------------------------------------------------------

@pytest.fixture
def clean_release(fresh_warehouse):
    """Every value published (no failed check); national targets for 2025 and 2030, and Lào Cai's own."""
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        create_marts(conn)
        conn.execute("""insert into marts.dim_indicator_target values
            ('under5_mortality_rate', 'VN', 2030, 18, 'at_most', 'year', 2020, 22.3, 'test'),
            ('under5_mortality_rate', '15', 2030, 15, 'at_most', 'year', 2023, 26, 'Lào Cai''s own programme')""")
        deliver_everything(conn)
        record_gate(conn, "run-1", SUITES)
        create_release("run-1", SUITES)
    return fresh_warehouse


def test_target_progress_by_hand(clean_release):
    with psycopg.connect(role_url("report_reader", clean_release)) as conn:
        rows = conn.execute(
            """select admin_code, target_scope, target_year, baseline_year, baseline_value, latest_year, latest_value,
                      gap, is_met, projected_value, is_on_track
                 from published.target_progress order by admin_code, target_year""").fetchall()
    # U5MR is 20‰ everywhere in 2025 (the only year published).
    assert rows == [
        # Hà Nội has no target of its own: the national ones, against its first published year (2025)
        ("01", "VN", 2025, 2025, Decimal(20), 2025, Decimal(20), Decimal("1.5"), False, None, False),
        ("01", "VN", 2030, 2025, Decimal(20), 2025, Decimal(20), Decimal(2), False, None, None),
        # Lào Cai's own target replaces the national ones; trend from its baseline 26‰ (2023):
        # 20 + (20 − 26) / 2 × 5 = 5‰ in 2030, on track for ≤ 15
        ("15", "15", 2030, 2023, Decimal(26), 2025, Decimal(20), Decimal(5), False, Decimal(5), True),
        # the nation: 2025 is the target year itself (met or not is final, the projection is the value); for
        # 2030 the trend from 22.3‰
        # (2020): 20 + (20 − 22.3) / 5 × 5 = 17.7‰, on track for ≤ 18
        ("VN", "VN", 2025, 2020, Decimal("22.3"), 2025, Decimal(20), Decimal("1.5"), False, Decimal(20), False),
        ("VN", "VN", 2030, 2020, Decimal("22.3"), 2025, Decimal(20), Decimal(2), False, Decimal("17.7"), True),
    ]


def test_the_workbook_shows_the_target_and_progress(clean_release, tmp_path):
    with psycopg.connect(role_url("report_reader", clean_release), autocommit=True) as conn:
        rendered = render_period(conn, "2025", tmp_path)
    rows = {}
    for code in ("toan-quoc", "15"):
        book = openpyxl.load_workbook(rendered.folder / "workbooks" / f"bao-cao-2025-{code}.xlsx")
        rows[code] = next(r for r in book["PLI nhóm II"].iter_rows(min_row=6, values_only=True)
                          if r[11] == "under5_mortality_rate")
    # the nation: 20‰ against ≤ 18.5 by 2025 (the first target year not before 2025); not met, and 2025 is the
    # target year itself; Lào Cai: its own ≤ 15 by 2030, not met yet, on track (5‰ projected)
    assert rows["toan-quoc"][4] == 20 and rows["toan-quoc"][7:11] == (18.5, 2025, "Chưa đạt", "Chậm tiến độ")
    assert rows["15"][7:11] == (15, 2030, "Chưa đạt", "Đúng tiến độ")


def test_the_bi_layer_joins_without_orphans_and_explains_every_column(clean_release):
    with psycopg.connect(role_url("report_reader", clean_release)) as conn:
        facts, orphans = conn.execute(
            """select count(*), count(*) filter (where i.indicator_id is null or p.period is null or u.admin_key is null)
                 from published.fact_indicator_values as f
                 left join published.dim_indicator as i using (indicator_id)
                 left join published.dim_period as p using (period)
                 left join published.dim_admin_unit as u using (admin_key)""").fetchone()
        assert facts == conn.execute("select count(*) from published.indicator_values").fetchone()[0] > 0
        assert orphans == 0
        lao_cai = conn.execute("select admin_name, names_before_2025 from published.dim_admin_unit"
                               " where admin_key = 'province:15'").fetchone()
        assert lao_cai == ("Tỉnh Lào Cai", "Tỉnh Lào Cai (10); Tỉnh Yên Bái (15)")
        assert conn.execute("select aggregation_rule from published.dim_indicator where kind = 'rate'"
                            ).fetchone()[0].startswith("sum(numerator) * multiplier / sum(denominator)")
        undocumented = conn.execute(
            """select c.table_name || '.' || c.column_name from information_schema.columns as c
                where c.table_schema = 'published'
                  and c.table_name in ('fact_indicator_values', 'dim_indicator', 'dim_period', 'dim_admin_unit',
                                       'target_progress', 'targets')
                  and col_description(format('published.%I', c.table_name)::regclass, c.ordinal_position) is null
            """).fetchall()
        assert undocumented == []


def test_sdmx_holds_every_value_of_the_period_as_published(released, rendered):
    from pysdmx.io import get_datasets

    expected = published_values(released, "2025-H1")
    folder = rendered.folder / "sdmx"
    [dataset] = get_datasets(folder / "2025-H1.csv", folder / "structure.xml")
    sexes = {"_T": "total", "M": "male", "F": "female"}
    levels = {2: "province", 5: "commune"}
    got = {}
    for row in dataset.data.to_dict("records"):
        level = "national" if row["REF_AREA"] == "VN" else levels[len(row["REF_AREA"])]
        value = None if row["OBS_VALUE"] != row["OBS_VALUE"] else row["OBS_VALUE"]  # NaN: not published
        got[(row["INDICATOR"], level, row["REF_AREA"], sexes[row["SEX"]])] = (value, row["OBS_STATUS"])
        assert row["TIME_PERIOD"] == "2025-S1" and row["REPORT_PERIOD"] == "2025-H1"
    assert set(got) == set(expected)
    for key, want in expected.items():
        value, status = got[key]
        assert (value is None) == (want is None) and (want is None or value == pytest.approx(float(want))), key
        assert status == ("O" if want is None else "A" if key[2] in ("01", "00004") else "P"), key


def test_a_night_that_changed_nothing_keeps_the_outputs_and_an_approval_renders_them_again(released, tmp_path):
    with psycopg.connect(role_url("report_reader", released), autocommit=True) as conn:
        first = render_period(conn, "2025-H1", tmp_path)
        written = (tmp_path / "2025-H1" / "manifest.json").stat().st_mtime_ns
        again = render_period(conn, "2025-H1", tmp_path)
    assert again.seconds == 0.0 and again.counts() == first.counts() and again.release_id == first.release_id
    assert (tmp_path / "2025-H1" / "manifest.json").stat().st_mtime_ns == written  # not made again
    with psycopg.connect(role_url("approver", released), autocommit=True) as conn:
        approve(conn, "2025-H1", "15", "Nguyễn Thị Thống Kê", "đã rà soát", True, None)
    with psycopg.connect(role_url("report_reader", released), autocommit=True) as conn:
        after = render_period(conn, "2025-H1", tmp_path)
    assert after.seconds > 0 and (tmp_path / "2025-H1" / "manifest.json").stat().st_mtime_ns != written
