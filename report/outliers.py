"""The outliers of the report's period (published.indicator_outliers: rates far from their peers or from their
own history, by the modified z-score), the furthest out first. The view keeps only values the release publishes,
so nothing suppressed or withheld comes back through the report."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg

# a page lists the furthest out; the rest are a query away
SHOWN_PER_PAGE = 15


@dataclass(frozen=True)
class Outlier:
    indicator_id: str
    admin_level: str
    admin_code: str
    admin_name: str
    province_code: str | None
    compared_with: str     # peers or history
    value: Decimal
    median: Decimal
    modified_z: Decimal


def load_outliers(conn: psycopg.Connection, period: str) -> list[Outlier]:
    if conn.execute("select to_regclass('published.indicator_outliers') is null").fetchone()[0]:
        return []
    rows = conn.execute(
        """select indicator_id, admin_level, admin_code, coalesce(admin_name, admin_code), province_code, compared_with,
                  value, median, modified_z
             from published.indicator_outliers where period = %s
            order by abs(modified_z) desc, indicator_id, admin_code, compared_with""", (period,)).fetchall()
    return [Outlier(*row) for row in rows]


def outliers_of(outliers: list[Outlier], admin_code: str) -> list[Outlier]:
    """The nation's page: the provinces' outliers; a province's page: its own and its communes'."""
    if admin_code == "VN":
        return [o for o in outliers if o.admin_level == "province"][:SHOWN_PER_PAGE]
    return [o for o in outliers if o.province_code == admin_code or o.admin_code == admin_code][:SHOWN_PER_PAGE]
