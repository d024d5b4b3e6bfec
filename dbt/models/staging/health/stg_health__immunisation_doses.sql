-- Names and personal IDs never leave raw: the child is known here only by the registry code's pseudonym.
with source as (

    select * from {{ source('health', 'y_te_tiem_chung') }}

),

current_deliveries as (

    select * from source
    where superseded_by_batch is null

),

final as (

    select
        batch_id,
        registry_person_pseudonym as child_key,
        birth_date,
        sex,
        province_code,
        commune_code,
        admin_vintage,
        vaccine_code,
        dose_date

    from current_deliveries

)

select * from final
