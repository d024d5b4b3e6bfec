{#- The rollup of records to the current geography: the nation, the provinces and the comparable communes,
    each with every breakdown rolled up to 'total' (see macros/_macros.yml for the arguments).

    The comparability rule, for every measure: national and province values sum every record (old provinces
    merged whole, so the province mapping is exact). A commune's value for a period is published only when
    the commune is comparable over the whole period: the period lies wholly after the reform
    (dim_period.includes_pre_reform_dates is false), or the commune's history is exact
    (current_commune_is_comparable: none of its predecessors was split). A commune split or merged out of a
    split in the reform therefore has no commune value for a period that straddles the reform (2025, 2025's
    report rounds), whatever vintage its records carry. Records with no current commune (an old commune
    that was split) count for the nation and the province only. -#}
{% macro rollup_to_current_geography(
    source,
    measures,
    breakdowns=[],
    group_by=[],
    cube=false,
    communes=true,
    commune_where=none,
    aliases={},
    province_column='current_province_code',
    commune_column='current_commune_code',
    comparable_column='current_commune_is_comparable',
    periods=none,
    pre_reform_flag=none
) -%}
    {%- set keys = ['period', 'period_type'] + group_by -%}
    {%- set breakdown_sets = [] -%}
    {%- if cube -%}
        {%- for mask in range(2 ** (breakdowns | length)) -%}
            {%- set subset = [] -%}
            {%- for column in breakdowns -%}
                {%- if (mask // (2 ** loop.index0)) % 2 == 1 -%}{%- do subset.append(column) -%}{%- endif -%}
            {%- endfor -%}
            {%- do breakdown_sets.append(subset) -%}
        {%- endfor -%}
    {%- else -%}
        {%- do breakdown_sets.append([]) -%}
        {%- for column in breakdowns -%}{%- do breakdown_sets.append([column]) -%}{%- endfor -%}
    {%- endif -%}
    {%- set province_sets = [] -%}
    {%- for subset in breakdown_sets -%}
        {%- do province_sets.append('(' ~ (subset | join(', ')) ~ ')') -%}
        {%- do province_sets.append('(' ~ ([province_column] + subset) | join(', ') ~ ')') -%}
    {%- endfor -%}
    {%- set commune_sets = [] -%}
    {%- for subset in breakdown_sets -%}
        {%- do commune_sets.append('(' ~ (subset | join(', ')) ~ ')') -%}
    {%- endfor %}
    select
        period,
        period_type,
        {{ admin_level_and_code(province_column) }},
        {%- for column in breakdowns %}
        {{ total_when_rolled_up(column, aliases.get(column)) }},
        {%- endfor %}
        {%- for column in group_by %}
        {{ column }},
        {%- endfor %}
        {{ measures | join(',\n        ') }}
    from {{ source }}
    group by {{ keys | join(', ') }}, grouping sets ({{ province_sets | join(', ') }})
    {%- if communes %}

    union all

    select
        period,
        period_type,
        'commune' as admin_level,
        {{ commune_column }} as admin_code,
        {%- for column in breakdowns %}
        {{ total_when_rolled_up(column, aliases.get(column)) }},
        {%- endfor %}
        {%- for column in group_by %}
        {{ column }},
        {%- endfor %}
        {{ measures | join(',\n        ') }}
    from {{ source }}
    where {{ commune_column }} is not null
        {%- if pre_reform_flag %}
        and ({{ comparable_column }} or not {{ pre_reform_flag }})
        {%- else %}
        and ({{ comparable_column }} or period in (
            select post_reform.period from {{ periods or ref('dim_period') }} as post_reform
            where not post_reform.includes_pre_reform_dates
        ))
        {%- endif %}
        {%- if commune_where %}
        and ({{ commune_where }})
        {%- endif %}
    group by {{ keys | join(', ') }}, {{ commune_column }}, grouping sets ({{ commune_sets | join(', ') }})
    {%- endif %}
{%- endmacro %}
