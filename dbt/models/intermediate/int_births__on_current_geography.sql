-- Live births only (stillbirths are not in any denominator), placed on the current geography.
with births as (

    select * from {{ ref('stg_health__births') }}

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

final as (

    select
        births.event_id,
        births.birth_date,
        births.sex,
        births.mother_ethnicity_code,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable
    from births
    inner join geography
        on geography.admin_vintage = births.admin_vintage
        and geography.commune_code = births.commune_code
    where births.is_live_birth

)

select * from final
