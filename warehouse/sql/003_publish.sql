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

create table if not exists published.release_values (
    release_id    text not null references published.releases (release_id),
    indicator_id  text not null,
    period        text not null,
    period_type   text not null,
    admin_level   text not null,
    admin_code    text not null,
    admin_name    text,
    sex           text not null,
    age_group     text not null,
    ethnicity     text not null,
    category      text not null,
    numerator     numeric,
    denominator   numeric,
    value         numeric,
    unit          text not null,
    primary key (release_id, indicator_id, period, admin_level, admin_code, sex, age_group, ethnicity, category)
);
comment on table published.release_values is 'Indicator values of every release (history). Most users want published.indicator_values, the latest release.';
-- Disclosure control (marts.fct_published_values): added after the first releases, so added here for
-- warehouses that have the table already; rows of earlier releases have it null (nothing was suppressed).
alter table published.release_values add column if not exists suppression text;
comment on column published.release_values.suppression is 'Why numerator and value are withheld (null when published): ''primary: fewer than N'' (a small count of a sensitive indicator at commune level or in a breakdown), ''secondary: protects a suppressed cell'' (withheld so a suppressed cell cannot be recovered from its total and the other cells), ''primary: basis count unknown''.';

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
            ('release_indicators', 'is_sensitive', 'boolean')) as wanted (table_name, column_name, column_type)
        where not exists (select 1 from pg_attribute
                           where attrelid = ('published.' || table_name)::regclass
                             and attname = column_name and not attisdropped)
    loop
        execute format('alter table published.%I add column %I %s', missing.table_name, missing.column_name,
                       missing.column_type);
    end loop;
end;
$$;
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
create index if not exists release_values_period on published.release_values (release_id, period, province_code);

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

-- Releases are immutable: refuse updates and deletes of released rows.
create or replace function published.refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'published releases are immutable: % on %.% refused', tg_op, tg_table_schema, tg_table_name;
end;
$$;
do $$
declare t text;
begin
    foreach t in array array['releases', 'release_values', 'release_indicators', 'release_periods',
                              'release_deliveries'] loop
        if not exists (select 1 from pg_trigger where tgname = t || '_immutable') then
            execute format('create trigger %I before update or delete on published.%I for each statement execute function published.refuse_change()', t || '_immutable', t);
        end if;
    end loop;
end;
$$;

