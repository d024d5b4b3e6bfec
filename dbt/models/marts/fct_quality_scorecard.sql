-- A quality scorecard per current province and period (a year or a half-year), for the statistician who
-- signs the period off: were the deliveries complete and on time and how much of the current deliveries was
-- quarantined (fct_quality_scorecard_feeds, per feed, summed here), how complete the register's personal IDs
-- are, and how many values are outliers (fct_indicator_outliers, the province's and its communes'). The values
-- the release withholds are added when it is published (published.quality_scorecard).
with feeds as (

    select * from {{ ref('fct_quality_scorecard_feeds') }}

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

    -- the feeds summed: rows of each delivery once (a file is one feed's)
    select
        current_province_code,
        period,
        period_type,
        sum(deliveries_expected) as deliveries_expected,
        sum(deliveries_received) as deliveries_received,
        sum(deliveries_on_time) as deliveries_on_time,
        sum(deliveries_late) as deliveries_late,
        sum(deliveries_missing) as deliveries_missing,
        sum(rows_read) as rows_read,
        sum(rows_quarantined) as rows_quarantined
    from feeds
    group by 1, 2, 3

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
        deliveries.deliveries_expected::bigint as deliveries_expected,
        deliveries.deliveries_received::bigint as deliveries_received,
        deliveries.deliveries_on_time::bigint as deliveries_on_time,
        deliveries.deliveries_late::bigint as deliveries_late,
        deliveries.deliveries_missing::bigint as deliveries_missing,
        round(100.0 * deliveries.deliveries_received / nullif(deliveries.deliveries_expected, 0), 2)
            as reporting_rate_pct,
        round(100.0 * deliveries.deliveries_on_time / nullif(deliveries.deliveries_expected, 0), 2)
            as on_time_rate_pct,
        deliveries.rows_read::bigint as rows_read,
        deliveries.rows_quarantined::bigint as rows_quarantined,
        round(100.0 * deliveries.rows_quarantined / nullif(deliveries.rows_read, 0), 3) as quarantine_rate_pct,
        round(id_completeness.register_id_completeness_pct, 2) as register_id_completeness_pct,
        coalesce(outliers_by_province.outliers, 0)::bigint as outliers
    from deliveries
    left join id_completeness
        on id_completeness.current_province_code = deliveries.current_province_code
        and id_completeness.period = deliveries.period
    left join outliers_by_province
        on outliers_by_province.current_province_code = deliveries.current_province_code
        and outliers_by_province.period = deliveries.period

)

select * from final
