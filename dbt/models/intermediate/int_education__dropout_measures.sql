-- Enrolled at start of year and dropouts in general education (TH, THCS, THPT) per reporting year,
-- level, unit, sex, ethnicity and school level (category), with totals over every breakdown.
-- The rollup and the comparability rule for communes: macros/rollup_to_current_geography.sql.
--
-- Kept per current province (macros/province_increments.sql): a night rebuilds the province and commune rows of
-- the provinces whose student deliveries changed, and sums the national rows again from every province's rows
-- (each pupil counts in one current province: the nation is the sum of the provinces).
-- depends_on: {{ ref('province_conversion_2025') }}, {{ ref('admin_units_2025') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_province_measures('giao_duc_hoc_sinh') }}",
) }}

with students as (

    select * from {{ ref('int_students__enrolment') }}
    where school_level in ('TH', 'THCS', 'THPT') and is_enrolled_at_start
    {%- if is_incremental() %}
        and current_province_code in {{ changed_current_provinces('giao_duc_hoc_sinh') }}
    {%- endif %}

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

{% if is_incremental() -%}
{{ sums_from_provinces('final', ['sex', 'ethnicity', 'category'], ['enrolled_start_of_year', 'dropouts']) }}
{%- else -%}
select * from final
{%- endif %}
