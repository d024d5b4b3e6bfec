-- The catalogue's is_sensitive flag does not drive suppression (disclosure_rules does); an indicator flagged
-- sensitive without a rule would be published unprotected, so the build stops on it.
select catalogue.indicator_id
from {{ ref('indicator_catalogue') }} as catalogue
left join {{ ref('disclosure_rules') }} as rules
    on rules.indicator_id = catalogue.indicator_id
where catalogue.is_sensitive and rules.indicator_id is null
