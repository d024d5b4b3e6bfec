{#- The 2025 administrative reform in one place: its date and the vintage codes of the administrative units
    before and after it come from the project vars (dbt_project.yml: reform_date, vintage_before_reform,
    vintage_after_reform). Each macro renders a SQL literal. -#}
{% macro reform_date() -%}
    date '{{ var("reform_date") }}'
{%- endmacro %}

{% macro vintage_before_reform() -%}
    '{{ var("vintage_before_reform") }}'
{%- endmacro %}

{% macro vintage_after_reform() -%}
    '{{ var("vintage_after_reform") }}'
{%- endmacro %}

{#- The vintage of the codes a record dated `date_sql` carries: before the reform date the old one. -#}
{% macro vintage_of(date_sql) -%}
    case when {{ date_sql }} < {{ reform_date() }} then {{ vintage_before_reform() }} else {{ vintage_after_reform() }} end
{%- endmacro %}
