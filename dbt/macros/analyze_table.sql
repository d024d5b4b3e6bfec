{#- The folder-level post-hook of intermediate and marts: fresh statistics for a table just built (without them
    the planner picks nested loops over hundreds of thousands of rows); nothing for a view, which has none. -#}
{% macro analyze_table() -%}
{%- if config.get('materialized') != 'view' -%} analyze {{ this }} {%- endif -%}
{%- endmacro %}
