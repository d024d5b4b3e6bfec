-- The deliveries every province owes: seeds/catalogue/expected_deliveries.csv expanded to one row per
-- (feed, period, province of the period's geography) for the periods that have ended, with whether it is
-- expected and its due date.
--
-- A seed row applies to its feed's periods from first_period to last_period (open when empty), to every
-- province when province_code is empty, else to that province of that vintage. Where several apply, each
-- setting comes from the most specific row that sets it: a province's row before an every-province row,
-- a bounded row before an open one, a later first_period before an earlier one.
--
-- Due date: the row's due_date; else the filing deadline of the first report round that needs the
-- period's data once it has ended (reporting_calendar: the earliest deadline on or after the period's
-- last day among the rounds whose data window overlaps the period, with the province's own deadline
-- where it has one); else the period's last day plus due_days_after_period_end (beyond the calendar).
{%- set most_specific_first = 'rules.province_code is null, rules.last_period is null, rules.first_period desc' %}

with rules as (

    select * from {{ ref('expected_deliveries') }}

),

calendar as (

    select * from {{ ref('reporting_calendar') }}

),

calendar_periods as (

    select * from {{ ref('dim_period') }}

),

provinces as (

    select * from {{ ref('dim_admin_unit') }}
    where admin_level = 'province'

),

feed_period_types as (

    select distinct feed, period_type from rules

),

-- the periods of each period type; geography_date decides the vintage, as the loader decides a row's
-- vintage from its reference date (a population estimate's 1 July, a school year's 1 September)
periods as (

    select period_type, period, start_date, end_date, start_date as geography_date
    from calendar_periods
    where period_type = 'half_year'
    union all
    -- the second start_date is geography_date (positional, as in every branch after the first)
    select 'snapshot_half_year', period, start_date, end_date, start_date  -- noqa: AL08
    from calendar_periods
    where period_type = 'half_year'
    union all
    select 'year', period, start_date, end_date, make_date(year, 7, 1)
    from calendar_periods
    where period_type = 'year'
    union all
    select 'school_year', (year - 1) || '-' || year, make_date(year - 1, 9, 1), make_date(year, 8, 31),
        make_date(year - 1, 9, 1)
    from calendar_periods
    where period_type = 'year'

),

candidates as (

    select
        feed_period_types.feed,
        periods.period,
        periods.period_type,
        periods.start_date as period_start,
        periods.end_date as period_end,
        provinces.vintage as admin_vintage,
        provinces.admin_code as province_code,
        provinces.admin_name as province_name,
        provinces.current_province_code
    from feed_period_types
    inner join periods
        on periods.period_type = feed_period_types.period_type
    inner join provinces
        on (provinces.valid_from is null or provinces.valid_from <= periods.geography_date)
        and (provinces.valid_to is null or provinces.valid_to >= periods.geography_date)
    where periods.end_date < {{ completeness_as_of() }}

),

-- the settings of the most specific seed rows; a period no row covers is not expected at all
resolved as (

    select
        candidates.feed,
        candidates.period,
        candidates.period_type,
        candidates.period_start,
        candidates.period_end,
        candidates.admin_vintage,
        candidates.province_code,
        candidates.province_name,
        candidates.current_province_code,
        (array_agg(rules.expected order by {{ most_specific_first }})
            filter (where rules.expected is not null))[1] as expected,
        (array_agg(rules.due_date order by {{ most_specific_first }})
            filter (where rules.due_date is not null))[1] as due_date,
        (array_agg(rules.due_days_after_period_end order by {{ most_specific_first }})
            filter (where rules.due_days_after_period_end is not null))[1] as due_days_after_period_end
    from candidates
    inner join rules
        on rules.feed = candidates.feed
        and candidates.period >= rules.first_period
        and (rules.last_period is null or candidates.period <= rules.last_period)
        and (rules.province_code is null
             or (rules.province_vintage = candidates.admin_vintage and rules.province_code = candidates.province_code))
    group by candidates.feed, candidates.period, candidates.period_type, candidates.period_start,
        candidates.period_end, candidates.admin_vintage, candidates.province_code, candidates.province_name,
        candidates.current_province_code

),

national_rounds as (

    select period as round, window_start, window_end, deadline
    from calendar
    where province_code is null

),

-- a province's own deadline applies to that province and, for a round filed on the current geography,
-- to every old province now inside it (the merged province files their data)
own_deadlines as (

    select
        calendar.period as round,
        calendar.province_vintage,
        calendar.province_code,
        provinces.valid_to is null as is_current_geography,
        calendar.deadline
    from calendar
    inner join provinces
        on provinces.vintage = calendar.province_vintage
        and provinces.admin_code = calendar.province_code
    where calendar.province_code is not null

),

final as (

    select
        resolved.feed,
        resolved.period,
        resolved.period_type,
        resolved.period_start,
        resolved.period_end,
        resolved.admin_vintage,
        resolved.province_code,
        resolved.province_name,
        resolved.current_province_code,
        current_provinces.admin_name as current_province_name,
        coalesce(resolved.expected, true) as expected,
        coalesce(resolved.due_date, first_round.deadline,
                 resolved.period_end + resolved.due_days_after_period_end) as due_date,
        case
            when resolved.due_date is not null then 'expected_deliveries: due_date'
            when first_round.deadline is not null then 'reporting calendar: round ' || first_round.round
            when resolved.due_days_after_period_end is not null
                then 'expected_deliveries: ' || resolved.due_days_after_period_end || ' days after the period'
        end as due_date_basis
    from resolved
    -- the first round that needs the period's data once it has ended
    left join lateral (
        select round_deadlines.round, round_deadlines.deadline
        from (
            select distinct on (national_rounds.round)
                national_rounds.round,
                coalesce(own.deadline, national_rounds.deadline) as deadline
            from national_rounds
            left join own_deadlines as own
                on own.round = national_rounds.round
                and ((own.province_vintage = resolved.admin_vintage and own.province_code = resolved.province_code)
                     or (own.is_current_geography and own.province_code = resolved.current_province_code))
            where national_rounds.window_start <= resolved.period_end
                and national_rounds.window_end >= resolved.period_start
            order by national_rounds.round,  -- the province's own row before its merged province's
                (own.province_vintage = resolved.admin_vintage and own.province_code = resolved.province_code) desc
        ) as round_deadlines
        where round_deadlines.deadline >= resolved.period_end
        order by round_deadlines.deadline, round_deadlines.round
        limit 1
    ) as first_round on true
    left join provinces as current_provinces
        on current_provinces.valid_to is null
        and current_provinces.admin_code = resolved.current_province_code

)

select * from final
