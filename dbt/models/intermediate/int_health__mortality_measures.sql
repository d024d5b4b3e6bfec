-- Live births and child deaths summed per period, level, unit, sex and ethnicity (kinh / minority: the
-- mother's for a birth, the child's for a death; the breakdown the national plans single out), all on the
-- current geography. By ethnicity for the nation and the provinces only: a commune's deaths by ethnicity
-- would be a handful. A record without a sex or an ethnicity counts in the totals only.
-- The rollup and the comparability rule for communes: macros/rollup_to_current_geography.sql.
with births as (

    select
        birth_date as event_date,
        sex,
        {{ kinh_or_minority('mother_ethnicity_code') }} as ethnicity,
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
        {{ kinh_or_minority('ethnicity_code') }} as ethnicity,
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
        breakdowns=['sex', 'ethnicity'],
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

-- Unknown sex or ethnicity counts in totals only.
select * from final
where sex <> 'unknown' and ethnicity <> 'unknown'
    and (ethnicity = 'total' or admin_level <> 'commune')
