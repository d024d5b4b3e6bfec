-- Children under 16 (Luật Trẻ em, Điều 1) per year, level, unit, sex and age group, on the current
-- geography. A mid-year estimate is a stock: it belongs to its calendar year only. Age groups 0–5, 6–10
-- and 11–15 are those of the circular's abuse statistics, so rates per child can be broken down alike.
with estimates as (

    select * from {{ ref('stg_population__estimates') }}

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

children as (

    select
        estimates.reference_year::text as period,
        estimates.admin_vintage,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable,
        estimates.sex,
        case
            when estimates.age <= 5 then '0-5'
            when estimates.age <= 10 then '6-10'
            else '11-15'
        end as age_group,
        estimates.population
    from estimates
    inner join geography
        on geography.admin_vintage = estimates.admin_vintage
        and geography.commune_code = estimates.commune_code
    where estimates.age < 16

),

national_and_province as (

    select
        period,
        {{ admin_level_and_code('current_province_code') }},
        {{ total_when_rolled_up('sex') }},
        {{ total_when_rolled_up('age_group') }},
        sum(population) as child_population
    from children
    group by period, cube (current_province_code, sex, age_group)

),

communes as (

    select
        period,
        'commune' as admin_level,
        current_commune_code as admin_code,
        {{ total_when_rolled_up('sex') }},
        {{ total_when_rolled_up('age_group') }},
        sum(population) as child_population
    from children
    -- a pre-reform estimate reaches a current commune only where its history is exact
    where current_commune_code is not null
        and (current_commune_is_comparable or admin_vintage = {{ vintage_after_reform() }})
    group by period, current_commune_code, cube (sex, age_group)

),

final as (

    select 'year' as period_type, * from national_and_province
    union all
    select 'year' as period_type, * from communes

)

select * from final
