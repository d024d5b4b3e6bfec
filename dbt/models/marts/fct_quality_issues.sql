-- Every failed data-quality check of every run, pinned to a province (or a commune, placed in its province)
-- and period where the check could pin it, with the province's name and its code on the current geography. A
-- view, so the results of the run that is going on are in it as soon as a suite has finished.
-- Raw suites report the province code as delivered, in the vintage of the row's period: a half-year or
-- year before 2025-H2 / 2025, or a school year starting before 2025, carries a pre-reform code.
{{ config(materialized='view') }}

with results as (

    select * from {{ source('audit', 'quality_results') }}
    where not success

),

runs as (

    select quality_run_id, started_at from {{ source('audit', 'quality_runs') }}

),

units as (

    -- provinces, and communes (the outlier warnings name a commune): codes of 2 and 5 digits never collide
    select vintage, admin_code, admin_name, current_province_code from {{ ref('dim_admin_unit') }}
    where admin_level in ('province', 'commune')

),

placed as (

    select
        results.*,
        case
            when results.suite not like 'raw\_%' then {{ vintage_after_reform() }}
            when results.period ~ '^\d{4}-H[12]$' and results.period < '2025-H2' then {{ vintage_before_reform() }}
            when results.period ~ '^\d{4}$' and results.period < '2025' then {{ vintage_before_reform() }}
            when results.period ~ '^\d{4}-\d{4}$' and results.period < '2025' then {{ vintage_before_reform() }}
            else {{ vintage_after_reform() }}
        end as admin_vintage
    from results

),

final as (

    select
        placed.run_id,
        runs.started_at as checked_at,
        placed.suite,
        placed.severity,
        case when placed.severity = 'warning' then 'reported'
             when placed.pinned then 'withholds the values it names'
             else 'blocks the release' end as consequence,
        placed.expectation,
        placed.admin_code,
        placed.admin_vintage,
        case when placed.admin_code = 'VN' then 'Việt Nam' else units.admin_name end as admin_name,
        case when placed.admin_code = 'VN' then 'VN' else units.current_province_code end as current_province_code,
        placed.period,
        placed.message,
        placed.failing_rows,
        placed.quality_result_id
    from placed
    inner join runs
        on runs.quality_run_id = placed.quality_run_id
    left join units
        on units.vintage = placed.admin_vintage
        and units.admin_code = placed.admin_code

)

select * from final
