-- Releases: immutable snapshots of indicator values that passed the quality gate.
-- Nothing here depends on dbt's relations, so rebuilding the marts never touches what is published.
create table if not exists published.releases (
    release_id        text primary key,
    created_at        timestamptz not null default clock_timestamp(),
    run_id            text,
    periods           text[] not null,
    row_count         bigint not null,
    row_counts        jsonb not null,
    quality_results   jsonb not null,
    source_batches    jsonb not null
);
comment on table published.releases is 'One row per release: an immutable snapshot of indicator values for the periods it covers, with the quality results it passed.';
comment on column published.releases.release_id is 'Release id, YYYYMMDD-NN (date of release and its number that day).';
comment on column published.releases.created_at is 'When the release was made.';
comment on column published.releases.run_id is 'Pipeline run (Airflow run id) that made the release.';
comment on column published.releases.periods is 'Periods the release covers.';
comment on column published.releases.row_count is 'Number of indicator values in the release.';
comment on column published.releases.row_counts is 'Number of values per indicator.';
comment on column published.releases.quality_results is 'The quality checks the release passed: per suite, checks run, warnings, and the audit quality run ids.';
comment on column published.releases.source_batches is 'Load batches (audit.load_batches) whose rows the release is built from, per feed.';

-- The values of releases are kept once per version (published.value_versions): a release that changes some
-- values adds their new versions and closes the old ones; the others carry over untouched. Warehouses from
-- before kept a full copy of every value in every release, in a table published.release_values: the
-- migration below turns that table into versions, and published.release_values becomes a view with the
-- same columns.
create table if not exists published.value_versions (
    indicator_id       text not null,
    period             text not null,
    period_type        text not null,
    admin_level        text not null,
    admin_code         text not null,
    admin_name         text,
    sex                text not null,
    age_group          text not null,
    ethnicity          text not null,
    category           text not null,
    numerator          numeric,
    denominator        numeric,
    value              numeric,
    unit               text not null,
    suppression        text,
    withheld           text,
    province_code      text,
    first_release_seq  bigint not null,
    last_release_seq   bigint,
    primary key (indicator_id, period, admin_level, admin_code, sex, age_group, ethnicity, category, first_release_seq)
);
comment on table published.value_versions is 'Each version of each indicator value, and the releases it belongs to (release_seq from first_release_seq to last_release_seq, open while it is in the latest release). published.release_values shows them per release, published.indicator_values the latest release''s.';
comment on column published.value_versions.first_release_seq is 'release_seq (published.releases) of the first release with this version of the value.';
comment on column published.value_versions.last_release_seq is 'release_seq of the last release with this version; null while the latest release has it.';
-- What the nightly release and statisticians read: the latest release's values by key (the release
-- compares its candidates with them and closes the replaced ones; one indicator for a unit and period, a
-- unit's trend); values by period, level and province, in the latest or any release (all provinces for a
-- period, a province with its communes, the values an approval covers). These two and the key only: every
-- release that changes values writes them.
create unique index if not exists value_versions_current on published.value_versions
    (indicator_id, period, admin_level, admin_code, sex, age_group, ethnicity, category) where last_release_seq is null;
create index if not exists value_versions_scope on published.value_versions (period, admin_level, province_code);

create table if not exists published.release_indicators (
    release_id            text not null references published.releases (release_id),
    indicator_id          text not null,
    tt13_code             text,
    name_vi               text not null,
    name_en               text not null,
    kind                  text not null,
    unit                  text not null,
    unit_label_vi         text,
    multiplier            numeric,
    numerator_definition  text,
    denominator_definition text,
    responsible_agency    text,
    legal_basis           text,
    notes                 text,
    primary key (release_id, indicator_id)
);
comment on table published.release_indicators is 'The indicator catalogue as it stood for each release (names, units, definitions).';

-- Added with the release governance: values withheld by a failed check, the province of each value, the
-- feeds of each indicator, what was withheld and why. Columns are added only when missing (no lock on a
-- current warehouse); rows of earlier releases have them null.
do $$
declare
    missing record;
begin
    for missing in
        select * from (values
            ('release_values', 'suppression', 'text'),
            ('release_values', 'withheld', 'text'),
            ('release_values', 'province_code', 'text'),
            ('releases', 'withheld_count', 'bigint'),
            ('releases', 'withheld', 'jsonb'),
            ('release_indicators', 'source_feeds', 'text'),
            -- added with the report outputs: where an indicator sits in the report forms
            ('release_indicators', 'annex', 'text'),
            ('release_indicators', 'indicator_group', 'text'),
            ('release_indicators', 'breakdowns', 'text'),
            ('release_indicators', 'period_types', 'text'),
            ('release_indicators', 'is_sensitive', 'boolean'),
            -- added with value versions: the order of releases
            ('releases', 'release_seq', 'bigint'),
            ('releases', 'changed_count', 'bigint')) as wanted (table_name, column_name, column_type)
        where (select relkind from pg_class where oid = to_regclass('published.' || table_name)) = 'r'
          and not exists (select 1 from pg_attribute
                           where attrelid = to_regclass('published.' || table_name)
                             and attname = column_name and not attisdropped)
    loop
        execute format('alter table published.%I add column %I %s', missing.table_name, missing.column_name,
                       missing.column_type);
    end loop;
end;
$$;
-- The order of releases: release_seq, given at release (max + 1 under the release lock). Releases from
-- before it are numbered in the order they were made.
do $$
begin
    if exists (select 1 from published.releases where release_seq is null) then
        alter table published.releases disable trigger user;
        update published.releases as r set release_seq = o.seq
          from (select release_id, row_number() over (order by created_at, release_id) as seq
                  from published.releases) as o
         where o.release_id = r.release_id;
        alter table published.releases enable trigger user;
    end if;
end;
$$;
alter table published.releases alter column release_seq set not null;
create unique index if not exists releases_seq on published.releases (release_seq);
comment on column published.releases.changed_count is 'Number of values the release added, changed or dropped against the release before it (published.value_versions); null for releases made before it was counted.';
comment on column published.releases.release_seq is 'Order of the release (1, 2, …): published.value_versions says which releases hold a value by it.';

-- Migration from full copies: every run of consecutive releases with the same version of a value becomes one
-- version (gaps and islands: within a version, release_seq and its rank among the value's equal copies
-- advance together).
do $$
declare
    latest bigint;
begin
    if (select relkind from pg_class where oid = to_regclass('published.release_values')) = 'r' then
        select max(release_seq) into latest from published.releases;
        insert into published.value_versions
              (indicator_id, period, period_type, admin_level, admin_code, admin_name, sex, age_group, ethnicity,
               category, numerator, denominator, value, unit, suppression, withheld, province_code,
               first_release_seq, last_release_seq)
        select indicator_id, period, period_type, admin_level, admin_code, admin_name, sex, age_group, ethnicity,
               category, numerator, denominator, value, unit, suppression, withheld, province_code,
               min(release_seq), nullif(max(release_seq), latest)
          from (select v.*, r.release_seq,
                       r.release_seq - row_number() over (
                           partition by v.indicator_id, v.period, v.admin_level, v.admin_code, v.sex, v.age_group,
                                        v.ethnicity, v.category, v.period_type, v.admin_name, v.numerator,
                                        v.denominator, v.value, v.unit, v.suppression, v.withheld, v.province_code
                           order by r.release_seq) as island
                  from published.release_values as v
                  join published.releases as r using (release_id)) as copies
         group by indicator_id, period, period_type, admin_level, admin_code, admin_name, sex, age_group, ethnicity,
                  category, numerator, denominator, value, unit, suppression, withheld, province_code, island;
        -- the views and functions over the table go with it; 004 and 005 create them again over the view
        drop table published.release_values cascade;
    end if;
end;
$$;

create or replace view published.release_values as
select r.release_id, v.indicator_id, v.period, v.period_type, v.admin_level, v.admin_code, v.admin_name, v.sex,
       v.age_group, v.ethnicity, v.category, v.numerator, v.denominator, v.value, v.unit, v.suppression,
       v.withheld, v.province_code
  from published.value_versions as v
  join published.releases as r
    on r.release_seq >= v.first_release_seq
   and r.release_seq <= coalesce(v.last_release_seq, r.release_seq);
comment on view published.release_values is 'Indicator values of every release (history), one row per release and value. Most users want published.indicator_values, the latest release. Stored once per version in published.value_versions.';
comment on column published.release_values.release_id is 'Release (published.releases).';
comment on column published.release_values.suppression is 'Why numerator and value are withheld (null when published): ''primary: fewer than N'' (a small count of a sensitive indicator at commune level or in a breakdown), ''secondary: protects a suppressed cell'' (withheld so a suppressed cell cannot be recovered from its total and the other cells), ''primary: basis count unknown''.';
comment on column published.release_values.withheld is 'Why numerator and value are withheld by the quality gate (null when not): the failed check and what it saw, for the value itself or for a value it aggregates (a province in the nation, a half-year in the year, a breakdown cell in its total).';
comment on column published.release_values.province_code is 'Current province of a province or commune value; null for national values.';
comment on column published.releases.withheld_count is 'Number of values of the release withheld by failed quality checks (value and numerator null, reason in release_values.withheld).';
comment on column published.releases.withheld is 'Each failed check that withheld values: check, indicator, level, unit, period, breakdown, what it saw, and how many values it withheld (with those that aggregate them).';
comment on column published.release_indicators.source_feeds is 'Landing feeds the indicator is computed from, ''|''-separated.';
comment on column published.release_indicators.annex is 'TT 13/2021 annex: I (situation of children) or II (child abuse and its administrative handling).';
comment on column published.release_indicators.indicator_group is 'Group of the annex the indicator belongs to, as the report form orders them (e.g. II Sức khỏe, dinh dưỡng trẻ em).';
comment on column published.release_indicators.breakdowns is 'Breakdowns published besides the total, ''|''-separated: sex, age_group, ethnicity, category.';
comment on column published.release_indicators.period_types is 'Period types published, ''|''-separated: year, half_year, report_round.';
comment on column published.release_indicators.is_sensitive is 'True for indicators whose small counts are suppressed (child protection, abuse).';

-- Periods of each release: calendar years and half-years and the report rounds (reporting_calendar),
-- with their data windows, and whether the window had ended when the release was made.
create table if not exists published.release_periods (
    release_id          text not null references published.releases (release_id),
    period              text not null,
    period_type         text not null,
    data_window         daterange not null,
    is_preliminary      boolean not null,
    data_until          date,
    round_name_vi       text,
    deadline            date,
    province_deadlines  jsonb,
    primary key (release_id, period)
);
comment on table published.release_periods is 'The periods of each release: data window, and whether it was still open (preliminary) when the release was made.';
comment on column published.release_periods.period is '2025 (year), 2025-H1 / 2025-H2 (half-year), 2025-R6 / 2025-RY (report rounds of the reporting calendar).';
comment on column published.release_periods.period_type is 'year, half_year or report_round.';
comment on column published.release_periods.data_window is 'The days the period covers, e.g. [2024-12-15,2025-06-15) for the six-month round of 2025 (lower(data_window) is the first day, upper(data_window) the day after the last).';
comment on column published.release_periods.is_preliminary is 'True when the window had not ended when the release was made: the values are preliminary (SỐ LIỆU SƠ BỘ) and cover data until data_until.';
comment on column published.release_periods.data_until is 'For a preliminary period, the last day the values cover (the day before the release); null when the window had ended (the values cover all of it).';
comment on column published.release_periods.round_name_vi is 'Report round (6 tháng, năm) for report rounds; null for calendar periods.';
comment on column published.release_periods.deadline is 'Filing deadline of a report round for provinces without their own (reference.reporting_calendar).';
comment on column published.release_periods.province_deadlines is 'Provinces with their own deadline for the round: {current province code: date}.';

-- Deliveries behind each release: for every half-year, every province of the geography of that half-year
-- and every feed that any province delivered for it, the current load batches (none: not delivered).
-- Approval reads it for completeness; pending revisions name the batches that changed a value.
create table if not exists published.release_deliveries (
    release_id             text not null references published.releases (release_id),
    half_year              text not null,
    data_window            daterange not null,
    admin_vintage          text not null,
    province_code          text not null,
    province_name          text,
    current_province_code  text not null,
    feed                   text not null,
    batch_ids              bigint[] not null,
    rows                   bigint not null,
    primary key (release_id, half_year, admin_vintage, province_code, feed)
);
comment on table published.release_deliveries is 'Which province delivered which feed for which half-year, as it stood for each release (rows 0 and no batch: not delivered, while other provinces did).';
comment on column published.release_deliveries.half_year is 'Calendar half-year the delivered rows fall in (a yearly or school-year delivery counts for both halves of its reporting year).';
comment on column published.release_deliveries.data_window is 'The days of the half-year.';
comment on column published.release_deliveries.admin_vintage is 'Geography of the half-year: pre_2025_07 (63 provinces) before 1 July 2025, 2025_07 (34) from then.';
comment on column published.release_deliveries.province_code is 'Province code in that vintage.';
comment on column published.release_deliveries.current_province_code is 'The post-2025 province it lies in.';
comment on column published.release_deliveries.feed is 'Landing feed.';
comment on column published.release_deliveries.batch_ids is 'Current load batches (audit.load_batches) holding the rows.';
comment on column published.release_deliveries.rows is 'Current rows delivered; 0 when not delivered.';

-- Releases are immutable: refuse updates and deletes of released rows. The one change allowed is closing a
-- value's version when a later release replaces it (its content stays as released).
create or replace function published.refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'published releases are immutable: % on %.% refused', tg_op, tg_table_schema, tg_table_name;
end;
$$;
create or replace function published.close_version_only() returns trigger language plpgsql as $$
declare
    reopened published.value_versions := new;
begin
    reopened.last_release_seq := null;
    if old.last_release_seq is null and new.last_release_seq is not null and reopened is not distinct from old then
        return new;
    end if;
    raise exception 'published releases are immutable: % on %.% refused (a version of a value can only be closed)',
        tg_op, tg_table_schema, tg_table_name;
end;
$$;
do $$
declare t text;
begin
    foreach t in array array['releases', 'release_indicators', 'release_periods', 'release_deliveries'] loop
        if not exists (select 1 from pg_trigger where tgname = t || '_immutable') then
            execute format('create trigger %I before update or delete on published.%I for each statement execute function published.refuse_change()', t || '_immutable', t);
        end if;
    end loop;
    if not exists (select 1 from pg_trigger where tgname = 'value_versions_immutable') then
        create trigger value_versions_immutable before delete on published.value_versions
            for each statement execute function published.refuse_change();
        create trigger value_versions_only_closed before update on published.value_versions
            for each row execute function published.close_version_only();
    end if;
    if not exists (select 1 from pg_trigger where tgname = 'release_values_immutable'
                                              and tgrelid = 'published.release_values'::regclass) then
        create trigger release_values_immutable instead of insert or update or delete on published.release_values
            for each row execute function published.refuse_change();
    end if;
end;
$$;
