"""A failed check withholds what it touches, and only that.

The quality package records, for every error-level check whose failing rows name the values they concern
(`audit.quality_results.pinned`), all of those rows. Here each failing row becomes a *pin* (indicator,
level, unit, period, and the breakdowns it names; one it does not name means every cell), and the release
withholds:

- the pinned value, and in the same cell the values that publish the same number: the count whose measure
  is the failing rate's numerator (under-5 deaths with the under-5 mortality rate), so that a rate judged
  implausible cannot be rebuilt from its published count;
- when the pinned value is a province's (or commune's) whole figure for the period (no breakdown), what
  the same delivery built: in that unit and its communes, for that period, every value, of every breakdown
  cell, whose numerator comes from the same feed (the first of the catalogue's source_feeds); for a
  half-year (what one delivery covers), also in the periods whose windows reach into it (the report rounds
  that straddle two half-years). A deaths file with ten times too
  many deaths fails the province's under-5 mortality rate; its neonatal rate, the male and female rates
  and the injury deaths come from the same file and go with it, even where their own intervals are too
  wide to fail. A breakdown cell that fails (one ethnicity's sex ratio, often by chance among the hundreds
  checked every night) takes only itself, its count and its totals, not the births of the province;
- every value that aggregates any of them: the same or a larger area (the province of a commune, the
  nation), a period whose window contains the pinned one (the year of a half-year, the annual round of a
  six-month round), and the total of each breakdown cell.

Nothing else is touched. A withheld value keeps its row with numerator and value null and says why in
`withheld`; it never falls back to an older release's value.
"""

from __future__ import annotations

import json

import psycopg

# The candidates after disclosure control, with the current province of each value and what withholds it.
CANDIDATES_TABLE = "release_candidates"

_PINS = """
    with latest_suite_runs as (
        select distinct on (suite) quality_run_id
          from audit.quality_runs
         where run_id = %(run_id)s
         order by suite, quality_run_id desc
    )
    select distinct
        case when f.row ->> 'admin_level' in ('province', 'commune')
                  and coalesce(f.row ->> 'sex', 'total') = 'total' and coalesce(f.row ->> 'age_group', 'total') = 'total'
                  and coalesce(f.row ->> 'ethnicity', 'total') = 'total' and coalesce(f.row ->> 'category', 'total') = 'total'
             then 'delivery' else 'cell' end as scope,
        r.suite,
        r.expectation,
        f.row ->> 'indicator_id' as indicator_id,
        f.row ->> 'admin_level' as admin_level,
        f.row ->> 'admin_code' as admin_code,
        f.row ->> 'period' as period,
        f.row ->> 'sex' as sex,
        f.row ->> 'age_group' as age_group,
        f.row ->> 'ethnicity' as ethnicity,
        f.row ->> 'category' as category,
        f.row ->> 'detail' as detail
      from audit.quality_results as r
      join latest_suite_runs using (quality_run_id)
     cross join lateral jsonb_array_elements(r.failing_rows) as f (row)
     where not r.success and r.severity = 'error' and r.pinned
"""

# One row per (candidate value, pin that withholds it). Periods and communes are placed with the marts'
# own dimensions, which built the candidates.
_MATCHES = """
    create temporary table withholding_matches on commit drop as
    with pins as ({pins}),
    pin_targets as (
        select
            pins.*,
            own.numerator_measure,
            target.indicator_id as target_indicator,
            target.numerator_measure as target_numerator_measure,
            periods.start_date,
            periods.end_date,
            periods.period_type,
            case when pins.admin_level = 'commune' then communes.province_code else pins.admin_code end as pin_province
          from pins
          join marts.dim_indicator as own on own.indicator_id = pins.indicator_id
          join marts.dim_indicator as target
            -- the pinned indicator, and those publishing the same number (the same numerator measure)
            on target.indicator_id = own.indicator_id or target.numerator_measure = own.numerator_measure
            -- a unit's whole figure: what the same delivery built (numerators from the same feed)
            or (pins.scope = 'delivery'
                and split_part(target.source_feeds, '|', 1) = split_part(own.source_feeds, '|', 1))
          join marts.dim_period as periods on periods.period = pins.period
          left join marts.dim_admin_unit as communes
            on pins.admin_level = 'commune' and communes.vintage = '2025_07'
           and communes.admin_level = 'commune' and communes.admin_code = pins.admin_code
    )
    select
        v.indicator_id, v.period, v.admin_level, v.admin_code, v.sex, v.age_group, v.ethnicity, v.category,
        p.suite, p.expectation, p.indicator_id as pin_indicator, p.admin_level as pin_level,
        p.admin_code as pin_code, p.period as pin_period, p.sex as pin_sex, p.age_group as pin_age_group,
        p.ethnicity as pin_ethnicity, p.category as pin_category, p.detail,
        case when v.indicator_id = p.indicator_id and v.period = p.period and v.admin_level = p.admin_level
                  and v.admin_code = p.admin_code and v.sex = coalesce(p.sex, v.sex)
                  and v.age_group = coalesce(p.age_group, v.age_group)
                  and v.ethnicity = coalesce(p.ethnicity, v.ethnicity) and v.category = coalesce(p.category, v.category)
                  then 'pinned'
             when v.admin_level = 'commune' and p.admin_level = 'province' then 'same delivery'
             when not (v.start_date <= p.start_date and v.end_date >= p.end_date) then 'same delivery'
             -- a larger unit or period, or the same indicator's total over the pinned cell
             when v.period <> p.period or v.admin_level <> p.admin_level or v.admin_code <> p.admin_code
                  or (v.indicator_id = p.indicator_id and v.sex in (coalesce(p.sex, v.sex), 'total')
                      and v.age_group in (coalesce(p.age_group, v.age_group), 'total')
                      and v.ethnicity in (coalesce(p.ethnicity, v.ethnicity), 'total')
                      and v.category in (coalesce(p.category, v.category), 'total'))
                  then 'aggregate'
             when v.indicator_id <> p.indicator_id and p.target_numerator_measure = p.numerator_measure
                  and v.sex = coalesce(p.sex, v.sex) and v.age_group = coalesce(p.age_group, v.age_group)
                  and v.ethnicity = coalesce(p.ethnicity, v.ethnicity) and v.category = coalesce(p.category, v.category)
                  then 'same number'
             else 'same delivery' end as relation
      from {candidates} as v
      join pin_targets as p
        on v.indicator_id = p.target_indicator
       -- the same period, or one whose window contains it; for a province's whole half-year (one delivery),
       -- every period whose window reaches into it (the report rounds that straddle half-years)
       and ((v.start_date <= p.start_date and v.end_date >= p.end_date)
            or (p.scope = 'delivery' and p.period_type = 'half_year'
                and v.start_date <= p.end_date and v.end_date >= p.start_date))
       -- the same unit, or one that contains it; for a province's whole figure, its communes too
       and (v.admin_level = 'national'
            or (v.admin_level = p.admin_level and v.admin_code = p.admin_code)
            or (v.admin_level = 'province' and p.admin_level = 'commune' and v.admin_code = p.pin_province)
            or (p.scope = 'delivery' and v.admin_level = 'commune' and p.admin_level = 'province'
                and v.province_code = p.admin_code))
       -- a whole figure: every breakdown cell; else the same breakdown cell or its total (a breakdown
       -- the pin does not name: every cell)
       and (p.scope = 'delivery' or (
                (p.sex is null or v.sex in (p.sex, 'total'))
            and (p.age_group is null or v.age_group in (p.age_group, 'total'))
            and (p.ethnicity is null or v.ethnicity in (p.ethnicity, 'total'))
            and (p.category is null or v.category in (p.category, 'total'))))
"""

_UNRESOLVED = """
    with pins as ({pins})
    select pins.suite, pins.expectation, pins.indicator_id, pins.period
      from pins
     where not exists (select 1 from marts.dim_indicator as d where d.indicator_id = pins.indicator_id)
        or not exists (select 1 from marts.dim_period as p where p.period = pins.period)
"""

_PIN_NAME = """concat_ws(', ', {p}{indicator}, {p}{level} || ' ' || {p}{code}, {p}{period},
                         'sex ' || nullif({p}{sex}, 'total'), 'age ' || nullif({p}{age}, 'total'),
                         'ethnicity ' || nullif({p}{ethnicity}, 'total'), 'category ' || nullif({p}{category}, 'total'))"""


class UnresolvedPins(RuntimeError):
    """A pinned failure names an indicator or period the marts do not know: it cannot be placed."""


def build_candidates(conn: psycopg.Connection, run_id: str, source: str) -> None:
    """Create the temporary table `release_candidates`: every row of `source` (the candidates after
    disclosure control) with its current province and, where a pinned failure of the run touches it,
    `withheld` (numerator and value then null). Call inside a transaction: the table goes at commit."""
    unresolved = conn.execute(_UNRESOLVED.format(pins=_PINS), {"run_id": run_id}).fetchall()
    if unresolved:
        raise UnresolvedPins("pinned quality failures that name no known indicator or period: " + "; ".join(
            f"{suite} / {expectation}: {indicator} {period}" for suite, expectation, indicator, period in unresolved))
    conn.execute(f"""
        create temporary table candidate_values on commit drop as
        select c.*, periods.start_date, periods.end_date,
               case when c.admin_level = 'province' then c.admin_code
                    when c.admin_level = 'commune' then communes.province_code end as province_code
          from {source} as c
          left join marts.dim_period as periods on periods.period = c.period
          left join marts.dim_admin_unit as communes
            on c.admin_level = 'commune' and communes.vintage = '2025_07'
           and communes.admin_level = 'commune' and communes.admin_code = c.admin_code""")
    conn.execute(_MATCHES.format(pins=_PINS, candidates="candidate_values"), {"run_id": run_id})
    pin = _PIN_NAME.format(p="m.", indicator="pin_indicator", level="pin_level", code="pin_code", period="pin_period",
                           sex="pin_sex", age="pin_age_group", ethnicity="pin_ethnicity", category="pin_category")
    conn.execute(f"""
        create temporary table {CANDIDATES_TABLE} on commit drop as
        with reasons as (
            select m.indicator_id, m.period, m.admin_level, m.admin_code, m.sex, m.age_group, m.ethnicity,
                   m.category,
                   count(*) as pins,
                   (array_agg(
                        case m.relation
                             when 'pinned' then m.expectation || ': ' || coalesce(m.detail, 'failed')
                             when 'same number' then 'the same count as ' || {pin} || ', which failed: '
                                  || m.expectation || coalesce(': ' || m.detail, '')
                             when 'same delivery' then 'built on the same delivery as ' || {pin}
                                  || ', which failed: ' || m.expectation || coalesce(': ' || m.detail, '')
                             else 'aggregates ' || {pin} || ', which failed: ' || m.expectation
                                  || coalesce(': ' || m.detail, '') end
                        order by array_position(array['pinned', 'same number', 'same delivery', 'aggregate'], m.relation),
                                 m.pin_period, m.pin_code, m.pin_indicator, m.expectation))[1] as first_reason
              from withholding_matches as m
             group by 1, 2, 3, 4, 5, 6, 7, 8
        )
        select c.indicator_id, c.period, c.period_type, c.admin_level, c.admin_code, c.admin_name, c.sex,
               c.age_group, c.ethnicity, c.category,
               case when r.first_reason is null then c.numerator end as numerator,
               c.denominator,
               case when r.first_reason is null then c.value end as value,
               c.unit, c.suppression,
               r.first_reason || case when r.pins > 1 then format(' (and %s more failure(s))', r.pins - 1) else '' end
                   as withheld,
               c.province_code
          from candidate_values as c
          left join reasons as r
            on r.indicator_id = c.indicator_id and r.period = c.period and r.admin_level = c.admin_level
           and r.admin_code = c.admin_code and r.sex = c.sex and r.age_group = c.age_group
           and r.ethnicity = c.ethnicity and r.category = c.category""")


def withheld_summary(conn: psycopg.Connection) -> list[dict]:
    """Each pinned failure with how many values it withheld (itself and what aggregates it), for the
    release header and the run summary. Needs the tables of build_candidates (same transaction)."""
    rows = conn.execute("""
        select suite, expectation, pin_indicator, pin_level, pin_code, pin_period, pin_sex, pin_age_group,
               pin_ethnicity, pin_category, detail, count(*) as values_withheld
          from withholding_matches
         group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
         -- the failures that took most first: what an engineer reads at 06:00
         order by count(*) desc, pin_indicator, pin_level, pin_code, pin_period, pin_sex nulls first""").fetchall()
    keys = ("suite", "check", "indicator_id", "admin_level", "admin_code", "period", "sex", "age_group", "ethnicity",
            "category", "detail", "values_withheld")
    return [{key: value for key, value in zip(keys, row) if value is not None} for row in rows]


def as_json(summary: list[dict]) -> str:
    return json.dumps(summary, ensure_ascii=False)
