-- Every growth measurement on the current geography, each z-score judged as WHO Anthro does:
--   * a z-score outside WHO's flag limits (seed who_growth_zscores) is biologically implausible and is
--     excluded from that indicator, with the reason recorded here;
--   * with oedema, weight-based z-scores (WAZ, WHZ) are not used as values, but the child counts as
--     severely underweight and wasted (WHO Anthro prevalence rules);
--   * a z-score the standard cannot give (e.g. a height outside the weight-for-height table) is excluded
--     with the library's note as the reason.
with measurements as (

    select * from {{ ref('stg_health__growth_measurements') }}

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

limits as (

    select
        max(flag_below) filter (where zscore = 'haz') as haz_below,
        max(flag_above) filter (where zscore = 'haz') as haz_above,
        max(flag_below) filter (where zscore = 'waz') as waz_below,
        max(flag_above) filter (where zscore = 'waz') as waz_above,
        max(flag_below) filter (where zscore = 'whz') as whz_below,
        max(flag_above) filter (where zscore = 'whz') as whz_above
    from {{ ref('who_growth_zscores') }}

),

judged as (

    select
        measurements.batch_id,
        measurements.line_number,
        measurements.child_key,
        measurements.birth_date,
        measurements.measurement_date,
        measurements.sex,
        measurements.has_oedema,
        measurements.haz,
        measurements.waz,
        measurements.whz,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable,
        case
            when measurements.haz is null then 'not computable: ' || coalesce(measurements.zscore_note, 'no z-score')
            when measurements.haz < limits.haz_below or measurements.haz > limits.haz_above
                then format('WHO flag: HAZ %s outside [%s, %s]',
                    round(measurements.haz, 2), limits.haz_below, limits.haz_above)
        end as haz_exclusion,
        case
            when measurements.has_oedema then null
            when measurements.waz is null then 'not computable: ' || coalesce(measurements.zscore_note, 'no z-score')
            when measurements.waz < limits.waz_below or measurements.waz > limits.waz_above
                then format('WHO flag: WAZ %s outside [%s, %s]',
                    round(measurements.waz, 2), limits.waz_below, limits.waz_above)
        end as waz_exclusion,
        case
            when measurements.has_oedema then null
            when measurements.whz is null then 'not computable: ' || coalesce(measurements.zscore_note, 'no z-score')
            when measurements.whz < limits.whz_below or measurements.whz > limits.whz_above
                then format('WHO flag: WHZ %s outside [%s, %s]',
                    round(measurements.whz, 2), limits.whz_below, limits.whz_above)
        end as whz_exclusion
    from measurements
    cross join limits
    inner join geography
        on geography.admin_vintage = measurements.admin_vintage
        and geography.commune_code = measurements.commune_code

),

final as (

    select
        *,
        haz_exclusion is null as is_haz_valid,
        waz_exclusion is null as is_waz_valid,
        whz_exclusion is null as is_whz_valid,
        haz_exclusion is null and haz < -2 as is_stunted,
        waz_exclusion is null and (has_oedema or waz < -2) as is_underweight,
        whz_exclusion is null and (has_oedema or whz < -2) as is_wasted,
        whz_exclusion is null and not has_oedema and whz > 2 as is_overweight
    from judged

)

select * from final
