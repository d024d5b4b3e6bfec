-- Targets the indicators are monitored against (seed indicator_targets): published.targets and
-- published.target_progress are built from it at every publish.
with targets as (

    select * from {{ ref('indicator_targets') }}

),

final as (

    select
        indicator_id,
        scope,
        target_year,
        target_value,
        direction,
        period_types,
        baseline_year,
        baseline_value,
        source
    from targets

)

select * from final
