-- Administrative units of both vintages, keyed by level, code and vintage: codes are reused across
-- the 2025 reform, so a code alone identifies nothing.
with pre_reform as (

    select * from {{ ref('admin_units_pre2025') }}

),

post_reform as (

    select * from {{ ref('admin_units_2025') }}

),

mapping as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

province_conversion as (

    select * from {{ ref('province_conversion_2025') }}

),

units as (

    select distinct {{ vintage_before_reform() }} as vintage, 'province' as admin_level, province_code as admin_code,
        province_name as admin_name, null::text as admin_type, null::text as province_code,
        null::text as district_code
    from pre_reform
    union all
    select distinct {{ vintage_before_reform() }}, 'district', district_code, district_name, null, province_code, null
    from pre_reform
    union all
    select
        {{ vintage_before_reform() }}, 'commune', commune_code, commune_name, commune_type, province_code,
        district_code
    from pre_reform
    union all
    select distinct {{ vintage_after_reform() }}, 'province', province_code, province_name, null, null, null
    from post_reform
    union all
    select {{ vintage_after_reform() }}, 'commune', commune_code, commune_name, commune_type, province_code, null
    from post_reform

),

final as (

    select
        units.vintage || ':' || units.admin_level || ':' || units.admin_code as admin_unit_key,
        units.vintage,
        units.admin_level,
        units.admin_code,
        units.admin_name,
        units.admin_type,
        units.province_code,
        units.district_code,
        case when units.vintage = {{ vintage_after_reform() }} then {{ reform_date() }} end as valid_from,
        case when units.vintage = {{ vintage_before_reform() }} then ({{ reform_date() }} - 1) end as valid_to,
        case
            when units.admin_level = 'province' and units.vintage = {{ vintage_after_reform() }} then units.admin_code
            when units.admin_level = 'province' then province_conversion.new_province_code
            else mapping.current_province_code
        end as current_province_code,
        case when units.admin_level = 'commune' then mapping.current_commune_code end as current_commune_code,
        case when units.admin_level = 'commune' then mapping.current_commune_is_comparable end
            as current_commune_is_comparable
    from units
    left join mapping
        on units.admin_level = 'commune'
        and mapping.admin_vintage = units.vintage
        and mapping.commune_code = units.admin_code
    left join province_conversion
        on units.admin_level = 'province'
        and units.vintage = {{ vintage_before_reform() }}
        and province_conversion.old_province_code = units.admin_code

)

select * from final
