-- What users query: the latest release, with approval status; official (approved) values; pending revisions.
-- Views only ever gain columns at the end (create or replace view cannot drop or reorder them).
create or replace view published.latest_release as
-- release_seq orders releases (given at release under its lock); the open value versions are this release's
select * from published.releases order by release_seq desc limit 1;
comment on view published.latest_release is 'The release that published.indicator_values shows.';

create or replace view published.indicator_values as
select
    l.release_id, v.indicator_id, i.name_vi as indicator_name_vi, i.name_en as indicator_name_en,
    v.period, v.period_type, v.admin_level, v.admin_code, v.admin_name, v.sex, v.age_group,
    v.ethnicity, v.category, v.numerator, v.denominator, v.value, v.unit, v.suppression,
    v.withheld,
    -- official: an approval is in force over the period and unit, and its version of the value is this one:
    -- this version was already in the approved release, or (a value that changed and changed back) the
    -- approved release's version equals it
    case when a.release_id is null then 'provisional'
         when approved.release_seq >= v.first_release_seq then 'official'
         when exists (select 1 from published.value_versions as o
                       where o.indicator_id = v.indicator_id and o.period = v.period
                         and o.admin_level = v.admin_level and o.admin_code = v.admin_code and o.sex = v.sex
                         and o.age_group = v.age_group and o.ethnicity = v.ethnicity and o.category = v.category
                         and o.first_release_seq <= approved.release_seq
                         and o.last_release_seq >= approved.release_seq
                         and (o.numerator, o.denominator, o.value, o.suppression, o.withheld)
                             is not distinct from (v.numerator, v.denominator, v.value, v.suppression, v.withheld))
         then 'official' else 'provisional' end as approval_status,
    p.is_preliminary,
    p.data_until,
    v.province_code
-- the latest release's values are the open versions (partial indexes in 003_publish.sql)
from published.value_versions as v
cross join published.latest_release as l
left join published.release_indicators as i on i.release_id = l.release_id and i.indicator_id = v.indicator_id
left join published.release_periods as p on p.release_id = l.release_id and p.period = v.period
left join published.current_approvals as a
    on a.period = v.period
   and a.admin_code = case when v.admin_level = 'national' then 'VN' else v.province_code end
left join published.releases as approved on approved.release_id = a.release_id
where v.last_release_seq is null;
comment on view published.indicator_values is 'Indicator values of the latest release, on the post-2025 geography. One row per indicator, period, level, unit and breakdown. Query this from SQL and BI tools.';
comment on column published.indicator_values.release_id is 'Release the values belong to (published.releases).';
comment on column published.indicator_values.indicator_id is 'Indicator id; names and definitions in published.indicators.';
comment on column published.indicator_values.indicator_name_vi is 'Indicator name in Vietnamese, as in TT 13/2021 where it has one.';
comment on column published.indicator_values.indicator_name_en is 'Indicator name in English.';
comment on column published.indicator_values.period is '''2025'' for a calendar year, ''2025-H1'' / ''2025-H2'' for a half-year, ''2025-R6'' / ''2025-RY'' for the six-month and annual report rounds (reporting calendar windows, e.g. 15/12/2024–14/6/2025).';
comment on column published.indicator_values.period_type is 'year, half_year or report_round.';
comment on column published.indicator_values.admin_level is 'national, province or commune (post-2025 geography: 34 provinces, 3,321 communes).';
comment on column published.indicator_values.admin_code is 'VN for national; else the post-2025 province (2 digits) or commune (5 digits) code.';
comment on column published.indicator_values.admin_name is 'Official name of the unit, Việt Nam for national.';
comment on column published.indicator_values.sex is 'total, male or female (births of unknown sex count in total only).';
comment on column published.indicator_values.age_group is 'Age group, total where not broken down.';
comment on column published.indicator_values.ethnicity is 'kinh or minority, total where not broken down.';
comment on column published.indicator_values.category is 'Indicator-specific category, total where not broken down.';
comment on column published.indicator_values.numerator is 'Summed numerator (for a count indicator, the count); null when suppressed or withheld (see suppression, withheld).';
comment on column published.indicator_values.denominator is 'Summed denominator; null for counts, and withheld with a suppressed rate whose basis is its denominator.';
comment on column published.indicator_values.value is 'numerator × multiplier / denominator for rates, the count for counts; null when the denominator is 0, or the value is suppressed or withheld.';
comment on column published.indicator_values.unit is 'Unit of value, e.g. per 1,000 live births.';
comment on column published.indicator_values.suppression is 'Null when the value is published. Otherwise why numerator and value are withheld to protect children (small counts of sensitive indicators such as abuse): ''primary: fewer than N'' (a count of 1 to N − 1 at commune level or in a breakdown), ''secondary: protects a suppressed cell'' (withheld so a suppressed cell cannot be worked out from its total and the other cells), ''primary: basis count unknown''. The row keeps its place; a rate whose basis is its denominator has the denominator withheld too.';
comment on column published.indicator_values.withheld is 'Null when the value passed the quality gate. Otherwise why numerator and value are withheld: the failed check and what it saw, for this value or for a value it aggregates (a province in the nation, a half-year in its year, a breakdown cell in its total). The previous value is not shown instead.';
comment on column published.indicator_values.approval_status is 'official when a statistician approved this period for this province (or the nation) and the value equals the approved one; provisional otherwise (published.official_values holds the approved versions, published.pending_revisions the differences).';
comment on column published.indicator_values.is_preliminary is 'True when the period''s window had not ended when the release was made (SỐ LIỆU SƠ BỘ): the values cover data until data_until.';
comment on column published.indicator_values.data_until is 'For a preliminary period, the last day the values cover; null when the window had ended.';
comment on column published.indicator_values.province_code is 'Current province of a province or commune value (null for national): filter a province with its communes.';

-- The stored versions and the per-release history have the latest release's columns: the same column docs.
do $$
declare
    col record;
begin
    for col in
        select c.oid::regclass as relation, a.attname, d.description
          from pg_class as c
          join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
          join pg_attribute as l on l.attrelid = 'published.indicator_values'::regclass and l.attname = a.attname
          join pg_description as d on d.objoid = l.attrelid and d.objsubid = l.attnum
         where c.oid in ('published.value_versions'::regclass, 'published.release_values'::regclass)
           and col_description(c.oid, a.attnum) is null
    loop
        execute format('comment on column %s.%I is %L', col.relation, col.attname, col.description);
    end loop;
end;
$$;

create or replace view published.indicators as
select i.* from published.release_indicators as i join published.latest_release as r using (release_id);
comment on view published.indicators is 'The indicator catalogue of the latest release: names (Vietnamese and English), units, definitions, agencies.';

create or replace view published.official_values as
select
    v.release_id, v.indicator_id, i.name_vi as indicator_name_vi, i.name_en as indicator_name_en,
    v.period, v.period_type, v.admin_level, v.admin_code, v.admin_name, v.sex, v.age_group,
    v.ethnicity, v.category, v.numerator, v.denominator, v.value, v.unit, v.suppression, v.withheld,
    p.is_preliminary, p.data_until, v.province_code,
    a.approval_id, a.approved_by, a.approved_at, a.note as approval_note
from published.current_approvals as a
cross join lateral published.approval_scope(a.release_id, a.period, a.admin_code) as v
left join published.release_indicators as i on i.release_id = v.release_id and i.indicator_id = v.indicator_id
left join published.release_periods as p on p.release_id = v.release_id and p.period = v.period;
comment on view published.official_values is 'Approved (signed-off) values only: for each period and unit approved, the values of the approved release, unchanged by later nightly releases until approved again.';
comment on column published.official_values.release_id is 'The release whose values were approved.';
comment on column published.official_values.approval_id is 'The approval in force (published.approvals).';
comment on column published.official_values.approved_by is 'Who approved.';
comment on column published.official_values.approved_at is 'When.';
comment on column published.official_values.approval_note is 'The note given when approving.';

create or replace view published.pending_revisions as
with approved as (
    select a.*, l.release_id as latest_release_id
      from published.current_approvals as a
     cross join published.latest_release as l
     where a.release_id <> l.release_id
),
official as (
    select a.approval_id, v.*
      from approved as a
     cross join lateral published.approval_scope(a.release_id, a.period, a.admin_code) as v
),
latest as (
    select a.approval_id, v.*
      from approved as a
     cross join lateral published.approval_scope(a.latest_release_id, a.period, a.admin_code) as v
),
changed as (
    select
        coalesce(n.approval_id, o.approval_id) as approval_id,
        coalesce(n.indicator_id, o.indicator_id) as indicator_id,
        coalesce(n.period, o.period) as period,
        coalesce(n.admin_level, o.admin_level) as admin_level,
        coalesce(n.admin_code, o.admin_code) as admin_code,
        coalesce(n.admin_name, o.admin_name) as admin_name,
        coalesce(n.province_code, o.province_code) as province_code,
        coalesce(n.sex, o.sex) as sex,
        coalesce(n.age_group, o.age_group) as age_group,
        coalesce(n.ethnicity, o.ethnicity) as ethnicity,
        coalesce(n.category, o.category) as category,
        coalesce(n.unit, o.unit) as unit,
        o.value as official_value,
        n.value as new_value,
        o.numerator as official_numerator,
        n.numerator as new_numerator,
        o.denominator as official_denominator,
        n.denominator as new_denominator,
        n.suppression as new_suppression,
        n.withheld as new_withheld
      from official as o
      full join latest as n
        on n.approval_id = o.approval_id and n.indicator_id = o.indicator_id and n.admin_level = o.admin_level
       and n.admin_code = o.admin_code and n.sex = o.sex and n.age_group = o.age_group
       and n.ethnicity = o.ethnicity and n.category = o.category
     where (o.numerator, o.denominator, o.value, o.suppression, o.withheld)
           is distinct from (n.numerator, n.denominator, n.value, n.suppression, n.withheld)
)
select
    c.indicator_id, c.period, c.admin_level, c.admin_code, c.admin_name, c.sex, c.age_group, c.ethnicity,
    c.category, c.unit, c.official_value, c.new_value, c.official_numerator, c.new_numerator,
    c.official_denominator, c.new_denominator, c.new_suppression, c.new_withheld,
    a.approval_id, a.release_id as official_release_id, a.latest_release_id as new_release_id,
    a.approved_by, a.approved_at,
    -- the load batches behind the new value that the approved release did not have
    (select coalesce(array_agg(distinct batch.batch_id order by batch.batch_id), '{}')
       from published.release_deliveries as d
       join published.release_periods as p on p.release_id = d.release_id and p.period = c.period
       join published.release_indicators as i on i.release_id = d.release_id and i.indicator_id = c.indicator_id
      cross join lateral unnest(d.batch_ids) as batch (batch_id)
      where d.release_id = a.latest_release_id
        and d.data_window && p.data_window
        and d.feed = any (string_to_array(i.source_feeds, '|'))
        and (c.province_code is null or d.current_province_code = c.province_code)
        and not exists (select 1
                          from published.releases as r
                         cross join lateral jsonb_array_elements_text(r.source_batches -> d.feed) as known (batch_id)
                         where r.release_id = a.release_id and known.batch_id::bigint = batch.batch_id)
    ) as changed_by_batches
from changed as c
join approved as a on a.approval_id = c.approval_id;
comment on view published.pending_revisions is 'Approved values that the latest release changes: the official value, the new one, and the load batches (audit.load_batches) behind the change. They stay provisional until the period is approved again (make approve).';
comment on column published.pending_revisions.official_value is 'The approved value (published.official_values).';
comment on column published.pending_revisions.new_value is 'The value of the latest release (null when withheld, suppressed or gone).';
comment on column published.pending_revisions.new_withheld is 'Why the new value is withheld, if it is.';
comment on column published.pending_revisions.changed_by_batches is 'Load batches of the indicator''s feeds, for the unit and period, that arrived after the approved release.';
