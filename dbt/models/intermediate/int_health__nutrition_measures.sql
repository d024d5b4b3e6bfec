-- Nutrition of children under 5 per period, level (national, province, commune), unit and sex: the latest
-- measurement of each child in the period (a child measured twice counts once, with the latest values
-- and the residence of that measurement). Each rate's denominator is the children whose z-score for it
-- is valid (WHO Anthro: flagged values are excluded indicator by indicator, oedema counts as wasted and
-- underweight). Communes get their totals (not by sex: a commune's children measured by sex are a handful), under
-- the comparability rule (macros/rollup_to_current_geography.sql); their small counts are suppressed in anything
-- published (seeds/catalogue/disclosure_rules.csv).
with latest as (

    select * from {{ ref('int_nutrition__latest_per_child') }}

),

summed as (

    {{ rollup_to_current_geography(
        'latest',
        breakdowns=['sex'],
        measures=[
            'count(*) as children_measured_under5',
            'count(*) filter (where is_haz_valid) as children_assessed_haz',
            'count(*) filter (where is_stunted) as stunted_children',
            'count(*) filter (where is_waz_valid) as children_assessed_waz',
            'count(*) filter (where is_underweight) as underweight_children',
            'count(*) filter (where is_whz_valid) as children_assessed_whz',
            'count(*) filter (where is_wasted) as wasted_children',
            'count(*) filter (where is_overweight) as overweight_children',
        ],
    ) }}

),

final as (

    select summed.period, summed.period_type, summed.admin_level, summed.admin_code, summed.sex,
           measures.measure, measures.amount::numeric as amount
    from summed
    cross join lateral (
        values
            ('children_measured_under5', summed.children_measured_under5),
            ('children_assessed_haz', summed.children_assessed_haz),
            ('stunted_children', summed.stunted_children),
            ('children_assessed_waz', summed.children_assessed_waz),
            ('underweight_children', summed.underweight_children),
            ('children_assessed_whz', summed.children_assessed_whz),
            ('wasted_children', summed.wasted_children),
            ('overweight_children', summed.overweight_children)
    ) as measures (measure, amount)

)

select * from final
where admin_level <> 'commune' or sex = 'total'
