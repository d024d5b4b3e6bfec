-- Completeness and timeliness of deliveries (DHIS2's reporting rates): one row per (feed, period, province
-- of the period's geography) that has ended, expected or not (int_feed_deliveries__expected), with what
-- arrived. A delivery is received when a loaded batch holds rows of the feed for that province and period
-- (audit.batch_coverage); a correction does not move its first arrival. On time when it first arrived on
-- or before the due date, a Vietnamese calendar day; missing when the due date has passed without it.
with expected as (

    select * from {{ ref('int_feed_deliveries__expected') }}

),

batches as (

    select * from {{ source('audit', 'load_batches') }}

),

coverage as (

    select * from {{ source('audit', 'batch_coverage') }}

),

loaded_coverage as (

    select
        coverage.feed,
        coverage.admin_vintage,
        coverage.province_code,
        -- a register snapshot date counts for its half-year; every other key is the period itself
        case
            when coverage.period_key ~ '^\d{4}-\d{2}-\d{2}$'
                then left(coverage.period_key, 4) || case when substr(coverage.period_key, 6, 2) <= '06'
                                                          then '-H1' else '-H2' end
            else coverage.period_key
        end as period,
        coverage.period_key,
        coverage.batch_id,
        coverage.rows,
        coalesce(batches.finished_at, batches.started_at) as loaded_at
    from coverage
    inner join batches
        on batches.batch_id = coverage.batch_id
    where batches.status = 'loaded'

),

receipts as (

    select
        feed, admin_vintage, province_code, period,
        min(loaded_at) as first_received_at,
        max(loaded_at) as last_received_at
    from loaded_coverage
    group by feed, admin_vintage, province_code, period

),

-- the rows that stand: the newest batch of the period's latest key (for the register, its latest snapshot)
current_rows as (

    select distinct on (feed, admin_vintage, province_code, period)
        feed, admin_vintage, province_code, period, batch_id, rows
    from loaded_coverage
    order by feed, admin_vintage, province_code, period, period_key desc, batch_id desc

),

judged as (

    select
        expected.*,
        receipts.first_received_at is not null as received,
        receipts.first_received_at,
        receipts.last_received_at,
        coalesce(current_rows.rows, 0) as rows,
        current_rows.batch_id as current_batch_id,
        -- deadlines are Vietnamese calendar days
        (receipts.first_received_at at time zone 'Asia/Ho_Chi_Minh')::date as first_received_on
    from expected
    left join receipts
        on receipts.feed = expected.feed
        and receipts.period = expected.period
        and receipts.admin_vintage = expected.admin_vintage
        and receipts.province_code = expected.province_code
    left join current_rows
        on current_rows.feed = expected.feed
        and current_rows.period = expected.period
        and current_rows.admin_vintage = expected.admin_vintage
        and current_rows.province_code = expected.province_code

),

final as (

    select
        feed,
        period,
        period_type,
        period_start,
        period_end,
        admin_vintage,
        province_code,
        province_name,
        current_province_code,
        current_province_name,
        expected,
        due_date,
        due_date_basis,
        received,
        first_received_at,
        last_received_at,
        rows,
        current_batch_id,
        expected and received and first_received_on <= due_date as on_time,
        expected and received and first_received_on > due_date as late,
        expected and not received and due_date < {{ completeness_as_of() }} as missing,
        case
            when not expected then 'not_expected'
            when received and first_received_on <= due_date then 'on_time'
            when received then 'late'
            when due_date < {{ completeness_as_of() }} then 'missing'
            else 'awaited'
        end as delivery_status,
        case
            when not expected or due_date is null then null
            when received then greatest(first_received_on - due_date, 0)
            else greatest({{ completeness_as_of() }} - due_date, 0)
        end as days_past_due,
        not bool_or(received) over (partition by feed, period) as no_province_delivered
    from judged

)

select * from final
