"""reports/<period>/sdmx/: the period's values as SDMX-CSV 1.0, with the data structure they follow.

One row per value of the period, at every level and breakdown. A suppressed, withheld or missing value keeps
its row with OBS_VALUE empty; OBS_STATUS and CONF_STATUS say why. The structure (dataflow DF_CHILD_STATS,
DSD DSD_CHILD_STATS, codelists) is the hand-written `sdmx_structure.xml` beside this module, copied next to
the data as structure.xml so that an SDMX tool can validate the file on its own.

Codes the DSD fixes:
- TIME_PERIOD: '2025' for a calendar year, '2025-S1' / '2025-S2' for a half-year, and for any other window
  (the report rounds, 15/12 to 14/6 or 14/12) an SDMX time range of the first day and the exact number of
  days, e.g. '2024-12-15/P182D'. REPORT_PERIOD keeps the project's own code ('2025-R6').
- SEX M/F, AGE Y0T5 ('0-5'), ETHNICITY KINH/MINORITY; `_T` for total there and in CATEGORY.
- UNIT_MEASURE from the catalogue's unit: '%' → PT, VND → VND, other counts → NUMBER, other rates the
  unit text in capitals with non-alphanumerics as '_' ('per 1,000 live births' → PER_1000_LIVE_BIRTHS).
  UNIT_MULT is always 0: values are stored in their unit, never in thousands.
- OBS_STATUS A (official), P (provisional), O (withheld, or no value); CONF_STATUS F (free),
  C (primary suppression), D (secondary suppression).
- REF_AREA_NAME carries the unit's name as it is: the csv module quotes commas, quotes and line breaks, and
  text is not altered for spreadsheets (this file is for SDMX tools, which must read the name unchanged).
"""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

from report.data import Period, ReportData, Value
from report.manifest import OutputFile

STRUCTURE_FILE = Path(__file__).with_name("sdmx_structure.xml")
DATAFLOW = "VN_CHILDSTATS:DF_CHILD_STATS(1.0)"
COLUMNS = ("DATAFLOW", "INDICATOR", "REF_AREA", "SEX", "AGE", "ETHNICITY", "CATEGORY", "TIME_PERIOD",
           "OBS_VALUE", "UNIT_MEASURE", "UNIT_MULT", "OBS_STATUS", "CONF_STATUS", "REPORT_PERIOD", "REF_AREA_NAME")

TOTAL_CODE = "_T"
SEX_CODES = {"total": TOTAL_CODE, "male": "M", "female": "F"}
AGE_CODES = {"total": TOTAL_CODE, "0-5": "Y0T5", "6-10": "Y6T10", "11-15": "Y11T15", "16-17": "Y16T17"}
ETHNICITY_CODES = {"total": TOTAL_CODE, "kinh": "KINH", "minority": "MINORITY"}


def time_period(period: Period) -> str:
    """The SDMX time of the period's window, judged by its dates so that a round is never taken for a half-year."""
    first, last, year = period.first_day, period.last_day, period.first_day.year
    calendar = {(date(year, 1, 1), date(year, 12, 31)): str(year),
                (date(year, 1, 1), date(year, 6, 30)): f"{year}-S1",
                (date(year, 7, 1), date(year, 12, 31)): f"{year}-S2"}
    return calendar.get((first, last)) or f"{first.isoformat()}/P{(last - first).days + 1}D"


def unit_measure(unit: str, kind: str) -> str:
    if unit == "%":
        return "PT"
    if unit == "VND":
        return "VND"
    if kind == "count":
        return "NUMBER"  # children, births, deaths...: the indicator says what is counted
    return re.sub(r"[^A-Z0-9]+", "_", unit.upper().replace(",", "")).strip("_")


def decimal_text(value: Decimal) -> str:
    """The exact decimal, without exponent or trailing zeros (numeric columns can come as 0E-20)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def obs_status(value: Value) -> str:
    if value.withheld or (value.value is None and not value.suppression):
        return "O"
    return "A" if value.approval_status == "official" else "P"


def conf_status(value: Value) -> str:
    if not value.suppression:
        return "F"
    return "D" if value.suppression.startswith("secondary") else "C"


def _code(codes: dict[str, str], value: str, dimension: str) -> str:
    try:
        return codes[value]
    except KeyError:
        # fail rather than write a code the shipped codelist does not have
        raise ValueError(f"{dimension} {value!r} has no SDMX code: add it to report/sdmx.py and its codelist in "
                         "report/sdmx_structure.xml") from None


def write_sdmx(data: ReportData, folder: Path) -> list[OutputFile]:
    period = data.period.period
    out = folder / "sdmx"
    out.mkdir(parents=True, exist_ok=True)
    when = time_period(data.period)
    units = {i.indicator_id: unit_measure(i.unit, i.kind) for i in data.indicators.values()}
    all_official = bool(data.values)
    csv_path = out / f"{period}.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)  # quotes any text with a comma, quote or line break
        writer.writerow(COLUMNS)
        for v in data.values:
            all_official = all_official and v.approval_status == "official"
            writer.writerow((
                DATAFLOW, v.indicator_id, v.admin_code,
                _code(SEX_CODES, v.sex, "sex"), _code(AGE_CODES, v.age_group, "age group"),
                _code(ETHNICITY_CODES, v.ethnicity, "ethnicity"),
                TOTAL_CODE if v.category == "total" else v.category, when,
                # only a published value is written: a suppressed cell must not leak through OBS_VALUE
                decimal_text(v.value) if v.status == "published" else "",
                units[v.indicator_id], "0", obs_status(v), conf_status(v), period, v.admin_name or "",
            ))
    shutil.copyfile(STRUCTURE_FILE, out / "structure.xml")
    status = "official" if all_official else "provisional"
    return [OutputFile(f"sdmx/{csv_path.name}", "sdmx", "VN", status, "data"),
            OutputFile("sdmx/structure.xml", "sdmx", "VN", status, "structure")]
