-- Sign-off (DHIS2-style approval): a statistician approves the values of one period for one province or
-- for the nation, bottom-up. An approval points at a release (immutable) and keeps a hash of the values it
-- approved; published.official_values shows approved values only, always in their approved version.
-- Approving is done through published.approve(), which only the approver role (and the owner) may call.
create table if not exists published.approvals (
    approval_id    bigserial primary key,
    period         text not null,
    admin_level    text not null check (admin_level in ('national', 'province')),
    admin_code     text not null,
    admin_name     text,
    release_id     text not null references published.releases (release_id),
    approved_by    text not null check (btrim(approved_by) <> ''),
    approved_at    timestamptz not null default clock_timestamp(),
    note           text,
    values_hash    bytea not null,
    value_count    bigint not null,
    forced         boolean not null default false,
    warnings       text[] not null default '{}',
    approved_as    text not null default session_user
);
comment on table published.approvals is 'Every sign-off of a period for a province or the nation, kept as history: the latest per (period, admin_code) is in force; approving again supersedes it.';
comment on column published.approvals.approval_id is 'Approval id.';
comment on column published.approvals.period is 'Period approved (2025, 2025-H1, 2025-R6, ...).';
comment on column published.approvals.admin_level is 'national or province.';
comment on column published.approvals.admin_code is 'VN for the nation, else the current province code; a province approval covers its communes.';
comment on column published.approvals.admin_name is 'Name of the unit.';
comment on column published.approvals.release_id is 'The release whose values were approved (they stay official until approved again).';
comment on column published.approvals.approved_by is 'The statistician who approved, as given.';
comment on column published.approvals.approved_at is 'When.';
comment on column published.approvals.note is 'The statistician''s note.';
comment on column published.approvals.values_hash is 'SHA-256 of the approved values (published.approval_scope_hash): shows whether a later release changed them.';
comment on column published.approvals.value_count is 'Number of values approved.';
comment on column published.approvals.forced is 'Approved despite the warnings listed (FORCE=1): incomplete deliveries or withheld values.';
comment on column published.approvals.warnings is 'What was incomplete or withheld when approving.';
comment on column published.approvals.approved_as is 'Database role that called published.approve().';
create index if not exists approvals_unit on published.approvals (period, admin_code, approval_id desc);

do $$
begin
    if not exists (select 1 from pg_trigger where tgname = 'approvals_immutable') then
        create trigger approvals_immutable before update or delete on published.approvals
            for each statement execute function published.refuse_change();
    end if;
end;
$$;

-- The values an approval of (period, unit) covers in a release: the national values, or a province's
-- values and its communes'.
create or replace function published.approval_scope(p_release text, p_period text, p_admin_code text)
returns setof published.release_values
language sql stable
set search_path = pg_catalog, published
as $$
    select v.*
      from published.release_values as v
     where v.release_id = p_release
       and v.period = p_period
       and case when p_admin_code = 'VN' then v.admin_level = 'national'
                else v.admin_level in ('province', 'commune') and v.province_code = p_admin_code end
$$;
comment on function published.approval_scope(text, text, text) is 'The values of a release that an approval of (period, VN or province code) covers.';

create or replace function published.approval_scope_hash(p_release text, p_period text, p_admin_code text,
                                                         out values_hash bytea, out value_count bigint)
language sql stable
set search_path = pg_catalog, published
as $$
    select sha256(convert_to(coalesce(string_agg(
               concat_ws('|', indicator_id, period, admin_level, admin_code, sex, age_group, ethnicity, category,
                         numerator::text, denominator::text, value::text, unit, suppression, withheld),
               E'\n' order by indicator_id, admin_level, admin_code, sex, age_group, ethnicity, category), ''),
               'UTF8')),
           count(*)
      from published.approval_scope(p_release, p_period, p_admin_code)
$$;
comment on function published.approval_scope_hash(text, text, text) is 'SHA-256 and number of the values an approval covers; equal hashes mean unchanged values.';

create or replace view published.current_approvals as
select distinct on (period, admin_code) *
  from published.approvals
 order by period, admin_code, approval_id desc;
comment on view published.current_approvals is 'The approval in force for each period and unit (the latest); earlier ones stay in published.approvals.';

-- Approve one period for one province (p_province) or, with p_province null or 'VN', for the nation.
-- Refuses: an unknown period or unit in the release; the nation while a province of the period is not
-- approved or its values changed since; incomplete deliveries or withheld values unless p_force.
create or replace function published.approve(p_period text, p_province text, p_approved_by text,
                                             p_note text default null, p_force boolean default false,
                                             p_release text default null)
returns setof published.approvals
language plpgsql
security definer
set search_path = pg_catalog, published
as $$
declare
    v_release   text := coalesce(p_release, (select release_id from published.latest_release));
    v_code      text := coalesce(nullif(btrim(p_province), ''), 'VN');
    v_level     text := case when coalesce(nullif(btrim(p_province), ''), 'VN') = 'VN' then 'national' else 'province' end;
    v_hash      bytea;
    v_count     bigint;
    v_name      text;
    v_period    published.release_periods;
    v_warnings  text[] := '{}';
    v_waiting   text[];
    v_current   published.approvals;
    v_withheld  bigint;
begin
    if coalesce(btrim(p_approved_by), '') = '' then
        raise exception 'approval needs the name of who approves (BY="...")';
    end if;
    if v_release is null then
        raise exception 'nothing to approve: no release has been published yet';
    end if;
    perform pg_advisory_xact_lock(hashtext('child-stats-approval'));
    select * into v_period from published.release_periods where release_id = v_release and period = p_period;
    select h.values_hash, h.value_count into v_hash, v_count
      from published.approval_scope_hash(v_release, p_period, v_code) as h;
    if v_count = 0 then
        raise exception 'release % has no % values for period %', v_release,
            case when v_level = 'national' then 'national' else 'province ' || v_code end, p_period
            using hint = 'Periods of the release: select period from published.release_periods where release_id = '''
                         || v_release || '''';
    end if;
    select admin_name into v_name from published.release_values
     where release_id = v_release and period = p_period and admin_level = v_level and admin_code = v_code limit 1;

    -- Already approved with these very values: nothing to do.
    select * into v_current from published.current_approvals where period = p_period and admin_code = v_code;
    if found and v_current.values_hash = v_hash then
        raise notice 'period % of % is already approved with these values (approval %, release %)',
            p_period, coalesce(v_name, v_code), v_current.approval_id, v_current.release_id;
        return next v_current;
        return;
    end if;

    -- Bottom-up: every province of the period first, with the values of this release.
    if v_level = 'national' then
        select array_agg(format('%s %s (%s)', p.admin_code, p.admin_name,
                                case when a.approval_id is null then 'not approved'
                                     else 'values changed since approval ' || a.approval_id || ' of release ' || a.release_id end)
                         order by p.admin_code)
          into v_waiting
          from (select distinct admin_code, admin_name from published.release_values
                 where release_id = v_release and period = p_period and admin_level = 'province') as p
          left join published.current_approvals as a on a.period = p_period and a.admin_code = p.admin_code
         where a.approval_id is null
            or a.values_hash <> (select h.values_hash from published.approval_scope_hash(v_release, p_period, p.admin_code) as h);
        if v_waiting is not null then
            raise exception 'the nation''s % values cannot be approved before its provinces: % province(s) waiting',
                p_period, cardinality(v_waiting)
                using detail = array_to_string(v_waiting, E'\n'),
                      hint = 'Approve each province first, or use ALL=1 to approve every province and then the nation.';
        end if;
    end if;

    -- Completeness: every feed that some province delivered for a half-year of the period, from every
    -- province of the scope (for the nation, every province of the country).
    select coalesce(array_agg(format('%s %s: no delivery of %s for %s', missing.province_code, missing.province_name,
                                     missing.feeds, missing.half_year) order by missing.half_year, missing.province_code), '{}')
      into v_warnings
      from (select d.half_year, d.province_code, coalesce(d.province_name, '') as province_name,
                   string_agg(d.feed, ', ' order by d.feed) as feeds
              from published.release_deliveries as d
             where d.release_id = v_release
               and d.rows = 0
               and d.data_window && v_period.data_window
               and (v_level = 'national' or d.current_province_code = v_code)
             group by 1, 2, 3) as missing;
    select count(*) into v_withheld from published.approval_scope(v_release, p_period, v_code) where withheld is not null;
    if v_withheld > 0 then
        v_warnings := v_warnings || format('%s value(s) withheld by failed quality checks', v_withheld);
    end if;
    if cardinality(v_warnings) > 0 and not p_force then
        raise exception '% of % is not complete: % warning(s); approve anyway with FORCE=1',
            p_period, coalesce(v_name, v_code), cardinality(v_warnings)
            using detail = array_to_string(v_warnings[1:50], E'\n')
                           || case when cardinality(v_warnings) > 50
                                   then format(E'\n... and %s more', cardinality(v_warnings) - 50) else '' end;
    end if;

    return query
    insert into published.approvals (period, admin_level, admin_code, admin_name, release_id, approved_by, note,
                                     values_hash, value_count, forced, warnings)
    values (p_period, v_level, v_code, v_name, v_release, btrim(p_approved_by), p_note, v_hash, v_count,
            cardinality(v_warnings) > 0, v_warnings)
    returning *;
end;
$$;
comment on function published.approve(text, text, text, text, boolean, text) is 'Approve a period for a province (its code) or the nation (null or VN): make approve PERIOD=... PROVINCE=... BY=... NOTE=... [FORCE=1]. Only the approver role and the owner may call it.';
revoke all on function published.approve(text, text, text, text, boolean, text) from public;
