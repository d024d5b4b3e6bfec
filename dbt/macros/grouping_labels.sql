{#- Labels for rows of `group by ... grouping sets (...)`: a province column rolled up is the national
    row (admin_level national, admin_code VN); any other breakdown rolled up is its 'total'. -#}
{% macro admin_level_and_code(province_column) -%}
    case when grouping({{ province_column }}) = 1 then 'national' else 'province' end as admin_level,
        coalesce({{ province_column }}, 'VN') as admin_code
{%- endmacro %}

{% macro total_when_rolled_up(column, alias=none) -%}
    case when grouping({{ column }}) = 1 then 'total' else {{ column }} end as {{ alias or column }}
{%- endmacro %}
