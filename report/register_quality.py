"""The child register's data quality for the report's period (published.register_data_quality): per current
province and commune, the records of each province's latest snapshot dated within the period, what is wrong
with them and the share complete. Counts only; the records to fix are in quarantine.register_cleanup_list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from report.data import Period


@dataclass(frozen=True)
class RegisterQuality:
    province_code: str          # current province
    commune_code: str | None    # current commune; None for the province's total
    admin_name: str
    snapshot_date: date
    records_delivered: int
    records_without_valid_id: int
    records_id_inconsistent: int
    records_quarantined: int
    records_complete: int

    @property
    def share_complete_pct(self) -> Decimal | None:
        if not self.records_delivered:
            return None
        return round(Decimal(100 * self.records_complete) / self.records_delivered, 2)


# The snapshots a period's register indicators count: each delivered province's latest within the period,
# and for a current province with a snapshot after the reform, those only (int_child_register__period_children).
_QUALITY = """
with in_period as (
    select * from published.register_data_quality
     where snapshot_date between %(first)s and %(last)s and current_province_code is not null
),
latest as (
    select admin_vintage, province_code, max(snapshot_date) as snapshot_date from in_period group by 1, 2
),
counted as (
    select q.* from in_period as q join latest using (admin_vintage, province_code, snapshot_date)
),
chosen as (
    select * from counted as c
     where c.admin_vintage = '2025_07'
        or not exists (select 1 from counted as post
                        where post.current_province_code = c.current_province_code and post.admin_vintage = '2025_07')
),
summed as (
    select current_province_code, current_commune_code, max(snapshot_date) as snapshot_date,
           sum(records_delivered)::bigint as records_delivered,
           sum(records_without_valid_id)::bigint as records_without_valid_id,
           sum(records_id_inconsistent)::bigint as records_id_inconsistent,
           sum(records_quarantined)::bigint as records_quarantined, sum(records_complete)::bigint as records_complete
      from chosen
     group by grouping sets ((current_province_code), (current_province_code, current_commune_code))
)
select summed.current_province_code, summed.current_commune_code,
       coalesce(unit.admin_name, coalesce(summed.current_commune_code, summed.current_province_code)),
       summed.snapshot_date, summed.records_delivered, summed.records_without_valid_id, summed.records_id_inconsistent,
       summed.records_quarantined, summed.records_complete
  from summed
  left join published.admin_units as unit
    on unit.vintage = '2025_07'
   and unit.admin_level = case when summed.current_commune_code is null then 'province' else 'commune' end
   and unit.admin_code = coalesce(summed.current_commune_code, summed.current_province_code)
 order by 1, 2 nulls first
"""


def load_register_quality(conn: psycopg.Connection, period: Period) -> list[RegisterQuality]:
    if conn.execute("select to_regclass('published.register_data_quality') is null").fetchone()[0]:
        return []
    rows = conn.execute(_QUALITY, {"first": period.first_day, "last": period.last_day}).fetchall()
    return [RegisterQuality(*row) for row in rows]
