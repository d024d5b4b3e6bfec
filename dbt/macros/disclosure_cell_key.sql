{#- The key of a disclosure-control cell (marts.fct_published_values) as one text: the indicator (or basis
    indicator) expression `first`, then period, level, code and the four breakdowns of `alias`, each
    replaceable through `replace` (e.g. {'sex': "'total'"} gives the key of the row's sex total). Joins on
    it are single-column hash joins, which the planner gets right on CTEs without statistics: joins on the
    eight columns made it choose nested loops over a million rows. -#}
{% macro disclosure_cell_key(alias, first, replace={}) -%}
    concat_ws('|', {{ first }}
    {%- for column in ['period', 'admin_level', 'admin_code', 'sex', 'age_group', 'ethnicity', 'category'] -%}
        , {{ replace[column] if column in replace else alias ~ '.' ~ column }}
    {%- endfor %})
{%- endmacro %}
