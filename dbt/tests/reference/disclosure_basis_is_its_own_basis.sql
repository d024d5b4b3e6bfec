-- A disclosure rule's basis indicator decides by its own count: its rule names itself as basis (no chains),
-- so every row that depends on it shares exactly the basis row's suppression.
select rules.indicator_id, rules.basis_indicator, basis.basis_indicator as basis_of_basis
from {{ ref('disclosure_rules') }} as rules
inner join {{ ref('disclosure_rules') }} as basis
    on basis.indicator_id = rules.basis_indicator
where basis.basis_indicator <> basis.indicator_id
