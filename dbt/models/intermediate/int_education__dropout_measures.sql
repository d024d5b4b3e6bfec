-- Enrolled at start of year and dropouts in general education (TH, THCS, THPT) per reporting year,
-- level, unit, sex, ethnicity and school level (category), with totals over every breakdown.
-- The rollup and the comparability rule for communes: macros/rollup_to_current_geography.sql.
with students as (

    select * from {{ ref('int_students__enrolment') }}
    where school_level in ('TH', 'THCS', 'THPT') and is_enrolled_at_start

),

in_periods as (

    -- the school year reported in year Y starts in September of Y - 1
    select
        'year' as period_type,
        make_date(students.period::integer - 1, 9, 1) < {{ reform_date() }} as includes_pre_reform_dates,
        students.*
    from students

),

final as (

    {{ rollup_to_current_geography(
        'in_periods',
        breakdowns=['sex', 'ethnicity', 'school_level'],
        aliases={'school_level': 'category'},
        cube=true,
        pre_reform_flag='includes_pre_reform_dates',
        measures=[
            'count(*) as enrolled_start_of_year',
            'count(*) filter (where is_dropout) as dropouts',
        ],
    ) }}

)

select * from final
