-- Live births and child deaths summed per period, level, unit and sex, all on the current geography.
-- National and province figures sum every event (province mapping is exact). Commune figures keep
-- only communes whose history is comparable when the period reaches before the 2025 reform.
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
        periods.includes_pre_reform_dates,
        events.*
    from (select * from births union all select * from deaths) as events
    inner join {{ ref('dim_period') }} as periods
        on events.event_date between periods.start_date and periods.end_date

),

national_and_province as (

    select
        period,
        period_type,
        {{ admin_level_and_code('current_province_code') }},
        {{ total_when_rolled_up('sex') }},
        sum(live_births) as live_births,
        sum(neonatal_deaths) as neonatal_deaths,
        sum(infant_deaths) as infant_deaths,
        sum(under5_deaths) as under5_deaths
    from events_in_periods
    group by period, period_type, grouping sets ((), (sex), (current_province_code), (current_province_code, sex))

),

communes as (

    select
        period,
        period_type,
        'commune' as admin_level,
        current_commune_code as admin_code,
        {{ total_when_rolled_up('sex') }},
        sum(live_births) as live_births,
        sum(neonatal_deaths) as neonatal_deaths,
        sum(infant_deaths) as infant_deaths,
        sum(under5_deaths) as under5_deaths
    from events_in_periods
    where current_commune_code is not null
        and (current_commune_is_comparable or not includes_pre_reform_dates)
    group by period, period_type, current_commune_code, grouping sets ((), (sex))

),

final as (

    select * from national_and_province
    union all
    select * from communes

)

-- Unknown sex counts in totals only.
select * from final
where sex <> 'unknown'
