-- Every victim of every current abuse case with the case's period facts: date, place on the current
-- geography, forms, setting and handling; age group at the case date (0-5, 6-10, 11-15; 16-17 for an
-- older child).
with victims as (

    select * from {{ ref('stg_child_affairs__abuse_victims') }}

),

cases as (

    select * from {{ ref('stg_child_affairs__abuse_cases') }}

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

final as (

    select
        cases.case_id,
        cases.detected_on,
        cases.abuse_forms,
        cases.setting,
        cases.handling,
        victims.victim_number,
        victims.child_key,
        victims.sex,
        victims.is_supported,
        case
            when extract(year from age(cases.detected_on, victims.birth_date)) <= 5 then '0-5'
            when extract(year from age(cases.detected_on, victims.birth_date)) <= 10 then '6-10'
            when extract(year from age(cases.detected_on, victims.birth_date)) <= 15 then '11-15'
            else '16-17'
        end as age_group,
        cases.admin_vintage,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable
    from victims
    inner join cases
        on cases.case_id = victims.case_id
    inner join geography
        on geography.admin_vintage = cases.admin_vintage
        and geography.commune_code = cases.commune_code

)

select * from final
