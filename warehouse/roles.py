"""Database roles with least privilege, created and granted by `warehouse.schema.bootstrap`.

- `report_reader` (BI tools, report users): reads `published` (tables and views), nothing else;
- `analyst` (statisticians, data engineers): reads `marts`, `published`, `reference` and `audit`;
- `approver` (statisticians who sign values off): reads `published` and may call `published.approve()`,
  the only way to write an approval (a SECURITY DEFINER function; EXECUTE is revoked from PUBLIC);
- `loader` (the loads: the DAG's ingest tasks connect as it): inserts, reads and updates `raw` (the
  update marks superseded rows), inserts into `quarantine.rejected_rows`, reads the register's clean-up list
  (`quarantine.register_cleanup_list`: file, line and problem, no names or IDs), writes `audit.load_batches` and
  `audit.batch_coverage` (and uses their id sequences);
- `transformer` (dbt, the Great Expectations checks and publishing: the DAG's other tasks connect as it):
  owns the dbt schemas `staging`, `intermediate`, `marts`, `reference` and everything dbt builds there (it
  may create schemas in the database, which dbt does on a fresh warehouse, and temporary tables); reads
  `raw`, `audit` and `published`; writes the quality results (`audit.quality_runs`, `audit.quality_results`),
  the build record of incremental nights (`audit.build_state`, `audit.release_inputs`),
  the run record (`audit.pipeline_runs`, `audit.pipeline_events`) and the releases (inserts into the release
  tables, replaces `published.targets`, `admin_units`, `feed_completeness`). Not a superuser, cannot create
  roles, and cannot read `quarantine` (records as delivered).

No reader role can read `raw` (names), `quarantine` (records as delivered), `staging` (views over raw,
which run with their owner's rights) or `intermediate` (one pseudonymous row per child); only the loader
and the transformer read `raw`. The loader cannot read `published`, `marts` or `reference`. The superuser
(the owner of the warehouse's own schemas) is used by the bootstrap alone.

**Roles are cluster-wide, grants are per database.** Several warehouses (or test databases) on one server
share the five roles; each database's bootstrap grants CONNECT on itself, USAGE on its schemas and
SELECT on their tables, and sets *default privileges* so the tables created later are covered: those the
owner creates (a new feed's raw table), and those the transformer creates (dbt drops and recreates every
table and seed on each build, so without default privileges the analyst would lose `marts` at every
build). Existing tables are granted again when the bootstrap runs (when its fingerprint changed,
warehouse/schema.py). The default PUBLIC privileges on the database
(CONNECT, TEMPORARY) and on every warehouse schema are revoked, and each run revokes from the roles
whatever schema access they were not declared to have, so the access converges to the list above.

The dbt schemas (`staging`, `intermediate`, `marts`, `reference`) are created by dbt (as the transformer),
not here. Their readers' grants and default privileges are set by the transformer itself right after each
dbt command (`share_dbt_schemas`, pipeline/dbt.py: GRANTs only, no table lock) and again by the bootstrap,
whose fingerprint includes which dbt schemas exist and who owns them. A warehouse from before the
transformer, whose dbt schemas the superuser owns, is migrated by the bootstrap: the schemas and their
objects are handed to the transformer.

**The loader does not own or create tables.** Raw tables are created and altered (new feed columns,
comments, BRIN indexes) by the owner in `bootstrap`; the loader role only moves data, so it has no CREATE
on `raw`. Running the loader as this role therefore needs the schema bootstrapped by the owner first
(the DAG's `bootstrap` task); `ingest.run.ingest_feed` does no DDL.

Passwords come from configuration, first match wins, per role (`<ROLE>` is REPORT_READER, ANALYST,
APPROVER, LOADER or TRANSFORMER):
1. `WAREHOUSE_<ROLE>_PASSWORD` — the password itself;
2. `WAREHOUSE_<ROLE>_PASSWORD_FILE` — a file holding it (a mounted secret);
3. `.warehouse/role-passwords.json` in the project — a random password generated once per role, for a
   local warehouse only (mode 600; the `.warehouse` folder is never committed).
Passwords never reach the server in clear: the role gets a SCRAM-SHA-256 verifier computed by libpq, and
is only altered when the configured password does not match the stored verifier (or the verifier cannot
be read). They are never logged; `python -m warehouse url --role <role>` prints a URL with one, on purpose.

`WAREHOUSE_ROLE_PREFIX` (default none) prefixes the five role names, e.g. `cs_` → `cs_report_reader`,
for a server shared with other applications. The environment variables keep the unprefixed names.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import quote, urlparse, urlunparse

import psycopg
from psycopg import errors, sql

log = logging.getLogger(__name__)

LOCAL_PASSWORD_FILE = Path(__file__).resolve().parent.parent / ".warehouse" / "role-passwords.json"

ROLES = ("report_reader", "analyst", "approver", "loader", "transformer")

# Every schema of the warehouse: PUBLIC gets nothing on them, and a role gets only what is declared below.
LOADER_SCHEMAS = ("raw", "audit", "quarantine", "published")      # created by warehouse/sql and ingest
DBT_SCHEMAS = ("staging", "intermediate", "marts", "reference")    # created by dbt
WAREHOUSE_SCHEMAS = LOADER_SCHEMAS + DBT_SCHEMAS

# Read access: SELECT on every table and view of the schema, now and later.
READS = {
    "report_reader": ("published",),
    "analyst": ("marts", "published", "reference", "audit"),
    "approver": ("published",),
}
# Functions a role may execute (EXECUTE is revoked from PUBLIC where they are created).
EXECUTES = {
    "approver": ("published.approve(text, text, text, text, boolean, text)",),
}
# The loader: whole raw schema (tables of feeds added later included), and named tables elsewhere.
LOADER_RAW_PRIVILEGES = ("INSERT", "SELECT", "UPDATE", "DELETE")  # UPDATE marks superseded rows; DELETE moves
# the rows of a load outside its delivery's period to quarantine inside the load's own transaction (ingest.supersession)
LOADER_TABLES = {
    ("audit", "load_batches"): ("INSERT", "SELECT", "UPDATE"),
    ("audit", "batch_coverage"): ("INSERT", "SELECT", "UPDATE"),
    ("quarantine", "rejected_rows"): ("INSERT",),
    ("quarantine", "register_cleanup_list"): ("SELECT",),  # the records the communes must fix (no names, no IDs)
}
LOADER_USAGE = ("raw", "audit", "quarantine")

# The transformer (dbt, quality checks, publishing): owns the dbt schemas; reads these schemas whole (tables
# added later included), and writes the named tables.
TRANSFORMER_READS = ("raw", "audit", "published")
TRANSFORMER_TABLES = {
    ("audit", "quality_runs"): ("INSERT",),
    ("audit", "quality_results"): ("INSERT",),
    ("audit", "build_state"): ("INSERT",),
    ("audit", "release_inputs"): ("INSERT",),
    ("audit", "pipeline_runs"): ("INSERT", "UPDATE"),
    ("audit", "pipeline_events"): ("INSERT",),
    ("published", "releases"): ("INSERT",),
    ("published", "value_versions"): ("INSERT", "UPDATE (last_release_seq)"),  # closes replaced versions
    ("published", "release_indicators"): ("INSERT",),
    ("published", "release_periods"): ("INSERT",),
    ("published", "release_deliveries"): ("INSERT",),
    ("published", "targets"): ("INSERT", "DELETE"),
    ("published", "admin_units"): ("INSERT", "DELETE"),
    ("published", "feed_completeness"): ("INSERT", "DELETE"),
    ("published", "register_data_quality"): ("INSERT", "DELETE"),
    ("published", "quality_scorecard_base"): ("INSERT", "DELETE"),
    ("audit", "indicator_outliers_base"): ("INSERT", "DELETE"),
    ("published", "quality_scorecard_feeds"): ("INSERT", "DELETE"),
}
# On the database: dbt creates its schemas on a fresh warehouse; publishing and GE use temporary tables.
TRANSFORMER_DATABASE = ("CREATE", "TEMPORARY")

# Role attributes: a plain login, nothing more.
ATTRIBUTES = {"rolcanlogin": True, "rolsuper": False, "rolcreatedb": False, "rolcreaterole": False,
              "rolreplication": False, "rolbypassrls": False}
ATTRIBUTES_SQL = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


class RoleConfigurationError(RuntimeError):
    """A role's configuration is unusable; the message says how to fix it (never shows a password)."""


def _check(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def role_name(role: str) -> str:
    """The database role name of a role (with WAREHOUSE_ROLE_PREFIX, if set)."""
    return os.environ.get("WAREHOUSE_ROLE_PREFIX", "") + _check(role)


def role_password(role: str) -> str:
    """The configured password of a role: environment, a secret file, or the local generated one."""
    variable = f"WAREHOUSE_{_check(role).upper()}_PASSWORD"
    password, source = os.environ.get(variable), variable
    if not password and os.environ.get(f"{variable}_FILE"):
        source = os.environ[f"{variable}_FILE"]
        password = Path(source).read_text(encoding="utf-8").strip()
    if not password:
        source = str(LOCAL_PASSWORD_FILE)
        password = _local_password(role_name(role))
    if not password:
        raise RoleConfigurationError(f"the password of role {role} from {source} is empty")
    return password


def _local_password(name: str) -> str:
    """The generated password of `name` in the local file, created on first use. The file is locked
    while read and written, so parallel first runs agree on one password."""
    LOCAL_PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(LOCAL_PASSWORD_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.fchmod(handle.fileno(), 0o600)
        text = handle.read()
        try:
            stored = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            raise RoleConfigurationError(f"{LOCAL_PASSWORD_FILE} is not valid JSON: fix or delete it "
                                         "(deleting it makes new passwords at the next bootstrap)") from None
        if not stored.get(name):
            stored[name] = secrets.token_urlsafe(24)
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(stored, indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return stored[name]


def role_url(role: str, url: str | None = None) -> str:
    """The warehouse URL (default: WAREHOUSE_URL or the embedded server) as the given role."""
    from warehouse.connection import owner_url

    parsed = urlparse(url or owner_url())
    host = parsed.netloc.rpartition("@")[2]
    credentials = f"{quote(role_name(role), safe='')}:{quote(role_password(role), safe='')}"
    return urlunparse(parsed._replace(netloc=f"{credentials}@{host}"))


# --- creating the roles ------------------------------------------------------------------------------

def _scram_matches(verifier: str | None, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier (pg_authid.rolpassword) is the one of `password`."""
    try:
        method, rest = verifier.split("$", 1)
        iterations_salt, keys = rest.split("$", 1)
        iterations, salt = iterations_salt.split(":", 1)
        stored_key = keys.split(":", 1)[0]
    except (AttributeError, ValueError):
        return False
    if method != "SCRAM-SHA-256":
        return False
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), base64.b64decode(stored_key))


def _verifier(conn: psycopg.Connection, name: str, password: str) -> str:
    return conn.pgconn.encrypt_password(password.encode("utf-8"), name.encode("utf-8"),
                                        b"scram-sha-256").decode("ascii")


def _with_retries(conn: psycopg.Connection, action: Callable[[], None], attempts: int = 5) -> None:
    """Run `action` in a savepoint, again when another database's bootstrap created or altered the same
    cluster-wide role at the same moment (roles are shared; the bootstrap lock is per database)."""
    for attempt in range(attempts):
        try:
            with conn.transaction():
                action()
            return
        except (errors.UniqueViolation, errors.DuplicateObject, errors.InternalError_) as exc:
            concurrent = not isinstance(exc, errors.InternalError_) or "concurrently" in str(exc)
            if not concurrent or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _ensure_role(conn: psycopg.Connection, role: str, password: str, owner: str, superuser: bool,
                 can_create: bool) -> bool:
    """Create the role or bring its attributes and password in line; False when it cannot exist."""
    name = role_name(role)
    ident = sql.Identifier(name)
    outcome = {"exists": True}

    def action() -> None:
        row = conn.execute(
            "select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
            " from pg_roles where rolname = %s", (name,)).fetchone()
        if row is None:
            if not can_create:
                log.warning("role %s does not exist and %s may not create roles: its grants are skipped; "
                            "create it as an administrator and bootstrap again", name, owner)
                outcome["exists"] = False
                return
            conn.execute(sql.SQL("create role {} with " + ATTRIBUTES_SQL + " password {}").format(
                ident, sql.Literal(_verifier(conn, name, password))))
            log.info("created role %s", name)
            return
        if dict(zip(ATTRIBUTES, row)) != ATTRIBUTES:
            conn.execute(sql.SQL("alter role {} with " + ATTRIBUTES_SQL).format(ident))
            log.warning("role %s had attributes beyond a plain login: reset", name)
        if superuser:
            stored = conn.execute("select rolpassword from pg_authid where rolname = %s", (name,)).fetchone()[0]
            if _scram_matches(stored, password):
                return
        try:
            with conn.transaction():
                conn.execute(sql.SQL("alter role {} with password {}").format(
                    ident, sql.Literal(_verifier(conn, name, password))))
        except errors.InsufficientPrivilege:
            log.warning("the password of role %s cannot be set by the current user; set it as an "
                        "administrator", name)

    _with_retries(conn, action)
    return outcome["exists"]


# --- grants --------------------------------------------------------------------------------------------

def _tolerant(conn: psycopg.Connection, statement: sql.Composable, attempts: int = 3) -> None:
    """GRANT on every table of a dbt schema: dbt may drop or rename a table at the same moment (the DAG
    bootstraps in ingest tasks while dbt loads seeds). Default privileges cover tables dbt creates, so
    after a few tries a failure is logged, not raised."""
    for attempt in range(attempts):
        try:
            with conn.transaction():
                conn.execute(statement)
            return
        except (errors.InternalError_, errors.UndefinedTable, errors.UndefinedObject) as exc:
            if attempt == attempts - 1:
                log.warning("could not re-grant on existing tables (%s): %s", exc.sqlstate, exc)
                return
            time.sleep(0.05 * (attempt + 1))


def _privileges(names) -> sql.Composable:
    return sql.SQL(", ").join(sql.SQL(name) for name in names)


def ensure_role_passwords(conn: psycopg.Connection, only: tuple[str, ...] = ROLES,
                          passwords: Mapping[str, str] | None = None) -> list[str]:
    """Bring the configured passwords of existing roles into the server, altering a role only when its stored
    verifier does not match (ALTER ROLE is a catalog change: it locks no table). Returns the roles that are
    missing (the bootstrap creates them)."""
    passwords = passwords or {}
    superuser = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]
    missing = []
    for role in only:
        name = role_name(role)
        password = passwords.get(role) or role_password(role)
        if conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone() is None:
            missing.append(role)
            continue
        if superuser:
            stored = conn.execute("select rolpassword from pg_authid where rolname = %s", (name,)).fetchone()[0]
            if _scram_matches(stored, password):
                continue
        try:
            with conn.transaction():
                conn.execute(sql.SQL("alter role {} with password {}").format(
                    sql.Identifier(name), sql.Literal(_verifier(conn, name, password))))
            log.info("set the configured password of role %s", name)
        except errors.InsufficientPrivilege:
            log.warning("the password of role %s cannot be set by the current user; set it as an "
                        "administrator", name)
    return missing


def _grant_dbt_schema(conn: psycopg.Connection, schema: str, readers: list[str], transformer: str,
                      tolerant: bool = True) -> None:
    """USAGE and SELECT (now and on what the transformer creates later) on a dbt schema for its readers.
    GRANTs lock no table."""
    ident, owner = sql.Identifier(schema), sql.Identifier(transformer)
    for reader in readers:
        role = sql.Identifier(reader)
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(ident, role))
        statement = sql.SQL("grant select on all tables in schema {} to {}").format(ident, role)
        if tolerant:
            _tolerant(conn, statement)
        else:
            conn.execute(statement)
        conn.execute(sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
            owner, ident, role))


def share_dbt_schemas(conn: psycopg.Connection) -> None:
    """Run as the transformer right after a dbt command: the readers' grants on the dbt schemas it owns (a
    schema dbt has just created for the first time included). GRANTs and default privileges only: no DDL on
    tables, no table lock, so it is safe beside running loads and readers."""
    me = conn.execute("select current_user").fetchone()[0]
    owned = {row[0] for row in conn.execute(
        "select nspname from pg_namespace where nspname = any(%s) and nspowner = (select oid from pg_roles"
        " where rolname = current_user)", (list(DBT_SCHEMAS),))}
    present = {row[0] for row in conn.execute("select rolname from pg_roles where rolname = any(%s)",
                                              ([role_name(role) for role in READS],))}
    for schema in DBT_SCHEMAS:
        if schema not in owned:
            continue
        readers = [role_name(role) for role, schemas in READS.items()
                   if schema in schemas and role_name(role) in present]
        with conn.transaction():
            _grant_dbt_schema(conn, schema, readers, me)


def dbt_ownership_state(conn: psycopg.Connection) -> str:
    """Which dbt schemas exist, their owners, and whether the transformer owns everything in them: part of
    the bootstrap's fingerprint (catalog reads only)."""
    transformer = role_name("transformer")
    rows = conn.execute(
        """select n.nspname, pg_get_userbyid(n.nspowner),
                  not exists (select 1 from pg_class as c where c.relnamespace = n.oid
                                 and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
                                 and pg_get_userbyid(c.relowner) <> %s)
             from pg_namespace as n where n.nspname = any(%s) order by 1""",
        (transformer, list(DBT_SCHEMAS))).fetchall()
    return ";".join(f"{schema}:{owner}:{'ok' if owned else 'foreign'}" for schema, owner, owned in rows)


_ALTER_OWNER = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table",
                "S": "sequence"}


def _migrate_dbt_ownership(conn: psycopg.Connection, schemas: list[str], transformer: str) -> None:
    """Hand dbt schemas and their objects owned by someone else (a warehouse whose dbt ran as the superuser)
    to the transformer. Runs in the bootstrap only, when its fingerprint changed (ALTER ... OWNER locks)."""
    target = sql.Identifier(transformer)
    for schema in schemas:
        owner = conn.execute("select pg_get_userbyid(nspowner) from pg_namespace where nspname = %s",
                             (schema,)).fetchone()[0]
        if owner != transformer:
            conn.execute(sql.SQL("alter schema {} owner to {}").format(sql.Identifier(schema), target))
            log.info("schema %s: owner %s → %s", schema, owner, transformer)
        objects = conn.execute(
            """select c.relname, c.relkind from pg_class as c
                where c.relnamespace = %s::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
                  and pg_get_userbyid(c.relowner) <> %s
                  -- sequences owned by a column follow their table
                  and not (c.relkind = 'S' and exists (select 1 from pg_depend as d
                                                        where d.objid = c.oid and d.deptype in ('a', 'i')
                                                          and d.classid = 'pg_class'::regclass))
                order by c.relkind <> 'r', c.relname""", (schema, transformer)).fetchall()
        for name, kind in objects:
            conn.execute(sql.SQL("alter {} {} owner to {}").format(
                sql.SQL(_ALTER_OWNER[kind]), sql.Identifier(schema, name), target))
        for (signature,) in conn.execute(
                """select p.oid::regprocedure::text from pg_proc as p
                    where p.pronamespace = %s::regnamespace and pg_get_userbyid(p.proowner) <> %s""",
                (schema, transformer)).fetchall():
            conn.execute(sql.SQL("alter routine {} owner to {}").format(sql.SQL(signature), target))
        if objects:
            log.info("schema %s: %d object(s) handed to %s", schema, len(objects), transformer)


def ensure_roles(conn: psycopg.Connection, passwords: Mapping[str, str] | None = None) -> None:
    """Create the roles (idempotent) and set their grants in the connected database. `passwords` ({role:
    password}) overrides the configuration. Run as the owner of the warehouse objects (the superuser, in the
    bootstrap); creating roles needs a superuser or CREATEROLE, else existing roles are granted and missing
    ones skipped with a warning."""
    passwords = passwords or {}
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('child-stats-roles'))")
        owner, database, superuser, can_create = conn.execute(
            "select current_user, current_database(), rolsuper, rolsuper or rolcreaterole"
            " from pg_roles where rolname = current_user").fetchone()
        present = [role for role in ROLES
                   if _ensure_role(conn, role, passwords.get(role) or role_password(role), owner, superuser,
                                   can_create)]
        existing = {row[0] for row in conn.execute(
            "select nspname from pg_namespace where nspname = any(%s)", (list(WAREHOUSE_SCHEMAS),))}
        schemas = [schema for schema in WAREHOUSE_SCHEMAS if schema in existing]
        roles = {role: sql.Identifier(role_name(role)) for role in present}
        owner_ident, db = sql.Identifier(owner), sql.Identifier(database)

        def run(statement: str, **parts) -> None:
            conn.execute(sql.SQL(statement).format(**parts))

        if "transformer" in roles:  # before the revokes below: an owner's own privileges are not revoked
            _migrate_dbt_ownership(conn, [schema for schema in DBT_SCHEMAS if schema in existing],
                                   role_name("transformer"))

        # The database: no more CONNECT and TEMPORARY for every role of the server; CONNECT for ours.
        run("revoke connect, temporary on database {db} from public", db=db)
        if roles:
            run("grant connect on database {db} to {roles}", db=db, roles=sql.SQL(", ").join(roles.values()))
        if "transformer" in roles:
            run("grant {privileges} on database {db} to {role}", privileges=_privileges(TRANSFORMER_DATABASE),
                db=db, role=roles["transformer"])
        if conn.execute("select to_regnamespace('public')").fetchone()[0] is not None:
            run("revoke create on schema public from public")  # already so from PostgreSQL 15
        # Schemas: nothing for PUBLIC, and for our roles nothing but what is declared below (the transformer
        # keeps its own dbt schemas: revoking from an owner would take its own rights away).
        for schema in schemas:
            others = [ident for role, ident in roles.items() if not (role == "transformer" and schema in DBT_SCHEMAS)]
            grantees = sql.SQL(", ").join([sql.SQL("public"), *others])
            run("revoke all on schema {schema} from {grantees}", schema=sql.Identifier(schema), grantees=grantees)

        def grant_tables(schema: str, role: str, privileges) -> None:
            parts = dict(schema=sql.Identifier(schema), role=roles[role], privileges=_privileges(privileges),
                         owner=owner_ident)
            run("grant usage on schema {schema} to {role}", **parts)
            statement = sql.SQL("grant {privileges} on all tables in schema {schema} to {role}").format(**parts)
            if schema in DBT_SCHEMAS:
                _tolerant(conn, statement)
            else:
                conn.execute(statement)
            run("alter default privileges for role {owner} in schema {schema} grant {privileges} on tables to {role}",
                **parts)

        def grant_named(role: str, tables: Mapping, usage: tuple[str, ...]) -> None:
            ident = roles[role]
            for schema in usage:
                if schema in existing:
                    run("grant usage on schema {schema} to {role}", schema=sql.Identifier(schema), role=ident)
            for (schema, table), privileges in tables.items():
                qualified = f"{schema}.{table}"
                if conn.execute("select to_regclass(%s)", (qualified,)).fetchone()[0] is None:
                    continue
                run("grant {privileges} on table {table} to {role}", privileges=_privileges(privileges),
                    table=sql.Identifier(schema, table), role=ident)
                for (sequence,) in conn.execute(
                        "select pg_get_serial_sequence(%s, attname) from pg_attribute"
                        " where attrelid = %s::regclass and attnum > 0 and not attisdropped"
                        " and pg_get_serial_sequence(%s, attname) is not null",
                        (qualified, qualified, qualified)).fetchall():
                    run("grant usage on sequence {sequence} to {role}",
                        sequence=sql.SQL(sequence), role=ident)  # already quoted by pg_get_serial_sequence

        for role, readable in READS.items():
            for schema in readable:
                # the dbt schemas through the transformer's default privileges below (if it could not be
                # created, through the owner's, as before it existed)
                if role in roles and schema in existing and (schema not in DBT_SCHEMAS or "transformer" not in roles):
                    grant_tables(schema, role, ("SELECT",))
        if "transformer" in roles:
            transformer = role_name("transformer")
            for schema in DBT_SCHEMAS:
                if schema in existing:
                    _grant_dbt_schema(conn, schema, [role_name(role) for role, readable in READS.items()
                                                     if role in roles and schema in readable], transformer)
        for role, functions in EXECUTES.items():
            for function in functions:
                if role in roles and conn.execute("select to_regprocedure(%s)", (function,)).fetchone()[0]:
                    run("grant execute on function " + function + " to {role}", role=roles[role])
        if "loader" in roles:
            if "raw" in existing:
                grant_tables("raw", "loader", LOADER_RAW_PRIVILEGES)
            grant_named("loader", LOADER_TABLES, LOADER_USAGE)
        if "transformer" in roles:
            for schema in TRANSFORMER_READS:
                if schema in existing:
                    grant_tables(schema, "transformer", ("SELECT",))
            grant_named("transformer", TRANSFORMER_TABLES, TRANSFORMER_READS)
