-- Data-quality results: one row per suite run and one row per expectation result (quality package).
-- A suite run is written in one transaction when it ends, so a run that crashed leaves no row
-- (publishing then sees the suite as "not run" rather than as passed).
create table if not exists audit.quality_runs (
    quality_run_id    bigserial primary key,
    run_id            text not null,
    suite             text not null,
    started_at        timestamptz not null,
    finished_at       timestamptz not null,
    success           boolean not null,
    error_failures    integer not null check (error_failures >= 0),
    warning_failures  integer not null check (warning_failures >= 0),
    constraint success_means_no_error check (success = (error_failures = 0))
);
comment on table audit.quality_runs is 'One row per run of a Great Expectations suite (expectations/<suite>.yml) by the quality package.';
comment on column audit.quality_runs.quality_run_id is 'Suite run id; audit.quality_results rows carry it.';
comment on column audit.quality_runs.run_id is 'The pipeline run (Airflow run id or CLI run) the suite ran in; several suites share it.';
comment on column audit.quality_runs.suite is 'Suite name, the file name under expectations/ without .yml (e.g. marts_indicator_values).';
comment on column audit.quality_runs.started_at is 'When validation of the suite started.';
comment on column audit.quality_runs.finished_at is 'When validation of the suite ended.';
comment on column audit.quality_runs.success is 'True when no error-level expectation failed: the suite does not block publication. Warnings do not count.';
comment on column audit.quality_runs.error_failures is 'Number of error-level expectations that failed (or could not be evaluated). Above 0 blocks publication.';
comment on column audit.quality_runs.warning_failures is 'Number of warning-level expectations that failed; reported, never blocking.';
create index if not exists quality_runs_run on audit.quality_runs (run_id, suite);

create table if not exists audit.quality_results (
    quality_result_id  bigserial primary key,
    quality_run_id     bigint not null references audit.quality_runs (quality_run_id),
    run_id             text not null,
    suite              text not null,
    expectation        text not null,
    expectation_type   text not null,
    severity           text not null check (severity in ('error', 'warning')),
    success            boolean not null,
    admin_code         text,
    period             text,
    observed           jsonb,
    failing_rows       jsonb,
    message            text
);
comment on table audit.quality_results is 'One row per expectation result of a suite run; a failed check that can be pinned to places and periods has one row per failing (admin_code, period).';
comment on column audit.quality_results.quality_result_id is 'Result row id.';
comment on column audit.quality_results.quality_run_id is 'Suite run (audit.quality_runs) the result belongs to.';
comment on column audit.quality_results.run_id is 'Pipeline run id, copied from audit.quality_runs for easy filtering.';
comment on column audit.quality_results.suite is 'Suite name, copied from audit.quality_runs.';
comment on column audit.quality_results.expectation is 'What was checked, in words (the expectation''s description in the suite file), e.g. "value within plausible bounds".';
comment on column audit.quality_results.expectation_type is 'Great Expectations expectation type, e.g. expect_column_values_to_not_be_null or unexpected_rows_expectation.';
comment on column audit.quality_results.severity is 'error (a failure blocks publication) or warning (reported only).';
comment on column audit.quality_results.success is 'True when the expectation held. False also when it could not be evaluated (see observed.exception).';
comment on column audit.quality_results.admin_code is 'Administrative unit the failure is pinned to: a code of the checked table (candidate values: current geography, VN = national; raw: the province code as delivered, in the row''s vintage). Null for a success or a failure not about one place.';
comment on column audit.quality_results.period is 'Period the failure is pinned to (2025 or 2025-H1); null for a success or a failure that is not about one period.';
comment on column audit.quality_results.observed is 'What Great Expectations observed: counts and percentages of unexpected rows, observed values, or the exception when the check could not run.';
comment on column audit.quality_results.failing_rows is 'Failing rows for this admin_code and period (custom SQL checks), or up to 20 example rows with their keys (column checks); null on success.';
comment on column audit.quality_results.message is 'The readable message(s) reported for this result, as printed by python -m quality.';
create index if not exists quality_results_run on audit.quality_results (quality_run_id);
create index if not exists quality_results_place_period on audit.quality_results (admin_code, period) where not success;

-- Pinned failures (added with the release governance): a failed error-level check whose failing rows name
-- the values they concern withholds those values; only the others block a release. Columns are added only
-- when missing, so a bootstrap on a current warehouse takes no lock on these tables.
do $$
begin
    if not exists (select 1 from pg_attribute where attrelid = 'audit.quality_runs'::regclass
                                                and attname = 'blocking_failures' and not attisdropped) then
        alter table audit.quality_runs add column blocking_failures integer check (blocking_failures >= 0);
    end if;
    if not exists (select 1 from pg_attribute where attrelid = 'audit.quality_results'::regclass
                                                and attname = 'pinned' and not attisdropped) then
        alter table audit.quality_results add column pinned boolean not null default false;
    end if;
end;
$$;
comment on column audit.quality_runs.blocking_failures is 'Error-level failures that cannot be pinned to values (a structural check, a check that could not run): above 0 blocks the release. Null on runs recorded before pinning existed (then every error blocked).';
comment on column audit.quality_results.pinned is 'True for a failed error-level check whose failing rows name every value they concern (indicator, level, unit, period, and breakdown where given): the release withholds those values and the values that aggregate them, instead of being blocked.';
