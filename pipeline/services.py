"""A real Airflow 3 deployment on one machine: api-server (UI and REST API on 127.0.0.1:AIRFLOW_PORT),
scheduler, dag-processor and triggerer with the LocalExecutor, and the metadata database `airflow` on the
project's PostgreSQL (its own database beside the warehouse). `make up` / `make down` / `make status` /
`make trigger` call this module (`python -m pipeline up|down|status|trigger`).

Everything lives under .warehouse/airflow-services/: logs/<service>.log, state.json (ports, process ids,
whether `up` started the embedded PostgreSQL), the generated admin password and the API's JWT secret.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from pipeline.airflow_local import DAG_ID, PROJECT_ROOT, airflow_env

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
HEALTH_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
ADMIN = "admin"

def metadata_database() -> str:
    """Airflow's own database on the warehouse's server (AIRFLOW_METADATA_DATABASE, default airflow)."""
    return os.environ.get("AIRFLOW_METADATA_DATABASE", "airflow")


def services_home() -> Path:
    return Path(os.environ.get("AIRFLOW_SERVICES_HOME", PROJECT_ROOT / ".warehouse" / "airflow-services"))


class ServicesError(RuntimeError):
    """The services could not be started, reached or stopped; the message says what to look at."""


@dataclass
class Deployment:
    home: Path
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.home / "state.json"

    def state(self) -> dict:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def admin_password(self) -> str:
        return json.loads((self.home / "passwords.json").read_text())[ADMIN]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _secret(home: Path, name: str) -> str:
    """A generated secret kept in the services' home (0600), the same for every start."""
    path = home / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    if name not in stored:
        stored[name] = secrets.token_urlsafe(32)
        path.write_text(json.dumps(stored))
        path.chmod(0o600)
    return stored[name]


def _metadata_url(warehouse_url: str) -> str:
    """The metadata database on the warehouse's server, created when missing."""
    import psycopg

    parts = urlparse(warehouse_url)
    with psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (metadata_database(),)).fetchone():
            conn.execute(f'create database "{metadata_database()}"')
    return urlunparse(parts._replace(scheme="postgresql+psycopg2", path=f"/{metadata_database()}"))


def _environment(deployment: Deployment, warehouse_url: str, landing: Path, log_ports: tuple[int, int]) -> dict:
    home = deployment.home
    passwords = home / "passwords.json"
    if not passwords.exists():  # the simple auth manager reads it; written once, shown by `make up`
        passwords.write_text(json.dumps({ADMIN: secrets.token_urlsafe(12)}))
        passwords.chmod(0o600)
    env = airflow_env(warehouse_url, landing, home)
    env.update({
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (metadata := _metadata_url(warehouse_url)),
        # the api-server's async engine: psycopg 3 (locked) rather than asyncpg (not installed)
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata.replace("+psycopg2", "+psycopg", 1),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",  # the nightly schedule is live once up
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{deployment.base_url}/execution/",
        "AIRFLOW__API__BASE_URL": deployment.base_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(deployment.port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret(home, "jwt_secret"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_ports[0]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(log_ports[1]),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "60",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
    })
    return env


def _command(service: str, deployment: Deployment) -> list[str]:
    airflow = str(Path(sys.executable).with_name("airflow"))
    if service == "api-server":
        return [airflow, "api-server", "--host", "127.0.0.1", "--port", str(deployment.port), "--workers", "1"]
    return [airflow, service]


def start_time(pid: int) -> int | None:
    """When the process started (clock ticks since boot): with the pid, it names one process, since pids are
    reused (pid_max is 32,768 here, and a night starts thousands of processes)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int, started: int | None = None) -> bool:
    """Whether the process runs (not a zombie), and is the one that started at `started` when given."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except OSError:
        return False
    return fields[0] not in ("Z", "X") and (started is None or int(fields[19]) == started)


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (LocalExecutor workers, task supervisors, gunicorn/uvicorn workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, queue = set(), [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            if child not in found:
                found.add(child)
                queue.append(child)
    return found


def health(deployment: Deployment, timeout: float = 5) -> dict | None:
    try:
        with urllib.request.urlopen(f"{deployment.base_url}/api/v2/monitor/health", timeout=timeout) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def is_healthy(report: dict | None) -> bool:
    return bool(report) and all((report.get(c) or {}).get("status") == "healthy" for c in HEALTH_COMPONENTS)


def deployment() -> Deployment:
    home = services_home()
    state = json.loads((home / "state.json").read_text()) if (home / "state.json").exists() else {}
    port = int(os.environ.get("AIRFLOW_PORT") or state.get("port") or 8080)
    return Deployment(home, port)


def up(wait_seconds: float = 240, paused: bool = False) -> Deployment:
    """Start the warehouse (if embedded) and the four Airflow services; wait until all report healthy. New
    DAGs are live at once (the nightly schedule runs), or paused with `paused`."""
    from ingest.run import landing_dir
    from ingest.schema import setup_warehouse
    from warehouse import embedded
    from warehouse.connection import warehouse_url

    current = deployment()
    running = [name for name, (pid, started) in current.state().get("pids", {}).items() if _alive(pid, started)]
    if running:
        raise ServicesError(f"already up ({', '.join(running)}); `make status`, or `make down` first")
    home = current.home
    (home / "logs").mkdir(parents=True, exist_ok=True)
    started_embedded = not os.environ.get("WAREHOUSE_URL") and not embedded.is_up()
    url = warehouse_url()  # starts the embedded server when no WAREHOUSE_URL is set
    setup_warehouse()
    port = int(os.environ.get("AIRFLOW_PORT") or 8080)
    target = Deployment(home, port)
    env = _environment(target, url, landing_dir(), (_free_port(), _free_port()))
    env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = str(paused)
    migrate = subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], env=env,
                             cwd=PROJECT_ROOT, capture_output=True, text=True)
    if migrate.returncode != 0:
        raise ServicesError(f"airflow db migrate failed:\n{migrate.stdout[-2000:]}{migrate.stderr[-2000:]}")
    pids = {}
    for service in SERVICES:
        log = open(home / "logs" / f"{service}.log", "a", encoding="utf-8")  # noqa: SIM115 - the child keeps it
        process = subprocess.Popen(_command(service, target), env=env, cwd=PROJECT_ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        pids[service] = [process.pid, start_time(process.pid)]
    target.state_file.write_text(json.dumps({"port": port, "pids": pids, "started_embedded": started_embedded,
                                             "started_at": time.time()}))
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        dead = [name for name, (pid, started) in pids.items() if not _alive(pid, started)]
        if dead:
            down()
            raise ServicesError(f"{', '.join(dead)} stopped at start: see {home / 'logs'}")
        if is_healthy(health(target)):
            return target
        time.sleep(2)
    report = health(target)
    down()
    raise ServicesError(f"not healthy after {wait_seconds:.0f} s ({report}); logs in {home / 'logs'}")


def down(timeout: float = 30) -> list[str]:
    """Stop every process `up` started (and their children), and the embedded PostgreSQL if `up` started it."""
    current = deployment()
    state = current.state()
    stopped = []
    tree: set[tuple[int, int | None]] = set()
    for name, (pid, started) in state.get("pids", {}).items():
        if _alive(pid, started):
            tree |= {(p, start_time(p)) for p in (pid, *_descendants(pid))}
            try:
                os.killpg(pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
            stopped.append(name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(*process) for process in tree):
        time.sleep(0.5)
    for pid, started in tree:
        if _alive(pid, started):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if state.get("started_embedded"):
        from warehouse import embedded

        embedded.stop()
        stopped.append("embedded PostgreSQL")
    if current.state_file.exists():
        current.state_file.unlink()
    return stopped


def status() -> tuple[dict[str, bool], dict | None, Deployment]:
    current = deployment()
    processes = {name: _alive(pid, started) for name, (pid, started) in current.state().get("pids", {}).items()}
    return processes, health(current) if processes else None, current


def _api(current: Deployment, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(f"{current.base_url}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise ServicesError(f"{method} {path}: HTTP {exc.code} {exc.read().decode(errors='replace')[:500]}") from None
    except urllib.error.URLError as exc:
        raise ServicesError(f"cannot reach the api-server at {current.base_url} ({exc.reason}): `make up` first") from None


def token(current: Deployment) -> str:
    return _api(current, "POST", "/auth/token", {"username": ADMIN, "password": current.admin_password()})["access_token"]


def trigger(feeds: list[str] | None = None, periods: list[str] | None = None, dag_id: str = DAG_ID,
            wait_for_dag: float = 120, full_refresh: bool = False) -> str:
    """Start a run now through the REST API (with the feeds, periods and full_refresh as DAG params); returns its
    run id."""
    current = deployment()
    access = token(current)
    deadline = time.monotonic() + wait_for_dag
    while True:  # the dag-processor may not have parsed the DAG yet right after `make up`
        try:
            _api(current, "GET", f"/api/v2/dags/{dag_id}", token=access)
            break
        except ServicesError:
            if time.monotonic() > deadline:
                raise
            time.sleep(3)
    conf = {key: value for key, value in (("feeds", feeds), ("periods", periods), ("full_refresh", full_refresh))
            if value}
    run = _api(current, "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf}, access)
    return run["dag_run_id"]


def wait_for_run(run_id: str, dag_id: str = DAG_ID, timeout: float = 1800) -> str:
    current = deployment()
    access = token(current)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _api(current, "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", token=access)["state"]
        if state in ("success", "failed"):
            return state
        time.sleep(5)
    raise ServicesError(f"run {run_id} still not finished after {timeout:.0f} s")


def set_paused(dag_id: str, paused: bool) -> None:
    current = deployment()
    _api(current, "PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": paused}, token(current))
