{#- The ethnicity breakdown the national plans single out: kinh (statistics office code 01) or minority
    (02–54); unknown where the record has no code (counted in totals only). -#}
{% macro kinh_or_minority(code_column) -%}
    case when {{ code_column }} = '01' then 'kinh' when {{ code_column }} is null then 'unknown' else 'minority' end
{%- endmacro %}
