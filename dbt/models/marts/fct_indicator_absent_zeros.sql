-- Breakdown rows of 0 are often absent (no boy among the abused children of a province's fortnight). Under
-- a national or province total, which never goes (marts.fct_published_values), an absent 0 gives a
-- suppressed only child away: total 1, female suppressed, no male row, so female = 1. So a small national or
-- province total of a disclosure basis indicator (1 … min_count − 1) gets its absent siblings as explicit
-- zeros: the values its breakdown takes elsewhere with the same other breakdowns (male and female; the
-- settings of abuse), never new combinations; indicators that follow that basis (a rate over abused
-- children) get the same cells, 0 of 0. Disclosure control then has a zero to suppress (its last resort),
-- and the zeros are true. A table of its own: the planner needs its statistics (inside the disclosure
-- model's CTEs its row estimates went astray and turned a hash join into nested loops over 400,000 cells).
{%- set dimensions = ['sex', 'age_group', 'ethnicity', 'category'] %}
{%- set non_additive_prefixes = var('disclosure_non_additive_category_prefixes', []) | join('|') %}

with indicator_values as (

    select * from {{ ref('fct_indicator_values') }}

),

rules as (

    select * from {{ ref('disclosure_rules') }}

),

-- the rows of the indicators that have a rule: all the zeros below are about them. Joins are on one text
-- key (see disclosure_cell_key): on several columns of CTEs the planner picks nested loops.
ruled_values as (

    select indicator_values.*,
           {{ disclosure_cell_key('indicator_values', 'indicator_values.indicator_id') }} as row_key
    from indicator_values
    where indicator_values.indicator_id in (select indicator_id from rules)

),

small_totals as (

    select ruled_values.*
    from ruled_values
    inner join rules
        on rules.indicator_id = ruled_values.indicator_id
        and rules.basis_indicator = ruled_values.indicator_id
    where ruled_values.admin_level in ('national', 'province')
        and ruled_values.numerator >= 1 and ruled_values.numerator < rules.min_count

),
{%- for dimension in dimensions %}
{%- set others = dimensions | reject('equalto', dimension) | list %}

-- the values the {{ dimension }} breakdown takes, for each indicator and combination of the other breakdowns
{{ dimension }}_values as (

    select distinct concat_ws('|', indicator_id, {{ others | join(', ') }}) as pattern_key, {{ dimension }}
    from ruled_values
    where {{ dimension }} <> 'total'
    {%- if dimension == 'category' %}
        -- within the families that add up (a child counts in several forms of abuse)
        and not (split_part(category, ':', 1) || ':' = any(string_to_array('{{ non_additive_prefixes }}', '|')))
    {%- endif %}

),
{%- endfor %}

basis_candidates as (
{%- for dimension in dimensions %}
    {%- set others = dimensions | reject('equalto', dimension) | list %}

    select
        totals.indicator_id, totals.period, totals.period_type, totals.admin_level, totals.admin_code,
        totals.admin_name,
        {%- for column in dimensions %}
        {{ 'siblings.' ~ column if column == dimension else 'totals.' ~ column }} as {{ column }},
        {%- endfor %}
        0::numeric as numerator, null::numeric as denominator, 0::numeric as value, null::numeric as ci_lower,
        null::numeric as ci_upper, totals.unit
    from small_totals as totals
    inner join {{ dimension }}_values as siblings
        on siblings.pattern_key = concat_ws('|', totals.indicator_id{% for column in others %}, totals.{{ column }}{% endfor %})  -- noqa: LT05
    where totals.{{ dimension }} = 'total'
    {%- if not loop.last %}

    union all
    {%- endif %}
{%- endfor %}

),

-- absent cells only; a zero can be the sibling of two small totals (female under the category total, and
-- under the setting's sex total): distinct
basis_zeros as (

    select distinct candidate.*
    from basis_candidates as candidate
    left join ruled_values as present
        on present.row_key = {{ disclosure_cell_key('candidate', 'candidate.indicator_id') }}
    where present.row_key is null

),

-- the indicators that follow a basis (a rate over abused children) get the same absent cells, where they
-- are broken down the same way: 0 of 0, no value
follower_patterns as (

    select distinct indicator_id, sex, age_group, ethnicity, category, unit,
           concat_ws('|', indicator_id, sex, age_group, ethnicity, category) as pattern_key
    from ruled_values

),

follower_candidates as (

    select
        follower.indicator_id, zeros.period, zeros.period_type, zeros.admin_level, zeros.admin_code,
        zeros.admin_name, zeros.sex, zeros.age_group, zeros.ethnicity, zeros.category,
        0::numeric as numerator, 0::numeric as denominator, null::numeric as value, null::numeric as ci_lower,
        null::numeric as ci_upper, pattern.unit
    from basis_zeros as zeros
    inner join rules as follower
        on follower.basis_indicator = zeros.indicator_id
        and follower.indicator_id <> zeros.indicator_id
    inner join follower_patterns as pattern
        on pattern.pattern_key = concat_ws('|', follower.indicator_id, zeros.sex, zeros.age_group, zeros.ethnicity,
                                           zeros.category)

),

follower_zeros as (

    select candidate.*
    from follower_candidates as candidate
    left join ruled_values as present
        on present.row_key = {{ disclosure_cell_key('candidate', 'candidate.indicator_id') }}
    where present.row_key is null

),

final as (

    select * from basis_zeros
    union all
    select * from follower_zeros

)

select * from final
