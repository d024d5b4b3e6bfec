-- Every measure the catalogue can name as numerator or denominator, in one long table with the
-- published breakdown columns. Sector models add their measures here.
with mortality as (

    select * from {{ ref('int_health__mortality_measures') }}

),

population as (

    select * from {{ ref('int_population__measures') }}

),

dropout as (

    select * from {{ ref('int_education__dropout_measures') }}

),

preschool as (

    select * from {{ ref('int_education__preschool_measures') }}

),

immunisation as (

    select * from {{ ref('int_health__immunisation_measures') }}

),

nutrition as (

    select * from {{ ref('int_health__nutrition_measures') }}

),

injury as (

    select * from {{ ref('int_health__injury_measures') }}

),

sex_ratio as (

    select * from {{ ref('int_health__sex_ratio_measures') }}

),

child_register as (

    select * from {{ ref('int_child_affairs__register_measures') }}

),

child_abuse as (

    select * from {{ ref('int_child_affairs__abuse_measures') }}

),

aggregate_reports as (

    select * from {{ ref('int_aggregate_reports__measures') }}

),

birth_rate as (

    select * from {{ ref('int_population__birth_rate_measures') }}

),

mortality_long as (

    select
        mortality.period,
        mortality.period_type,
        mortality.admin_level,
        mortality.admin_code,
        mortality.sex,
        'total' as age_group,
        mortality.ethnicity,
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

dropout_long as (

    select
        dropout.period,
        dropout.period_type,
        dropout.admin_level,
        dropout.admin_code,
        dropout.sex,
        'total' as age_group,
        dropout.ethnicity,
        dropout.category,
        measures.measure,
        measures.amount
    from dropout
    cross join lateral (
        values
            ('enrolled_start_of_year', dropout.enrolled_start_of_year::numeric),
            ('dropouts', dropout.dropouts::numeric)
    ) as measures (measure, amount)

),

preschool_long as (

    select
        preschool.period,
        preschool.period_type,
        preschool.admin_level,
        preschool.admin_code,
        preschool.sex,
        'total' as age_group,
        'total' as ethnicity,
        'total' as category,
        measures.measure,
        measures.amount
    from preschool
    cross join lateral (
        values
            ('nursery_enrolled', preschool.nursery_enrolled::numeric),
            ('kindergarten_enrolled_3_5', preschool.kindergarten_enrolled_3_5::numeric),
            ('kindergarten_enrolled_age5', preschool.kindergarten_enrolled_age5::numeric),
            ('population_3_36_months', preschool.population_3_36_months),
            ('population_3_5', preschool.population_3_5),
            ('population_age5', preschool.population_age5)
    ) as measures (measure, amount)

),

immunisation_long as (

    select period, period_type, admin_level, admin_code, sex, 'total' as age_group, 'total' as ethnicity,
           category, measure, amount
    from immunisation

),

nutrition_long as (

    select period, period_type, admin_level, admin_code, sex, 'total' as age_group, 'total' as ethnicity,
           'total' as category, measure, amount
    from nutrition

),

injury_long as (

    select period, period_type, admin_level, admin_code, sex, 'total' as age_group, ethnicity,
           'total' as category, measure, amount
    from injury

),

sex_ratio_long as (

    select period, period_type, admin_level, admin_code, 'total' as sex, 'total' as age_group, ethnicity,
           'total' as category, measure, amount
    from sex_ratio

),

child_register_long as (

    select period, period_type, admin_level, admin_code, sex, 'total' as age_group, 'total' as ethnicity,
           category, measure, amount
    from child_register

),

child_abuse_long as (

    select period, period_type, admin_level, admin_code, sex, age_group, 'total' as ethnicity,
           category, measure, amount
    from child_abuse

),

aggregate_reports_long as (

    select period, period_type, admin_level, admin_code, 'total' as sex, 'total' as age_group, 'total' as ethnicity,
           'total' as category, measure, amount
    from aggregate_reports

),

birth_rate_long as (

    select period, period_type, admin_level, admin_code, 'total' as sex, 'total' as age_group, 'total' as ethnicity,
           'total' as category, measure, amount
    from birth_rate

),

final as (

    select * from mortality_long
    union all
    select * from population_long
    union all
    select * from dropout_long
    union all
    select * from preschool_long
    union all
    select * from immunisation_long
    union all
    select * from nutrition_long
    union all
    select * from injury_long
    union all
    select * from sex_ratio_long
    union all
    select * from child_register_long
    union all
    select * from child_abuse_long
    union all
    select * from aggregate_reports_long
    union all
    select * from birth_rate_long

)

select * from final
