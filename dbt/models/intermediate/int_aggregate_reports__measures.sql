-- The communes' annual aggregate report (bao_cao_tong_hop) per year, level (national, province, commune)
-- and unit: what no register holds (TT 13 Phụ lục I 0501, 0502, 0601, 0605, child marriages, non-fatal
-- injuries, child-friendly communes). Only communes that reported count, in numerators and denominators
-- alike: a commune that left its row empty is neither a zero nor in the denominator, so a province's rate is
-- that of its reporting communes (communes_reporting says how many). The children the rates are per are the
-- reporting communes' children in the statistics office's estimate of the year (dan_so): aged 7–15 for
-- the consulted, under 16 for the others. The rollup and the comparability rule for communes:
-- macros/rollup_to_current_geography.sql.
with reports as (

    select * from {{ ref('stg_aggregate_reports__communes') }}
    where is_reported

),

population as (

    select
        admin_vintage,
        commune_code,
        reference_year,
        sum(population) filter (where age < 16) as children_under16,
        sum(population) filter (where age between 7 and 15) as children_7_15
    from {{ ref('stg_population__estimates') }}
    group by 1, 2, 3

),

geography as (

    select * from {{ ref('int_admin_units__mapped_to_current') }}

),

communes as (

    select
        reports.reference_year::text as period,
        'year' as period_type,
        make_date(reports.reference_year, 1, 1) < {{ reform_date() }} as includes_pre_reform_dates,
        geography.current_province_code,
        geography.current_commune_code,
        geography.current_commune_is_comparable,
        reports.villages,
        reports.villages_with_child_facilities,
        reports.has_play_point::integer as has_play_point,
        reports.children_consulted,
        reports.children_online_safety,
        reports.child_marriages,
        reports.children_injured,
        reports.is_child_friendly::integer as is_child_friendly,
        population.children_under16,
        population.children_7_15
    from reports
    inner join geography
        on geography.admin_vintage = reports.admin_vintage
        and geography.commune_code = reports.commune_code
    left join population
        on population.admin_vintage = reports.admin_vintage
        and population.commune_code = reports.commune_code
        and population.reference_year = reports.reference_year

),

summed as (

    {{ rollup_to_current_geography(
        'communes',
        pre_reform_flag='includes_pre_reform_dates',
        measures=[
            'count(*) as communes_reporting',
            'sum(villages) as villages',
            'sum(villages_with_child_facilities) as villages_with_child_facilities',
            'sum(has_play_point) as communes_with_play_point',
            'sum(children_consulted) as children_consulted',
            'sum(children_online_safety) as children_online_safety',
            'sum(child_marriages) as child_marriages',
            'sum(children_injured) as children_injured_nonfatal',
            'sum(is_child_friendly) as communes_child_friendly',
            'sum(children_under16) as reporting_children_under16',
            'sum(children_7_15) as reporting_children_7_15',
        ],
    ) }}

),

final as (

    select summed.period, summed.period_type, summed.admin_level, summed.admin_code, measures.measure,
           measures.amount::numeric as amount
    from summed
    cross join lateral (
        values
            ('communes_reporting', summed.communes_reporting),
            ('villages', summed.villages),
            ('villages_with_child_facilities', summed.villages_with_child_facilities),
            ('communes_with_play_point', summed.communes_with_play_point),
            ('children_consulted', summed.children_consulted),
            ('children_online_safety', summed.children_online_safety),
            ('child_marriages', summed.child_marriages),
            ('children_injured_nonfatal', summed.children_injured_nonfatal),
            ('communes_child_friendly', summed.communes_child_friendly),
            ('reporting_children_under16', summed.reporting_children_under16),
            ('reporting_children_7_15', summed.reporting_children_7_15)
    ) as measures (measure, amount)
    where measures.amount is not null

)

select * from final
