-- The record of the nightly runs, for the engineer paged at 06:00: one row per DAG run, and the events
-- (failed tasks, withheld or blocked releases, missed deadlines) with whether a notice went out.
create table if not exists audit.pipeline_runs (
    run_id        text primary key,
    dag_id        text not null,
    run_type      text,
    triggered_by  text,
    triggering_user text,
    logical_date  timestamptz,
    params        jsonb,
    started_at    timestamptz not null default clock_timestamp(),
    ended_at      timestamptz,
    state         text not null default 'running',
    release_id    text
);
-- triggering_user came a day after the table: add it where missing (no lock when present)
do $$
begin
    if not exists (select 1 from pg_attribute where attrelid = 'audit.pipeline_runs'::regclass
                                                 and attname = 'triggering_user' and not attisdropped) then
        alter table audit.pipeline_runs add column triggering_user text;
    end if;
end;
$$;
comment on table audit.pipeline_runs is 'One row per Airflow run of the nightly DAG: how it was started, when it ran, how it ended, and the release it made.';
comment on column audit.pipeline_runs.run_id is 'Airflow run id (scheduled__…, manual__…, asset_triggered__…).';
comment on column audit.pipeline_runs.dag_id is 'The DAG (child_stats_nightly).';
comment on column audit.pipeline_runs.run_type is 'scheduled, manual, backfill or asset_triggered (Airflow''s run type).';
comment on column audit.pipeline_runs.triggered_by is 'What started it: timetable (the schedule), asset, backfill, test (airflow dags test: make run), or manual (the UI or the REST API: make trigger; triggering_user says who). Where Airflow tells (under dags test) its own value: rest_api, ui, cli, test.';
comment on column audit.pipeline_runs.triggering_user is 'The Airflow user who started a manual run (UI or REST API, e.g. make trigger); null for scheduled runs.';
comment on column audit.pipeline_runs.params is 'The run''s parameters: feeds and periods loaded.';
comment on column audit.pipeline_runs.state is 'running, success or failed.';
comment on column audit.pipeline_runs.release_id is 'The release the run published (or kept, when nothing changed); null when it made none.';

create table if not exists audit.pipeline_events (
    event_id     bigint generated always as identity primary key,
    occurred_at  timestamptz not null default clock_timestamp(),
    dag_id       text,
    run_id       text,
    task_id      text,
    event        text not null,
    severity     text not null,
    message      text,
    notified     text
);
comment on table audit.pipeline_events is 'What went wrong (or right) in a run, as the alerts report it: failed tasks, releases withheld in part or blocked, a deadline passed without a release, runs ended.';
comment on column audit.pipeline_events.event is 'task_failed, release_blocked, values_withheld, deadline_missed, run_failed or run_succeeded.';
comment on column audit.pipeline_events.severity is 'error, warning or info.';
comment on column audit.pipeline_events.notified is 'Where the notice went (webhook, email), or why it did not; null when no channel is configured.';
create index if not exists pipeline_events_run on audit.pipeline_events (run_id, event_id);
