-- What the bootstrap last applied (warehouse/schema.py): a fingerprint per part of the DDL. When every part
-- matches, the bootstrap reads this one row and does nothing else, so it never locks a table in use.
create table if not exists audit.bootstrap_state (
    singleton    boolean primary key default true check (singleton),
    fingerprint  jsonb not null,
    applied_at   timestamptz not null default clock_timestamp(),
    applied_by   text not null default current_user
);
comment on table audit.bootstrap_state is 'The fingerprint (SHA-256 per part: warehouse/sql scripts, raw tables of the feeds, roles and grants, dbt schemas and their owners) of the DDL the last bootstrap applied; an unchanged warehouse is not touched again.';
