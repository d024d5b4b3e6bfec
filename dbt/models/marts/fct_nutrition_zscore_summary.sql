-- Distribution of each z-score per period, level and province over the latest measurement of each child
-- (WHO Anthro's z-score summary): how many were assessed or excluded and why, the mean and SD of the
-- valid z-scores. Statisticians read it to judge data quality; the quality gate reports implausible means.
with latest as (

    select * from {{ ref('int_nutrition__latest_per_child') }}

),

admin_names as (

    select admin_code, admin_name from {{ ref('dim_admin_unit') }}
    where vintage = {{ vintage_after_reform() }} and admin_level = 'province'

),

long as (

    select
        latest.period,
        latest.period_type,
        latest.current_province_code,
        scores.zscore,
        scores.value,
        scores.exclusion
    from latest
    cross join lateral (
        values
            ('haz', latest.haz, latest.haz_exclusion),
            ('waz', case when not latest.has_oedema then latest.waz end, latest.waz_exclusion),
            ('whz', case when not latest.has_oedema then latest.whz end, latest.whz_exclusion)
    ) as scores (zscore, value, exclusion)

),

summed as (

    {{ rollup_to_current_geography(
        'long',
        group_by=['zscore'],
        communes=false,
        measures=[
            'count(*) as children',
            'count(*) filter (where exclusion is null) as children_valid',
            "count(*) filter (where exclusion like 'WHO flag%') as excluded_who_flag",
            "count(*) filter (where exclusion like 'not computable%') as excluded_not_computable",
            'round(avg(value) filter (where exclusion is null), 3) as mean_zscore',
            'round(stddev_samp(value) filter (where exclusion is null), 3) as sd_zscore',
            'count(*) filter (where exclusion is null and value < -2) as below_minus_2',
            'count(*) filter (where exclusion is null and value > 2) as above_plus_2',
        ],
    ) }}

),

final as (

    select
        summed.*,
        coalesce(admin_names.admin_name, 'Việt Nam') as admin_name
    from summed
    left join admin_names
        on summed.admin_level = 'province' and admin_names.admin_code = summed.admin_code

)

select * from final
