with source as (

    select * from {{ source('health', 'y_te_can_do') }}

),

current_deliveries as (

    select * from source
    where superseded_by_batch is null

),

final as (

    select
        batch_id,
        line_number,
        monitoring_person_pseudonym as child_key,
        birth_date,
        measurement_date,
        sex,
        weight_kg,
        length_height_cm,
        measurement_position,
        has_oedema,
        province_code,
        commune_code,
        admin_vintage,
        age_days,
        height_adjusted_cm,
        haz,
        waz,
        whz,
        zscore_note

    from current_deliveries

)

select * from final
