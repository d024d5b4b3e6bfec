-- Names never leave raw: this model lists its columns and full_name is not one of them.
with source as (

    select * from {{ source('child_affairs', 'ldxh_tre_em') }}

),

current_deliveries as (

    select * from source
    where superseded_by_batch is null

),

final as (

    select
        batch_id,
        personal_id_pseudonym as child_key,
        -- valid, missing, malformed or inconsistent; a child without a valid ID (null key) still counts.
        -- Rows loaded before the loader checked IDs (issue 14) have no status: unchecked until reloaded.
        coalesce(personal_id_status, 'unchecked') as personal_id_status,
        source_file,
        line_number,
        birth_date,
        sex,
        ethnicity_code,
        province_code,
        commune_code,
        admin_vintage,
        special_circumstance_groups,
        coalesce((assistance ->> 'assisted')::boolean, false) as is_assisted,
        has_disability,
        labour,
        snapshot_date

    from current_deliveries

)

select * from final
