"""Growth monitoring of children under 5 (sources.md, y_te_can_do), with WHO 2006 z-scores computed at
load by ingest.anthropometry."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ingest.anthropometry import zscore_columns
from ingest.feeds.common import SEX, geography_columns
from ingest.feeds.rules import broken_rows, not_before, not_in_future, years_later
from ingest.fields import Choice, DayMonthYear, DecimalNumber, RegistryId
from ingest.spec import FEEDS, Column, Derived, FeedSpec

# Physiological limits of a child under 5 (a value outside is a typing error, not a malnourished child;
# values inside but implausible for the age are kept and excluded later by WHO's z-score flags).
WEIGHT_KG = (0.5, 40.0)
LENGTH_HEIGHT_CM = (35.0, 130.0)
# A child measured standing must be able to stand: below 9 months a standing height is a recording error.
STANDING_FROM_DAYS = 274


def _under_five(columns: dict[str, pa.Array]):
    births, measured = columns["birth_date"], columns["measurement_date"]
    return [(i, "Ngày sinh", "the child is 5 years or older at the measurement; the feed covers children under 5")
            for i in broken_rows(pc.greater_equal(measured, years_later(births, 5)))]


def _position_fits_age(columns: dict[str, pa.Array]):
    births, measured, position = columns["birth_date"], columns["measurement_date"], columns["measurement_position"]
    days = pc.days_between(pc.cast(births, pa.date32()), pc.cast(measured, pa.date32()))
    standing_infant = pc.and_(pc.equal(position, "standing"), pc.less(days, STANDING_FROM_DAYS))
    return [(i, "Tư thế đo", f"measured standing (D) at {days[i].as_py()} days old: children under 9 months are "
                             "measured lying (N)") for i in broken_rows(standing_infant)]


ZSCORES = Derived(
    columns=(
        ("zscore_method", "text", "Standard and library that computed the z-scores at load."),
        ("age_days", "integer", "Age at the measurement in days (measurement date − birth date)."),
        ("height_adjusted_cm", "numeric",
         "Length/height as WHO's tables expect it: +0.7 cm for a child under 731 days measured standing, "
         "−0.7 cm for a child from 731 days measured lying."),
        ("haz", "numeric", "Length/height-for-age z-score (WHO 2006); null when it cannot be computed (see zscore_note)."),
        ("waz", "numeric", "Weight-for-age z-score (WHO 2006); null when it cannot be computed."),
        ("whz", "numeric", "Weight-for-length/height z-score (WHO 2006; length table under 731 days); null when "
                           "the length/height is outside the table (45–110 cm lying, 65–120 cm standing)."),
        ("zscore_note", "text", "Why a z-score could not be computed, if one could not."),
    ),
    compute=zscore_columns,
)

MEASUREMENTS = FEEDS.register(FeedSpec(
    name="y_te_can_do",
    description="Weighing and measuring of children under 5 from the commune growth-monitoring books, one row "
                "per measurement, with WHO 2006 z-scores computed at load.",
    reference_date="measurement_date",
    columns=(
        Column("Mã đối tượng", "monitoring_person_pseudonym", "text", RegistryId(namespace="y_te_can_do"),
               "Keyed pseudonym (HMAC-SHA256) of the person code in the monitoring book; the code itself is never stored."),
        Column("Ngày sinh", "birth_date", "date", DayMonthYear(), "Date of birth."),
        Column("Ngày cân đo", "measurement_date", "date", DayMonthYear(),
               "Date of the weighing and measuring; decides the period and the geography vintage."),
        Column("Giới tính", "sex", "text", Choice(choices=SEX, label="sex"), "Sex: male or female."),
        Column("Cân nặng (kg)", "weight_kg", "numeric",
               DecimalNumber(minimum=WEIGHT_KG[0], maximum=WEIGHT_KG[1], label="weight", unit=" kg"),
               "Weight in kg (delivered with a decimal comma or point)."),
        Column("Chiều cao (cm)", "length_height_cm", "numeric",
               DecimalNumber(minimum=LENGTH_HEIGHT_CM[0], maximum=LENGTH_HEIGHT_CM[1], label="length/height", unit=" cm"),
               "Length (lying) or height (standing) in cm, as measured."),
        Column("Tư thế đo", "measurement_position", "text",
               Choice(choices={"N": "lying", "D": "standing"}, label="measurement position"),
               "lying (N, nằm: length) or standing (D, đứng: height)."),
        Column("Phù", "has_oedema", "boolean", Choice(choices={"C": "t", "K": "f"}, label="oedema flag"),
               "Bilateral pitting oedema: C (yes) / K (no)."),
        *geography_columns(),
    ),
    row_rules=(not_before("measurement_date", "Ngày cân đo", "birth_date", "measurement date"),
               not_in_future("measurement_date", "Ngày cân đo"), _under_five, _position_fits_age),
    derived=(ZSCORES,),
))
