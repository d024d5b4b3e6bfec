-- A quality scorecard per current province and period (a year or a half-year), for the statistician who
-- signs the period off: were the deliveries complete and on time (fct_feed_completeness: the feeds whose
-- period is this half-year or year, every old province of the current one), how much of the current
-- deliveries was quarantined, how complete the register's personal IDs are, and how many values are
-- outliers (fct_indicator_outliers, the province's and its communes'). The values the release withholds are
-- added when it is published (published.quality_scorecard).
with completeness as (

    select * from {{ ref('fct_feed_completeness') }}
    where period_type in ('half_year', 'snapshot_half_year', 'year')

),

batches as (

    select * from {{ source('audit', 'load_batches') }}

),

outliers as (

    select * from {{ ref('fct_indicator_outliers') }}

),

communes as (

    select admin_code, province_code from {{ ref('dim_admin_unit') }}
    where vintage = {{ vintage_after_reform() }} and admin_level = 'commune'

),

id_completeness as (

    select admin_code as current_province_code, period, value as register_id_completeness_pct
    from {{ ref('fct_indicator_values') }}
    where indicator_id = 'register_id_completeness_rate' and admin_level = 'province'
        and sex = 'total' and age_group = 'total' and ethnicity = 'total' and category = 'total'

),

deliveries as (

    select
        current_province_code,
        period,
        case when period_type = 'year' then 'year' else 'half_year' end as period_type,
        count(*) filter (where expected) as deliveries_expected,
        count(*) filter (where expected and received) as deliveries_received,
        count(*) filter (where on_time) as deliveries_on_time,
        count(*) filter (where late) as deliveries_late,
        count(*) filter (where missing) as deliveries_missing
    from completeness
    group by 1, 2, 3

),

quarantine as (

    -- the current delivery of each feed, old province and period, each file counted once
    select
        delivered.current_province_code,
        delivered.period,
        sum(batches.rows_read) as rows_read,
        sum(batches.rows_quarantined) as rows_quarantined
    from (
        select distinct current_province_code, period, current_batch_id
        from completeness
        where current_batch_id is not null
    ) as delivered
    inner join batches on batches.batch_id = delivered.current_batch_id
    group by 1, 2

),

outliers_by_province as (

    select
        coalesce(communes.province_code, outliers.admin_code) as current_province_code,
        outliers.period,
        count(*) as outliers
    from outliers
    left join communes on communes.admin_code = outliers.admin_code and outliers.admin_level = 'commune'
    group by 1, 2

),

final as (

    select
        deliveries.current_province_code,
        deliveries.period,
        deliveries.period_type,
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
        round(100.0 * quarantine.rows_quarantined / nullif(quarantine.rows_read, 0), 3) as quarantine_rate_pct,
        round(id_completeness.register_id_completeness_pct, 2) as register_id_completeness_pct,
        coalesce(outliers_by_province.outliers, 0)::bigint as outliers
    from deliveries
    left join quarantine
        on quarantine.current_province_code = deliveries.current_province_code
        and quarantine.period = deliveries.period
    left join id_completeness
        on id_completeness.current_province_code = deliveries.current_province_code
        and id_completeness.period = deliveries.period
    left join outliers_by_province
        on outliers_by_province.current_province_code = deliveries.current_province_code
        and outliers_by_province.period = deliveries.period

)

select * from final
