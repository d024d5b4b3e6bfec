-- Schemas and tables owned by the loader (raw tables are created per feed by ingest.schema).
create schema if not exists raw;
create schema if not exists audit;
create schema if not exists quarantine;
create schema if not exists published;

create table if not exists audit.load_batches (
    batch_id            bigserial primary key,
    run_id              text,
    feed                text not null,
    file_name           text not null,
    file_path           text not null,
    file_sha256         text not null,
    file_bytes          bigint not null,
    status              text not null check (status in ('running', 'loaded', 'empty', 'rejected', 'skipped', 'failed', 'interrupted')),
    reason              text,
    duplicate_of_batch  bigint references audit.load_batches (batch_id),
    rows_read           bigint not null default 0,
    rows_loaded         bigint not null default 0,
    rows_quarantined    bigint not null default 0,
    rows_superseded     bigint not null default 0,
    started_at          timestamptz not null default clock_timestamp(),
    finished_at         timestamptz,
    constraint rows_accounted_for check (status = 'running' or rows_read = rows_loaded + rows_quarantined)
);
comment on table audit.load_batches is 'One row per landing file the loader saw: what it read, loaded, quarantined or skipped, and why.';
comment on column audit.load_batches.batch_id is 'Load batch id; every raw and quarantined row carries it.';
comment on column audit.load_batches.run_id is 'The pipeline run (Airflow run id or CLI run) that loaded the file.';
comment on column audit.load_batches.feed is 'Feed (landing folder) name, e.g. y_te_sinh.';
comment on column audit.load_batches.file_name is 'File name as delivered.';
comment on column audit.load_batches.file_path is 'Full path of the file when it was loaded.';
comment on column audit.load_batches.file_sha256 is 'SHA-256 of the file bytes; an identical re-delivery is skipped.';
comment on column audit.load_batches.file_bytes is 'File size in bytes.';
comment on column audit.load_batches.status is 'running, loaded, empty (a header but no records), rejected (file unreadable or refused: see reason), skipped (identical to a file already seen: see reason), failed (loader error; not retried until the file changes or make retry BATCH=n) or interrupted (the loading process died; its rows were rolled back).';
comment on column audit.load_batches.reason is 'Why a file was rejected, skipped or failed.';
comment on column audit.load_batches.duplicate_of_batch is 'For a skipped file: the batch that already holds the same bytes.';
comment on column audit.load_batches.rows_read is 'Data rows read from the file (header excluded). Always rows_loaded + rows_quarantined.';
comment on column audit.load_batches.rows_loaded is 'Rows written to raw.';
comment on column audit.load_batches.rows_quarantined is 'Rows written to quarantine.rejected_rows.';
comment on column audit.load_batches.rows_superseded is 'Rows of earlier batches this batch superseded (same feed, province and period).';
comment on column audit.load_batches.started_at is 'When loading the file started.';
comment on column audit.load_batches.finished_at is 'When loading the file ended.';

create index if not exists load_batches_sha256 on audit.load_batches (file_sha256);

create table if not exists quarantine.rejected_rows (
    rejected_row_id  bigserial primary key,
    batch_id         bigint not null references audit.load_batches (batch_id),
    feed             text not null,
    file_name        text not null,
    line_number      integer not null,
    column_name      text,
    reason           text not null,
    errors           jsonb not null,
    record           jsonb not null,
    quarantined_at   timestamptz not null default now()
);
comment on table quarantine.rejected_rows is 'Rows that failed a rule at load, with where and why. Nothing is dropped silently.';
comment on column quarantine.rejected_rows.batch_id is 'Load batch (audit.load_batches) the row came in.';
comment on column quarantine.rejected_rows.feed is 'Feed name.';
comment on column quarantine.rejected_rows.file_name is 'File the row came from.';
comment on column quarantine.rejected_rows.line_number is 'Line number in the file (the header is line 1).';
comment on column quarantine.rejected_rows.column_name is 'Column (header as delivered) of the first failed rule; null for a row-level rule.';
comment on column quarantine.rejected_rows.reason is 'Reason of the first failed rule, in plain words.';
comment on column quarantine.rejected_rows.errors is 'Every failed rule of the row: [{column, reason}].';
comment on column quarantine.rejected_rows.record is 'The original record as delivered: {header: value}.';
create index if not exists rejected_rows_batch on quarantine.rejected_rows (batch_id);

create table if not exists audit.batch_coverage (
    batch_id       bigint not null references audit.load_batches (batch_id),
    feed           text not null,
    province_code  text not null,
    admin_vintage  text not null,
    period_key     text not null,
    rows           bigint not null,
    primary key (batch_id, province_code, admin_vintage, period_key)
);
comment on table audit.batch_coverage is 'Which provinces and periods each loaded batch holds rows for; a newer batch covering the same (feed, province, period) supersedes the older rows.';
comment on column audit.batch_coverage.batch_id is 'Load batch (audit.load_batches).';
comment on column audit.batch_coverage.feed is 'Feed name.';
comment on column audit.batch_coverage.province_code is 'Province code in the vintage of the rows.';
comment on column audit.batch_coverage.admin_vintage is 'pre_2025_07 or 2025_07.';
comment on column audit.batch_coverage.period_key is 'Period of the rows (e.g. 2025-H1).';
comment on column audit.batch_coverage.rows is 'Rows loaded for this province and period.';
create index if not exists batch_coverage_key on audit.batch_coverage (feed, province_code, admin_vintage, period_key);

alter table audit.load_batches add column if not exists pseudonymisation_key_id text;
comment on column audit.load_batches.pseudonymisation_key_id is 'Fingerprint of the key that pseudonymised the personal IDs of this batch (ingest.pseudonymise); null for feeds without personal IDs.';

-- Statuses added after the first release (empty, interrupted): replace the check once, on old warehouses.
do $$
begin
    if not exists (select from pg_constraint
                    where conrelid = 'audit.load_batches'::regclass and conname = 'load_batches_status_check'
                      and pg_get_constraintdef(oid) like '%interrupted%') then
        alter table audit.load_batches drop constraint if exists load_batches_status_check;
        alter table audit.load_batches add constraint load_batches_status_check
            check (status in ('running', 'loaded', 'empty', 'rejected', 'skipped', 'failed', 'interrupted'));
    end if;
end $$;

alter table audit.load_batches add column if not exists retry_of_batch bigint;
comment on column audit.load_batches.retry_of_batch is 'For a load asked for by make retry BATCH=n: the batch n it retries.';

-- Corrections that would erase most of what they replace wait for confirmation (ingest.supersession).
alter table audit.batch_coverage add column if not exists superseded_by_batch bigint;
alter table audit.batch_coverage add column if not exists awaiting_confirmation boolean not null default false;
alter table audit.batch_coverage add column if not exists rows_before bigint;
alter table audit.batch_coverage add column if not exists confirmed_by text;
alter table audit.batch_coverage add column if not exists confirmed_at timestamptz;
comment on column audit.batch_coverage.superseded_by_batch is 'The newer batch that replaced these rows; null while they count (or wait for confirmation).';
comment on column audit.batch_coverage.awaiting_confirmation is 'True while this correction would shrink the province-period by more than INGEST_MAX_SHRINK and waits for make confirm BATCH=n: its rows do not count yet and the earlier rows stay.';
comment on column audit.batch_coverage.rows_before is 'Rows of the province-period that counted when this batch arrived (what it replaces).';
comment on column audit.batch_coverage.confirmed_by is 'Who confirmed a held correction (make confirm BATCH=n BY=...).';
comment on column audit.batch_coverage.confirmed_at is 'When a held correction was confirmed.';
