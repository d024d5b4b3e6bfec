"""Columns and code lists shared by the feeds of several sectors (sources.md, shared rules)."""

from __future__ import annotations

from ingest.fields import Code
from ingest.spec import Column

ETHNICITY_CODES = frozenset(f"{n:02d}" for n in range(1, 55))
SEX = {"Nam": "male", "Nữ": "female"}
SEX_WITH_UNKNOWN = {**SEX, "Không xác định": "unknown"}


def geography_columns(header_province: str = "Mã tỉnh", header_commune: str = "Mã xã") -> tuple[Column, Column]:
    return (
        Column(header_province, "province_code", "text", Code(width=2, label="province code"),
               "Province code (2 digits) in the vintage of the reference date."),
        Column(header_commune, "commune_code", "text", Code(width=5, label="commune code"),
               "Commune code (5 digits) in the vintage of the reference date."),
    )
