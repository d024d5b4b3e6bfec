-- Every row of a feed names the same delivery period type: the feed's periods are the periods of one type.
select feed, array_agg(distinct period_type) as period_types
from {{ ref('expected_deliveries') }}
group by feed
having count(distinct period_type) > 1
