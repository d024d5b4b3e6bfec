with source as (

    select * from {{ source('child_affairs', 'ldxh_xam_hai') }}

),

current_deliveries as (

    select * from source
    where superseded_by_batch is null

),

final as (

    select
        batch_id,
        case_id,
        detected_on,
        province_code,
        commune_code,
        admin_vintage,
        abuse_forms,
        setting,
        offenders,
        handling,
        coalesce(fine_vnd, 0) as fine_vnd

    from current_deliveries

)

select * from final
