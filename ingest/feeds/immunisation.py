"""Immunisation doses from the national immunisation registry (sources.md, y_te_tiem_chung)."""

from __future__ import annotations

import csv
from functools import lru_cache

from ingest.feeds.common import SEX, geography_columns
from ingest.feeds.rules import not_before, not_in_future
from ingest.fields import Choice, DayMonthYear, PersonalId, RegistryId, Text
from ingest.geography import REFERENCE_DIR
from ingest.spec import FEEDS, Column, FeedSpec


@lru_cache(maxsize=1)
def vaccine_codes() -> dict[str, str]:
    """Vaccine code → itself, from the reference seed the warehouse also loads (dbt/seeds/reference)."""
    with open(REFERENCE_DIR / "vaccines.csv", encoding="utf-8", newline="") as handle:
        return {row["vaccine_code"]: row["vaccine_code"] for row in csv.DictReader(handle)}


DOSES = FEEDS.register(FeedSpec(
    name="y_te_tiem_chung",
    description="Vaccine doses from the national immunisation registry, one row per dose given.",
    reference_date="dose_date",
    columns=(
        Column("Mã đối tượng", "registry_person_pseudonym", "text", RegistryId(namespace="y_te_tiem_chung"),
               "Keyed pseudonym (HMAC-SHA256) of the registry's person code: links a child's doses; "
               "the code itself is never stored."),
        Column("Mã định danh", "personal_id_pseudonym", "text", PersonalId(required=False),
               "Keyed pseudonym (HMAC-SHA256) of the 12-digit personal ID, when given; the ID itself is never stored."),
        Column("Họ và tên", "full_name", "text", Text(required=False, max_length=200),
               "Name as delivered. Personal data: kept in raw only, never selected by staging."),
        Column("Ngày sinh", "birth_date", "date", DayMonthYear(), "Date of birth."),
        Column("Giới tính", "sex", "text", Choice(choices=SEX, label="sex"), "Sex: male or female."),
        *geography_columns(),
        Column("Mã vắc xin", "vaccine_code", "text", Choice(choices=vaccine_codes(), label="vaccine code"),
               "Vaccine and dose (reference.vaccines), e.g. BCG, VGB_SS, 5IN1_1, OPV_3, SOI_1."),
        Column("Ngày tiêm", "dose_date", "date", DayMonthYear(),
               "Date the dose was given; decides the period and the geography vintage of the residence."),
    ),
    row_rules=(not_before("dose_date", "Ngày tiêm", "birth_date", "dose date"),
               not_in_future("dose_date", "Ngày tiêm"), not_in_future("birth_date", "Ngày sinh")),
))
