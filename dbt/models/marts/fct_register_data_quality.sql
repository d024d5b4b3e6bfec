-- Data quality of the child register per commune and snapshot (issue 14; DHIS2's data-quality app, and the
-- provinces' clean-up of the child information software): every record the current deliveries hold, counted
-- or quarantined, and what is wrong with them. Counts only; the records to fix are listed for the loader
-- role in quarantine.register_cleanup_list. A delivery a later one replaced is not counted.
with register as (

    select * from {{ ref('stg_child_affairs__register') }}

),

quarantined as (

    select * from {{ source('audit', 'register_quarantine_counts') }}

),

coverage as (

    select * from {{ source('audit', 'batch_coverage') }}
    where feed = 'ldxh_tre_em'

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

counted as (

    select
        province_code,
        commune_code,
        snapshot_date,
        count(*) as records_counted,
        count(*) filter (where personal_id_status = 'missing') as records_id_missing,
        count(*) filter (where personal_id_status = 'malformed') as records_id_malformed,
        count(*) filter (where personal_id_status = 'inconsistent') as records_id_inconsistent,
        count(*) filter (where personal_id_status = 'valid') as records_complete,
        count(*) filter (where personal_id_status = 'unchecked') as records_id_unchecked
    from register
    group by 1, 2, 3

),

batch_snapshot as (

    -- a register file holds one province's snapshot: where a quarantined record that cannot be read (a
    -- malformed line, a bad commune or date) belongs
    select batch_id, min(province_code) as province_code, min(period_key) as snapshot_date
    from coverage
    group by 1
    having count(*) = 1

),

placed_quarantine as (

    select
        quarantined.batch_id,
        case when placeable then quarantined.province_code else batch_snapshot.province_code end as province_code,
        case when placeable then quarantined.commune_code else 'unknown' end as commune_code,
        case when placeable then quarantined.snapshot_date else batch_snapshot.snapshot_date end as snapshot_date,
        quarantined.records_quarantined,
        quarantined.records_without_valid_birth_date
    from (
        select *,
               coalesce(snapshot_date ~ '^\d{4}-\d{2}-\d{2}$' and commune_code ~ '^\d{5}$'
                        and province_code ~ '^\d{2}$', false) as placeable
        from quarantined
    ) as quarantined
    left join batch_snapshot on batch_snapshot.batch_id = quarantined.batch_id

),

current_quarantine as (

    -- quarantined records of deliveries no later batch replaced
    select
        placed.province_code,
        placed.commune_code,
        placed.snapshot_date::date as snapshot_date,
        sum(placed.records_quarantined)::bigint as records_quarantined,
        sum(placed.records_without_valid_birth_date)::bigint as records_without_valid_birth_date
    from placed_quarantine as placed
    where placed.snapshot_date is not null
        and not exists (
            select 1 from coverage as later
            where later.province_code = placed.province_code
                and later.period_key = placed.snapshot_date
                and later.batch_id > placed.batch_id)
    group by 1, 2, 3

),

combined as (

    select
        coalesce(counted.province_code, current_quarantine.province_code) as province_code,
        coalesce(counted.commune_code, current_quarantine.commune_code) as commune_code,
        coalesce(counted.snapshot_date, current_quarantine.snapshot_date) as snapshot_date,
        coalesce(counted.records_counted, 0) as records_counted,
        coalesce(current_quarantine.records_quarantined, 0) as records_quarantined,
        coalesce(counted.records_id_missing, 0) as records_id_missing,
        coalesce(counted.records_id_malformed, 0) as records_id_malformed,
        coalesce(counted.records_id_inconsistent, 0) as records_id_inconsistent,
        coalesce(counted.records_id_unchecked, 0) as records_id_unchecked,
        coalesce(counted.records_complete, 0) as records_complete,
        coalesce(current_quarantine.records_without_valid_birth_date, 0) as records_without_valid_birth_date
    from counted
    full outer join current_quarantine
        on current_quarantine.province_code = counted.province_code
        and current_quarantine.commune_code = counted.commune_code
        and current_quarantine.snapshot_date = counted.snapshot_date

),

final as (

    select
        combined.snapshot_date,
        {{ vintage_of('combined.snapshot_date') }} as admin_vintage,
        combined.province_code,
        combined.commune_code,
        geography.current_province_code,
        geography.current_commune_code,
        combined.records_counted + combined.records_quarantined as records_delivered,
        combined.records_counted,
        combined.records_quarantined,
        combined.records_id_missing + combined.records_id_malformed as records_without_valid_id,
        combined.records_id_missing,
        combined.records_id_malformed,
        combined.records_id_inconsistent,
        combined.records_id_unchecked,
        combined.records_without_valid_birth_date,
        combined.records_quarantined - combined.records_without_valid_birth_date as records_other_defects,
        combined.records_complete,
        round(100.0 * combined.records_complete / nullif(combined.records_counted + combined.records_quarantined, 0), 2)
            as share_complete_pct
    from combined
    left join geography
        on geography.admin_vintage = {{ vintage_of('combined.snapshot_date') }}
        and geography.commune_code = combined.commune_code

)

select * from final
