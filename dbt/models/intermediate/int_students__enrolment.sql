-- Students with the definitions of sources.md applied, on the current geography.
-- Enrolled at start of year = present on 30 September of the start year: every record except a
-- transfer-in (02/06/10) dated after 30 September and a departure (transfer out 04/08/11 or dropout
-- 05/09/12) dated on or before it. Dropout = enrolled at start, status 05/09/12, reason not 07 (bảo
-- lưu), 08 (chuyển sang học nghề) or 10 (mất tích / đã mất). A school year reports under the calendar
-- year in which it ends. Age follows the Vietnamese convention: start year − birth year.
--
-- Kept per current province (macros/province_increments.sql): one row per student record, so a night rebuilds
-- the rows of the current provinces whose student deliveries changed and keeps the others.
-- depends_on: {{ ref('province_conversion_2025') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_provinces('giao_duc_hoc_sinh', 'current_province_code in {provinces}') }}",
) }}

with students as (

    select * from {{ ref('stg_education__students') }}
    {%- if is_incremental() %}
    where {{ delivered_for_changed_provinces('giao_duc_hoc_sinh') }}
    {%- endif %}

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

dated as (

    select
        students.*,
        make_date(students.start_year, 9, 30) as census_date
    from students

),

final as (

    select
        dated.school_year,
        (dated.start_year + 1)::text as period,
        dated.start_year,
        dated.school_level,
        dated.grade,
        dated.sex,
        {{ kinh_or_minority('dated.ethnicity_code') }} as ethnicity,
        dated.start_year - extract(year from dated.birth_date)::integer as age_vn,
        (extract(year from age(dated.census_date, dated.birth_date)) * 12
            + extract(month from age(dated.census_date, dated.birth_date)))::integer as age_months_at_census,
        not (  -- noqa: LT01, LT06
            (dated.status_code in ('02', '06', '10') and dated.status_date > dated.census_date)
            or (dated.status_code in ('04', '08', '11', '05', '09', '12') and dated.status_date <= dated.census_date)
        ) as is_enrolled_at_start,
        dated.status_code,
        dated.dropout_reason_code,
        dated.admin_vintage,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable
    from dated
    inner join geography
        on geography.admin_vintage = dated.admin_vintage
        and geography.commune_code = dated.commune_code
    {%- if is_incremental() %}
    where geography.current_province_code in {{ changed_current_provinces('giao_duc_hoc_sinh') }}
    {%- endif %}

)

select
    *,
    is_enrolled_at_start
        and status_code in ('05', '09', '12')
        and coalesce(dropout_reason_code, '') not in ('07', '08', '10') as is_dropout
from final
