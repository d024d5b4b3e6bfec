-- Deaths of children under 16 from injuries (drowning, road traffic, other injuries) and from drowning
-- alone, per period, level (national, province, commune), unit and sex (and the counts by ethnicity, kinh /
-- minority, which the death register carries and the population estimates do not), with the population under 16 of the
-- period's year (mid-year estimate, dan_so) as denominator. A half-year's rate is deaths in the
-- half-year over the year's population: not annualised. Only provinces that delivered a health register
-- (births or deaths) for the period and a population estimate for its year are counted. Communes under the
-- comparability rule (macros/rollup_to_current_geography.sql), totals only (not by sex or ethnicity); small counts are
-- suppressed in anything published (seeds/catalogue/disclosure_rules.csv).
with deaths as (

    select * from {{ ref('int_child_deaths__aged') }}
    where age_years < 16

),

births as (

    select * from {{ ref('int_births__on_current_geography') }}

),

periods as (

    select * from {{ ref('dim_period') }}

),

population as (

    select
        estimates.reference_year,
        geography.current_province_code as province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable,
        estimates.sex,
        sum(estimates.population) as population_under16
    from {{ ref('stg_population__estimates') }} as estimates
    inner join {{ ref('int_admin_units__mapped_to_current') }} as geography
        on geography.admin_vintage = estimates.admin_vintage
        and geography.commune_code = estimates.commune_code
    where estimates.age < 16
    group by 1, 2, 3, 4, 5

),

death_events as (

    select periods.period, periods.period_type, periods.year, deaths.current_province_code as province_code,
           deaths.current_commune_code, deaths.current_commune_is_comparable, deaths.sex,
           {{ kinh_or_minority('deaths.ethnicity_code') }} as ethnicity,
           (deaths.cause_code in ('duoi_nuoc', 'tngt', 'tntt_khac'))::integer as injury_deaths,
           (deaths.cause_code = 'duoi_nuoc')::integer as drowning_deaths
    from deaths
    inner join periods
        on deaths.death_date between periods.start_date and periods.end_date

),

reporting as (

    select distinct period, period_type, year, province_code from death_events
    union
    select distinct periods.period, periods.period_type, periods.year, births.current_province_code
    from births
    inner join periods
        on births.birth_date between periods.start_date and periods.end_date

),

events as (

    select period, period_type, province_code, current_commune_code, current_commune_is_comparable, sex, ethnicity,
           injury_deaths, drowning_deaths, 0::numeric as population_under16
    from death_events

    union all

    select reporting.period, reporting.period_type, reporting.province_code, population.current_commune_code,
           population.current_commune_is_comparable, population.sex, null, 0, 0, population.population_under16
    from reporting
    inner join population
        on population.reference_year = reporting.year
        and population.province_code = reporting.province_code

),

counted as (

    -- a province with deaths but no population estimate for the year has no rate: leave it out whole
    select events.*
    from events
    where exists (
        select 1 from reporting
        inner join population
            on population.reference_year = reporting.year and population.province_code = reporting.province_code
        where reporting.period = events.period and reporting.province_code = events.province_code)

),

summed as (

    {{ rollup_to_current_geography(
        'counted',
        breakdowns=['sex', 'ethnicity'],
        province_column='province_code',
        measures=[
            'sum(injury_deaths) as injury_deaths_under16',
            'sum(drowning_deaths) as drowning_deaths_under16',
            'sum(population_under16) as population_under16',
        ],
    ) }}

),

final as (

    -- by ethnicity: death counts only (population rows have no ethnicity, their group is left out)
    select summed.period, summed.period_type, summed.admin_level, summed.admin_code, summed.sex, summed.ethnicity,
           measures.measure, measures.amount::numeric as amount
    from summed
    cross join lateral (
        values
            ('injury_deaths_under16', summed.injury_deaths_under16),
            ('drowning_deaths_under16', summed.drowning_deaths_under16),
            ('population_under16', summed.population_under16)
    ) as measures (measure, amount)
    where summed.ethnicity is not null
        and (summed.ethnicity = 'total' or measures.measure <> 'population_under16')
        -- a commune's deaths by sex or ethnicity would be a handful
        and (summed.admin_level <> 'commune' or (summed.ethnicity = 'total' and summed.sex = 'total'))

)

select * from final
