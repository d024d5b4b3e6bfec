-- Child deaths with age at death in exact days and completed years, on the current geography.
-- Neonatal: under 28 days. Infant: before the first birthday. Under-5: before the fifth birthday.
-- Completed years come from age(), so a death on the birthday itself is the new age (29 February
-- birthdays roll over to 1 March in non-leap years, as PostgreSQL's interval arithmetic does).
with deaths as (

    select * from {{ ref('stg_health__child_deaths') }}

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

aged as (

    select
        deaths.*,
        deaths.death_date - deaths.birth_date as age_days,
        extract(year from age(deaths.death_date, deaths.birth_date))::integer as age_years
    from deaths

),

final as (

    select
        aged.event_id,
        aged.birth_date,
        aged.death_date,
        aged.sex,
        aged.cause_code,
        aged.ethnicity_code,
        aged.age_days,
        aged.age_years,
        aged.age_days < 28 as is_neonatal,
        aged.age_years < 1 as is_infant,
        aged.age_years < 5 as is_under5,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable
    from aged
    inner join geography
        on geography.admin_vintage = aged.admin_vintage
        and geography.commune_code = aged.commune_code

)

select * from final
