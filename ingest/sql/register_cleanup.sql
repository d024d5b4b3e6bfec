-- The child register's clean-up (issue 14; the provinces' data clean-up, Đề án 06): what the communes must fix
-- in their child information software. Created after the raw tables (ingest/cleanup.py), owned by the
-- warehouse's owner, so the views read raw and quarantine with the owner's rights and show only what is here.

-- Per record to fix: where it is (file and line) and what is wrong. No names, no IDs. Readable by the loader
-- role and the owner (data engineers), never by report_reader or analyst (warehouse/roles.py).
create or replace view quarantine.register_cleanup_list as
with quarantined as (

    select q.batch_id, q.file_name, q.line_number, q.reason, q.column_name,
           q.record ->> 'ma_tinh' as province_code, q.record ->> 'ma_xa' as commune_code,
           q.record ->> 'ngay_cap_nhat' as snapshot_date
    from quarantine.rejected_rows as q
    where q.feed = 'ldxh_tre_em'

)

select r.province_code, r.commune_code, r.admin_vintage, r.snapshot_date::text as snapshot_date,
       r.source_file as file_name, r.line_number, r.batch_id,
       'counted' as record_state, r.personal_id_status as problem_kind, r.personal_id_problem as problem
from raw.ldxh_tre_em as r
where r.superseded_by_batch is null and r.personal_id_status <> 'valid'
union all
select q.province_code, q.commune_code, null, q.snapshot_date, q.file_name, q.line_number, q.batch_id,
       'quarantined',
       case when q.column_name = 'ngay_sinh' then 'birth_date' else 'rejected' end,
       coalesce(q.column_name || ': ', '') || q.reason
from quarantined as q
-- a later delivery of the same province and snapshot replaced the file: its records are not to fix any more
where not exists (
    select 1 from audit.batch_coverage as later
    where later.feed = 'ldxh_tre_em' and later.province_code = q.province_code
      and later.period_key = q.snapshot_date and later.batch_id > q.batch_id);

comment on view quarantine.register_cleanup_list is 'The child register''s records to fix at the source, one row per record: counted records whose personal ID is missing, malformed or inconsistent, and quarantined records (e.g. no birth date), with the file and line. Current deliveries only. No names and no IDs. For the loader role and data engineers; report users and analysts cannot read it. Per commune: select * from quarantine.register_cleanup_list where commune_code = ''00004'' order by file_name, line_number.';
comment on column quarantine.register_cleanup_list.province_code is 'Province code as delivered (its vintage: admin_vintage, or the snapshot date''s).';
comment on column quarantine.register_cleanup_list.commune_code is 'Commune code as delivered.';
comment on column quarantine.register_cleanup_list.admin_vintage is 'Geography vintage of the codes; null for a quarantined record (its date may be the defect).';
comment on column quarantine.register_cleanup_list.snapshot_date is 'The snapshot date (ngay_cap_nhat) as delivered.';
comment on column quarantine.register_cleanup_list.file_name is 'File the record came in.';
comment on column quarantine.register_cleanup_list.line_number is 'Line of the record in the file (the header, if any, is line 1).';
comment on column quarantine.register_cleanup_list.batch_id is 'Load batch (audit.load_batches).';
comment on column quarantine.register_cleanup_list.record_state is 'counted (the child counts, the record needs fixing) or quarantined (the record was refused).';
comment on column quarantine.register_cleanup_list.problem_kind is 'missing, malformed or inconsistent (the personal ID of a counted child); birth_date or rejected (a quarantined record).';
comment on column quarantine.register_cleanup_list.problem is 'What is wrong, in plain words (never the ID or the name).';

-- Quarantined register records counted per delivery, commune and snapshot, for the data-quality mart (dbt
-- cannot read quarantine: these are counts only, no record).
create or replace view audit.register_quarantine_counts as
select q.batch_id,
       q.record ->> 'ma_tinh' as province_code,
       q.record ->> 'ma_xa' as commune_code,
       q.record ->> 'ngay_cap_nhat' as snapshot_date,
       count(*) as records_quarantined,
       count(*) filter (where q.column_name = 'ngay_sinh') as records_without_valid_birth_date
from quarantine.rejected_rows as q
where q.feed = 'ldxh_tre_em'
group by 1, 2, 3, 4;

comment on view audit.register_quarantine_counts is 'Quarantined child-register records per load batch, province, commune and snapshot date as delivered (counts only; the records stay in quarantine). Read by the data-quality mart marts.fct_register_data_quality.';
comment on column audit.register_quarantine_counts.batch_id is 'Load batch (audit.load_batches).';
comment on column audit.register_quarantine_counts.province_code is 'Province code as delivered.';
comment on column audit.register_quarantine_counts.commune_code is 'Commune code as delivered.';
comment on column audit.register_quarantine_counts.snapshot_date is 'Snapshot date (ngay_cap_nhat) as delivered.';
comment on column audit.register_quarantine_counts.records_quarantined is 'Records of the batch, commune and snapshot that were quarantined.';
comment on column audit.register_quarantine_counts.records_without_valid_birth_date is 'Of which refused for their birth date (missing, impossible, or 16 or older).';
