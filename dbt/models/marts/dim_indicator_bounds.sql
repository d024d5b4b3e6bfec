-- Plausible bounds per indicator and category: the category's own bounds where the reference gives
-- them, else the indicator's (catalogue). The quality gate reads this table.
with catalogue as (

    select * from {{ ref('indicator_catalogue') }}

),

by_category as (

    select * from {{ ref('indicator_bounds') }}

),

final as (

    select indicator_id, category, plausible_min, plausible_max
    from by_category
    union all
    select indicator_id, 'total' as category, plausible_min, plausible_max
    from catalogue
    where plausible_min is not null or plausible_max is not null

)

select * from final
