-- The old → new conversion of 1 July 2025, with names, for users re-expressing their own series.
with conversion as (

    select * from {{ ref('admin_conversion_2025') }}

),

old_units as (

    select * from {{ ref('admin_units_pre2025') }}

),

new_units as (

    select * from {{ ref('admin_units_2025') }}

),

final as (

    select
        conversion.old_province_code,
        conversion.old_district_code,
        conversion.old_commune_code,
        old_units.commune_name as old_commune_name,
        conversion.new_province_code,
        conversion.new_commune_code,
        new_units.commune_name as new_commune_name,
        conversion.merge_type,
        conversion.is_split,
        conversion.is_default_new_commune
    from conversion
    left join old_units
        on old_units.commune_code = conversion.old_commune_code
    left join new_units
        on new_units.commune_code = conversion.new_commune_code

)

select * from final
