{#- No dbt Hub offline: the few generic tests we need are local macros. -#}
{#- Failing rows are what the quality gate (quality/dbt_tests.py) records. `pin` adds columns that name the
    indicator values a failure concerns (indicator_id, admin_level, admin_code, period: SQL over the grouped
    columns); with all four the gate pins the failure and the release withholds those values. -#}
{% test unique_combination(model, columns, pin=none) %}
select {{ columns | join(', ') }}, count(*) as occurrences
{%- for key, expression in (pin or {}).items() %}, {{ expression }} as {{ key }}{% endfor %}
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{% test expression_is_true(model, expression, column_name=none, where=none) %}
select *
from {{ model }}
where not ({{ expression }}){% if where %} and ({{ where }}){% endif %}
{% endtest %}

{% test matches_pattern(model, column_name, pattern) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null and {{ column_name }} !~ '{{ pattern }}'
{% endtest %}
