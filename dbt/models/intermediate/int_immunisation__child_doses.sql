-- One row per child and vaccine dose: the first time the child received it, where the child lived then
-- (on the current geography), and whether it came before the first birthday. A dose recorded twice for
-- the same child counts once. The child's birth date and sex are those of the child's earliest record.
with doses as (

    select * from {{ ref('stg_health__immunisation_doses') }}

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

children as (

    select distinct on (child_key)
        child_key,
        birth_date,
        sex
    from doses
    order by child_key, dose_date, batch_id

),

first_doses as (

    select distinct on (doses.child_key, doses.vaccine_code)
        doses.child_key,
        doses.vaccine_code,
        doses.dose_date,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable
    from doses
    inner join geography
        on geography.admin_vintage = doses.admin_vintage
        and geography.commune_code = doses.commune_code
    order by doses.child_key, doses.vaccine_code, doses.dose_date, doses.batch_id

),

final as (

    select
        first_doses.child_key,
        children.birth_date,
        children.sex,
        first_doses.vaccine_code,
        first_doses.dose_date,
        first_doses.dose_date - children.birth_date as age_days_at_dose,
        -- completed years, as for ages at death: a dose on the first birthday is not "before" it
        extract(year from age(first_doses.dose_date, children.birth_date)) < 1 as is_before_first_birthday,
        first_doses.current_province_code,
        first_doses.current_commune_code,
        first_doses.current_commune_is_comparable
    from first_doses
    inner join children
        on children.child_key = first_doses.child_key

)

select * from final
