with source as (

    select * from {{ source('population', 'dan_so') }}

),

current_deliveries as (

    select * from source
    where superseded_by_batch is null

),

final as (

    select
        batch_id,
        reference_date,
        extract(year from reference_date)::integer as reference_year,
        province_code,
        commune_code,
        admin_vintage,
        age,
        -- rows loaded before the open-ended group was read are single years
        coalesce(age_is_open_ended, false) as age_is_open_ended,
        sex,
        population

    from current_deliveries

)

select * from final
