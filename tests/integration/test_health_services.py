"""The immunisation (y_te_tiem_chung) and growth-monitoring (y_te_can_do) feeds against a real PostgreSQL: load
with quarantine and audit, z-scores and pseudonyms in raw, and the immunisation raw suite's record-level checks,
which warn on a slip and block when it touches too many children of a province and half-year."""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from ingest.anthropometry import zscores
from ingest.feeds.growth import MEASUREMENTS
from ingest.feeds.immunisation import DOSES
from ingest.loader import load_file
from ingest.pseudonymise import pseudonymisation_key
from pipeline.dbt import run_dbt
from quality import run_suites

pytestmark = pytest.mark.integration

KEY = "test-key-" + "h" * 32
# Columns in an order of the file's own (matched by header, not position).
DOSE_HEADER = ["Mã vắc xin", "Ngày tiêm", "Mã xã", "Họ và tên", "Mã đối tượng", "Ngày sinh", "Mã tỉnh", "Giới tính",
               "Mã định danh"]
GROWTH_HEADER = ["Mã đối tượng", "Ngày sinh", "Ngày cân đo", "Giới tính", "Cân nặng (kg)", "Chiều cao (cm)",
                 "Tư thế đo", "Phù", "Mã tỉnh", "Mã xã"]
# Real communes in the 2025 vintage (dbt/seeds/reference/admin_units_2025.csv): Ba Đình (Hà Nội) and Thủ Dầu Một
# (Hồ Chí Minh); 00004 is also a Hà Nội commune (Trúc Bạch) before 1 July 2025.
HANOI, HANOI_COMMUNE = "01", "00004"
HCMC, HCMC_COMMUNE = "79", "25747"
SUITE = "raw_y_te_tiem_chung"

@pytest.fixture
def warehouse(fresh_warehouse, monkeypatch):
    monkeypatch.setenv("PSEUDONYMISATION_KEY", KEY)
    pseudonymisation_key.cache_clear()
    yield fresh_warehouse
    pseudonymisation_key.cache_clear()

@pytest.fixture
def seeded_warehouse(warehouse):
    """With reference.vaccines, which the suite's dose checks join, loaded by dbt as the DAG does."""
    run_dbt("seed", "--select", "vaccines")
    return warehouse

def query(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()

def write_csv(path: Path, header: list[str], rows: list[dict | list], *, bom: bool = False) -> Path:
    """Rows as {header: cell} in the header's order (csv quotes a decimal comma), or as raw lists of cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header] if isinstance(row, dict) else row)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    return path

def load(url: str, spec, path: Path):
    with psycopg.connect(url, autocommit=True) as conn:
        return load_file(conn, spec, path)

def dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")

def dose(code: str, vaccine: str, on: str, born: str = "01/03/2025", personal_id: str = "", sex: str = "Nữ",
         province: str = HANOI, commune: str = HANOI_COMMUNE, name: str = "Nguyễn Thị Bình") -> dict:
    return {"Mã đối tượng": code, "Mã định danh": personal_id, "Họ và tên": name, "Ngày sinh": born,
            "Giới tính": sex, "Mã tỉnh": province, "Mã xã": commune, "Mã vắc xin": vaccine, "Ngày tiêm": on}

def measurement(code: str, born: str, on: str, weight: str, height: str, position: str, sex: str = "Nữ",
                oedema: str = "K") -> dict:
    return {"Mã đối tượng": code, "Ngày sinh": born, "Ngày cân đo": on, "Giới tính": sex, "Cân nặng (kg)": weight,
            "Chiều cao (cm)": height, "Tư thế đo": position, "Phù": oedema, "Mã tỉnh": HANOI, "Mã xã": HANOI_COMMUNE}

# ---- loading -------------------------------------------------------------------------------------------------

def test_both_feeds_load_with_quarantine_audit_z_scores_and_no_clear_ids(warehouse, tmp_path):
    future = date.today() + timedelta(days=20)
    doses = [
        dose("TC0001", "BCG", "01/03/2025", personal_id="001225001234"),                   # 2: on the birth date
        dose("TC0001", "5IN1_1", "05/05/2025", personal_id="001225001234"),                # 3
        dose("TC0002", "5in1_1", "15/08/2025", born="10/06/2025", sex="Nam",               # 4: lower case, no ID,
             name="Trần Văn Cường"),                                                       #    after the reform
        dose("TC0003", "BCG", "01/03/2025", born="31/02/2025"),                            # 5: impossible date
        dose("", "BCG", "01/03/2025"),                                                     # 6: no person code
        dose("TC0005", "BCG", "01/03/2025", personal_id="00122500X234"),                   # 7: malformed ID
        dose("TC0006", "BCG", "01/03/2025", sex="X"),                                      # 8: sex
        dose("TC0007", "ABC_1", "01/03/2025"),                                             # 9: vaccine code
        dose("TC0008", "OPV_1", "15/08/2025", born="10/06/2025", commune=HCMC_COMMUNE),    # 10: commune elsewhere
        dose("TC0009", "OPV_1", "15/08/2025", born="10/06/2025", province="02"),           # 11: no such province
        dose("TC0010", "5IN1_1", "20/02/2025", personal_id="001225001010"),                # 12: before birth
        dose("TC0011", "OPV_1", dmy(future), born="10/06/2025"),                           # 13: in the future
        ["BCG", "01/03/2025", HANOI_COMMUNE, "Lê Văn Dũng", "TC0012", "01/03/2025", HANOI, "Nam", "", "ghi chú"],
        dose("TC0013", "VGB_SS", "01/03/2025", personal_id="1225001313"),                  # 15: ID lost its zero
    ]
    dose_file = write_csv(tmp_path / "tiem_chung_hn.csv", DOSE_HEADER, doses, bom=True)
    born_1100_days_before = dmy(date(2025, 9, 5) - timedelta(days=1100))
    growth = [
        measurement("CD0001", "15/03/2024", "10/09/2025", "9,2", "75,5", "N"),               # 2: 544 days, lying
        measurement("CD0002", "01/01/2023", "01/10/2025", "13,4", "91,7", "N", sex="Nam"),   # 3: lying from 731 days
        measurement("CD0003", "01/01/2025", "28/10/2025", "8.4", "70", "D"),                 # 4: standing at 300 days
        measurement("CD0004", "01/01/2025", "28/10/2025", "12,5,3", "70", "N"),              # 5: weight
        measurement("CD0005", "01/01/2025", "20/07/2025", "7,5", "66", "D"),                 # 6: standing at 200 days
        measurement("CD0006", "10/09/2020", "10/09/2025", "17,5", "108", "D"),               # 7: fifth birthday
        measurement("CD0007", born_1100_days_before, "05/09/2025", "24", "125", "D"),        # 8: no WHZ above 120 cm
        measurement("CD0008", "01/01/2025", "28/10/2025", "8,4", "250", "N"),                # 9: length
    ]
    growth_file = write_csv(tmp_path / "can_do_hn.csv", GROWTH_HEADER, growth)

    dose_result = load(warehouse, DOSES, dose_file)
    growth_result = load(warehouse, MEASUREMENTS, growth_file)
    assert (dose_result.status, dose_result.rows_read, dose_result.rows_loaded, dose_result.rows_quarantined) == (
        "loaded", 14, 4, 10)
    assert (growth_result.status, growth_result.rows_read, growth_result.rows_loaded,
            growth_result.rows_quarantined) == ("loaded", 8, 4, 4)

    batches = query(warehouse, "select feed, rows_read, rows_loaded, rows_quarantined, status,"
                               " pseudonymisation_key_id is not null from audit.load_batches order by batch_id")
    assert batches == [("y_te_tiem_chung", 14, 4, 10, "loaded", True), ("y_te_can_do", 8, 4, 4, "loaded", True)]
    assert all(read == loaded + quarantined for _, read, loaded, quarantined, _, _ in batches)

    rejected = query(warehouse, "select feed, line_number, column_name, reason from quarantine.rejected_rows"
                                " order by feed, line_number")
    vaccine_reason = next(r for f, line, _, r in rejected if f == "y_te_tiem_chung" and line == 9)
    assert vaccine_reason.startswith("vaccine code 'ABC_1' is not one of: BCG, VGB_SS, 5IN1_1")
    assert [row for row in rejected if row[0] == "y_te_tiem_chung"] == [
        ("y_te_tiem_chung", 5, "Ngày sinh", "date '31/02/2025' does not exist"),
        ("y_te_tiem_chung", 6, "Mã đối tượng", "required value is missing"),
        ("y_te_tiem_chung", 7, "Mã định danh", "personal ID is not 12 digits"),
        ("y_te_tiem_chung", 8, "Giới tính", "sex 'X' is not one of: Nam, Nữ"),
        ("y_te_tiem_chung", 9, "Mã vắc xin", vaccine_reason),
        ("y_te_tiem_chung", 10, "Mã xã", "commune 25747 is in province 79, not 01 (from 1 July 2025)"),
        ("y_te_tiem_chung", 11, "Mã tỉnh", "province 02 does not exist from 1 July 2025 (the row's date is 2025-08-15)"),
        ("y_te_tiem_chung", 12, "Ngày tiêm", "dose date 2025-02-20 is before the birth date 2025-03-01"),
        ("y_te_tiem_chung", 13, "Ngày tiêm", f"date {future.isoformat()} is in the future"),
        ("y_te_tiem_chung", 14, None, "the row has 10 cells but the header has 9"),
    ]
    assert [row for row in rejected if row[0] == "y_te_can_do"] == [
        ("y_te_can_do", 5, "Cân nặng (kg)", "weight '12,5,3' is not a number (digits with one decimal comma or point)"),
        ("y_te_can_do", 6, "Tư thế đo",
         "measured standing (D) at 200 days old: children under 9 months are measured lying (N)"),
        ("y_te_can_do", 7, "Ngày sinh",
         "the child is 5 years or older at the measurement; the feed covers children under 5"),
        ("y_te_can_do", 9, "Chiều cao (cm)", "length/height 250 cm is outside the physiological limits 35–130 cm"),
    ]

    # Growth: decimal commas read, and the z-scores of the good rows computed on the corrected length/height.
    measured = query(warehouse, "select line_number, weight_kg::float8, length_height_cm::float8, measurement_position,"
                                " age_days, height_adjusted_cm::float8, haz::float8, waz::float8, whz::float8,"
                                " zscore_note, zscore_method from raw.y_te_can_do order by line_number")
    assert [row[:6] for row in measured] == [
        (2, 9.2, 75.5, "lying", 544, 75.5),
        (3, 13.4, 91.7, "lying", 1004, pytest.approx(91.0)),
        (4, 8.4, 70.0, "standing", 300, pytest.approx(70.7)),
        (8, 24.0, 125.0, "standing", 1100, 125.0),
    ]
    for line, weight, _, _, age, adjusted, haz, waz, whz, note, method in measured:
        sex = "male" if line == 3 else "female"
        expected = zscores(sex, age, weight, adjusted, "lying" if age < 731 else "standing")
        assert haz == pytest.approx(expected["haz"], abs=1e-4) and waz == pytest.approx(expected["waz"], abs=1e-4)
        assert method.startswith("WHO 2006 Child Growth Standards")
        if line == 8:  # 125 cm is above the weight-for-height table: no WHZ, and the reason kept
            assert whz is None and note.startswith("WHZ:")
        else:
            assert whz == pytest.approx(expected["whz"], abs=1e-4) and note is None
    assert None not in [value for row in measured for value in row[6:8]]

    # Immunisation: pseudonyms only, in raw and in quarantine.
    loaded = query(warehouse, "select line_number, vaccine_code, registry_person_pseudonym, personal_id_pseudonym,"
                              " admin_vintage, period_key from raw.y_te_tiem_chung order by line_number")
    assert [(r[0], r[1], r[4], r[5]) for r in loaded] == [
        (2, "BCG", "pre_2025_07", "2025-H1"), (3, "5IN1_1", "pre_2025_07", "2025-H1"),
        (4, "5IN1_1", "2025_07", "2025-H2"), (15, "VGB_SS", "pre_2025_07", "2025-H1")]
    assert all(len(r[2]) == 64 for r in loaded)
    assert loaded[0][2] == loaded[1][2] != loaded[2][2]            # one child, one pseudonym
    assert loaded[0][3] == loaded[1][3] and loaded[2][3] is None   # a blank ID stays null
    assert len(loaded[3][3]) == 64
    clear = ["TC00", "001225001234", "1225001234", "00122500X234", "001225001010", "1225001313", "001225001313"]
    raw_text = "\n".join(text for (text,) in query(warehouse, "select t::text from raw.y_te_tiem_chung as t"))
    quarantine_text = "\n".join(text for (text,) in query(
        warehouse, "select concat_ws(' ', reason, errors::text, record::text) from quarantine.rejected_rows"))
    for value in clear:
        assert value not in raw_text and value not in quarantine_text
    assert "CD00" not in "\n".join(text for (text,) in query(warehouse, "select t::text from raw.y_te_can_do as t"))
    assert query(warehouse, "select record->>'Họ và tên', starts_with(record->>'Mã đối tượng', 'pseudonym:')"
                            " from quarantine.rejected_rows where feed = 'y_te_tiem_chung' and line_number = 12") == [
        ("Nguyễn Thị Bình", True)]

def test_a_file_whose_only_record_is_malformed_is_quarantined_not_failed(warehouse, tmp_path):
    # An unquoted comma in the name: 10 cells under a header of 9.
    path = tmp_path / "tiem_chung_one_bad_row.csv"
    path.write_text(",".join(DOSE_HEADER) + "\nBCG,01/03/2025,00004,Nguyễn, Thị Bình,TC0009,01/03/2025,01,Nữ,\n",
                    encoding="utf-8")
    result = load(warehouse, DOSES, path)
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("loaded", 1, 0, 1)

# ---- the raw suite: record-level slips -----------------------------------------------------------------------

CHILDREN = 200

def delivery(tmp_path: Path, name: str, *, twice: int = 0, out_of_order: int = 0) -> Path:
    """Hà Nội: 200 children with 5IN1_1 and 5IN1_2 in 2025-H2, `twice` of them with 5IN1_1 keyed twice and
    `out_of_order` of them with 5IN1_2 dated before 5IN1_1; Hồ Chí Minh: 50 clean children."""
    rows = []
    for province, commune, prefix, children in ((HANOI, HANOI_COMMUNE, "HN", CHILDREN),
                                                (HCMC, HCMC_COMMUNE, "HCM", 50)):
        for i in range(children):
            born = date(2025, 5, 1) + timedelta(days=i % 28)
            first, second = born + timedelta(days=70), born + timedelta(days=100)  # July to September 2025
            if province == HANOI and i < out_of_order:
                first, second = second, first
            code = f"{prefix}{i:04d}"
            common = dict(born=dmy(born), province=province, commune=commune, personal_id=f"0012250{i:05d}")
            rows.append(dose(code, "5IN1_1", dmy(first), **common))
            rows.append(dose(code, "5IN1_2", dmy(second), **common))
            if province == HANOI and i < twice:
                rows.append(dose(code, "5IN1_1", dmy(first), **common))
    path = write_csv(tmp_path / name, DOSE_HEADER, rows)
    stamp = time.time() + len(list(tmp_path.iterdir()))
    os.utime(path, (stamp, stamp))
    return path

def failing(url: str, run_id: str) -> set[tuple]:
    return set(query(url, "select expectation, severity, admin_code, period from audit.quality_results"
                          " where suite = %s and run_id = %s and not success", SUITE, run_id))

def messages(outcome, severity: str) -> list[str]:
    return [m for m in outcome.messages if m.startswith(severity + ":")]

TWICE_WARNING = "no dose recorded twice for the same child and date"
TWICE_ERROR = "doses recorded twice touch at most 1 % of a province's children (or 5)"
ORDER_WARNING = "doses of a series in order (dose 2 not before dose 1 of the same antigen)"
ORDER_ERROR = "doses out of order touch at most 1 % of a province's children (or 5)"

def test_a_dose_recorded_twice_warns_for_one_child_and_blocks_for_ten_of_200(seeded_warehouse, tmp_path):
    url = seeded_warehouse
    result = load(url, DOSES, delivery(tmp_path, "v1.csv", twice=1))
    assert (result.rows_read, result.rows_loaded) == (2 * CHILDREN + 1 + 100, 2 * CHILDREN + 1 + 100)
    outcome = run_suites([SUITE], run_id="twice-1")
    assert not outcome.blocked
    assert failing(url, "twice-1") == {(TWICE_WARNING, "warning", HANOI, "2025-H2")}
    [warning] = messages(outcome, "warning")
    assert "1 child(ren) of 200 with a dose recorded twice on the same date" in warning

    # A corrected-for-the-worse delivery of the same province and half-year replaces the first one.
    result = load(url, DOSES, delivery(tmp_path, "v2.csv", twice=10))
    assert result.rows_superseded == 2 * CHILDREN + 1 + 100
    outcome = run_suites([SUITE], run_id="twice-10")
    assert outcome.blocked
    assert failing(url, "twice-10") == {(TWICE_WARNING, "warning", HANOI, "2025-H2"),
                                        (TWICE_ERROR, "error", HANOI, "2025-H2")}
    [error] = messages(outcome, "error")
    assert f"province {HANOI}" in error and "2025-H2" in error
    assert "10 of 200 children (5.0 %) have a dose recorded twice" in error

def test_doses_out_of_order_warn_for_one_child_and_block_for_ten_of_200(seeded_warehouse, tmp_path):
    url = seeded_warehouse
    load(url, DOSES, delivery(tmp_path, "v1.csv", out_of_order=1))
    outcome = run_suites([SUITE], run_id="order-1")
    assert not outcome.blocked
    assert failing(url, "order-1") == {(ORDER_WARNING, "warning", HANOI, "2025-H2")}
    [warning] = messages(outcome, "warning")
    assert "1 child(ren) with doses out of order, e.g. 5IN1 dose 2 on" in warning

    load(url, DOSES, delivery(tmp_path, "v2.csv", out_of_order=10))
    outcome = run_suites([SUITE], run_id="order-10")
    assert outcome.blocked
    assert failing(url, "order-10") == {(ORDER_WARNING, "warning", HANOI, "2025-H2"),
                                        (ORDER_ERROR, "error", HANOI, "2025-H2")}
    [error] = messages(outcome, "error")
    assert f"province {HANOI}" in error and "2025-H2" in error
    assert "10 of 200 children (5.0 %) have doses out of order" in error
