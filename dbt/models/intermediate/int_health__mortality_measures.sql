-- Live births and child deaths summed per period, level, unit and sex, all on the current geography.
-- The rollup and the comparability rule for communes: macros/rollup_to_current_geography.sql.
with births as (

    select
        birth_date as event_date,
        sex,
        current_province_code,
        current_commune_code,
        current_commune_is_comparable,
        1 as live_births,
        0 as neonatal_deaths,
        0 as infant_deaths,
        0 as under5_deaths
    from {{ ref('int_births__on_current_geography') }}

),

deaths as (

    select
        death_date as event_date,
        sex,
        current_province_code,
        current_commune_code,
        current_commune_is_comparable,
        0 as live_births,
        is_neonatal::integer as neonatal_deaths,
        is_infant::integer as infant_deaths,
        is_under5::integer as under5_deaths
    from {{ ref('int_child_deaths__aged') }}

),

events_in_periods as (

    select
        periods.period,
        periods.period_type,
        events.*
    from (select * from births union all select * from deaths) as events
    inner join {{ ref('dim_period') }} as periods
        on events.event_date between periods.start_date and periods.end_date

),

summed as (

    {{ rollup_to_current_geography(
        'events_in_periods',
        breakdowns=['sex'],
        measures=[
            'sum(live_births) as live_births',
            'sum(neonatal_deaths) as neonatal_deaths',
            'sum(infant_deaths) as infant_deaths',
            'sum(under5_deaths) as under5_deaths',
        ],
    ) }}

),

final as (

    select * from summed

)

-- Unknown sex counts in totals only.
select * from final
where sex <> 'unknown'
