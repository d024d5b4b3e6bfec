-- One row per child in the registry: the first birthday, whether every dose the catalogue requires
-- (catalogue seed indicator_required_doses, valid on the first birthday) was given before it, and where
-- the child lived when the schedule was completed; plus the hepatitis B birth dose within 24 hours
-- (on the birth date or the next day).
with child_doses as (

    select * from {{ ref('int_immunisation__child_doses') }}

),

required as (

    select * from {{ ref('indicator_required_doses') }}
    where indicator_id = 'full_immunisation_rate_under1'

),

children as (

    select
        child_key,
        min(birth_date) as birth_date,
        min(sex) as sex,
        (min(birth_date) + interval '1 year')::date as first_birthday
    from child_doses
    group by child_key

),

required_for_child as (

    select
        children.child_key,
        required.vaccine_code
    from children
    inner join required
        on children.first_birthday >= required.valid_from
        and (required.valid_to is null or children.first_birthday <= required.valid_to)

),

required_given as (

    select
        required_for_child.child_key,
        count(*) as doses_required,
        count(child_doses.vaccine_code) filter (where child_doses.is_before_first_birthday) as doses_given_in_time,
        -- the completing dose: the last of the required doses
        (array_agg(child_doses.current_province_code order by child_doses.dose_date desc nulls last))[1]
            as completing_province_code,
        (array_agg(child_doses.current_commune_code order by child_doses.dose_date desc nulls last))[1]
            as completing_commune_code,
        (array_agg(child_doses.current_commune_is_comparable order by child_doses.dose_date desc nulls last))[1]
            as completing_commune_is_comparable
    from required_for_child
    left join child_doses
        on child_doses.child_key = required_for_child.child_key
        and child_doses.vaccine_code = required_for_child.vaccine_code
    group by required_for_child.child_key

),

hepatitis_b_birth_dose as (

    select
        child_key,
        current_province_code,
        current_commune_code,
        current_commune_is_comparable,
        age_days_at_dose <= 1 as is_within_24_hours
    from child_doses
    where vaccine_code = 'VGB_SS'

),

final as (

    select
        children.child_key,
        children.birth_date,
        children.sex,
        children.first_birthday,
        coalesce(required_given.doses_required, 0) as doses_required,
        coalesce(required_given.doses_given_in_time, 0) as doses_given_in_time,
        required_given.doses_required > 0
            and required_given.doses_given_in_time = required_given.doses_required as is_fully_immunised_under1,
        required_given.completing_province_code,
        required_given.completing_commune_code,
        required_given.completing_commune_is_comparable,
        coalesce(hepatitis_b_birth_dose.is_within_24_hours, false) as has_timely_hepb_birth_dose,
        hepatitis_b_birth_dose.current_province_code as hepb_birth_dose_province_code,
        hepatitis_b_birth_dose.current_commune_code as hepb_birth_dose_commune_code,
        hepatitis_b_birth_dose.current_commune_is_comparable as hepb_birth_dose_commune_is_comparable
    from children
    left join required_given
        on required_given.child_key = children.child_key
    left join hepatitis_b_birth_dose
        on hepatitis_b_birth_dose.child_key = children.child_key

)

select * from final
