with source as (

    select * from {{ source('health', 'y_te_sinh') }}

),

current_deliveries as (

    select * from source
    where superseded_by_batch is null

),

final as (

    select
        batch_id,
        event_id,
        birth_date,
        sex,
        is_live_birth,
        birth_weight_g,
        province_code,
        commune_code,
        admin_vintage,
        mother_ethnicity_code,
        birth_place

    from current_deliveries

)

select * from final
