-- The crude birth rate's measures (TT 13 Phụ lục I 0103): live births of a year and the mid-year (1 July)
-- population of all ages, per level (national, province, commune) and unit, on the current geography.
--
-- Only a current province's year whose population estimate covers all ages and which delivered births for the
-- year counts, in the numerator and the denominator alike: the nation's rate is over the provinces that have
-- both, never all births over part of the population. An estimate covers all ages when every commune and sex
-- of it closes with an open-ended group (80+, 100+); files of children (ages 0–17) do not, and give no rate.
-- The rollup and the comparability rule for communes: macros/rollup_to_current_geography.sql.
with estimates as (

    select * from {{ ref('stg_population__estimates') }}

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

commune_closes as (

    -- one row per delivered commune and sex: does its estimate close with an open-ended group?
    select reference_year, admin_vintage, commune_code, sex, bool_or(age_is_open_ended) as closes
    from estimates
    group by reference_year, admin_vintage, commune_code, sex

),

covered_years as (

    -- a current province's year is covered when every commune and sex delivered for it closes
    select commune_closes.reference_year, geography.current_province_code
    from commune_closes
    inner join geography
        on geography.admin_vintage = commune_closes.admin_vintage
        and geography.commune_code = commune_closes.commune_code
    group by commune_closes.reference_year, geography.current_province_code
    having bool_and(commune_closes.closes)

),

population as (

    select
        estimates.reference_year,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable,
        0 as live_births,
        estimates.population as population_all_ages
    from estimates
    inner join geography
        on geography.admin_vintage = estimates.admin_vintage
        and geography.commune_code = estimates.commune_code

),

births as (

    select
        extract(year from births.birth_date)::integer as reference_year,
        births.current_province_code,
        births.current_commune_code,
        births.current_commune_is_comparable,
        1 as live_births,
        0 as population_all_ages
    from {{ ref('int_births__on_current_geography') }} as births

),

years_with_births as (

    select distinct reference_year, current_province_code from births

),

counted as (

    select
        events.reference_year::text as period,
        'year' as period_type,
        make_date(events.reference_year, 1, 1) < {{ reform_date() }} as includes_pre_reform_dates,
        events.*
    from (select * from population union all select * from births) as events
    inner join covered_years
        on covered_years.reference_year = events.reference_year
        and covered_years.current_province_code = events.current_province_code
    inner join years_with_births
        on years_with_births.reference_year = events.reference_year
        and years_with_births.current_province_code = events.current_province_code

),

summed as (

    {{ rollup_to_current_geography(
        'counted',
        pre_reform_flag='includes_pre_reform_dates',
        measures=[
            'sum(live_births) as live_births',
            'sum(population_all_ages) as population_all_ages',
        ],
    ) }}

),

final as (

    select summed.period, summed.period_type, summed.admin_level, summed.admin_code,
           measures.measure, measures.amount::numeric as amount
    from summed
    cross join lateral (
        values
            ('live_births_with_population_all_ages', summed.live_births),
            ('population_all_ages', summed.population_all_ages)
    ) as measures (measure, amount)

)

select * from final
