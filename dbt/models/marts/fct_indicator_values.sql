-- One long table of indicator values: every catalogue indicator, every period, level, unit and
-- breakdown. A rate is always numerator × multiplier / denominator of the summed measures at its own
-- level, never an average of lower-level rates. Each rate carries its confidence interval (macros/
-- confidence_interval.sql, the catalogue's interval_method) so that plausibility checks can tell a wrong
-- number from sampling noise.
with catalogue as (

    select * from {{ ref('dim_indicator') }}

),

-- not materialized: it is read twice (numerators, denominators), and PostgreSQL < 17 plans a join on a
-- materialized CTE without statistics, as one row (a nested loop over millions of rows: hours on PG 15)
measures as not materialized (

    select * from {{ ref('int_indicator_measures') }}

),

admin_names as (

    select admin_level, admin_code, admin_name from {{ ref('dim_admin_unit') }}
    where vintage = {{ vintage_after_reform() }}

),

confidence as (

    select {{ plausibility_z() }} as z

),

computed as (

    select
        catalogue.indicator_id,
        numerators.period,
        numerators.period_type,
        numerators.admin_level,
        numerators.admin_code,
        numerators.sex,
        numerators.age_group,
        numerators.ethnicity,
        numerators.category,
        numerators.amount as numerator,
        denominators.amount as denominator,
        case
            when catalogue.kind = 'count' then numerators.amount
            when denominators.amount > 0
                then round(numerators.amount * catalogue.multiplier / denominators.amount, 4)
        end as value,
        round(({{ confidence_bound('lower', 'catalogue.interval_method', 'numerators.amount', 'denominators.amount',
                                   'catalogue.multiplier', 'confidence.z') }})::numeric, 4) as ci_lower,
        round(({{ confidence_bound('upper', 'catalogue.interval_method', 'numerators.amount', 'denominators.amount',
                                   'catalogue.multiplier', 'confidence.z') }})::numeric, 4) as ci_upper,
        catalogue.unit
    from catalogue
    cross join confidence
    inner join measures as numerators
        on numerators.measure = catalogue.numerator_measure
    left join measures as denominators
        on denominators.measure = catalogue.denominator_measure
        and denominators.period = numerators.period
        and denominators.admin_level = numerators.admin_level
        and denominators.admin_code = numerators.admin_code
        and denominators.sex = numerators.sex
        and denominators.age_group = numerators.age_group
        and denominators.ethnicity = numerators.ethnicity
        and denominators.category = numerators.category
    -- the catalogue says at which levels and for which period types an indicator is published
    where (catalogue.admin_levels is null
           or numerators.admin_level = any(string_to_array(catalogue.admin_levels, '|')))
        and (catalogue.period_types is null
             or numerators.period_type = any(string_to_array(catalogue.period_types, '|')))
        -- ... and which breakdowns: a row broken down by a column the catalogue does not list is not published
        and (catalogue.breakdowns is null or (
            (numerators.sex = 'total' or 'sex' = any(string_to_array(catalogue.breakdowns, '|')))
            and (numerators.age_group = 'total' or 'age_group' = any(string_to_array(catalogue.breakdowns, '|')))
            and (numerators.ethnicity = 'total' or 'ethnicity' = any(string_to_array(catalogue.breakdowns, '|')))
            and (numerators.category = 'total' or 'category' = any(string_to_array(catalogue.breakdowns, '|')))))

),

final as (

    select
        computed.indicator_id,
        computed.period,
        computed.period_type,
        computed.admin_level,
        computed.admin_code,
        coalesce(admin_names.admin_name, case when computed.admin_level = 'national' then 'Việt Nam' end) as admin_name,
        computed.sex,
        computed.age_group,
        computed.ethnicity,
        computed.category,
        computed.numerator,
        computed.denominator,
        computed.value,
        computed.ci_lower,
        computed.ci_upper,
        computed.unit
    from computed
    left join admin_names
        on admin_names.admin_level = computed.admin_level
        and admin_names.admin_code = computed.admin_code

)

select * from final
