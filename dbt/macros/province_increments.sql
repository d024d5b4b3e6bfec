{#- Models kept per current province (materialized incremental): a night rebuilds only the current provinces
    whose (province, period) cells of a feed changed since the last build, and keeps every other province's rows.

    changed_current_provinces(feed) renders a subquery of current province codes: the cells whose loads differ
    from those the latest build recorded (audit.feed_cells now against audit.build_state.feed_cells), each cell's
    province code taken both as a current code and as an old one mapped to its new province (codes were reused
    across the 2025 reform: rebuilding one province too many is safe, one too few is not). Without a recorded
    build every province counts as changed. pipeline/incremental.py rebuilds everything instead when rows changed
    without any cell's loads changing (raw written by hand). -#}
{% macro changed_current_provinces(feed) -%}
    (
        select distinct provinces.current_province_code
        from (
            select coalesce(now_cells.province_code, split_part(built.cell, '|', 1)) as province_code
            from audit.feed_cells('{{ feed }}') as now_cells
            full join (
                select cells.key as cell, cells.value #>> '{}' as state
                from audit.build_state as build
                cross join lateral jsonb_each(coalesce(build.feed_cells -> '{{ feed }}', '{}'::jsonb)) as cells
                where build.build_id = (select max(build_id) from audit.build_state where step = 'build')
            ) as built on built.cell = now_cells.cell
            where now_cells.state is distinct from built.state
        ) as changed
        cross join lateral (
            select changed.province_code as current_province_code
            union all
            select conversion.new_province_code
            from {{ ref('province_conversion_2025') }} as conversion
            where conversion.old_province_code = changed.province_code
        ) as provinces
    )
{%- endmacro %}

{#- A first cut of a feed's rows on an incremental run: those delivered under a province code of a changed current
    province (its own code, or an old code mapped to it); the model settles the current province through the
    geography afterwards. -#}
{% macro delivered_for_changed_provinces(feed, province_column='province_code') -%}
    ({{ province_column }} in {{ changed_current_provinces(feed) }}
        or {{ province_column }} in (
            select old_province_code from {{ ref('province_conversion_2025') }}
            where new_province_code in {{ changed_current_provinces(feed) }}))
{%- endmacro %}

{#- The pre-hook of a model kept per current province: on an incremental run, delete the rows it will rebuild.
    `where` is a condition on the model's rows using `{provinces}` for the changed provinces' subquery. -#}
{% macro delete_changed_provinces(feed, where) -%}
    {#- no relation in a dbt unit test, which renders the hooks too: nothing to delete -#}
    {%- if this is not none and is_incremental() -%}
        delete from {{ this }} where {{ where | replace('{provinces}', changed_current_provinces(feed)) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The pre-hook of a measure model kept per current province (rows by period, admin_level, admin_code): on an
    incremental run, delete the changed provinces' province and commune rows, and the national rows, which the
    model sums again from the province rows (sums_from_provinces). -#}
{% macro delete_changed_province_measures(feed) -%}
    {%- if this is not none and is_incremental() -%}
        delete from {{ this }}
        where admin_level = 'national'
            or (admin_level = 'province' and admin_code in {{ changed_current_provinces(feed) }})
            or (admin_level = 'commune' and admin_code in (
                select commune_code from {{ ref('admin_units_2025') }}
                where province_code in {{ changed_current_provinces(feed) }}))
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The rows an incremental run of a measure model kept per current province inserts: its rebuilt province and
    commune rows (`rebuilt`, from the changed provinces' records), and the national rows summed from every province's
    rows (the kept ones in the table and the rebuilt ones). Exact for measures that are sums of records each
    counted in one current province, which national = sum of the provinces then is; `keys` are the columns
    besides period, period_type, admin_level and admin_code, `amount` the summed column (or a list of them, for a
    model with one column per measure). -#}
{% macro sums_from_provinces(rebuilt, keys, amount='amount') -%}
    {%- set amounts = [amount] if amount is string else amount -%}
    select * from {{ rebuilt }} where admin_level <> 'national'
    union all
    select period, period_type, 'national' as admin_level, 'VN' as admin_code, {{ keys | join(', ') }},
           {% for column in amounts %}sum({{ column }}) as {{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from (
        select period, period_type, {{ (keys + amounts) | join(', ') }} from {{ this }} where admin_level = 'province'
        union all
        select period, period_type, {{ (keys + amounts) | join(', ') }} from {{ rebuilt }} where admin_level = 'province'
    ) as provinces
    group by period, period_type, {{ keys | join(', ') }}
{%- endmacro %}
