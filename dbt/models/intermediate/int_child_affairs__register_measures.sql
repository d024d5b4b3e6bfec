-- Register measures per period, level (national, province, commune), unit, sex and category: children in
-- the register (under 16), in special circumstances (category = the group letter a–o, or total: a child
-- in several groups counts once in the total and once in each group), assisted, aged 5–15 and in child
-- labour against the law (trai_quy_dinh), and with a valid personal ID (all, and under 5: a proxy for birth
-- registration; issue 14). Groups are published for the nation and provinces; communes get
-- their totals only. Assistance by form (category = 'tro_giup:<form>', the register's tro_giup.hinh_thuc): the
-- children in special circumstances who received that form, over all children in special circumstances of the
-- unit (a child with two forms counts in both), for the nation and provinces. The rollup and the comparability
-- rule for communes: macros/rollup_to_current_geography.sql.
--
-- Kept per current province (macros/province_increments.sql): a night rebuilds the province and commune rows of
-- the provinces whose register deliveries changed, and sums the national rows again from every province's rows
-- (each child counts in one current province: the nation is the sum of the provinces).
-- depends_on: {{ ref('province_conversion_2025') }}, {{ ref('admin_units_2025') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_province_measures('ldxh_tre_em') }}",
) }}

with children as (

    select * from {{ ref('int_child_register__period_children') }}
    {%- if is_incremental() %}
    where current_province_code in {{ changed_current_provinces('ldxh_tre_em') }}
    {%- endif %}

),

groups as (

    -- one row per child and category: the total, and each of the child's groups
    select children.*, 'total' as category from children
    union all
    select children.*, groups.letter as category
    from children
    cross join lateral unnest(children.special_circumstance_groups) as groups (letter)
    union all
    -- each form of assistance a child in special circumstances received
    select children.*, 'tro_giup:' || forms.form as category
    from children
    cross join lateral unnest(children.assistance_forms) as forms (form)
    where children.is_special_circumstances

),

flagged as (

    select
        period,
        period_type,
        includes_pre_reform_dates,
        current_province_code,
        current_commune_code,
        current_commune_is_comparable,
        sex,
        category,
        -- the register's children are every group's denominator
        1 as children_in_register,
        case when category = 'total' then is_special_circumstances::integer
             when category like 'tro_giup:%' then 0 else 1 end as children_special_circumstances,
        case when category = 'total' then (is_special_circumstances and is_assisted)::integer
             when category like 'tro_giup:%' then 0
             else is_assisted::integer end as children_special_circumstances_assisted,
        (category like 'tro_giup:%')::integer as children_given_form,
        (category = 'total' and age_years between 5 and 15)::integer as children_5_15,
        (category = 'total' and age_years between 5 and 15 and labour = 'trai_quy_dinh')::integer as child_labourers,
        (category = 'total' and has_valid_id)::integer as children_with_valid_id,
        (category = 'total' and age_years < 5)::integer as children_under5,
        (category = 'total' and age_years < 5 and has_valid_id)::integer as children_under5_with_valid_id
    from groups

),

events as (

    select period, period_type, includes_pre_reform_dates, current_province_code, current_commune_code,
           current_commune_is_comparable, sex, category,
           case when category = 'total' then children_in_register else 0 end as children_in_register,
           children_special_circumstances, children_special_circumstances_assisted, children_5_15, child_labourers,
           children_with_valid_id, children_under5, children_under5_with_valid_id, children_given_form
    from flagged

),

summed as (

    -- communes: totals only; a commune's figures by group would be almost all small counts, suppressed
    {{ rollup_to_current_geography(
        'events',
        breakdowns=['sex'],
        group_by=['category'],
        commune_where="category = 'total'",
        pre_reform_flag='includes_pre_reform_dates',
        measures=[
            'sum(children_in_register) as children_in_register',
            'sum(children_special_circumstances) as children_special_circumstances',
            'sum(children_special_circumstances_assisted) as children_special_circumstances_assisted',
            'sum(children_5_15) as children_5_15',
            'sum(child_labourers) as child_labourers',
            'sum(children_with_valid_id) as children_with_valid_id',
            'sum(children_under5) as children_under5',
            'sum(children_under5_with_valid_id) as children_under5_with_valid_id',
            'sum(children_given_form) as children_given_form',
        ],
    ) }}

),

letters as (

    select unnest(array['a', 'b', 'c', 'd', 'đ', 'e', 'g', 'h', 'i', 'k', 'l', 'm', 'n', 'o']) as category

),

forms as (

    -- the forms of assistance delivered anywhere: every unit gets each of them, 0 where no child received it
    select distinct category from summed where category like 'tro_giup:%'

),

completed as (

    -- every group of every unit and sex, 0 where no child is in it; a group's rate is over all the
    -- register's children of the unit (the total row's count)
    select totals.period, totals.period_type, totals.admin_level, totals.admin_code, totals.sex, letters.category,
           totals.children_in_register,
           coalesce(groups.children_special_circumstances, 0) as children_special_circumstances,
           coalesce(groups.children_special_circumstances_assisted, 0) as children_special_circumstances_assisted,
           0 as children_5_15, 0 as child_labourers,
           0 as children_with_valid_id, 0 as children_under5, 0 as children_under5_with_valid_id,
           0 as children_given_form
    from summed as totals
    cross join letters
    left join summed as groups
        on groups.period = totals.period and groups.admin_level = totals.admin_level
        and groups.admin_code = totals.admin_code and groups.sex = totals.sex and groups.category = letters.category
    where totals.category = 'total' and totals.admin_level <> 'commune'
    union all
    -- each form: its children, over the unit's children in special circumstances (the total row's count)
    select totals.period, totals.period_type, totals.admin_level, totals.admin_code, totals.sex, forms.category,
           0, totals.children_special_circumstances, 0, 0, 0, 0, 0, 0,
           coalesce(given.children_given_form, 0)
    from summed as totals
    cross join forms
    left join summed as given
        on given.period = totals.period and given.admin_level = totals.admin_level
        and given.admin_code = totals.admin_code and given.sex = totals.sex and given.category = forms.category
    where totals.category = 'total' and totals.admin_level <> 'commune'
    union all
    select * from summed where category = 'total'

),

final as (

    select completed.period, completed.period_type, completed.admin_level, completed.admin_code, completed.sex,
           completed.category, measures.measure, measures.amount::numeric as amount
    from (select *, category like 'tro_giup:%' as is_form from completed) as completed
    cross join lateral (
        values
            ('children_in_register', completed.children_in_register, not completed.is_form),
            ('children_special_circumstances', completed.children_special_circumstances, not completed.is_form),
            ('children_special_circumstances_assisted', completed.children_special_circumstances_assisted,
             not completed.is_form),
            ('children_special_circumstances_given_form', completed.children_given_form, completed.is_form),
            ('children_special_circumstances_for_forms', completed.children_special_circumstances, completed.is_form),
            ('children_5_15_in_register', completed.children_5_15, completed.category = 'total'),
            ('child_labourers', completed.child_labourers, completed.category = 'total'),
            ('children_with_valid_id_in_register', completed.children_with_valid_id, completed.category = 'total'),
            ('children_under5_in_register', completed.children_under5, completed.category = 'total'),
            ('children_under5_with_valid_id_in_register', completed.children_under5_with_valid_id,
             completed.category = 'total')
    ) as measures (measure, amount, applies)
    where measures.applies

)

{% if is_incremental() -%}
{{ sums_from_provinces('final', ['sex', 'category', 'measure']) }}
{%- else -%}
select * from final
{%- endif %}
