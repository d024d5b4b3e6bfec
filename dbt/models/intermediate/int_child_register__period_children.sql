-- The children each period's register indicators count: for every province, the latest snapshot dated
-- within the period (a half-year its own latest snapshot, a year the latest of the year; sources.md).
-- Across the 2025 reform an old province's snapshot and its new province's snapshot can both fall in
-- the period: the current province then uses the latest vintage only, so no child is counted twice.
--
-- One child across the files of merged provinces (the rule; _child_affairs__models.yml): before the
-- reform several old provinces' snapshots count for one current province (old Lào Cai 10 and Yên Bái 15
-- for new Lào Cai 15). A child key found in more than one of them is one child when the records agree on
-- birth date and sex (a child who moved between the two): the record of the latest snapshot is kept, and
-- of the file loaded last when the dates are equal. Records that share a key but not the birth date or
-- the sex are different children under an ID that is not theirs (a placeholder such as 123, which the
-- loader re-pads to 000000000123 and pseudonymises like any ID, or a mistyped one): each stays a child,
-- flagged `is_shared_key`, and a warning-level test reports them. One file cannot hold a key twice (the
-- loader quarantines the second row), so the rule only ever decides between files.
--
-- A child without a valid ID (blank or malformed: no key; issue 14) counts as one child per record: it
-- cannot be recognised in another file, so it is never merged with anyone (the loader already refused a
-- second record of the same name, birth date, sex and commune within its file). The placeholder `123`
-- is malformed now (no province 000 in Thông tư 07/2016/TT-BCA), so placeholders no longer collide.
--
-- Kept per current province (macros/province_increments.sql): a night rebuilds the rows of the current provinces
-- whose register deliveries changed; every rule above holds within one period and current province.
-- depends_on: {{ ref('province_conversion_2025') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_provinces('ldxh_tre_em', 'current_province_code in {provinces}') }}",
) }}

with register as (

    select * from {{ ref('stg_child_affairs__register') }}
    {%- if is_incremental() %}
    where {{ delivered_for_changed_provinces('ldxh_tre_em') }}
    {%- endif %}

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

periods as (

    select * from {{ ref('dim_period') }}

),

commune_snapshots as (

    -- the snapshots, one row per commune and date, before anything is joined to them: a register holds
    -- every child of every snapshot, and joining each row to its periods first (a date falls in a
    -- half-year, a year and rounds) multiplied the rows to sort by the periods of each date
    select distinct admin_vintage, province_code, commune_code, snapshot_date
    from register

),

province_snapshots as (

    select distinct
        periods.period,
        periods.period_type,
        periods.includes_pre_reform_dates,
        snapshots.admin_vintage,
        snapshots.province_code,
        geography.current_province_code,
        snapshots.snapshot_date
    from commune_snapshots as snapshots
    inner join periods
        on snapshots.snapshot_date between periods.start_date and periods.end_date
    inner join geography
        on geography.admin_vintage = snapshots.admin_vintage
        and geography.commune_code = snapshots.commune_code
    {%- if is_incremental() %}
    where geography.current_province_code in {{ changed_current_provinces('ldxh_tre_em') }}
    {%- endif %}

),

latest_per_province as (

    select distinct on (period, admin_vintage, province_code)
        period, period_type, includes_pre_reform_dates, admin_vintage, province_code, current_province_code,
        snapshot_date
    from province_snapshots
    order by period, admin_vintage, province_code, snapshot_date desc

),

chosen as (

    -- per current province, the snapshots of its latest vintage in the period (post-reform if any)
    select latest.*
    from latest_per_province as latest
    where latest.admin_vintage = {{ vintage_after_reform() }}
        or not exists (
            select 1 from latest_per_province as other
             where other.period = latest.period and other.current_province_code = latest.current_province_code
               and other.admin_vintage = {{ vintage_after_reform() }})

),

counted as (

    select
        chosen.period,
        chosen.period_type,
        chosen.includes_pre_reform_dates,
        chosen.snapshot_date,
        register.batch_id,
        register.birth_date,
        register.child_key,
        -- the record itself stands for a child without a key: never merged with another record
        coalesce(register.child_key, 'record ' || register.batch_id || ':' || register.line_number) as record_key,
        register.personal_id_status,
        register.sex,
        register.ethnicity_code,
        extract(year from age(register.snapshot_date, register.birth_date))::integer as age_years,
        register.special_circumstance_groups,
        cardinality(register.special_circumstance_groups) > 0 as is_special_circumstances,
        register.is_assisted,
        register.assistance_forms,
        register.labour,
        register.admin_vintage,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable
    from chosen
    inner join register
        on register.admin_vintage = chosen.admin_vintage
        and register.province_code = chosen.province_code
        and register.snapshot_date = chosen.snapshot_date
    inner join geography
        on geography.admin_vintage = register.admin_vintage
        and geography.commune_code = register.commune_code

),

one_record_per_child as (

    -- the same key, birth date and sex in the snapshots of merged provinces: one child, the latest record
    select distinct on (period, current_province_code, record_key, birth_date, sex) *
    from counted
    order by period, current_province_code, record_key, birth_date, sex, snapshot_date desc, batch_id desc

),

final as (

    select
        period,
        period_type,
        includes_pre_reform_dates,
        snapshot_date,
        child_key,
        -- other children of the period and province hold the same key: an ID that is not the child's own
        child_key is not null
            and count(*) over (partition by period, current_province_code, child_key) > 1 as is_shared_key,
        personal_id_status,
        personal_id_status = 'valid' as has_valid_id,
        record_key,
        sex,
        ethnicity_code,
        age_years,
        special_circumstance_groups,
        is_special_circumstances,
        is_assisted,
        assistance_forms,
        labour,
        admin_vintage,
        current_province_code,
        current_commune_code,
        current_commune_is_comparable
    from one_record_per_child

)

select * from final
