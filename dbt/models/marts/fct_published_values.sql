-- What may leave the warehouse: every row of fct_indicator_values, with small counts of sensitive
-- indicators suppressed (seeds/catalogue/disclosure_rules.csv). A suppressed row keeps its place with
-- numerator and value null (and the denominator too when the rule's basis is the denominator) and says
-- why in `suppression`.
--
-- Cells. Every row of a sensitive indicator is decided by its basis count: the numerator of the rule's
-- basis indicator at the same period, level, unit and breakdown. All rows sharing a basis and a key form
-- one cell and share its fate, so a rate or an amount is suppressed exactly when its count is.
--
-- Primary (applies_to = commune_and_breakdowns, the only value the seed's test accepts): a cell at
-- commune level, or a breakdown cell (sex, age group, ethnicity or category not 'total') at any level,
-- whose basis count is 1 … min_count − 1. Zero is not (0 reveals no child); national and province
-- totals never are suppressed. A cell whose basis row is not in fct_indicator_values has no count to
-- judge: it is suppressed where primary suppression applies (fail closed).
--
-- Secondary. An additive group is a total cell and its child cells, total = sum of the children:
--   * a total and its breakdown cells along one dimension, the other breakdowns equal (province 15, 2025,
--     sex total / male / female); categories group per family (the text up to ':'), and families listed
--     in var('disclosure_non_additive_category_prefixes') are skipped: a child counted in several forms
--     of abuse makes the forms sum to more than the total, so nothing is recovered by subtraction;
--   * an area and the areas in it, breakdowns equal: a province and its communes, the nation and its
--     provinces (a suppressed province breakdown is otherwise the national one minus the other provinces);
--   * a year and its two half-years, unit and breakdowns equal (a year's count of cases is H1 + H2).
-- A group with exactly one suppressed cell gives that cell away: a child as the total minus the other
-- children, a suppressed total as the sum of its children (a commune suppressed to protect its neighbour,
-- rebuilt from its published sex breakdown). While some group has exactly one suppressed cell, total
-- included, the smallest non-zero published child of that group (ties by code, then breakdown) is
-- suppressed too; every such group is served in the same pass. A group whose total is suppressed and one
-- child too has two unknowns and is left as it is. Only when every other published child is 0 is a zero
-- chosen (the lowest code): total 3, male 3 suppressed, female 0 published would give male = 3 − 0. When
-- no child is left (a suppressed only child: breakdown rows of 0 are often absent), the group's total goes
-- if it is a commune or breakdown total; national and province totals never go, so under a small one
-- (1 … min_count − 1) the absent siblings are first added as explicit zeros (marts.fct_indicator_absent_zeros), which
-- then give the rule its zero to suppress.
--
-- The passes are a recursive CTE whose single working row carries the set of suppressed cells. A pass
-- only adds cells not yet suppressed, and the recursion stops at the first pass that adds none; as the
-- cells are finite it always ends, at the fixed point (in practice within a few passes), with no cap that
-- could stop it short.
--
-- The planner cannot estimate the recursive CTE (it guesses ten suppressed cells where there are hundreds of
-- thousands) and then joins them to the cells in a nested loop: at the 1 % sample that took over a quarter
-- of an hour instead of under a minute. Nested loops are off for this model only.
{{ config(pre_hook="set enable_nestloop = off", post_hook="reset enable_nestloop") }}
{%- set dimensions = ['sex', 'age_group', 'ethnicity', 'category'] %}
{%- set non_additive_prefixes = var('disclosure_non_additive_category_prefixes', []) | join('|') %}

with recursive indicator_values as (

    select * from {{ ref('fct_indicator_values') }}

),

rules as (

    select * from {{ ref('disclosure_rules') }}

),

-- with the absent zeros under small national and province totals (fct_indicator_absent_zeros)
candidates as (

    select * from indicator_values
    union all
    select * from {{ ref('fct_indicator_absent_zeros') }}

),

indicators as (

    select indicator_id, numerator_measure, denominator_measure from {{ ref('dim_indicator') }}

),

communes as (

    select admin_code as commune_code, province_code from {{ ref('dim_admin_unit') }}
    where vintage = {{ vintage_after_reform() }} and admin_level = 'commune'

),

-- every candidate row, with its rule and the key of its cell where it has a rule
ruled as (

    select
        candidates.*,
        rules.min_count,
        rules.basis_indicator,
        coalesce(basis.numerator_measure = own.denominator_measure, false) as basis_is_denominator,
        case when rules.basis_indicator is not null
            then {{ disclosure_cell_key('candidates', 'rules.basis_indicator') }} end as cell_key
    from candidates
    left join rules
        on rules.indicator_id = candidates.indicator_id
    left join indicators as own
        on own.indicator_id = candidates.indicator_id
    left join indicators as basis
        on basis.indicator_id = rules.basis_indicator

),

basis_counts as (

    select
        {{ disclosure_cell_key('candidates', 'candidates.indicator_id') }} as cell_key,
        candidates.numerator as basis_count
    from candidates
    where candidates.indicator_id in (select basis_indicator from rules)

),

cell_keys as (

    select
        cell_key, basis_indicator, period, admin_level, admin_code, sex, age_group, ethnicity, category,
        max(min_count) as min_count
    from ruled
    where cell_key is not null
    group by cell_key, basis_indicator, period, admin_level, admin_code, sex, age_group, ethnicity, category

),

cells as (

    select
        row_number() over (order by cell_keys.cell_key) as cell_id,
        cell_keys.*,
        basis_counts.basis_count,
        case when strpos(cell_keys.category, ':') > 0 then split_part(cell_keys.category, ':', 1) || ':' else '' end
            as category_family,
        cell_keys.admin_level = 'commune'
            or cell_keys.sex <> 'total' or cell_keys.age_group <> 'total'
            or cell_keys.ethnicity <> 'total' or cell_keys.category <> 'total' as is_detail
    from cell_keys
    left join basis_counts
        on basis_counts.cell_key = cell_keys.cell_key

),

primary_cells as (

    select cell_id
    from cells
    where is_detail and (basis_count is null or (basis_count >= 1 and basis_count < min_count))

),

-- each child cell with the key of its group's total
children as (

{%- for dimension in dimensions %}

    -- a total and its breakdown cells along {{ dimension }}, the other breakdowns equal
    select
        {{ disclosure_cell_key('child', 'child.basis_indicator', {dimension: "'total'"}) }} as total_key,
        '{{ dimension }}'{% if dimension == 'category' %} || ' ' || child.category_family{% endif %} as grouping,
        child.cell_id as child_id
    from cells as child
    where child.{{ dimension }} <> 'total'
    {%- if dimension == 'category' %}
        and not (child.category_family = any(string_to_array('{{ non_additive_prefixes }}', '|')))
    {%- endif %}

    union all
{%- endfor %}

    -- a province and its communes
    select
        {{ disclosure_cell_key('child', 'child.basis_indicator', {'admin_level': "'province'", 'admin_code': 'communes.province_code'}) }} as total_key,  -- noqa: LT05
        'area' as grouping,
        child.cell_id as child_id
    from cells as child
    inner join communes
        on communes.commune_code = child.admin_code
    where child.admin_level = 'commune'

    union all

    -- the nation and its provinces
    select
        {{ disclosure_cell_key('child', 'child.basis_indicator', {'admin_level': "'national'", 'admin_code': "'VN'"}) }} as total_key,  -- noqa: LT05
        'area' as grouping,
        child.cell_id as child_id
    from cells as child
    where child.admin_level = 'province'

    union all

    -- a year and its two half-years: a flow (cases, fines) is H1 + H2, a distinct count nearly so, and a
    -- stock (the register) equals its H2: a suppressed half-year must not be the year minus the other one
    select
        {{ disclosure_cell_key('child', 'child.basis_indicator', {'period': 'left(child.period, 4)'}) }} as total_key,
        'period' as grouping,
        child.cell_id as child_id
    from cells as child
    where child.period ~ '^\d{4}-H[12]$'

),

-- additive groups whose total exists: one row per child, with the order in which it would be chosen
memberships as (

    select
        dense_rank() over (order by total.cell_id, children.grouping) as group_id,
        total.cell_id as total_id,
        children.child_id,
        -- non-zero children first, smallest first; a zero only when no non-zero child is left
        child.basis_count >= 0 as is_candidate,
        row_number() over (
            partition by total.cell_id, children.grouping
            order by child.basis_count = 0, child.basis_count, child.admin_code, child.sex, child.age_group,
                     child.ethnicity, child.category
        ) as candidate_order
    from children
    inner join cells as total
        on total.cell_key = children.total_key
    inner join cells as child
        on child.cell_id = children.child_id

),

group_totals as (

    select distinct memberships.group_id, memberships.total_id, total.is_detail as total_may_go
    from memberships
    inner join cells as total
        on total.cell_id = memberships.total_id

),

-- what an exposed group may suppress, in order: its children (see memberships), then its total when it is
-- a commune or breakdown total (a group whose only child is suppressed has no child left to take)
group_candidates as (

    select group_id, child_id as cell_id, 0 as priority, candidate_order
    from memberships
    where is_candidate
    union all
    select group_id, total_id, 1, 0
    from group_totals
    where total_may_go

),

protection (pass, suppressed) as (

    select 0, coalesce(array_agg(cell_id order by cell_id), '{}'::bigint[])
    from primary_cells

    union all

    select protection.pass + 1, protection.suppressed || picked.cell_ids
    from protection
    cross join lateral (
        select array_agg(distinct pick.cell_id order by pick.cell_id) as cell_ids
        from (
            -- in each exposed group, its first published candidate
            select distinct on (candidates.group_id) candidates.cell_id
            from (
                -- groups with exactly one suppressed cell, the total included
                select suppressed_members.group_id
                from (
                    select members.group_id
                    from memberships as members
                    inner join unnest(protection.suppressed) as suppressed (cell_id)
                        on suppressed.cell_id = members.child_id
                    union all
                    select totals.group_id
                    from group_totals as totals
                    inner join unnest(protection.suppressed) as suppressed (cell_id)
                        on suppressed.cell_id = totals.total_id
                ) as suppressed_members
                group by suppressed_members.group_id
                having count(*) = 1
            ) as exposed
            inner join group_candidates as candidates
                on candidates.group_id = exposed.group_id
            left join unnest(protection.suppressed) as suppressed (cell_id)
                on suppressed.cell_id = candidates.cell_id
            where suppressed.cell_id is null
            order by candidates.group_id, candidates.priority, candidates.candidate_order
        ) as pick
    ) as picked
    where picked.cell_ids is not null

),

suppressed_cells as (

    select unnest(suppressed) as cell_id
    from (select suppressed from protection order by pass desc limit 1) as fixed_point

),

cell_suppression as (

    select
        cells.cell_key,
        case
            when primary_cells.cell_id is not null and cells.basis_count is null
                then 'primary: basis count unknown'
            when primary_cells.cell_id is not null
                then 'primary: fewer than ' || cells.min_count
            else 'secondary: protects a suppressed cell'
        end as suppression
    from cells
    inner join suppressed_cells
        on suppressed_cells.cell_id = cells.cell_id
    left join primary_cells
        on primary_cells.cell_id = cells.cell_id

),

final as (

    select
        ruled.indicator_id,
        ruled.period,
        ruled.period_type,
        ruled.admin_level,
        ruled.admin_code,
        ruled.admin_name,
        ruled.sex,
        ruled.age_group,
        ruled.ethnicity,
        ruled.category,
        case when cell_suppression.suppression is null then ruled.numerator end as numerator,
        case when cell_suppression.suppression is null or not ruled.basis_is_denominator
            then ruled.denominator end as denominator,
        case when cell_suppression.suppression is null then ruled.value end as value,
        ruled.unit,
        cell_suppression.suppression
    from ruled
    left join cell_suppression
        on cell_suppression.cell_key = ruled.cell_key

)

select * from final
