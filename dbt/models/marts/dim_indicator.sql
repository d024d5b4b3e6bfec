with catalogue as (

    select * from {{ ref('indicator_catalogue') }}

),

final as (

    select
        indicator_id,
        annex,
        tt13_code,
        tt13_code_status,
        indicator_group,
        name_vi,
        name_en,
        kind,
        unit,
        unit_label_vi,
        multiplier,
        numerator_measure,
        denominator_measure,
        numerator_definition,
        denominator_definition,
        breakdowns,
        admin_levels,
        period_types,
        source_feeds,
        responsible_agency,
        legal_basis,
        valid_from,
        valid_to,
        plausible_min,
        plausible_max,
        interval_method,
        flag_above,
        flag_reason,
        numerator_within_denominator,
        is_sensitive,
        notes
    from catalogue

)

select * from final
