-- A report round is one period everywhere: each round has exactly one national row, and a province row
-- only changes the deadline, never the data window (values of different windows could not be summed into
-- the national value).
with rounds as (

    select period,
           count(*) filter (where province_code is null) as national_rows,
           -- distinct pairs: the brackets are a row constructor, not a function call
           count(distinct (window_start, window_end)) as windows  -- noqa: ST08, LT01, LT06
    from {{ ref('reporting_calendar') }}
    group by period

)

select * from rounds where national_rows <> 1 or windows <> 1
