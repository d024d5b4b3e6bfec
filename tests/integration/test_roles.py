"""Database roles over real TCP connections with their passwords (warehouse/roles.py): what each role can
and cannot read or write, the transformer owning what dbt builds (and taking over dbt schemas the superuser
owned), default privileges for tables created after the grants (as dbt rebuilds them), wrong passwords,
configuration, idempotence, and roles shared by two databases of one server."""

from __future__ import annotations

import json
import stat
import threading
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
from psycopg import sql
from psycopg.errors import InsufficientPrivilege

from warehouse import roles
from warehouse.roles import ensure_roles, role_name, role_url

pytestmark = pytest.mark.integration

HEADER = "Mã sự kiện,Ngày sinh,Giới tính,Sinh sống,Cân nặng (g),Mã tỉnh,Mã xã,Mã dân tộc mẹ,Nơi sinh\n"

# What dbt, a load and a release would leave, made by the owner after bootstrap (as dbt's first build is).
STAND_INS = """
create schema marts;
create table marts.fct_stand_in as select 1 as value;
create schema intermediate;
create table intermediate.int_children as select 'a-pseudonym'::text as child_pseudonym;
create schema reference;
create table reference.admin_units_stand_in as select '01'::text as province_code;
create schema staging;
create view staging.stg_births as select * from raw.y_te_sinh;
insert into audit.load_batches (feed, file_name, file_path, file_sha256, file_bytes, status)
values ('y_te_sinh', 'f.csv', '/landing/f.csv', 'x', 1, 'running');
insert into quarantine.rejected_rows (batch_id, feed, file_name, line_number, reason, errors, record)
values (1, 'y_te_sinh', 'f.csv', 2, 'bad', '[]', '{"Họ tên": "a name"}');
insert into published.releases (release_id, periods, row_count, row_counts, quality_results, source_batches,
                                release_seq)
values ('20250101-01', '{2024}', 1, '{}', '{}', '{}', 1);
insert into published.release_indicators (release_id, indicator_id, name_vi, name_en, kind, unit)
values ('20250101-01', 'live_births', 'Số trẻ đẻ ra sống', 'Live births', 'count', 'births');
insert into published.value_versions (indicator_id, period, period_type, admin_level, admin_code,
    sex, age_group, ethnicity, category, numerator, value, unit, first_release_seq)
values ('live_births', '2024', 'year', 'national', 'VN', 'total', 'total', 'total', 'total',
        1234, 1234, 'births', 1);
"""

# Everything that holds rows: the roles that may read each, the rest are refused.
PUBLISHED_READERS = {"report_reader", "analyst", "approver", "transformer"}
READABLE_BY = {
    "published.releases": PUBLISHED_READERS,
    "published.release_values": PUBLISHED_READERS,
    "published.value_versions": PUBLISHED_READERS,
    "published.release_indicators": PUBLISHED_READERS,
    "published.latest_release": PUBLISHED_READERS,
    "published.indicator_values": PUBLISHED_READERS,
    "published.indicators": PUBLISHED_READERS,
    "published.official_values": PUBLISHED_READERS,
    "published.pending_revisions": PUBLISHED_READERS,
    "published.approvals": PUBLISHED_READERS,
    "marts.fct_stand_in": {"analyst", "transformer"},
    "reference.admin_units_stand_in": {"analyst", "transformer"},
    "audit.load_batches": {"analyst", "loader", "transformer"},
    "audit.batch_coverage": {"analyst", "loader", "transformer"},
    "audit.quality_runs": {"analyst", "transformer"},
    "audit.quality_results": {"analyst", "transformer"},
    "audit.pipeline_runs": {"analyst", "transformer"},
    "raw.y_te_sinh": {"loader", "transformer"},
    "raw.y_te_tu_vong": {"loader", "transformer"},
    "quarantine.rejected_rows": set(),
    # issue 14: the records the communes must fix (file, line, problem; no names or IDs): the loads' role only
    "quarantine.register_cleanup_list": {"loader"},
    "audit.register_quarantine_counts": {"analyst", "transformer"},
    "published.register_data_quality": PUBLISHED_READERS,
    "published.quality_scorecard": PUBLISHED_READERS,
    "published.indicator_outliers": PUBLISHED_READERS,
    "published.quality_scorecard_feeds": PUBLISHED_READERS,
    # the copy behind it holds suppressed commune values: never report users
    "audit.indicator_outliers_base": {"analyst", "transformer"},
    "intermediate.int_children": {"transformer"},
    "staging.stg_births": {"transformer"},
}


def connect_as(url: str, role: str, **kwargs) -> psycopg.Connection:
    """A TCP connection (the URL's host and port) as the role, with its configured password."""
    conn = psycopg.connect(role_url(role, url), autocommit=True, **kwargs)
    assert conn.execute("select current_user, inet_client_addr() is not null").fetchone() == (role_name(role), True)
    return conn


def refused(conn: psycopg.Connection, statement: str) -> None:
    with pytest.raises(InsufficientPrivilege):
        conn.execute(statement)


def with_database(url: str, database: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + database))


@pytest.fixture
def warehouse(fresh_warehouse) -> str:
    """A bootstrapped warehouse with stand-ins for dbt's schemas, a load and a release, made by the superuser
    (as dbt did before the transformer role) and handed to the transformer by a second bootstrap."""
    from ingest.schema import ingest_ddl
    from warehouse.schema import bootstrap

    ddl = ingest_ddl()
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        conn.execute(STAND_INS)
    assert bootstrap(extra_ddl=ddl)  # the dbt schemas appeared: the fingerprint changed
    assert not bootstrap(extra_ddl=ddl)  # and then nothing changed
    return fresh_warehouse


DBT_STAND_INS = ("marts.fct_stand_in", "intermediate.int_children", "reference.admin_units_stand_in",
                 "staging.stg_births")


def test_transformer_owns_the_dbt_schemas_and_nothing_else(warehouse):
    transformer = role_name("transformer")
    with psycopg.connect(warehouse) as owner:
        schemas = dict(owner.execute("select nspname, pg_get_userbyid(nspowner) from pg_namespace"
                                     " where nspname = any(%s)", (list(roles.WAREHOUSE_SCHEMAS),)).fetchall())
        relations = dict(owner.execute("select oid::regclass::text, pg_get_userbyid(relowner) from pg_class"
                                       " where oid::regclass::text = any(%s)", (list(DBT_STAND_INS),)).fetchall())
        attributes = owner.execute("select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication"
                                   " from pg_roles where rolname = %s", (transformer,)).fetchone()
    assert {schema: who for schema, who in schemas.items() if who == transformer} == {
        schema: transformer for schema in roles.DBT_SCHEMAS}
    assert relations == {relation: transformer for relation in DBT_STAND_INS}
    assert attributes == (False, False, False, False, False)
    with connect_as(warehouse, "transformer") as conn:
        refused(conn, f"create role intruder_{uuid.uuid4().hex[:6]} login")
        refused(conn, "alter role current_user superuser")
        refused(conn, "select * from quarantine.rejected_rows")
        refused(conn, "select rolpassword from pg_authid")
        refused(conn, "create table raw.intruder (x int)")
        refused(conn, "create table audit.intruder (x int)")
        refused(conn, "create table published.intruder (x int)")
        refused(conn, "delete from audit.load_batches")
        refused(conn, "update published.approvals set note = 'x'")
        refused(conn, "insert into raw.y_te_sinh (batch_id) values (1)")
        refused(conn, "drop table audit.load_batches")
        # what it builds: dbt's schemas and tables, temporary tables; what it writes: the quality results,
        # the run record and releases
        conn.execute("create table marts.built_by_dbt as select 1 as value")
        conn.execute("create schema dbt_scratch")
        conn.execute("create temporary table candidates (x int)")
        conn.execute("insert into audit.quality_runs (run_id, suite, started_at, finished_at, success,"
                     " error_failures, warning_failures) values ('r', 's', now(), now(), true, 0, 0)")
        conn.execute("insert into audit.pipeline_events (event, severity) values ('run_succeeded', 'info')")
        conn.execute("insert into published.releases (release_id, periods, row_count, row_counts, quality_results,"
                     " source_batches, release_seq) values ('20250102-01', '{}', 0, '{}', '{}', '{}', 2)")
        refused(conn, "update published.value_versions set value = 0")  # may close a version, not rewrite it
        conn.execute("update published.value_versions set last_release_seq = 1 where last_release_seq is null")
        conn.execute("insert into published.value_versions (indicator_id, period, period_type, admin_level,"
                     " admin_code, sex, age_group, ethnicity, category, numerator, value, unit, first_release_seq)"
                     " values ('live_births', '2024', 'year', 'national', 'VN', 'total', 'total', 'total', 'total',"
                     " 1234, 1234, 'births', 2)")
        conn.execute("delete from published.targets")
    with connect_as(warehouse, "analyst") as analyst:  # the transformer's new tables are the analyst's to read
        assert analyst.execute("select value from marts.built_by_dbt").fetchall() == [(1,)]


@pytest.mark.parametrize("role", ["report_reader", "analyst", "approver", "loader", "transformer"])
def test_each_role_reads_what_it_may_and_is_refused_the_rest(warehouse, role):
    with connect_as(warehouse, role) as conn:
        for relation, readers in READABLE_BY.items():
            if role in readers:
                conn.execute(f"select * from {relation} limit 1").fetchall()
            else:
                refused(conn, f"select * from {relation} limit 1")
        if role != "loader":
            assert conn.execute("select indicator_id, value from published.indicator_values").fetchall() == [
                ("live_births", 1234)]
        # Nobody but the owner (and the transformer in its dbt schemas) creates objects, and readers write
        # nothing.
        for schema in ("public", "published", "marts", "raw", "audit"):
            if not (role == "transformer" and schema == "marts"):
                refused(conn, f"create table {schema}.intruder (x int)")
        if role != "transformer":
            refused(conn, "create temporary table scratch (x int)")  # TEMPORARY revoked from PUBLIC
            refused(conn, "insert into published.releases (release_id, periods, row_count, row_counts,"
                          " quality_results, source_batches) values ('x', '{}', 0, '{}', '{}', '{}')")
        refused(conn, "delete from audit.load_batches")
        # Approving is the approver's alone, and only through published.approve()
        refused(conn, "insert into published.approvals (period, admin_level, admin_code, release_id, approved_by,"
                      " values_hash, value_count) values ('2024', 'national', 'VN', '20250101-01', 'x', 'x', 1)")
        if role != "approver":
            refused(conn, "select * from published.approve('2024', null, 'someone')")
        if role == "analyst":
            refused(conn, "insert into marts.fct_stand_in values (2)")


def deliver(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_loader_role_loads_files_into_raw_and_quarantine_and_supersedes(warehouse, tmp_path):
    from ingest.feeds import FEEDS
    from ingest.loader import load_file

    spec = FEEDS["y_te_sinh"]
    first = deliver(tmp_path, "v1.csv", "E1,01/02/2024,Nam,C,3100,01,00001,01,CSYT\n"
                                        "E2,31/02/2024,Nữ,C,,01,00001,01,CSYT\n")
    correction = deliver(tmp_path, "v2.csv", "E1,01/02/2024,Nữ,C,3100,01,00001,01,CSYT\n")
    with connect_as(warehouse, "loader") as conn:
        results = [load_file(conn, spec, path, run_id="as-loader") for path in (first, correction)]
        assert [(r.status, r.rows_loaded, r.rows_quarantined) for r in results] == [("loaded", 1, 1), ("loaded", 1, 0)]
        assert results[1].rows_superseded == 1  # the UPDATE of raw rows the loader is granted
        refused(conn, "select * from quarantine.rejected_rows")  # writes rejects, never reads them back
        # DELETE on raw moves a load's rows outside its delivery's period to quarantine (its UPDATE could already
        # retire any row); TRUNCATE stays refused.
        refused(conn, "truncate raw.y_te_sinh")
    with psycopg.connect(warehouse) as owner:
        assert owner.execute("select source_file, superseded_by_batch is not null from raw.y_te_sinh"
                             " order by source_file").fetchall() == [("v1.csv", True), ("v2.csv", False)]
        rejects = owner.execute("select count(*) from quarantine.rejected_rows where file_name = 'v1.csv'")
        assert rejects.fetchone() == (1,)


def test_tables_the_owner_creates_later_are_covered_without_granting_again(warehouse):
    # As dbt (the transformer) rebuilds a model (a new table renamed over the old one) and adds others; a
    # new feed's raw table and new tables of the owner's schemas.
    with connect_as(warehouse, "transformer") as dbt:
        dbt.execute("""
            create table marts.fct_stand_in__dbt_tmp as select 2 as value;
            drop table marts.fct_stand_in;
            alter table marts.fct_stand_in__dbt_tmp rename to fct_stand_in;
            create table marts.fct_new as select 3 as value;
            drop table reference.admin_units_stand_in;
            create table reference.admin_units_stand_in as select '15'::text as province_code;
            create table intermediate.int_new as select 'p'::text as child_pseudonym;
        """)
    with psycopg.connect(warehouse, autocommit=True) as owner:
        owner.execute("""
            create table published.new_table as select 4 as value;
            create table raw.new_feed (batch_id bigint, value text);
            create table audit.new_audit as select 5 as value;
        """)
    with connect_as(warehouse, "analyst") as analyst:
        assert analyst.execute("select value from marts.fct_stand_in").fetchall() == [(2,)]
        assert analyst.execute("select value from marts.fct_new").fetchall() == [(3,)]
        assert analyst.execute("select province_code from reference.admin_units_stand_in").fetchall() == [("15",)]
        assert analyst.execute("select value from published.new_table").fetchall() == [(4,)]
        assert analyst.execute("select value from audit.new_audit").fetchall() == [(5,)]
        refused(analyst, "select * from intermediate.int_new")
        refused(analyst, "select * from raw.new_feed")
    with connect_as(warehouse, "report_reader") as reader:
        assert reader.execute("select value from published.new_table").fetchall() == [(4,)]
        refused(reader, "select * from marts.fct_new")
        refused(reader, "select * from audit.new_audit")
    with connect_as(warehouse, "loader") as loader:
        loader.execute("insert into raw.new_feed values (1, 'x')")
        assert loader.execute("select count(*) from raw.new_feed").fetchone() == (1,)
        refused(loader, "select * from marts.fct_new")
        refused(loader, "select * from published.new_table")


def _server_checks_passwords_over_tcp(url: str) -> bool:
    with psycopg.connect(url) as owner:
        try:
            methods = {row[0] for row in owner.execute(
                "select auth_method from pg_hba_file_rules where type like 'host%'").fetchall()}
        except InsufficientPrivilege:
            return True  # cannot tell: assume a managed server that does
    return "trust" not in methods


def test_wrong_passwords_are_refused(warehouse):
    if not _server_checks_passwords_over_tcp(warehouse):
        pytest.skip("this server trusts TCP logins (pg_hba.conf): passwords are not checked")
    parsed = urlparse(warehouse)
    for role in roles.ROLES:
        another_role = "analyst" if role == "report_reader" else "report_reader"
        for password in ("wrong-password", roles.role_password(another_role)):
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                psycopg.connect(host=parsed.hostname, port=parsed.port, dbname=parsed.path.lstrip("/"),
                                user=role_name(role), password=password, connect_timeout=5)


def _acl_snapshot(conn: psycopg.Connection) -> list:
    return conn.execute("""
        select 'db', datname, datacl::text from pg_database where datname = current_database()
        union all
        select 'schema', nspname, nspacl::text from pg_namespace where nspname !~ '^pg_'
        union all
        select 'table', oid::regclass::text, relacl::text from pg_class
         where relnamespace::regnamespace::text in ('raw', 'audit', 'quarantine', 'published', 'marts',
                                                    'reference', 'intermediate', 'staging')
        union all
        select 'default', defaclnamespace::regnamespace::text || '/' || defaclobjtype::text, defaclacl::text
          from pg_default_acl
        order by 1, 2""").fetchall()


def test_ensure_roles_is_idempotent_and_roles_serve_two_databases(warehouse, server_url, monkeypatch):
    from ingest.schema import setup_warehouse as bootstrap

    with psycopg.connect(warehouse, autocommit=True) as owner:
        before = _acl_snapshot(owner)
        verifiers = owner.execute("select rolname, rolpassword from pg_authid where rolname = any(%s) order by 1",
                                  ([role_name(r) for r in roles.ROLES],)).fetchall()
        ensure_roles(owner)
        ensure_roles(owner)
        assert _acl_snapshot(owner) == before
        # The configured passwords already match: the shared roles are not altered again.
        assert owner.execute("select rolname, rolpassword from pg_authid where rolname = any(%s) order by 1",
                             ([role_name(r) for r in roles.ROLES],)).fetchall() == verifiers

    second = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{second}"')
    try:
        second_url = with_database(server_url, second)
        monkeypatch.setenv("WAREHOUSE_URL", second_url)
        bootstrap()
        for url in (warehouse, second_url):  # the first database keeps working after the second's bootstrap
            with connect_as(url, "report_reader") as reader:
                reader.execute("select * from published.indicator_values").fetchall()
                refused(reader, "select * from raw.y_te_sinh")
            with connect_as(url, "analyst") as analyst:
                analyst.execute("select * from audit.load_batches").fetchall()
        # Grants are per database: marts exists (and is granted) in the first one only.
        with connect_as(warehouse, "analyst") as analyst:
            analyst.execute("select * from marts.fct_stand_in").fetchall()
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{second}" with (force)')


def test_names_and_passwords_come_from_configuration(fresh_warehouse, server_url, tmp_path, monkeypatch, caplog):
    """Prefixed roles (so the shared ones are untouched): the reader's password from the environment, the
    analyst's from a secret file, the approver's, loader's and transformer's generated in the local file (mode
    600). Created at the same moment from two databases; a changed password is applied; passwords are never
    logged."""
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    monkeypatch.setenv("WAREHOUSE_ROLE_PREFIX", prefix)
    monkeypatch.setenv("WAREHOUSE_REPORT_READER_PASSWORD", "reader-from-env-" + uuid.uuid4().hex)
    secret = tmp_path / "analyst.secret"
    secret.write_text("analyst-from-file-" + uuid.uuid4().hex + "\n")
    monkeypatch.setenv("WAREHOUSE_ANALYST_PASSWORD_FILE", str(secret))
    for variable in ("WAREHOUSE_ANALYST_PASSWORD", "WAREHOUSE_LOADER_PASSWORD", "WAREHOUSE_LOADER_PASSWORD_FILE",
                     "WAREHOUSE_APPROVER_PASSWORD", "WAREHOUSE_APPROVER_PASSWORD_FILE",
                     "WAREHOUSE_TRANSFORMER_PASSWORD", "WAREHOUSE_TRANSFORMER_PASSWORD_FILE"):
        monkeypatch.delenv(variable, raising=False)
    local_file = tmp_path / "warehouse" / "role-passwords.json"
    monkeypatch.setattr(roles, "LOCAL_PASSWORD_FILE", local_file)
    names = [prefix + role for role in roles.ROLES]
    second = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{second}"')
    databases = [fresh_warehouse, with_database(server_url, second)]
    caplog.set_level("DEBUG")
    try:
        failures = []

        def grant(url):
            try:
                with psycopg.connect(url, autocommit=True) as owner:
                    ensure_roles(owner)
            except Exception as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=grant, args=(url,)) for url in databases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures

        assert stat.S_IMODE(local_file.stat().st_mode) == 0o600
        assert set(json.loads(local_file.read_text())) == {prefix + "approver", prefix + "loader",
                                                         prefix + "transformer"}
        for url in databases:
            for role in roles.ROLES:
                with connect_as(url, role):
                    pass
        with connect_as(fresh_warehouse, "report_reader") as reader:
            reader.execute("select * from published.releases").fetchall()
            refused(reader, "select * from audit.load_batches")

        old = roles.role_password("report_reader")
        monkeypatch.setenv("WAREHOUSE_REPORT_READER_PASSWORD", "rotated-" + uuid.uuid4().hex)
        with psycopg.connect(fresh_warehouse, autocommit=True) as owner:
            ensure_roles(owner)
        connect_as(fresh_warehouse, "report_reader").close()
        parsed = urlparse(fresh_warehouse)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(host=parsed.hostname, port=parsed.port, dbname=parsed.path.lstrip("/"),
                            user=prefix + "report_reader", password=old, connect_timeout=5)

        logged = caplog.text
        assert "created role " + prefix + "report_reader" in logged
        for role in roles.ROLES:
            assert roles.role_password(role) not in logged
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{second}" with (force)')
        with psycopg.connect(fresh_warehouse, autocommit=True) as owner:  # roles outlive databases: drop them
            for (name,) in owner.execute("select rolname from pg_roles where rolname = any(%s)", (names,)).fetchall():
                owner.execute(sql.SQL("drop owned by {name}; drop role {name}").format(name=sql.Identifier(name)))


def test_url_command_prints_a_url_for_the_role(fresh_warehouse, capsys):
    from warehouse.__main__ import main

    assert main(["url", "--role", "analyst"]) == 0
    url = capsys.readouterr().out.strip()
    assert urlparse(url).username == role_name("analyst") and urlparse(url).path == urlparse(fresh_warehouse).path
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_user").fetchone() == (role_name("analyst"),)
    assert main(["url"]) == 0
    assert capsys.readouterr().out.strip() == fresh_warehouse
