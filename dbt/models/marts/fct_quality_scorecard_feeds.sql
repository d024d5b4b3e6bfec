-- The quality scorecard per current province, period (a year or a half-year) and feed: were the feed's
-- deliveries complete and on time (fct_feed_completeness: the feeds whose period is this half-year or year,
-- every old province of the current one), and how much of its current deliveries was quarantined. Summed over
-- the feeds in fct_quality_scorecard.
with completeness as (

    select * from {{ ref('fct_feed_completeness') }}
    where period_type in ('half_year', 'snapshot_half_year', 'year')

),

batches as (

    select * from {{ source('audit', 'load_batches') }}

),

deliveries as (

    select
        current_province_code,
        period,
        case when period_type = 'year' then 'year' else 'half_year' end as period_type,
        feed,
        count(*) filter (where expected) as deliveries_expected,
        count(*) filter (where expected and received) as deliveries_received,
        count(*) filter (where on_time) as deliveries_on_time,
        count(*) filter (where late) as deliveries_late,
        count(*) filter (where missing) as deliveries_missing
    from completeness
    group by 1, 2, 3, 4

),

quarantine as (

    -- the current delivery of each old province and period, each file counted once
    select
        delivered.current_province_code,
        delivered.period,
        delivered.feed,
        sum(batches.rows_read) as rows_read,
        sum(batches.rows_quarantined) as rows_quarantined
    from (
        select distinct current_province_code, period, feed, current_batch_id
        from completeness
        where current_batch_id is not null
    ) as delivered
    inner join batches on batches.batch_id = delivered.current_batch_id
    group by 1, 2, 3

),

final as (

    select
        deliveries.current_province_code,
        deliveries.period,
        deliveries.period_type,
        deliveries.feed,
        deliveries.deliveries_expected,
        deliveries.deliveries_received,
        deliveries.deliveries_on_time,
        deliveries.deliveries_late,
        deliveries.deliveries_missing,
        round(100.0 * deliveries.deliveries_received / nullif(deliveries.deliveries_expected, 0), 2)
            as reporting_rate_pct,
        round(100.0 * deliveries.deliveries_on_time / nullif(deliveries.deliveries_expected, 0), 2)
            as on_time_rate_pct,
        coalesce(quarantine.rows_read, 0)::bigint as rows_read,
        coalesce(quarantine.rows_quarantined, 0)::bigint as rows_quarantined,
        round(100.0 * quarantine.rows_quarantined / nullif(quarantine.rows_read, 0), 3) as quarantine_rate_pct
    from deliveries
    left join quarantine
        on quarantine.current_province_code = deliveries.current_province_code
        and quarantine.period = deliveries.period
        and quarantine.feed = deliveries.feed

)

select * from final
