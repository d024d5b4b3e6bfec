-- What the report outputs and BI tools read besides the values: targets and progress towards them, the
-- administrative units of both vintages, and a star-shaped layer (dimension views and a fact view keyed to
-- them) so that a Superset or Metabase user can chart values without knowing the re-summing rules.

-- Targets as they stand (marts.dim_indicator_target, from the seed indicator_targets): replaced at every
-- publish. Targets are policy, not data of a release: a new target applies to every release.
create table if not exists published.targets (
    indicator_id    text not null,
    scope           text not null,
    target_year     integer not null,
    target_value    numeric not null,
    direction       text not null check (direction in ('at_most', 'at_least')),
    period_types    text not null,
    baseline_year   integer,
    baseline_value  numeric,
    source          text,
    primary key (indicator_id, scope, target_year)
);
comment on table published.targets is 'Targets the indicators are monitored against (QĐ 23/QĐ-TTg National Action Programme for Children 2021–2030, and provinces'' own programmes), as they stand.';
comment on column published.targets.scope is 'VN for a national target (the reference for every province without its own), or a current province code.';
comment on column published.targets.target_year is 'Year by which the target is to be reached.';
comment on column published.targets.target_value is 'Target value in the indicator''s unit.';
comment on column published.targets.direction is 'at_most (the value must not exceed the target) or at_least.';
comment on column published.targets.period_types is 'Period types compared with the target, ''|''-separated (an annual rate per population is not compared on a half-year).';
comment on column published.targets.baseline_year is 'Year of the baseline, where known.';
comment on column published.targets.baseline_value is 'Baseline value, where known.';
comment on column published.targets.source is 'Legal or statistical source of the target and baseline.';

-- Administrative units of both vintages (marts.dim_admin_unit), replaced at every publish.
create table if not exists published.admin_units (
    admin_unit_key         text primary key,
    vintage                text not null,
    admin_level            text not null,
    admin_code             text not null,
    admin_name             text,
    admin_type             text,
    province_code          text,
    current_province_code  text,
    current_commune_code   text
);
comment on table published.admin_units is 'Administrative units before (63 provinces, districts, communes) and after (34 provinces, 3,321 communes) the reform of 1 July 2025, with the current unit each lies in.';
comment on column published.admin_units.admin_unit_key is '''<vintage>:<level>:<code>'': codes are reused across the reform, so a code alone identifies nothing.';
comment on column published.admin_units.vintage is 'pre_2025_07 or 2025_07.';
comment on column published.admin_units.current_province_code is 'Post-2025 province the unit lies in.';
comment on column published.admin_units.current_commune_code is 'Post-2025 commune a pre-reform commune became (null when it was split).';

-- Progress towards each target: for the nation and every current province (a province without a target of
-- its own is measured against the national one), the value of the latest complete year up to the target
-- year, the gap, whether it is met, and whether the linear trend from the baseline reaches it in time.
create or replace view published.target_progress as
with units as (
    select 'national' as admin_level, 'VN' as admin_code, 'Việt Nam' as admin_name
    union all
    select 'province', admin_code, admin_name
      from published.admin_units where vintage = '2025_07' and admin_level = 'province'
),
applicable as (
    select u.admin_level, u.admin_code, u.admin_name, t.*
      from units as u
      join published.targets as t
        on t.scope = u.admin_code
        or (t.scope = 'VN' and not exists (select 1 from published.targets as own
                                            where own.scope = u.admin_code and own.indicator_id = t.indicator_id))
),
annual as (
    select v.indicator_id, coalesce(v.province_code, 'VN') as admin_code, v.period::integer as year, v.value,
           v.approval_status
      from published.indicator_values as v
     where v.period_type = 'year' and v.admin_level in ('national', 'province')
       and v.sex = 'total' and v.age_group = 'total' and v.ethnicity = 'total' and v.category = 'total'
       and v.value is not null and not coalesce(v.is_preliminary, false)
       and v.indicator_id in (select indicator_id from published.targets)
),
measured as (
    select a.*,
           latest.year as latest_year, latest.value as latest_value, latest.approval_status,
           case when a.scope = a.admin_code and a.baseline_year is not null then a.baseline_year else first.year end
               as from_year,
           case when a.scope = a.admin_code and a.baseline_year is not null then a.baseline_value else first.value end
               as from_value,
           case when a.scope = a.admin_code and a.baseline_year is not null then 'target' else 'first published year' end
               as baseline_source
      from applicable as a
      left join lateral (select * from annual
                          where annual.indicator_id = a.indicator_id and annual.admin_code = a.admin_code
                            and annual.year <= a.target_year
                          order by annual.year desc limit 1) as latest on true
      left join lateral (select * from annual
                          where annual.indicator_id = a.indicator_id and annual.admin_code = a.admin_code
                          order by annual.year limit 1) as first on true
),
projected as (
    select m.*,
           case when m.latest_year > m.from_year
                then m.latest_value + (m.latest_value - m.from_value) / (m.latest_year - m.from_year)
                                      * (m.target_year - m.latest_year) end as projected_value
      from measured as m
)
select
    p.indicator_id, i.name_vi as indicator_name_vi, i.name_en as indicator_name_en, i.unit,
    p.admin_level, p.admin_code, p.admin_name,
    p.scope as target_scope, p.target_year, p.target_value, p.direction, p.source as target_source,
    p.from_year as baseline_year, p.from_value as baseline_value, p.baseline_source,
    p.latest_year, p.latest_value, p.approval_status,
    p.latest_value - p.target_value as gap,
    case when p.latest_value is null then null
         when p.direction = 'at_most' then p.latest_value <= p.target_value
         else p.latest_value >= p.target_value end as is_met,
    round(p.projected_value, 4) as projected_value,
    case when p.latest_value is null then null
         when p.latest_year >= p.target_year or p.projected_value is null
              then case when p.latest_year >= p.target_year
                        then (case when p.direction = 'at_most' then p.latest_value <= p.target_value
                                   else p.latest_value >= p.target_value end) end
         when p.direction = 'at_most' then p.projected_value <= p.target_value
         else p.projected_value >= p.target_value end as is_on_track
from projected as p
left join published.indicators as i using (indicator_id);
comment on view published.target_progress is 'Progress towards each target (published.targets) of the nation and every current province: the latest complete year''s value up to the target year (total, no breakdown), the gap, whether the target is met, and whether the linear trend from the baseline reaches it by the target year. A province without its own target is measured against the national one (target_scope VN).';
comment on column published.target_progress.target_scope is 'VN when the target is the national one, else the province''s own.';
comment on column published.target_progress.baseline_year is 'Baseline year: the target''s own baseline for its scope, else the first complete published year.';
comment on column published.target_progress.baseline_source is 'target (the baseline given with the target) or first published year.';
comment on column published.target_progress.latest_year is 'Latest complete (not preliminary) year with a value, up to the target year.';
comment on column published.target_progress.latest_value is 'The value of latest_year (null when none is published, suppressed or withheld).';
comment on column published.target_progress.approval_status is 'official or provisional (published.indicator_values).';
comment on column published.target_progress.gap is 'latest_value − target_value, in the indicator''s unit (negative is good for an at_most target).';
comment on column published.target_progress.is_met is 'Whether latest_value meets the target in its direction.';
comment on column published.target_progress.projected_value is 'The value in the target year if the linear trend from the baseline to latest_year continues (null with fewer than two years).';
comment on column published.target_progress.is_on_track is 'Whether the projected value meets the target (for a target year already reached, whether it was met); null when there is no trend.';

-- The BI layer: dimensions and a fact keyed to them.
create or replace view published.dim_indicator as
select
    i.indicator_id, i.tt13_code, i.annex, i.indicator_group, i.name_vi, i.name_en, i.kind, i.unit,
    i.unit_label_vi, i.multiplier, i.numerator_definition, i.denominator_definition, i.breakdowns,
    i.period_types, i.is_sensitive, i.responsible_agency, i.legal_basis, i.source_feeds, i.notes,
    case when i.kind = 'rate'
         then 'sum(numerator) * multiplier / sum(denominator) over the rows chosen; never sum or average value'
         else 'sum(numerator) over non-overlapping rows; value equals numerator' end as aggregation_rule
from published.indicators as i;
comment on view published.dim_indicator is 'Indicators of the latest release: names, unit, definitions, annex and group of TT 13/2021, and how to aggregate them.';
comment on column published.dim_indicator.kind is 'count or rate.';
comment on column published.dim_indicator.aggregation_rule is 'How a BI tool may combine rows: rates are recomputed from summed numerators and denominators, never averaged. Every level and total is already published, so most charts need no aggregation at all.';

create or replace view published.dim_admin_unit as
with current_units as (
    select admin_level || ':' || admin_code as admin_key, admin_level, admin_code, admin_name, admin_type,
           coalesce(province_code, admin_code) as province_code
      from published.admin_units
     where vintage = '2025_07' and admin_level in ('province', 'commune')
),
former as (
    select case when admin_level = 'province' then 'province:' || current_province_code
                else 'commune:' || current_commune_code end as admin_key,
           string_agg(admin_name || ' (' || admin_code || ')', '; ' order by admin_code) as names_before_2025
      from published.admin_units
     where vintage = 'pre_2025_07' and admin_level in ('province', 'commune')
       and (admin_level = 'province' or current_commune_code is not null)
     group by 1
)
select 'national:VN' as admin_key, 'national' as admin_level, 'VN' as admin_code, 'Việt Nam' as admin_name,
       null::text as admin_type, null::text as province_code, null::text as province_name,
       null::text as names_before_2025
union all
select c.admin_key, c.admin_level, c.admin_code, c.admin_name, c.admin_type, c.province_code, p.admin_name,
       f.names_before_2025
  from current_units as c
  left join current_units as p on p.admin_level = 'province' and p.admin_code = c.province_code
  left join former as f on f.admin_key = c.admin_key;
comment on view published.dim_admin_unit is 'The nation, the 34 provinces and 3,321 communes of the current geography (values are published on it), with the names and codes of the units they replaced on 1 July 2025.';
comment on column published.dim_admin_unit.admin_key is '''<level>:<code>'', the key of published.fact_indicator_values.';
comment on column published.dim_admin_unit.province_name is 'Province of a commune (a province''s own name for a province).';
comment on column published.dim_admin_unit.names_before_2025 is 'Units of the old geography merged into this one, as ''name (code)''; a commune split across several new communes is not listed.';

create or replace view published.dim_period as
select
    p.period, p.period_type,
    left(p.period, 4)::integer as year,
    case p.period_type when 'half_year' then right(p.period, 1)::integer end as half,
    coalesce(p.round_name_vi, case p.period_type when 'year' then 'Năm ' || left(p.period, 4)
                                               else '6 tháng ' || case right(p.period, 1) when '1' then 'đầu' else 'cuối' end
                                                    || ' năm ' || left(p.period, 4) end) as period_name_vi,
    lower(p.data_window) as period_start,
    upper(p.data_window) - 1 as period_end,
    p.is_preliminary, p.data_until, p.deadline
from published.release_periods as p
join published.latest_release as r using (release_id);
comment on view published.dim_period is 'Periods of the latest release: calendar years, half-years and the report rounds, with their first and last day.';
comment on column published.dim_period.period_name_vi is 'How the report forms name the period (Năm 2025, 6 tháng đầu năm 2025, or the round: 6 tháng, năm).';
comment on column published.dim_period.period_start is 'First day of the period''s data window.';
comment on column published.dim_period.period_end is 'Last day of the period''s data window.';

create or replace view published.fact_indicator_values as
select
    v.indicator_id,
    v.period,
    v.admin_level || ':' || v.admin_code as admin_key,
    v.admin_level, v.sex, v.age_group, v.ethnicity, v.category,
    (v.sex, v.age_group, v.ethnicity, v.category) = ('total', 'total', 'total', 'total') as is_total,
    v.numerator, v.denominator, v.value, v.unit,
    case when v.withheld is not null then 'withheld'
         when v.suppression is not null then 'suppressed'
         when v.value is null then 'no denominator'
         else 'published' end as value_status,
    v.approval_status, v.release_id
from published.indicator_values as v;
comment on view published.fact_indicator_values is 'One row per indicator, period, unit and breakdown cell of the latest release, keyed to dim_indicator (indicator_id), dim_period (period) and dim_admin_unit (admin_key). Every level and every total is a row of its own: filter, do not sum (is_total picks the totals).';
comment on column published.fact_indicator_values.admin_key is '''<level>:<code>'' of published.dim_admin_unit.';
comment on column published.fact_indicator_values.is_total is 'True for the row without breakdown (sex, age group, ethnicity and category all total).';
comment on column published.fact_indicator_values.value is 'The published value (rate or count); null when withheld, suppressed or without a denominator (value_status says which).';
comment on column published.fact_indicator_values.value_status is 'published, suppressed (small count protecting children), withheld (failed a quality check) or no denominator.';
comment on column published.fact_indicator_values.approval_status is 'official (signed off) or provisional.';

-- Every column of the BI layer explains itself in the SQL client and the BI tool.
comment on column published.targets.indicator_id is 'Indicator the target is set on (published.dim_indicator).';
comment on column published.admin_units.admin_level is 'province, district (before the reform only) or commune.';
comment on column published.admin_units.admin_code is 'Code in its vintage (codes are reused across the reform).';
comment on column published.admin_units.admin_name is 'Official name.';
comment on column published.admin_units.admin_type is 'Xã, Phường, Thị trấn or Đặc khu (communes).';
comment on column published.admin_units.province_code is 'Parent province in the same vintage.';
comment on column published.target_progress.indicator_id is 'Indicator (published.dim_indicator).';
comment on column published.target_progress.indicator_name_vi is 'Indicator name in Vietnamese.';
comment on column published.target_progress.indicator_name_en is 'Indicator name in English.';
comment on column published.target_progress.unit is 'Unit of the values and the target.';
comment on column published.target_progress.admin_level is 'national or province.';
comment on column published.target_progress.admin_code is 'VN or the current province code.';
comment on column published.target_progress.admin_name is 'Việt Nam or the province''s name.';
comment on column published.target_progress.target_year is 'Year by which the target is to be reached.';
comment on column published.target_progress.target_value is 'Target value, in the indicator''s unit.';
comment on column published.target_progress.direction is 'at_most or at_least.';
comment on column published.target_progress.target_source is 'Source of the target (published.targets.source).';
comment on column published.target_progress.baseline_value is 'Value of baseline_year.';
comment on column published.dim_indicator.indicator_id is 'Indicator id, the key of the fact view.';
comment on column published.dim_indicator.tt13_code is 'Code in TT 13/2021 (GGNN: group, item) where known; codes restart in each annex.';
comment on column published.dim_indicator.annex is 'TT 13/2021 annex: I (situation of children) or II (child abuse).';
comment on column published.dim_indicator.indicator_group is 'Group of the annex, as the report form orders them.';
comment on column published.dim_indicator.name_vi is 'Name in Vietnamese, as in TT 13/2021 where it has one.';
comment on column published.dim_indicator.name_en is 'Name in English.';
comment on column published.dim_indicator.unit is 'Unit of value (e.g. per 1,000 live births, %).';
comment on column published.dim_indicator.unit_label_vi is 'Unit as the report forms write it (đơn vị tính).';
comment on column published.dim_indicator.multiplier is 'value = numerator × multiplier / denominator for rates (100, 1,000, 100,000).';
comment on column published.dim_indicator.numerator_definition is 'What the numerator counts.';
comment on column published.dim_indicator.denominator_definition is 'What the denominator counts (rates).';
comment on column published.dim_indicator.breakdowns is 'Breakdowns published besides the total, ''|''-separated.';
comment on column published.dim_indicator.period_types is 'Period types published, ''|''-separated.';
comment on column published.dim_indicator.is_sensitive is 'True when small counts are suppressed to protect children.';
comment on column published.dim_indicator.responsible_agency is 'Agency responsible for collecting and compiling it (chủ trì; phối hợp).';
comment on column published.dim_indicator.legal_basis is 'Legal basis.';
comment on column published.dim_indicator.source_feeds is 'Landing feeds it is computed from, ''|''-separated.';
comment on column published.dim_indicator.notes is 'Notes on definition, coverage and comparability.';
comment on column published.dim_admin_unit.admin_level is 'national, province or commune.';
comment on column published.dim_admin_unit.admin_code is 'VN, the province code (2 digits) or the commune code (5 digits) on the current geography.';
comment on column published.dim_admin_unit.admin_name is 'Official name.';
comment on column published.dim_admin_unit.admin_type is 'Xã, Phường or Đặc khu for communes.';
comment on column published.dim_admin_unit.province_code is 'Province of a commune (a province''s own code for a province).';
comment on column published.dim_period.period is 'Period code, the key of the fact view: 2025, 2025-H1, 2025-R6, …';
comment on column published.dim_period.period_type is 'year, half_year or report_round.';
comment on column published.dim_period.year is 'Calendar year the period reports on.';
comment on column published.dim_period.half is '1 or 2 for half-years.';
comment on column published.dim_period.is_preliminary is 'True when the period had not ended when the release was made.';
comment on column published.dim_period.data_until is 'For a preliminary period, the last day its values cover.';
comment on column published.dim_period.deadline is 'Filing deadline of a report round (provinces may have their own: published.release_periods).';
comment on column published.fact_indicator_values.indicator_id is 'Key of published.dim_indicator.';
comment on column published.fact_indicator_values.period is 'Key of published.dim_period.';
comment on column published.fact_indicator_values.admin_level is 'national, province or commune (filter on it: never sum across levels).';
comment on column published.fact_indicator_values.sex is 'total, male or female.';
comment on column published.fact_indicator_values.age_group is 'Age group, total where not broken down.';
comment on column published.fact_indicator_values.ethnicity is 'kinh or minority, total where not broken down.';
comment on column published.fact_indicator_values.category is 'Indicator-specific category, total where not broken down.';
comment on column published.fact_indicator_values.numerator is 'Summed numerator (the count, for counts); null when suppressed or withheld.';
comment on column published.fact_indicator_values.denominator is 'Summed denominator (rates).';
comment on column published.fact_indicator_values.unit is 'Unit of value.';
comment on column published.fact_indicator_values.release_id is 'Release the value belongs to (published.releases).';
