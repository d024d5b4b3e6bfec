{#- Use the folder's schema name as-is (staging, intermediate, marts, reference): these are the names
    users see in SQL clients, not dbt's default `<target>_<custom>` concatenation. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
