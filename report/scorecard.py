"""The quality scorecard of the report's period (published.quality_scorecard): per province, deliveries
received and on time, rows quarantined, register ID completeness, outliers and withheld values; and per feed
(published.quality_scorecard_feeds), which feed held a province back."""

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


# the inbound feeds as the sectors call them (the folder name follows in the report)
FEED_LABELS = {
    "y_te_sinh": "Sổ sinh (y tế)", "y_te_tu_vong": "Sổ tử vong (y tế)", "y_te_tiem_chung": "Tiêm chủng (y tế)",
    "y_te_can_do": "Cân đo trẻ em (y tế)", "giao_duc_hoc_sinh": "Học sinh (giáo dục)",
    "ldxh_tre_em": "Hệ thống quản lý thông tin trẻ em", "ldxh_xam_hai": "Vụ việc xâm hại trẻ em",
    "dan_so": "Ước tính dân số (thống kê)", "bao_cao_tong_hop": "Báo cáo tổng hợp của xã",
}


@dataclass(frozen=True)
class FeedScorecard:
    province_code: str
    feed: str
    deliveries_expected: int
    deliveries_received: int
    deliveries_on_time: int
    deliveries_missing: int
    rows_read: int
    rows_quarantined: int
    quarantine_rate_pct: Decimal | None

    @property
    def label(self) -> str:
        return f"{FEED_LABELS.get(self.feed, self.feed)} ({self.feed})"


def load_feed_scorecard(conn: psycopg.Connection, period: str) -> list[FeedScorecard]:
    if conn.execute("select to_regclass('published.quality_scorecard_feeds') is null").fetchone()[0]:
        return []
    rows = conn.execute(
        """select current_province_code, feed, deliveries_expected, deliveries_received, deliveries_on_time,
                  deliveries_missing, rows_read, rows_quarantined, quarantine_rate_pct
             from published.quality_scorecard_feeds where period = %s
            order by current_province_code, feed""", (period,)).fetchall()
    return [FeedScorecard(*row) for row in rows]
