-- The latest measurement of each child in each period (half-year and year): nutrition indicators count
-- a child once per period, with the latest values and the residence of that measurement.
with assessed as (

    select * from {{ ref('int_nutrition__measurements_assessed') }}

),

periods as (

    select * from {{ ref('dim_period') }}

),

final as (

    select distinct on (periods.period, assessed.child_key)
        periods.period,
        periods.period_type,
        assessed.*
    from assessed
    inner join periods
        on assessed.measurement_date between periods.start_date and periods.end_date
    order by periods.period, assessed.child_key, assessed.measurement_date desc, assessed.batch_id desc,
             assessed.line_number desc

)

select * from final
