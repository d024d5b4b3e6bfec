"""Which province delivered which feed for which half-year, as it stands when a release is made
(published.release_deliveries). Approval reads it for completeness; pending revisions read it for the load
batches that changed a value.

A delivery is the current batch of each (feed, province, vintage, period key) in audit.batch_coverage: a
newer batch for the same key supersedes the older rows (ingest.loader). Its period key counts for the
calendar half-years it covers: a half-year itself; a year (population estimates) both halves; a school year
2024-2025 both halves of its reporting year 2025; a snapshot date its half. Every half-year is judged on its
own geography (dim_admin_unit validity: 63 provinces before 1 July 2025, 34 after): an old province's
delivery counts for its new province, a new province's yearly delivery for each of its old ones. Expected
are the feeds that any province delivered for the half-year; a province without them has a row with no
batch and 0 rows.
"""

from __future__ import annotations

import psycopg

_INSERT = """
    insert into published.release_deliveries (release_id, half_year, data_window, admin_vintage,
                                              province_code, province_name, current_province_code, feed,
                                              batch_ids, rows)
    with current_coverage as (
        select distinct on (c.feed, c.province_code, c.admin_vintage, c.period_key)
               c.feed, c.province_code, c.admin_vintage, c.period_key, c.batch_id, c.rows
          from audit.batch_coverage as c
          join audit.load_batches as b using (batch_id)
         where b.status = 'loaded' and not c.awaiting_confirmation  -- a held correction is not delivered yet
         order by c.feed, c.province_code, c.admin_vintage, c.period_key, c.batch_id desc
    ),
    by_half_year as (
        select cc.*, half.half_year
          from current_coverage as cc
         cross join lateral unnest(case
                 when cc.period_key ~ '^\\d{4}-H[12]$' then array[cc.period_key]
                 when cc.period_key ~ '^\\d{4}$' then array[cc.period_key || '-H1', cc.period_key || '-H2']
                 when cc.period_key ~ '^\\d{4}-\\d{4}$'
                     then array[split_part(cc.period_key, '-', 2) || '-H1', split_part(cc.period_key, '-', 2) || '-H2']
                 when cc.period_key ~ '^\\d{4}-\\d{2}-\\d{2}$'
                     then array[left(cc.period_key, 4) || case when substr(cc.period_key, 6, 2)::int <= 6
                                                               then '-H1' else '-H2' end]
                 else array[]::text[] end) as half (half_year)
    ),
    half_years as (
        select period as half_year, start_date, end_date
          from marts.dim_period
         where period_type = 'half_year' and period in (select half_year from by_half_year)
    ),
    -- the provinces of each half-year's geography
    provinces as (
        select h.half_year, h.start_date, h.end_date, u.vintage, u.admin_code, u.admin_name, u.current_province_code
          from half_years as h
          join marts.dim_admin_unit as u
            on u.admin_level = 'province'
           and (u.valid_from is null or u.valid_from <= h.start_date)
           and (u.valid_to is null or u.valid_to >= h.end_date)
    ),
    -- each delivery placed on the provinces of its half-year's geography
    placed as (
        select p.half_year, p.vintage, p.admin_code, d.feed, d.batch_id, d.rows
          from by_half_year as d
          join marts.dim_admin_unit as delivered
            on delivered.admin_level = 'province' and delivered.vintage = d.admin_vintage
           and delivered.admin_code = d.province_code
          join provinces as p
            on p.half_year = d.half_year
           and ((p.vintage = delivered.vintage and p.admin_code = delivered.admin_code)
                -- an old province's delivery counts for its new one; a new one's for each of its old ones
                or (p.vintage <> delivered.vintage and p.current_province_code = delivered.current_province_code))
    ),
    expected as (
        select distinct half_year, feed from placed
    )
    select %(release_id)s, p.half_year, daterange(p.start_date, p.end_date, '[]'), p.vintage, p.admin_code, p.admin_name,
           p.current_province_code, e.feed,
           coalesce(array_agg(distinct d.batch_id order by d.batch_id) filter (where d.batch_id is not null), '{}'),
           coalesce(sum(d.rows), 0)
      from provinces as p
      join expected as e on e.half_year = p.half_year
      left join placed as d
        on d.half_year = p.half_year and d.vintage = p.vintage and d.admin_code = p.admin_code and d.feed = e.feed
     group by p.half_year, p.start_date, p.end_date, p.vintage, p.admin_code, p.admin_name,
              p.current_province_code, e.feed
"""


def record_deliveries(conn: psycopg.Connection, release_id: str) -> int:
    """Write the release's delivery table; returns the number of (half-year, province, feed) rows."""
    return conn.execute(_INSERT, {"release_id": release_id}).rowcount
