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

-- Releases are immutable: refuse updates and deletes of released rows.
create or replace function published.refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'published releases are immutable: % on %.% refused', tg_op, tg_table_schema, tg_table_name;
end;
$$;
do $$
declare t text;
begin
    foreach t in array array['releases', 'release_values', 'release_indicators'] loop
        if not exists (select 1 from pg_trigger where tgname = t || '_immutable') then
            execute format('create trigger %I before update or delete on published.%I for each statement execute function published.refuse_change()', t || '_immutable', t);
        end if;
    end loop;
end;
$$;

create or replace view published.latest_release as
select * from published.releases order by created_at desc, release_id desc limit 1;
comment on view published.latest_release is 'The release that published.indicator_values shows.';

create or replace view published.indicator_values as
select
    v.release_id, v.indicator_id, i.name_vi as indicator_name_vi, i.name_en as indicator_name_en,
    v.period, v.period_type, v.admin_level, v.admin_code, v.admin_name, v.sex, v.age_group,
    v.ethnicity, v.category, v.numerator, v.denominator, v.value, v.unit, v.suppression
from published.release_values as v
join published.latest_release as r using (release_id)
left join published.release_indicators as i using (release_id, indicator_id);
comment on view published.indicator_values is 'Indicator values of the latest release, on the post-2025 geography. One row per indicator, period, level, unit and breakdown. Query this from SQL and BI tools.';
comment on column published.indicator_values.release_id is 'Release the values belong to (published.releases).';
comment on column published.indicator_values.indicator_id is 'Indicator id; names and definitions in published.indicators.';
comment on column published.indicator_values.indicator_name_vi is 'Indicator name in Vietnamese, as in TT 13/2021 where it has one.';
comment on column published.indicator_values.indicator_name_en is 'Indicator name in English.';
comment on column published.indicator_values.period is '''2025'' for a calendar year, ''2025-H1'' / ''2025-H2'' for a half-year.';
comment on column published.indicator_values.period_type is 'year or half_year.';
comment on column published.indicator_values.admin_level is 'national, province or commune (post-2025 geography: 34 provinces, 3,321 communes).';
comment on column published.indicator_values.admin_code is 'VN for national; else the post-2025 province (2 digits) or commune (5 digits) code.';
comment on column published.indicator_values.admin_name is 'Official name of the unit, Việt Nam for national.';
comment on column published.indicator_values.sex is 'total, male or female (births of unknown sex count in total only).';
comment on column published.indicator_values.age_group is 'Age group, total where not broken down.';
comment on column published.indicator_values.ethnicity is 'kinh or minority, total where not broken down.';
comment on column published.indicator_values.category is 'Indicator-specific category, total where not broken down.';
comment on column published.indicator_values.numerator is 'Summed numerator (for a count indicator, the count); null when suppressed (see suppression).';
comment on column published.indicator_values.denominator is 'Summed denominator; null for counts, and withheld with a suppressed rate whose basis is its denominator.';
comment on column published.indicator_values.value is 'numerator × multiplier / denominator for rates, the count for counts; null when the denominator is 0 or the value is suppressed (see suppression).';
comment on column published.indicator_values.unit is 'Unit of value, e.g. per 1,000 live births.';
comment on column published.indicator_values.suppression is 'Null when the value is published. Otherwise why numerator and value are withheld to protect children (small counts of sensitive indicators such as abuse): ''primary: fewer than N'' (a count of 1 to N − 1 at commune level or in a breakdown), ''secondary: protects a suppressed cell'' (withheld so a suppressed cell cannot be worked out from its total and the other cells), ''primary: basis count unknown''. The row keeps its place; a rate whose basis is its denominator has the denominator withheld too.';

create or replace view published.indicators as
select i.* from published.release_indicators as i join published.latest_release as r using (release_id);
comment on view published.indicators is 'The indicator catalogue of the latest release: names (Vietnamese and English), units, definitions, agencies.';
