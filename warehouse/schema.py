"""Create the loader-owned schemas and tables, and the database roles with their grants (see
warehouse/roles.py). dbt (as the transformer role) owns staging, intermediate, marts and reference; ingest
owns the raw tables' definitions and passes their DDL in (`extra_ddl`), since the warehouse knows nothing of
the feeds.

**Only when something changed.** DDL takes locks — `alter table … add column if not exists`, `comment on`,
`create or replace view`, `create index if not exists` take SHARE or ACCESS EXCLUSIVE locks even when there
is nothing to do — and they queue behind, and deadlock with, a running COPY or a reader of the published
views. So the bootstrap fingerprints what it would apply: a SHA-256 of every warehouse/sql script, of the
generated raw DDL, of the roles and grants code with the role names, and the state of the dbt schemas (which
exist, who owns them and their objects) and of the roles (which exist). The fingerprint applied last is kept in
`audit.bootstrap_state`. When it matches, the bootstrap reads that row and the catalog and does nothing else
(apart from setting a role's password when it differs from the configured one: a catalog change, no table
lock). When it differs, the DDL runs in one transaction under an advisory lock (concurrent bootstraps queue;
the second then finds the fingerprint current) with `lock_timeout` (WAREHOUSE_BOOTSTRAP_LOCK_TIMEOUT, default
15s), so a bootstrap that would wait on a running load fails with a clear message instead of deadlocking.

A bootstrap without `extra_ddl` (`python -m warehouse bootstrap`) checks and records only its own parts: it
neither re-runs nor forgets the raw tables' part. `force=True` re-applies everything (after a hand-made change).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import psycopg
from psycopg import errors, sql

from warehouse.connection import connect, owner_url

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent / "sql"
STATE_TABLE = "audit.bootstrap_state"
BOOTSTRAP_LOCK = "child-stats-bootstrap"
DEFAULT_LOCK_TIMEOUT = "15s"
ADVISORY_WAIT = "10min"  # how long a bootstrap waits for another one to finish


class BootstrapLockTimeout(RuntimeError):
    """The bootstrap's DDL had to wait for a lock held by a running load or query: nothing was changed."""


class _Recorder:
    """Stands in for a connection to capture the statements a DDL function would run (for the fingerprint)."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.statements: list[str] = []

    def execute(self, statement, params=None):
        text = statement.as_string(self.conn) if isinstance(statement, sql.Composable) else str(statement)
        self.statements.append(text + (repr(params) if params is not None else ""))
        return self


def _sha(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def _code_parts(conn: psycopg.Connection, extra_ddl: list[Callable[[psycopg.Connection], None]]) -> dict[str, str]:
    from warehouse import roles

    parts = {
        "sql": _sha(*(f"{script.name}\n{script.read_text()}" for script in sorted(SQL_DIR.glob("*.sql")))),
        "roles": _sha(Path(roles.__file__).read_text(), Path(__file__).read_text(),
                      *(roles.role_name(role) for role in roles.ROLES)),
    }
    if extra_ddl:
        recorder = _Recorder(conn)
        try:
            for ddl in extra_ddl:
                ddl(recorder)
            parts["extra"] = _sha(*recorder.statements)
        except Exception:  # noqa: BLE001 - a DDL function that reads results: cannot be fingerprinted, always run
            log.debug("extra DDL cannot be fingerprinted: it runs at every bootstrap", exc_info=True)
            parts["extra"] = "unknown"
    return parts


def _state_parts(conn: psycopg.Connection) -> dict[str, str]:
    """The database's side (catalog reads only): the roles that exist, the dbt schemas and their owners."""
    from warehouse import roles

    names = [roles.role_name(role) for role in roles.ROLES]
    present = [row[0] for row in conn.execute(
        "select rolname from pg_roles where rolname = any(%s) order by 1", (names,))]
    return {"roles_present": _sha(*present), "dbt_schemas": _sha(roles.dbt_ownership_state(conn))}


def _stored(conn: psycopg.Connection) -> dict | None:
    if conn.execute("select to_regclass(%s)", (STATE_TABLE,)).fetchone()[0] is None:
        return None
    row = conn.execute(f"select fingerprint from {STATE_TABLE}").fetchone()
    return row[0] if row else None


def _is_current(stored: dict | None, wanted: dict[str, str]) -> bool:
    return stored is not None and all(stored.get(key) == value for key, value in wanted.items())


def is_bootstrapped(conn: psycopg.Connection) -> bool:
    """Whether a bootstrap ever completed in this database (catalog read, then one row)."""
    return _stored(conn) is not None


def bootstrap(conn: psycopg.Connection | None = None,
              extra_ddl: Iterable[Callable[[psycopg.Connection], None]] = (), force: bool = False) -> bool:
    """Apply the warehouse DDL if its fingerprint changed (or `force`); True when DDL ran. Connects as the
    owner (the superuser) unless given a connection."""
    own = conn is None
    conn = conn or connect(owner_url(), autocommit=True)
    extra_ddl = list(extra_ddl)
    try:
        code = _code_parts(conn, extra_ddl)
        if not force and _is_current(_stored(conn), {**code, **_state_parts(conn)}):
            from warehouse.roles import ensure_role_passwords

            if not ensure_role_passwords(conn):
                return False
        lock_timeout = os.environ.get("WAREHOUSE_BOOTSTRAP_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)
        with conn.transaction():
            # Serialise concurrent bootstraps (parallel tasks, two engineers) on one advisory lock; the ones
            # that waited usually find the work done.
            conn.execute("select set_config('lock_timeout', %s, true)", (ADVISORY_WAIT,))
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (BOOTSTRAP_LOCK,))
            stored = _stored(conn)
            if not force and _is_current(stored, {**code, **_state_parts(conn)}):
                from warehouse.roles import ensure_role_passwords

                if not ensure_role_passwords(conn):
                    return False
            conn.execute("select set_config('lock_timeout', %s, true)", (lock_timeout,))
            try:
                _apply(conn, extra_ddl)
            except errors.LockNotAvailable as exc:
                raise BootstrapLockTimeout(
                    f"bootstrap: the warehouse DDL waited more than {lock_timeout} for a lock held by a running "
                    f"load or query ({exc.diag.message_primary}); nothing was changed. Run it again when the "
                    "load has finished (WAREHOUSE_BOOTSTRAP_LOCK_TIMEOUT sets the wait).") from None
            fingerprint = {**(stored or {}), **code, **_state_parts(conn)}
            conn.execute(
                f"""insert into {STATE_TABLE} (singleton, fingerprint, applied_at, applied_by)
                    values (true, %s, clock_timestamp(), current_user)
                    on conflict (singleton) do update set fingerprint = excluded.fingerprint,
                                                          applied_at = excluded.applied_at,
                                                          applied_by = excluded.applied_by""",
                (json.dumps(fingerprint),))
        log.info("bootstrap: warehouse DDL applied")
        return True
    finally:
        if own:
            conn.close()


def _apply(conn: psycopg.Connection, extra_ddl: list[Callable[[psycopg.Connection], None]]) -> None:
    for script in sorted(SQL_DIR.glob("*.sql")):
        conn.execute(script.read_text())
    for ddl in extra_ddl:
        ddl(conn)
    from warehouse.roles import ensure_roles  # last: grants cover the tables made above

    ensure_roles(conn)
