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
        -- the forms of assistance received (tro_giup.hinh_thuc, e.g. tro_cap_xa_hoi, y_te), lower case; none unless
        -- the child was assisted
        case when coalesce((assistance ->> 'assisted')::boolean, false)
            then array(
                select distinct lower(btrim(form.value))
                from jsonb_array_elements_text(current_deliveries.assistance -> 'forms') as form (value)
                where btrim(form.value) <> '' order by 1
            )
            else array[]::text[]
        end as assistance_forms,
        has_disability,
        labour,
        snapshot_date

    from current_deliveries

)

select * from final
