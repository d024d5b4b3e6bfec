"""The quality scorecard of the report's period (published.quality_scorecard): per province, deliveries
received and on time, rows quarantined, register ID completeness, outliers and withheld values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg


@dataclass(frozen=True)
class Scorecard:
    province_code: str
    province_name: str
    deliveries_expected: int
    deliveries_received: int
    deliveries_on_time: int
    deliveries_missing: int
    reporting_rate_pct: Decimal | None
    quarantine_rate_pct: Decimal | None
    register_id_completeness_pct: Decimal | None
    outliers: int
    withheld_values: int


def load_scorecard(conn: psycopg.Connection, period: str) -> list[Scorecard]:
    if conn.execute("select to_regclass('published.quality_scorecard') is null").fetchone()[0]:
        return []
    rows = conn.execute(
        """select current_province_code, coalesce(current_province_name, current_province_code), deliveries_expected,
                  deliveries_received, deliveries_on_time, deliveries_missing, reporting_rate_pct, quarantine_rate_pct,
                  register_id_completeness_pct, outliers, withheld_values
             from published.quality_scorecard where period = %s
            order by reporting_rate_pct nulls first, withheld_values desc, current_province_code""",
        (period,)).fetchall()
    return [Scorecard(*row) for row in rows]
