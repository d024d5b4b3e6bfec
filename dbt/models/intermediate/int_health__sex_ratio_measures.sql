-- Live births by sex per period, level (national, province), province and the mother's ethnicity
-- (kinh 01 / minority 02–54 / total), for the sex ratio at birth (boys per 100 girls). Births of unknown
-- sex are in neither count.
with births as (

    select * from {{ ref('int_births__on_current_geography') }}
    where sex in ('male', 'female')

),

periods as (

    select * from {{ ref('dim_period') }}

),

classified as (

    select
        periods.period,
        periods.period_type,
        births.current_province_code as province_code,
        {{ kinh_or_minority('births.mother_ethnicity_code') }} as ethnicity,
        births.sex
    from births
    inner join periods
        on births.birth_date between periods.start_date and periods.end_date

),

summed as (

    {{ rollup_to_current_geography(
        'classified',
        breakdowns=['ethnicity'],
        communes=false,
        province_column='province_code',
        measures=[
            "count(*) filter (where sex = 'male') as live_births_male",
            "count(*) filter (where sex = 'female') as live_births_female",
        ],
    ) }}

),

final as (

    select summed.period, summed.period_type, summed.admin_level, summed.admin_code, summed.ethnicity,
           measures.measure, measures.amount::numeric as amount
    from summed
    cross join lateral (
        values
            ('live_births_male', summed.live_births_male),
            ('live_births_female', summed.live_births_female)
    ) as measures (measure, amount)

)

select * from final
