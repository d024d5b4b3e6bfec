"""WHO 2006 z-scores as computed at load (ingest.anthropometry), checked against PUBLISHED WHO values rather
than against the library that computes them.

Reference: WHO Child Growth Standards, "expanded tables" (z-scores by day of age, and by 0.1 cm of length or
height), https://www.who.int/tools/child-growth-standards/standards — the SD columns (SD3neg … SD3) of:
  lhfa-boys-zscore-expanded-tables, lhfa-girls-zscore-expanded-tables   (length/height-for-age, by day)
  wfa-boys-zscore-expanded-tables,  wfa-girls-zscore-expanded-tables    (weight-for-age, by day)
  wfl-girls-zscore-expanded-tables                                      (weight-for-length, 45–110 cm)
  wfh-boys-zscore-expanded-tables                                       (weight-for-height, 65–120 cm)
A measurement equal to a table's SD2neg (SD2) value has a z-score of −2 (+2) by definition; tables are
printed to 3 decimals, hence the tolerance.
"""

from __future__ import annotations

import pytest

from ingest.anthropometry import LENGTH_BELOW_DAYS, MEASURE_CORRECTION_CM, adjusted_length_height, zscores

TOLERANCE = 0.005


def test_length_for_age_boy_365_days():
    # WHO lhfa-boys-zscore-expanded-tables, day 365: SD2neg 70.987 cm (M 75.7391, L 1, S 0.03137).
    z = zscores("male", 365, 9.0, 70.987, "lying")
    assert z["haz"] == pytest.approx(-2.0, abs=TOLERANCE)
    assert z["height_adjusted_cm"] == 70.987  # lying below 731 days: no correction


def test_weight_for_age_girl_365_days():
    # WHO wfa-girls-zscore-expanded-tables, day 365: SD2neg 7.041 kg.
    z = zscores("female", 365, 7.041, 74.0, "lying")
    assert z["waz"] == pytest.approx(-2.0, abs=TOLERANCE)


def test_weight_for_height_boy_100_cm():
    # WHO wfh-boys-zscore-expanded-tables, height 100.0 cm: SD2neg 13.087 kg (1100 days: the height table).
    z = zscores("male", 1100, 13.087, 100.0, "standing")
    assert z["whz"] == pytest.approx(-2.0, abs=TOLERANCE)
    assert z["height_adjusted_cm"] == 100.0  # standing from 731 days: no correction


def test_weight_for_length_girl_70_cm():
    # WHO wfl-girls-zscore-expanded-tables, length 70.0 cm: SD2 9.851 kg (365 days: the length table).
    z = zscores("female", 365, 9.851, 70.0, "lying")
    assert z["whz"] == pytest.approx(2.0, abs=TOLERANCE)


def test_height_for_age_girl_1000_days_standing():
    # WHO lhfa-girls-zscore-expanded-tables, day 1000: SD2neg 85.487 cm (a height: standing from 731 days).
    z = zscores("female", 1000, 12.0, 85.487, "standing")
    assert z["haz"] == pytest.approx(-2.0, abs=TOLERANCE)


def test_height_for_age_girl_1000_days_measured_lying_is_corrected_by_minus_0_7_cm():
    # WHO lhfa-girls-zscore-expanded-tables, day 1000: SD2neg 85.487 cm; measured lying from 731 days, WHO
    # subtracts 0.7 cm (WHO 2006 Child Growth Standards, ch. 7), so 86.187 cm lying is the same −2.
    lying = zscores("female", 1000, 12.0, 86.187, "lying")
    standing = zscores("female", 1000, 12.0, 85.487, "standing")
    assert lying["haz"] == pytest.approx(-2.0, abs=TOLERANCE)
    assert lying["height_adjusted_cm"] == pytest.approx(85.487)
    # The corrected height is the one used for weight-for-height too.
    assert (lying["haz"], lying["whz"]) == (standing["haz"], standing["whz"])


def test_weight_above_plus_3_sd_follows_who_restricted_rule():
    # WHO wfa-boys-zscore-expanded-tables, day 0: SD3 5.031 kg, SD2 4.419 kg. Above +3 SD WHO does not use the
    # LMS curve but the distance between SD2 and SD3 (WHO 2006 §5.2, "restricted application of the LMS
    # method"): z = 3 + (x − SD3) / (SD3 − SD2).
    expected = 3 + (5.5 - 5.031) / (5.031 - 4.419)
    assert expected == pytest.approx(3.766, abs=0.001)
    z = zscores("male", 0, 5.5, 50.0, "lying")
    assert z["waz"] == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("age_days,position,measured,expected", [
    (200, "standing", 65.0, 65.7),   # standing below 731 days: +0.7 cm
    (730, "standing", 80.0, 80.7),   # the last day of the length table
    (730, "lying", 80.0, 80.0),
    (731, "standing", 80.0, 80.0),   # from 731 days a height is expected
    (731, "lying", 80.7, 80.0),      # lying from 731 days: −0.7 cm
])
def test_adjusted_length_height(age_days, position, measured, expected):
    assert LENGTH_BELOW_DAYS == 731 and MEASURE_CORRECTION_CM == 0.7
    assert adjusted_length_height(age_days, measured, position) == pytest.approx(expected)


def test_a_standing_measurement_under_731_days_is_scored_as_length_plus_0_7_cm():
    # WHO lhfa-boys-zscore-expanded-tables, day 365: SD2neg 70.987 cm. Measured standing at 70.287 cm, the child
    # is 70.987 cm long: HAZ −2, and weight-for-length uses the corrected value as well.
    standing = zscores("male", 365, 9.0, 70.287, "standing")
    lying = zscores("male", 365, 9.0, 70.987, "lying")
    assert standing["height_adjusted_cm"] == pytest.approx(70.987)
    assert standing["haz"] == pytest.approx(-2.0, abs=TOLERANCE)
    assert (standing["haz"], standing["waz"], standing["whz"]) == (lying["haz"], lying["waz"], lying["whz"])
    assert standing["note"] is None


@pytest.mark.parametrize("age_days,height_cm,position", [
    (1100, 125.0, "standing"),   # above the weight-for-height table (65–120 cm)
    (1800, 130.0, "standing"),
    (200, 44.0, "lying"),        # below the weight-for-length table (45–110 cm)
])
def test_weight_for_height_outside_the_table_is_none_with_a_note(age_days, height_cm, position):
    z = zscores("male", age_days, 15.0, height_cm, position)
    assert z["whz"] is None
    assert z["note"] and z["note"].startswith("WHZ:")
    assert z["haz"] is not None and z["waz"] is not None  # the other z-scores are still given


@pytest.mark.parametrize("age_days,height_cm,position", [
    (1100, 60.0, "standing"),    # below the weight-for-height table: WHO gives no WHZ (library: from the wfl table)
    (1100, 64.8, "standing"),    # 0.2 cm below the table: the library takes the 65.0 cm row
    (1100, 120.2, "standing"),   # 0.2 cm above the table: the library takes the 120.0 cm row
    (400, 112.0, "lying"),       # above the weight-for-length table: WHO gives no WHZ (library: from the wfh table)
])
def test_weight_for_height_just_or_well_outside_the_table_is_none(age_days, height_cm, position):
    z = zscores("male", age_days, 15.0, height_cm, position)
    assert z["whz"] is None and z["note"]
