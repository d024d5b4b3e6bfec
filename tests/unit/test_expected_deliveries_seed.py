"""The expected deliveries seed against the feed registry: every feed has a default row (every province,
open-ended, with its days to deliver), no row names a feed the loader does not know, and each feed's period
type is the one its loader keys deliveries by (audit.batch_coverage.period_key)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from ingest.feeds import FEEDS

SEED = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "catalogue" / "expected_deliveries.csv"
PERIOD_KEY_OF_TYPE = {"half_year": r"\d{4}-H[12]", "snapshot_half_year": r"\d{4}-\d{2}-\d{2}", "year": r"\d{4}",
                      "school_year": r"\d{4}-\d{4}"}


def test_every_feed_is_expected_from_every_province_by_default():
    rows = list(csv.DictReader(SEED.open(encoding="utf-8")))
    defaults = {row["feed"]: row for row in rows if not row["province_code"] and not row["last_period"]}
    assert set(defaults) == {spec.name for spec in FEEDS}
    assert {row["feed"] for row in rows} <= set(defaults)
    for spec in FEEDS:
        row = defaults[spec.name]
        assert row["expected"] == "true" and int(row["due_days_after_period_end"]) > 0, spec.name
        assert re.fullmatch(PERIOD_KEY_OF_TYPE[row["period_type"]], spec.period_of("2025-03-31")), spec.name
