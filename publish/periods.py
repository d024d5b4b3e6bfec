"""The periods of a release (published.release_periods): data windows from marts.dim_period (calendar
periods and the report rounds of the reporting calendar), and whether each window was still open when the
release was made. An open window is preliminary (SỐ LIỆU SƠ BỘ): its values cover data until the day
before the release (data_until; null for an ended window, whose values cover all of it). Windows are
ranges, not pairs of date columns: a period's first day is no one's birth date, but a column of dates in
the published schema should never look as if it could be."""

from __future__ import annotations

from datetime import date

import psycopg

_INSERT = """
    insert into published.release_periods (release_id, period, period_type, data_window, is_preliminary,
                                           data_until, round_name_vi, deadline, province_deadlines)
    select %(release_id)s, p.period, p.period_type, daterange(p.start_date, p.end_date, '[]'),
           p.end_date >= %(made_on)s,
           case when p.end_date >= %(made_on)s then %(made_on)s::date - 1 end,
           p.round_name_vi, p.deadline, p.province_deadlines
      from marts.dim_period as p
     where p.period in (select distinct period from {candidates})
"""


def record_periods(conn: psycopg.Connection, release_id: str, made_on: date, candidates: str) -> int:
    return conn.execute(_INSERT.format(candidates=candidates), {"release_id": release_id, "made_on": made_on}).rowcount
