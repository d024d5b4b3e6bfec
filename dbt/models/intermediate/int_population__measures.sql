-- Children under 16 (Luật Trẻ em, Điều 1) per year, level, unit, sex and age group, on the current
-- geography. A mid-year estimate is a stock: it belongs to its calendar year only. Age groups 0–5, 6–10
-- and 11–15 are those of the circular's abuse statistics, so rates per child can be broken down alike.
-- The rollup and the comparability rule for communes: macros/rollup_to_current_geography.sql.
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

in_periods as (

    -- a mid-year estimate belongs to its calendar year
    select
        'year' as period_type,
        make_date(children.period::integer, 1, 1) < {{ reform_date() }} as includes_pre_reform_dates,
        children.*
    from children

),

final as (

    {{ rollup_to_current_geography(
        'in_periods',
        breakdowns=['sex', 'age_group'],
        cube=true,
        pre_reform_flag='includes_pre_reform_dates',
        measures=['sum(population) as child_population'],
    ) }}

)

select * from final
