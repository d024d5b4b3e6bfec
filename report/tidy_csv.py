"""Tidy CSV per indicator in the Open SDG data format, with a metadata file beside it.

A data file holds the report's period at every level and breakdown, and the earlier periods of the same
type (national and province totals) so that it is a time series. Columns: `Year` (or `Period` for half-years
and report rounds), one column per disaggregation (empty on the headline rows), `GeoCode` (VN, province or
commune code), `Units`, `Value`. Values that are not published (suppressed, withheld, without denominator)
have no row: Open SDG reads a missing row as no data, and an empty Value could be taken for zero. The SDMX
file keeps those rows with their status.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from report.data import BREAKDOWNS, Indicator, ReportData, Value
from report.labels import LEGEND, STATUS_LABEL, is_formula_like
from report.manifest import OutputFile

DISAGGREGATIONS = {"sex": "Sex", "age_group": "Age", "ethnicity": "Ethnicity", "category": "Category"}


def _text(text: str | None) -> str:
    """OWASP CSV injection: a cell a spreadsheet would run as a formula gets a leading apostrophe."""
    text = text or ""
    return "'" + text if is_formula_like(text) else text


def _number(value) -> str:
    return format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)


def write_tidy_csv(data: ReportData, folder: Path) -> list[OutputFile]:
    period = data.period
    status = "official" if all(u.status == "official" for u in data.units) else "provisional"
    time_column = "Year" if period.period_type == "year" else "Period"
    rows_by_indicator: dict[str, list[Value]] = {}
    for value in [*data.series, *data.values]:
        if value.value is not None and (value.period == period.period or value.is_total):
            rows_by_indicator.setdefault(value.indicator_id, []).append(value)
    (folder / "csv" / "data").mkdir(parents=True, exist_ok=True)
    (folder / "csv" / "meta").mkdir(parents=True, exist_ok=True)
    files = []
    for indicator_id, indicator in sorted(data.indicators.items()):
        if period.period_type not in indicator.period_types:
            continue
        values = rows_by_indicator.get(indicator_id, [])
        seen = set()
        columns = [b for b in BREAKDOWNS if b in indicator.breakdowns]
        data_path = f"csv/data/indicator_{indicator_id}.csv"
        with open(folder / data_path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([time_column, *(DISAGGREGATIONS[c] for c in columns), "GeoCode", "Units", "Value"])
            for value in sorted(values, key=_order):
                key = (value.period, value.admin_level, value.admin_code, value.breakdown)
                if key in seen:  # the report's period is in the series too
                    continue
                seen.add(key)
                time = value.period if time_column == "Period" else int(value.period)
                cells = ["" if getattr(value, c) == "total" else _text(getattr(value, c)) for c in columns]
                writer.writerow([time, *cells, value.admin_code, _text(indicator.unit), _number(value.value)])
        meta_path = f"csv/meta/indicator_{indicator_id}.yml"
        (folder / meta_path).write_text(yaml.safe_dump(_metadata(data, indicator, status), allow_unicode=True,
                                                       sort_keys=False, width=110), encoding="utf-8")
        files += [OutputFile(data_path, "csv", "VN", status), OutputFile(meta_path, "csv", "VN", status, "metadata")]
    return files


def _order(value: Value) -> tuple:
    level = {"national": 0, "province": 1, "commune": 2}[value.admin_level]
    return (value.period, level, value.admin_code, value.breakdown)


def _metadata(data: ReportData, indicator: Indicator, status: str) -> dict:
    period = data.period
    targets = [{"scope": t.scope, "year": t.target_year, "value": float(t.target_value), "direction": t.direction,
                "source": t.source} for t in data.targets if t.indicator_id == indicator.indicator_id]
    return {
        "indicator_id": indicator.indicator_id,
        "indicator_name": indicator.name_vi,
        "indicator_name_en": indicator.name_en,
        "tt13_annex": indicator.annex,
        "tt13_code": indicator.tt13_code,
        "tt13_group": indicator.indicator_group,
        "computation_units": indicator.unit,
        "computation_units_vi": indicator.unit_vi,
        "kind": indicator.kind,
        "numerator": indicator.numerator_definition,
        "denominator": indicator.denominator_definition,
        "computation_method": ("numerator × multiplier / denominator, each summed over the unit and period "
                               "(rates are never averaged)" if indicator.kind == "rate" else "count over the unit and period"),
        "multiplier": float(indicator.multiplier) if indicator.multiplier is not None else None,
        "disaggregations": list(indicator.breakdowns),
        "source_feeds": (indicator.source_feeds or "").split("|"),
        "responsible_agency": indicator.responsible_agency,
        "legal_basis": indicator.legal_basis,
        "notes": indicator.notes,
        "is_sensitive": indicator.is_sensitive,
        "period": period.period,
        "period_type": period.period_type,
        "data_window": f"{period.first_day:%Y-%m-%d}/{period.last_day:%Y-%m-%d}",
        "preliminary_until": f"{period.data_until:%Y-%m-%d}" if period.is_preliminary and period.data_until else None,
        "release_id": data.release_id,
        "status": STATUS_LABEL[status],
        "geocodes": "VN = Việt Nam; 2 digits = province, 5 digits = commune (geography from 1 July 2025)",
        "series": (f"{period.period} at every level and breakdown; earlier periods of the same type as national "
                   "and province totals"),
        "missing_rows": "Values not published have no row: " + "; ".join(f"{en.lower()}" for _, _, en in LEGEND),
        "targets": targets,
    }
