-- One row per victim of a case. A victim without a personal ID gets a key of the case and position, so
-- it is counted as a child of its own (never merged with another child).
with source as (

    select * from {{ source('child_affairs', 'ldxh_xam_hai') }}

),

current_deliveries as (

    select * from source
    where superseded_by_batch is null

),

final as (

    select
        current_deliveries.case_id,
        victims.position as victim_number,
        coalesce(victims.victim ->> 'personal_id_pseudonym',
                 'case:' || current_deliveries.case_id || ':' || victims.position) as child_key,
        (victims.victim ->> 'birth_date')::date as birth_date,
        victims.victim ->> 'sex' as sex,
        (victims.victim ->> 'is_supported')::boolean as is_supported

    from current_deliveries
    cross join lateral jsonb_array_elements(current_deliveries.victims) with ordinality as victims (victim, position)

)

select * from final
