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
        string_to_array(breakdowns, '|') as breakdowns,
        string_to_array(admin_levels, '|') as admin_levels,
        string_to_array(period_types, '|') as period_types,
        string_to_array(source_feeds, '|') as source_feeds,
        responsible_agency,
        legal_basis,
        valid_from,
        valid_to,
        plausible_min,
        plausible_max,
        bounds_min_denominator,
        numerator_within_denominator,
        is_sensitive,
        notes
    from catalogue

)

select * from final
