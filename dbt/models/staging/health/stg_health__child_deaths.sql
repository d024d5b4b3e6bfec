with source as (

    select * from {{ source('health', 'y_te_tu_vong') }}

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
        death_date,
        sex,
        province_code,
        commune_code,
        admin_vintage,
        ethnicity_code,
        cause_code

    from current_deliveries

)

select * from final
