-- Enrolled at start of year and dropouts in general education (TH, THCS, THPT) per reporting year,
-- level, unit, sex, ethnicity and school level (category), with totals over every breakdown.
with students as (

    select * from {{ ref('int_students__enrolment') }}
    where school_level in ('TH', 'THCS', 'THPT') and is_enrolled_at_start

),

national_and_province as (

    select
        period,
        {{ admin_level_and_code('current_province_code') }},
        {{ total_when_rolled_up('sex') }},
        {{ total_when_rolled_up('ethnicity') }},
        {{ total_when_rolled_up('school_level', 'category') }},
        count(*) as enrolled_start_of_year,
        count(*) filter (where is_dropout) as dropouts
    from students
    group by period, cube (current_province_code, sex, ethnicity, school_level)

),

communes as (

    select
        period,
        'commune' as admin_level,
        current_commune_code as admin_code,
        {{ total_when_rolled_up('sex') }},
        {{ total_when_rolled_up('ethnicity') }},
        {{ total_when_rolled_up('school_level', 'category') }},
        count(*) as enrolled_start_of_year,
        count(*) filter (where is_dropout) as dropouts
    from students
    where current_commune_code is not null
        and (current_commune_is_comparable or admin_vintage = {{ vintage_after_reform() }})
    group by period, current_commune_code, cube (sex, ethnicity, school_level)

)

select 'year' as period_type, * from national_and_province
union all
select 'year' as period_type, * from communes
