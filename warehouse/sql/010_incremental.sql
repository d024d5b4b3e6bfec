-- Incremental nights (pipeline/incremental.py): what each successful dbt build was built from, so that the
-- next night rebuilds only what changed since, checks only what changed, and keeps the release when nothing did.
create table if not exists audit.build_state (
    build_id           bigserial primary key,
    run_id             text not null,
    step               text not null check (step in ('seed', 'build')),
    built_at           timestamptz not null default clock_timestamp(),
    code_fingerprint   text not null,
    feed_fingerprints  jsonb not null,
    mode               text not null check (mode in ('full', 'incremental', 'none')),
    changed_feeds      text[] not null default '{}',
    selection          text,
    reason             text not null,
    seconds            numeric
);
comment on table audit.build_state is 'One row per successful dbt seed or dbt build of a night: the inputs it was built from (code and reference data, and the active rows of every feed), so the next night rebuilds only the models downstream of the feeds that changed.';
comment on column audit.build_state.build_id is 'Build id, in the order the builds ended.';
comment on column audit.build_state.run_id is 'The pipeline run (Airflow run id) of the build.';
comment on column audit.build_state.step is 'seed (the reference data: dbt seed) or build (models and tests: dbt build).';
comment on column audit.build_state.built_at is 'When the build ended.';
comment on column audit.build_state.code_fingerprint is 'SHA-256 of the dbt project (models, macros, seeds, tests, dbt_project.yml), the dbt version and the calendar half-year the date-dependent models see; a change rebuilds everything.';
comment on column audit.build_state.feed_fingerprints is 'Per feed, an MD5 of its active load cells (audit.batch_coverage: batch, province, vintage, period, rows, superseded or held); a feed whose fingerprint changed has its downstream models rebuilt.';
comment on column audit.build_state.mode is 'full (everything: first build, code or reference data changed, or FULL_REFRESH), incremental (the models downstream of the changed feeds and the every-night models) or none (nothing delivered changed: only the every-night models).';
comment on column audit.build_state.changed_feeds is 'The feeds whose active rows changed since the previous build.';
comment on column audit.build_state.selection is 'The dbt selection the build ran (null: everything).';
comment on column audit.build_state.reason is 'Why the build took this mode, in plain words.';
comment on column audit.build_state.seconds is 'Wall time of the dbt command.';
create index if not exists build_state_step on audit.build_state (step, build_id desc);

-- A check whose inputs did not change keeps its result: the suite run is carried to the new run, not re-run.
alter table audit.quality_runs add column if not exists input_fingerprint text;
alter table audit.quality_runs add column if not exists carried_from bigint;
comment on column audit.quality_runs.input_fingerprint is 'SHA-256 of what the suite checked (the suite definition, the quality code, and the fingerprints of the feeds or the build it reads); a later run with the same inputs carries this result instead of running again.';
comment on column audit.quality_runs.carried_from is 'For a suite run carried to a later pipeline run because its inputs did not change: the quality run whose results these are (its results are copied).';

-- Which inputs each release stands for: the one it was made from, and those of later nights whose candidates
-- compared equal to it (the release stayed). A night with inputs listed for the latest release keeps it at once.
create table if not exists audit.release_inputs (
    release_id          text not null references published.releases (release_id),
    inputs_fingerprint  text not null,
    run_id              text not null,
    recorded_at         timestamptz not null default clock_timestamp(),
    primary key (release_id, inputs_fingerprint)
);
comment on table audit.release_inputs is 'Which night inputs each release stands for (publish.release.inputs_fingerprint): the build and quality results it was made from, and those of later nights whose values compared equal to it. A night whose inputs are listed for the latest release keeps it without recomputing it.';
comment on column audit.release_inputs.release_id is 'The release (published.releases).';
comment on column audit.release_inputs.inputs_fingerprint is 'SHA-256 of the latest build''s inputs (audit.build_state), the gate''s quality results and the publishing code.';
comment on column audit.release_inputs.run_id is 'The pipeline run that made or kept the release with these inputs.';
comment on column audit.release_inputs.recorded_at is 'When it was recorded.';

-- A quiet night must not read every stored file again: a file whose path and stat signature (device, inode,
-- size, modification and change times) match a batch already seen has that batch's SHA-256 (ingest.loader).
alter table audit.load_batches add column if not exists file_stat text;
comment on column audit.load_batches.file_stat is 'The file''s stat signature when it was read (device:inode:size:mtime_ns:ctime_ns). A later night that finds the same path with the same signature takes this batch''s SHA-256 instead of reading the file again: any write to the file changes its change time (ctime), which no one can set back.';
create index if not exists load_batches_file_stat on audit.load_batches (feed, file_path, file_stat) where file_stat is not null;

-- A raw suite re-checks only the (province, period) cells whose loads changed since its previous run
-- (quality/cells.py): it records the state of every cell it stands for, and the cells it actually checked.
alter table audit.quality_runs add column if not exists input_cells jsonb;
alter table audit.quality_runs add column if not exists cells_context text;
alter table audit.quality_runs add column if not exists checked_cells jsonb;
comment on column audit.quality_runs.input_cells is 'Raw suites: per "province|period" cell of the feed, an MD5 of its loads (audit.batch_coverage) when the suite ran; the next run re-checks only the cells whose MD5 differs.';
comment on column audit.quality_runs.cells_context is 'Raw suites: SHA-256 of everything else the suite depends on (suites, quality code, reference data); a run on changed cells only builds on an earlier run with the same context.';
comment on column audit.quality_runs.checked_cells is 'The "province|period" cells this run checked when it checked only the changed ones (the other cells kept the failures of the run it built on); null when it checked the whole table.';

-- The state of a feed's (province, period) cells, in every vintage of the province code: one MD5 per cell of
-- its loads as they count now. One definition for the raw checks (quality/cells.py), the build plan
-- (pipeline/incremental.py, audit.build_state.feed_cells) and the models rebuilt per province (dbt macro
-- changed_current_provinces).
create or replace function audit.feed_cells(p_feed text)
returns table (cell text, province_code text, period_key text, state text)
language sql stable as $$
    select c.province_code || '|' || c.period_key, c.province_code, c.period_key,
           md5(string_agg(concat_ws(':', c.batch_id, c.admin_vintage, c.rows, c.superseded_by_batch,
                                    c.awaiting_confirmation), ',' order by c.batch_id, c.admin_vintage))
      from audit.batch_coverage as c
     where c.feed = p_feed
     group by c.province_code, c.period_key
$$;
comment on function audit.feed_cells(text) is 'Per (province, period) cell of a feed (province codes of every vintage): an MD5 of its loads as they count now (batch, vintage, rows, superseded or held). A cell whose MD5 differs from the one a check or a build recorded has changed since.';

alter table audit.build_state add column if not exists feed_cells jsonb;
comment on column audit.build_state.feed_cells is 'Per feed, the state of each (province, period) cell the build was made from (audit.feed_cells): the next build rebuilds the models kept per province only for the provinces whose cells changed (dbt macro changed_current_provinces).';
