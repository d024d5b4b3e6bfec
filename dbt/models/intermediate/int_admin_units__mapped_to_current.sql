-- Every commune of both vintages with where it lies on the current (post-2025) geography.
-- Province mapping is exact (old provinces merged whole). An old commune that was split has no
-- single current commune; a current commune is comparable over time only if none of its
-- predecessors was split.
with pre_reform as (

    select * from {{ ref('admin_units_pre2025') }}

),

post_reform as (

    select * from {{ ref('admin_units_2025') }}

),

conversion as (

    select * from {{ ref('admin_conversion_2025') }}

),

province_conversion as (

    select * from {{ ref('province_conversion_2025') }}

),

old_commune_destination as (

    select
        old_commune_code,
        bool_or(is_split) as is_split,
        min(new_commune_code) filter (where not is_split) as new_commune_code
    from conversion
    where old_commune_code is not null
    group by old_commune_code

),

current_commune_comparability as (

    select
        new_commune_code,
        bool_and(not is_split) as is_comparable
    from conversion
    group by new_commune_code

),

pre_reform_mapped as (

    select
        {{ vintage_before_reform() }} as admin_vintage,
        pre_reform.province_code,
        pre_reform.commune_code,
        province_conversion.new_province_code as current_province_code,
        case when not destination.is_split then destination.new_commune_code end as current_commune_code
    from pre_reform
    inner join province_conversion
        on province_conversion.old_province_code = pre_reform.province_code
    left join old_commune_destination as destination
        on destination.old_commune_code = pre_reform.commune_code

),

post_reform_mapped as (

    select
        {{ vintage_after_reform() }} as admin_vintage,
        province_code,
        commune_code,
        province_code as current_province_code,
        commune_code as current_commune_code
    from post_reform

),

unioned as (

    select * from pre_reform_mapped
    union all
    select * from post_reform_mapped

),

final as (

    select
        unioned.admin_vintage,
        unioned.province_code,
        unioned.commune_code,
        unioned.current_province_code,
        unioned.current_commune_code,
        coalesce(comparability.is_comparable, unioned.current_commune_code is not null) as current_commune_is_comparable
    from unioned
    left join current_commune_comparability as comparability
        on comparability.new_commune_code = unioned.current_commune_code

)

select * from final
