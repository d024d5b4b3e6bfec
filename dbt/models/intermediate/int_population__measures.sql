-- Children under 16 (Luật Trẻ em, Điều 1) per year, level, unit, sex and age group, on the current
-- geography. A mid-year estimate is a stock: it belongs to its calendar year only. Age groups 0–5, 6–10
-- and 11–15 are those of the circular's abuse statistics, so rates per child can be broken down alike.
-- The rollup and the comparability rule for communes: macros/rollup_to_current_geography.sql.
--
-- Kept per current province (macros/province_increments.sql): a night rebuilds the province and commune rows of
-- the provinces whose population deliveries changed, and sums the national rows again from every province's rows
-- (an estimate counts in one current province: the nation is the sum of the provinces).
-- depends_on: {{ ref('province_conversion_2025') }}, {{ ref('admin_units_2025') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_province_measures('dan_so') }}",
) }}

with estimates as (

    select * from {{ ref('stg_population__estimates') }}
    {%- if is_incremental() %}
    where {{ delivered_for_changed_provinces('dan_so') }}
    {%- endif %}

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
    {%- if is_incremental() %}
        and geography.current_province_code in {{ changed_current_provinces('dan_so') }}
    {%- endif %}

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

{% if is_incremental() -%}
{{ sums_from_provinces('final', ['sex', 'age_group'], amount='child_population') }}
{%- else -%}
select * from final
{%- endif %}
