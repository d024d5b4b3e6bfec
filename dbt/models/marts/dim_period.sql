-- Reporting periods of TT 13/2021: calendar years and half-years (H1 = 1 Jan–30 Jun).
with years as (

    select generate_series({{ var('first_year', 2015) }}, {{ var('last_year', 2035) }}) as year

),

half_years as (

    select
        year || '-H' || half as period,
        'half_year' as period_type,
        year,
        half,
        make_date(year, 6 * half - 5, 1) as start_date,
        (make_date(year, 6 * half - 5, 1) + interval '6 months' - interval '1 day')::date as end_date
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
        make_date(year, 12, 31) as end_date
    from years

),

final as (

    select
        *,
        start_date < date '2025-07-01' as includes_pre_reform_dates
    from (
        select * from full_years
        union all
        select * from half_years
    ) as periods

)

select * from final
