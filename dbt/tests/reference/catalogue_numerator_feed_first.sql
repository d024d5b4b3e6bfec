-- The first feed of source_feeds is the feed the numerator comes from (publish/withholding.py withholds
-- the values built on one delivery by it): a count has exactly one feed, and a rate whose numerator is a
-- count's measure names that count's feed first.
select rate.indicator_id, rate.source_feeds, count_indicator.indicator_id as count_indicator,
       count_indicator.source_feeds as count_feeds
from {{ ref('indicator_catalogue') }} as rate
inner join {{ ref('indicator_catalogue') }} as count_indicator
    on count_indicator.kind = 'count'
    and count_indicator.numerator_measure = rate.numerator_measure
where split_part(rate.source_feeds, '|', 1) <> count_indicator.source_feeds

union all

select indicator_id, source_feeds, null, null
from {{ ref('indicator_catalogue') }}
where kind = 'count' and (source_feeds is null or strpos(source_feeds, '|') > 0)
