-- Every measure the catalogue can name as numerator or denominator, in one long table with the
-- published breakdown columns. Sector models add their measures here.
with mortality as (

    select * from {{ ref('int_health__mortality_measures') }}

),

population as (

    select * from {{ ref('int_population__measures') }}

),

mortality_long as (

    select
        mortality.period,
        mortality.period_type,
        mortality.admin_level,
        mortality.admin_code,
        mortality.sex,
        'total' as age_group,
        'total' as ethnicity,
        'total' as category,
        measures.measure,
        measures.amount
    from mortality
    cross join lateral (
        values
            ('live_births', mortality.live_births),
            ('neonatal_deaths', mortality.neonatal_deaths),
            ('infant_deaths', mortality.infant_deaths),
            ('under5_deaths', mortality.under5_deaths)
    ) as measures (measure, amount)

),

population_long as (

    select
        period,
        period_type,
        admin_level,
        admin_code,
        sex,
        age_group,
        'total' as ethnicity,
        'total' as category,
        'child_population' as measure,
        child_population as amount
    from population

),

final as (

    select * from mortality_long
    union all
    select * from population_long

)

select * from final
