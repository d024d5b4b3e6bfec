{#- The day delivery completeness is judged on: today, or the var completeness_as_of ('yyyy-mm-dd') to
    look back or to pin a unit test. Periods that end before it are expected; a delivery due before it and
    not received is missing. -#}
{% macro completeness_as_of() -%}
{%- set as_of = var('completeness_as_of', none) -%}
{%- if as_of -%} date '{{ as_of }}' {%- else -%} current_date {%- endif -%}
{%- endmacro %}
