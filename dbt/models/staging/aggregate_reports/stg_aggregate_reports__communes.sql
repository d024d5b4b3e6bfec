with source as (

    select * from {{ source('aggregate_reports', 'bao_cao_tong_hop') }}

),

current_deliveries as (

    select * from source
    where superseded_by_batch is null

),

final as (

    select
        batch_id,
        extract(year from reference_date)::integer as reference_year,
        province_code,
        commune_code,
        admin_vintage,
        is_reported,
        villages,
        villages_with_child_facilities,
        has_play_point,
        children_consulted,
        children_online_safety,
        child_marriages,
        children_injured,
        is_child_friendly,
        recognition_year

    from current_deliveries

)

select * from final
