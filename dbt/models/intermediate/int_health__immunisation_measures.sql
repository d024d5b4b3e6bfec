-- Immunisation measures per period, level (national, province, commune), unit and sex, on the current
-- geography. Communes get the totals (not each vaccine, not by sex), under the comparability rule
-- (macros/rollup_to_current_geography.sql); their small counts are suppressed in anything published.
--   Infants (first birthday in the period): fully immunised before it (by residence at the completing
--   dose), each required dose before it (category = vaccine code, by residence at that dose), over live
--   births of the matching birth cohort (births register: born one year before the period, by the
--   mother's residence). A child vaccinated outside the commune or province of birth moves between
--   numerator and denominator areas, so coverage above 100 % is possible (flagged, not failed).
--   Births in the period: hepatitis B birth dose within 24 hours (by residence at that dose), over the
--   period's live births (the live_births measure).
-- Only provinces that delivered the births register for the cohort are counted (no births, no rate),
-- and only periods that have ended.
with infants as (

    select * from {{ ref('int_immunisation__infants') }}

),

child_doses as (

    select * from {{ ref('int_immunisation__child_doses') }}

),

required as (

    select distinct vaccine_code from {{ ref('indicator_required_doses') }}
    where indicator_id = 'full_immunisation_rate_under1'

),

births as (

    select * from {{ ref('int_births__on_current_geography') }}

),

periods as (

    select * from {{ ref('dim_period') }}

),

cohort_births as (

    select
        periods.period,
        periods.period_type,
        births.current_province_code as province_code,
        births.current_commune_code as commune_code,
        births.current_commune_is_comparable as commune_is_comparable,
        births.sex
    from births
    inner join periods
        on (births.birth_date + interval '1 year')::date between periods.start_date and periods.end_date

),

-- a cohort is counted once its period has ended: before that, children whose first birthday is still
-- ahead could not have completed the schedule yet
reporting as (

    select distinct cohort_births.period, cohort_births.province_code
    from cohort_births
    inner join periods
        on periods.period = cohort_births.period
    where periods.end_date < current_date

),

period_births_reporting as (

    select distinct periods.period, births.current_province_code as province_code
    from births
    inner join periods
        on births.birth_date between periods.start_date and periods.end_date

),

events as (

    -- the cohort's live births, once for the total and once per required dose
    select period, period_type, province_code, commune_code, commune_is_comparable, sex, categories.category,
           1 as cohort_births, 0 as fully_immunised, 0 as vaccinated, 0 as period_births, 0 as hepb_timely
    from cohort_births
    cross join (select 'total' as category union all select vaccine_code from required) as categories

    union all

    select periods.period, periods.period_type, infants.completing_province_code, infants.completing_commune_code,
           infants.completing_commune_is_comparable, infants.sex, 'total', 0, 1, 0, 0, 0
    from infants
    inner join periods
        on infants.first_birthday between periods.start_date and periods.end_date
    where infants.is_fully_immunised_under1

    union all

    select periods.period, periods.period_type, child_doses.current_province_code, child_doses.current_commune_code,
           child_doses.current_commune_is_comparable, child_doses.sex, child_doses.vaccine_code, 0, 0, 1, 0, 0
    from child_doses
    inner join required
        on required.vaccine_code = child_doses.vaccine_code
    inner join periods
        on (child_doses.birth_date + interval '1 year')::date between periods.start_date and periods.end_date
    where child_doses.is_before_first_birthday

    union all

    -- births of the period, so that a province with no timely birth dose has a 0, not a gap
    select periods.period, periods.period_type, births.current_province_code, births.current_commune_code,
           births.current_commune_is_comparable, births.sex, 'total', 0, 0, 0, 1, 0
    from births
    inner join periods
        on births.birth_date between periods.start_date and periods.end_date

    union all

    select periods.period, periods.period_type, infants.hepb_birth_dose_province_code,
           infants.hepb_birth_dose_commune_code, infants.hepb_birth_dose_commune_is_comparable, infants.sex, 'total',
           0, 0, 0, 0, 1
    from infants
    inner join periods
        on infants.birth_date between periods.start_date and periods.end_date
    where infants.has_timely_hepb_birth_dose

),

flagged as (

    -- `exists (` is not a function call: sqlfluff's LT01/LT06 are silenced on it
    select
        events.*,
        exists (  -- noqa: LT01, LT06
            select 1 from reporting
            where reporting.period = events.period and reporting.province_code = events.province_code
        ) as has_cohort,
        exists (  -- noqa: LT01, LT06
            select 1 from period_births_reporting as r
            where r.period = events.period and r.province_code = events.province_code
        ) as has_period_births
    from events

),

summed as (

    -- a province counts for the infant measures only if its births of the cohort were delivered,
    -- and for the birth dose only if its births of the period were
    {{ rollup_to_current_geography(
        'flagged',
        breakdowns=['sex'],
        group_by=['category'],
        province_column='province_code',
        commune_column='commune_code',
        comparable_column='commune_is_comparable',
        commune_where="category = 'total'",
        periods='periods',
        measures=[
            'sum(cohort_births) filter (where has_cohort) as cohort_births',
            'sum(fully_immunised) filter (where has_cohort) as fully_immunised',
            'sum(vaccinated) filter (where has_cohort) as vaccinated',
            'sum(period_births) as period_births',
            'sum(hepb_timely) filter (where has_period_births) as hepb_timely',
        ],
    ) }}

),

final as (

    select summed.period, summed.period_type, summed.admin_level, summed.admin_code, summed.sex,
           summed.category, measures.measure, measures.amount::numeric as amount
    from summed
    cross join lateral (
        values
            ('live_births_cohort_under1', summed.cohort_births, coalesce(summed.cohort_births, 0) > 0),
            ('fully_immunised_under1', coalesce(summed.fully_immunised, 0),
             coalesce(summed.cohort_births, 0) > 0 and summed.category = 'total'),
            ('infants_vaccinated', coalesce(summed.vaccinated, 0),
             coalesce(summed.cohort_births, 0) > 0 and summed.category <> 'total'),
            ('hepb_birth_dose_timely', coalesce(summed.hepb_timely, 0),
             summed.period_births > 0 and summed.category = 'total')
    ) as measures (measure, amount, applies)
    where measures.applies

)

-- births of unknown sex count in totals only
select * from final
where sex <> 'unknown'
    and (admin_level <> 'commune' or sex = 'total')
