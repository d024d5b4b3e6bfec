-- Outliers among the rates (DHIS2's outlier detection, with the robust score of Iglewicz and Hoaglin): each
-- total value of a province or commune compared with (a) the unit's own history, the other periods of the
-- same type, and (b) its peers in the same period, the other provinces or the other communes of the same
-- province. modified z = 0.6745 × (value − median) / MAD, MAD the median absolute deviation from the
-- median of the set (the value included, as Iglewicz and Hoaglin compute it); |z| > 3.5 is an outlier.
-- Median and MAD resist the outliers themselves, unlike mean and SD. A set needs at least 5 values and a MAD
-- above 0 (identical values give no scale). Warnings to look at, not errors: nothing is withheld for being
-- unusual.
with values_ as (

    select * from {{ ref('fct_indicator_values') }}
    where admin_level in ('province', 'commune')
        and sex = 'total' and age_group = 'total' and ethnicity = 'total' and category = 'total'
        and value is not null
        -- years and half-years only: a report round re-cuts the same months, so its history would repeat them
        and period_type in ('year', 'half_year')

),

catalogue as (

    select indicator_id, kind from {{ ref('dim_indicator') }}

),

communes as (

    select admin_code, province_code from {{ ref('dim_admin_unit') }}
    where vintage = {{ vintage_after_reform() }} and admin_level = 'commune'

),

rates as (

    select
        values_.indicator_id,
        values_.period,
        values_.period_type,
        values_.admin_level,
        values_.admin_code,
        values_.admin_name,
        case when values_.admin_level = 'commune' then communes.province_code else 'VN' end as peer_group,
        values_.value,
        values_.numerator,
        values_.denominator
    from values_
    inner join catalogue on catalogue.indicator_id = values_.indicator_id and catalogue.kind = 'rate'
    left join communes on communes.admin_code = values_.admin_code and values_.admin_level = 'commune'

),

grouped as (

    -- each value in its two comparison sets: the unit's periods of the same type (history) and the units of
    -- the same level and period (peers; communes among the communes of their province)
    select
        rates.*,
        'history' as compared_with,
        concat_ws('|', rates.indicator_id, rates.admin_level, rates.admin_code, rates.period_type) as set_key
    from rates
    union all
    select
        rates.*,
        'peers' as compared_with,
        concat_ws('|', rates.indicator_id, rates.admin_level, rates.peer_group, rates.period) as set_key
    from rates

),

medians as (

    select set_key, count(*) as set_size, percentile_cont(0.5) within group (order by value) as median
    from grouped
    group by 1

),

deviations as (

    select grouped.set_key, percentile_cont(0.5) within group (order by abs(grouped.value - medians.median)) as mad
    from grouped
    inner join medians on medians.set_key = grouped.set_key
    group by 1

),

scored as (

    select
        grouped.indicator_id,
        grouped.period,
        grouped.period_type,
        grouped.admin_level,
        grouped.admin_code,
        grouped.admin_name,
        grouped.compared_with,
        grouped.value,
        grouped.numerator,
        grouped.denominator,
        medians.set_size - 1 as others,
        round(medians.median::numeric, 4) as median,
        round(deviations.mad::numeric, 4) as mad,
        round((0.6745 * (grouped.value - medians.median) / deviations.mad)::numeric, 2) as modified_z
    from grouped
    inner join medians on medians.set_key = grouped.set_key
    inner join deviations on deviations.set_key = grouped.set_key
    where medians.set_size >= 5 and deviations.mad > 0

),

final as (

    select
        scored.*,
        case when scored.modified_z > 0 then 'high' else 'low' end as direction
    from scored
    where abs(scored.modified_z) > 3.5

)

select * from final
