-- Child abuse measures (TT 13 Phụ lục II) per period, level (national, province, commune), unit and
-- breakdown. Cases, abused children and offenders are different measures (indicators.md §2):
--   abused_children: DISTINCT children per period and unit — a child in two cases of the period is one
--     abused child; by sex, age group (at the first case of the period), form and setting;
--   abused_children_supported: distinct children supported in any of their cases;
--   abuse_cases, abuse_offenders (sum of so_doi_tuong), abuse_cases_administrative_sanctions, abuse_fines_vnd;
--   by handling (xu_ly): abuse_cases_criminal and abuse_offenders_criminal (hinh_su: prosecuted),
--     abuse_offenders_administrative (hanh_chinh: an administrative sanction). Offenders are the case's
--     so_doi_tuong; a case is handled one way, so all its offenders are counted under that handling.
-- Category values say what they break down: 'hinh_thuc:<form>' (NOT additive: a child or case with
-- several forms counts under each, so the forms may sum to more than the total) and
-- 'moi_truong:<setting>' (additive for cases; for children only if no child meets two settings).
with victims as (

    select * from {{ ref('int_child_affairs__abuse_victims') }}

),

cases as (

    select cases.*, geography.current_province_code, geography.current_commune_code,
           geography.current_commune_is_comparable
    from {{ ref('stg_child_affairs__abuse_cases') }} as cases
    inner join {{ ref('int_admin_units__mapped_to_current') }} as geography
        on geography.admin_vintage = cases.admin_vintage
        and geography.commune_code = cases.commune_code

),

periods as (

    select * from {{ ref('dim_period') }}

),

victim_periods as (

    select
        periods.period,
        periods.period_type,
        victims.*,
        -- age group and sex of the child at the first case of the period
        first_value(victims.age_group) over child_in_period as first_age_group
    from victims
    inner join periods
        on victims.detected_on between periods.start_date and periods.end_date
    window child_in_period as (
        partition by periods.period, victims.child_key order by victims.detected_on, victims.case_id
    )

),

victim_categories as (

    select victim_periods.*, 'total' as category from victim_periods
    union all
    select victim_periods.*, 'hinh_thuc:' || forms.form from victim_periods
    cross join lateral unnest(victim_periods.abuse_forms) as forms (form)
    union all
    select victim_periods.*, 'moi_truong:' || victim_periods.setting from victim_periods

),

children_by_unit as (

    {{ rollup_to_current_geography(
        'victim_categories',
        breakdowns=['sex', 'first_age_group'],
        aliases={'first_age_group': 'age_group'},
        group_by=['category'],
        measures=[
            'count(distinct child_key) as abused_children',
            'count(distinct child_key) filter (where is_supported) as abused_children_supported',
        ],
    ) }}

),

case_periods as (

    select
        periods.period,
        periods.period_type,
        cases.*
    from cases
    inner join periods
        on cases.detected_on between periods.start_date and periods.end_date

),

case_categories as (

    select case_periods.*, 'total' as category from case_periods
    union all
    select case_periods.*, 'hinh_thuc:' || forms.form from case_periods
    cross join lateral unnest(case_periods.abuse_forms) as forms (form)
    union all
    select case_periods.*, 'moi_truong:' || case_periods.setting from case_periods

),

cases_by_unit as (

    {{ rollup_to_current_geography(
        'case_categories',
        group_by=['category'],
        measures=[
            'count(*) as abuse_cases',
            'sum(offenders) as abuse_offenders',
            "count(*) filter (where handling = 'hanh_chinh') as abuse_cases_administrative_sanctions",
            "sum(fine_vnd) filter (where handling = 'hanh_chinh') as abuse_fines_vnd",
            "count(*) filter (where handling = 'hinh_su') as abuse_cases_criminal",
            "sum(offenders) filter (where handling = 'hinh_su') as abuse_offenders_criminal",
            "sum(offenders) filter (where handling = 'hanh_chinh') as abuse_offenders_administrative",
        ],
    ) }}

),

final as (

    select period, period_type, admin_level, admin_code, sex, age_group, category, measures.measure,
           measures.amount::numeric as amount
    from children_by_unit
    cross join lateral (
        values ('abused_children', abused_children), ('abused_children_supported', abused_children_supported)
    ) as measures (measure, amount)

    union all

    select period, period_type, admin_level, admin_code, 'total', 'total', category, measures.measure,
           coalesce(measures.amount, 0)::numeric
    from cases_by_unit
    cross join lateral (
        values
            ('abuse_cases', abuse_cases),
            ('abuse_offenders', abuse_offenders),
            ('abuse_cases_administrative_sanctions', abuse_cases_administrative_sanctions),
            ('abuse_fines_vnd', abuse_fines_vnd),
            ('abuse_cases_criminal', abuse_cases_criminal),
            ('abuse_offenders_criminal', abuse_offenders_criminal),
            ('abuse_offenders_administrative', abuse_offenders_administrative)
    ) as measures (measure, amount)

)

select * from final
