-- Reporting periods: calendar years and half-years (H1 = 1 Jan–30 Jun) and the report rounds of the
-- reporting calendar (seeds/catalogue/reporting_calendar.csv: the six-month and annual rounds, whose data
-- windows run from 15 December of the previous year). Every measure model joins events to these windows,
-- so a round is computed by the same models as a calendar period.
with years as (

    select generate_series({{ var('first_year', 2015) }}, {{ var('last_year', 2035) }}) as year

),

calendar as (

    select * from {{ ref('reporting_calendar') }}

),

province_units as (

    select vintage, admin_code, current_province_code
    from {{ ref('dim_admin_unit') }}
    where admin_level = 'province'

),

half_years as (

    select
        year || '-H' || half as period,
        'half_year' as period_type,
        year,
        half,
        make_date(year, 6 * half - 5, 1) as start_date,
        (make_date(year, 6 * half - 5, 1) + interval '6 months' - interval '1 day')::date as end_date,
        null::text as round_name_vi,
        null::date as deadline
    from years
    cross join (values (1), (2)) as halves (half)

),

full_years as (

    select
        year::text as period,
        'year' as period_type,
        year,
        null::integer as half,
        make_date(year, 1, 1) as start_date,
        make_date(year, 12, 31) as end_date,
        null::text as round_name_vi,
        null::date as deadline
    from years

),

report_rounds as (

    select
        period,
        'report_round' as period_type,
        report_year as year,
        null::integer as half,
        window_start as start_date,
        window_end as end_date,
        round_name_vi,
        deadline
    from calendar
    where province_code is null

),

-- provinces with a deadline of their own, on the current geography
province_deadlines as (

    select
        calendar.period,
        jsonb_object_agg(province_units.current_province_code, calendar.deadline) as province_deadlines
    from calendar
    inner join province_units
        on province_units.vintage = calendar.province_vintage
        and province_units.admin_code = calendar.province_code
    where calendar.province_code is not null
    group by calendar.period

),

final as (

    select
        periods.*,
        periods.start_date < {{ reform_date() }} as includes_pre_reform_dates,
        province_deadlines.province_deadlines
    from (
        select * from full_years
        union all
        select * from half_years
        union all
        select * from report_rounds
    ) as periods
    left join province_deadlines
        on province_deadlines.period = periods.period

)

select * from final
