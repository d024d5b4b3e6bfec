-- Preschool attendance: children enrolled at start of year (30 September) over the population of the
-- matching age in the school year's start year, by reporting year (the year the school year ends), unit
-- and sex. Age follows the Vietnamese convention (start year − birth year); nhà trẻ counts children of
-- 3–36 months at 30 September. The 3–36-month population comes from single years of age at 1 July:
-- 0.75 × age 0 (months 3–11 of the first year) + age 1 + age 2. Population is counted only for
-- provinces that delivered student records for that school year: no data is not 0 % attendance.
with students as (

    select * from {{ ref('int_students__enrolment') }}

),

reporting_provinces as (

    select distinct period, current_province_code from students

),

enrolled as (

    select
        period,
        admin_vintage,
        current_province_code,
        current_commune_code,
        current_commune_is_comparable,
        sex,
        (grade = 'NT' and age_months_at_census between 3 and 36)::integer as nursery_enrolled,
        (grade = 'MG' and age_vn between 3 and 5)::integer as kindergarten_enrolled_3_5,
        (grade = 'MG' and age_vn = 5)::integer as kindergarten_enrolled_age5,
        0::numeric as population_3_36_months,
        0::numeric as population_3_5,
        0::numeric as population_age5
    from students
    where school_level = 'MN' and is_enrolled_at_start

),

population as (

    select
        (estimates.reference_year + 1)::text as period,
        estimates.admin_vintage,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable,
        estimates.sex,
        0 as nursery_enrolled,
        0 as kindergarten_enrolled_3_5,
        0 as kindergarten_enrolled_age5,
        case when estimates.age = 0 then 0.75 * estimates.population
             when estimates.age in (1, 2) then estimates.population else 0 end::numeric as population_3_36_months,
        case when estimates.age between 3 and 5 then estimates.population else 0 end::numeric as population_3_5,
        case when estimates.age = 5 then estimates.population else 0 end::numeric as population_age5
    from {{ ref('stg_population__estimates') }} as estimates
    inner join {{ ref('int_admin_units__mapped_to_current') }} as geography
        on geography.admin_vintage = estimates.admin_vintage
        and geography.commune_code = estimates.commune_code
    inner join reporting_provinces
        on reporting_provinces.period = (estimates.reference_year + 1)::text
        and reporting_provinces.current_province_code = geography.current_province_code
    where estimates.age <= 5

),

events as (

    select * from enrolled
    union all
    select * from population

),

in_periods as (

    -- the school year reported in year Y starts in September of Y - 1
    select
        'year' as period_type,
        make_date(events.period::integer - 1, 9, 1) < {{ reform_date() }} as includes_pre_reform_dates,
        events.*
    from events

),

final as (

    {{ rollup_to_current_geography(
        'in_periods',
        breakdowns=['sex'],
        cube=true,
        pre_reform_flag='includes_pre_reform_dates',
        measures=[
            'sum(nursery_enrolled) as nursery_enrolled',
            'sum(kindergarten_enrolled_3_5) as kindergarten_enrolled_3_5',
            'sum(kindergarten_enrolled_age5) as kindergarten_enrolled_age5',
            'sum(population_3_36_months) as population_3_36_months',
            'sum(population_3_5) as population_3_5',
            'sum(population_age5) as population_age5',
        ],
    ) }}

)

select * from final
