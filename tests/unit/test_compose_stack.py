"""Static checks of the production stack (docker-compose.yml, Dockerfile, .dockerignore, deploy/): Docker is not
needed and nothing is started. They catch what `docker compose config` and a first `docker compose up` would
(a dependency on a missing service, an undeclared volume, a required variable nobody documents) and what neither
would (a worker that cannot be scaled, a DAGs folder where the image has no DAGs, a password in the file).

Compose semantics reproduced here: YAML anchors and merge keys (`<<:`, yaml.safe_load resolves them) and
variable interpolation (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `$$`)."""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
CELERY_REQUIREMENTS = ROOT / "deploy" / "requirements-celery.txt"

# Airflow 3's components (as in Airflow's docker-compose.yaml for 3.x) and the stack's other services.
AIRFLOW_COMPONENTS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
REQUIRED_SERVICES = {*AIRFLOW_COMPONENTS, "airflow-init", "redis", "airflow-db", "warehouse"}
API_SERVER, WORKER, INIT = "airflow-apiserver", "airflow-worker", "airflow-init"

SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|(^|_)KEY($|_)|TOKEN|AUTH$")
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


# --- loading -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def image(dockerfile) -> Image:
    return Image(dockerfile)


@pytest.fixture(scope="module")
def generated_env() -> dict[str, str]:
    """The .env that deploy/make_env.py would write (rendered in memory)."""
    return parse_env(load_make_env().render(ENV_EXAMPLE.read_text(encoding="utf-8")))


def load_make_env():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_env", ROOT / "deploy" / "make_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_env(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            env[name.strip()] = value.strip()
    return env


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comments and parser directives dropped."""
    instructions, buffer = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, arguments = buffer.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        buffer = ""
    assert not buffer, "Dockerfile ends inside a continued line (trailing backslash)"
    return instructions


class Image:
    """What the Dockerfile builds: where each COPY source lands, the final ENV, USER, ENTRYPOINT."""

    def __init__(self, instructions: list[tuple[str, str]]):
        self.instructions = instructions
        self.copies: list[tuple[list[str], str]] = []  # (sources, absolute destination)
        self.env: dict[str, str] = {}
        self.user = "root"
        self.entrypoint: list[str] = []
        self.base = ""
        args: dict[str, str] = {}
        workdir = "/"
        for keyword, rest in instructions:
            if keyword == "ARG" and not self.base:
                name, _, default = rest.partition("=")
                args[name.strip()] = default.strip()
            elif keyword == "FROM":
                self.base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), rest.split()[0])
            elif keyword == "WORKDIR":
                workdir = posixpath.normpath(posixpath.join(workdir, rest))
            elif keyword == "ENV":
                for token in shlex.split(rest):
                    name, _, value = token.partition("=")
                    self.env[name] = value
            elif keyword == "USER":
                self.user = rest.split(":")[0]
            elif keyword == "ENTRYPOINT":
                self.entrypoint = json.loads(rest)
            elif keyword in ("COPY", "ADD"):
                tokens = [t for t in shlex.split(rest) if not t.startswith("--")]
                if rest.lstrip().startswith("[") or re.search(r"--from\b", rest):
                    continue  # not from the build context
                *sources, destination = tokens
                absolute = posixpath.join(workdir, destination)
                if destination.endswith("/") or destination in (".", "./"):
                    absolute = absolute.rstrip("/") + "/"
                self.copies.append((sources, absolute))

    def path_of(self, source: str) -> str | None:
        """Where a file or folder of the repository is in the image (None: not copied)."""
        source = source.rstrip("/")
        for sources, destination in self.copies:
            for copied in sources:
                copied = copied.rstrip("/")
                if copied in (".", ""):
                    return posixpath.normpath(posixpath.join(destination, source))
                if source == copied or source.startswith(copied + "/"):
                    inner = source[len(copied):].lstrip("/")
                    if (ROOT / copied).is_dir():  # a folder's contents go into the destination
                        return posixpath.normpath(posixpath.join(destination, inner))
                    target = destination + posixpath.basename(copied) if destination.endswith("/") else destination
                    return posixpath.normpath(target)
        return None

    def runs(self) -> list[str]:
        return [rest for keyword, rest in self.instructions if keyword == "RUN"]


def interpolate(value, env: dict[str, str], where: str = ""):
    """Compose's variable interpolation of a loaded compose file: raises KeyError on a missing required one."""
    if isinstance(value, dict):
        return {key: interpolate(item, env, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env, f"{where}[{i}]") for i, item in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        present = env.get(name)
        if op in (":-", ":?"):
            present = present or None
        if present is not None:
            return present
        if op in (":?", "?"):
            raise KeyError(f"{where}: required variable {name} is not set ({arg})")
        return arg if op in (":-", "-") else ""

    parts = value.split("$$")
    return "$".join(VARIABLE.sub(substitute, part) for part in parts)


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def named_volume_mounts(service: dict) -> dict[str, str]:
    """container path -> named volume (bind mounts left out)."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type", "volume") == "volume" and volume.get("source"):
                mounts[volume["target"]] = volume["source"]
            continue
        source, _, rest = volume.partition(":")
        target = rest.split(":")[0]
        if target and not source.startswith((".", "/", "~", "$")):
            mounts[target] = source
    return mounts


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def one_off(name: str, service: dict, services: dict) -> bool:
    """A service that runs and exits: in a profile of tools, or awaited with service_completed_successfully."""
    awaited = any(depends_on(other).get(name) == "service_completed_successfully" for other in services.values())
    return bool(service.get("profiles")) or awaited


def health_test(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test") or []
    return " ".join(test) if isinstance(test, list) else str(test)


# --- services and their wiring -------------------------------------------------------------------------------

def test_every_service_of_the_stack_exists(services):
    missing = REQUIRED_SERVICES - set(services)
    assert not missing, f"docker-compose.yml lacks the service(s) {sorted(missing)}"
    for name, component in AIRFLOW_COMPONENTS.items():
        command = services[name].get("command")
        command = " ".join(command) if isinstance(command, list) else str(command)
        assert component in command, f"{name} should run `airflow {component}`, its command is {command!r}"


def test_depends_on_names_existing_services_with_sensible_conditions(services):
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            assert target in services, f"{name} depends on {target!r}, which is not a service"
            assert condition in ("service_started", "service_healthy", "service_completed_successfully"), (
                f"{name} depends on {target} with unknown condition {condition!r}")
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), (
                    f"{name} waits for {target} to be healthy, but {target} has no healthcheck")
            if condition == "service_completed_successfully":
                assert services[target].get("restart", "no") == "no", (
                    f"{name} waits for {target} to complete, but {target} restarts (restart: "
                    f"{services[target].get('restart')})")


def test_airflow_services_wait_for_their_databases_and_the_init(services):
    for name in AIRFLOW_COMPONENTS:
        deps = depends_on(services[name])
        assert deps.get(INIT) == "service_completed_successfully", (
            f"{name} must wait for {INIT} with condition service_completed_successfully (got {deps.get(INIT)})")
        for database in ("airflow-db", "redis"):
            assert deps.get(database) == "service_healthy", f"{name} must wait for {database} to be healthy"
    assert depends_on(services[INIT]).get("airflow-db") == "service_healthy", f"{INIT} must wait for airflow-db"
    assert depends_on(services[WORKER]).get(API_SERVER) == "service_healthy", (
        f"{WORKER} must wait for a healthy {API_SERVER}: tasks talk to its execution API")


def test_every_named_volume_is_declared_and_used(compose, services):
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in services.items():
        for target, volume in named_volume_mounts(service).items():
            assert volume in declared, (
                f"{name} mounts volume {volume!r} at {target}, but it is not declared under top-level volumes:")
            used.add(volume)
    assert not declared - used, f"declared but never mounted: {sorted(declared - used)}"


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        if one_off(name, service, services):
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} runs for good but has no healthcheck"
        assert service.get("restart") in ("always", "unless-stopped"), (
            f"{name} runs for good but restart is {service.get('restart')!r} (always or unless-stopped)")


@pytest.mark.parametrize(("name", "expected"), [
    (API_SERVER, "/api/v2/monitor/health"),
    ("airflow-scheduler", "airflow jobs check --job-type SchedulerJob"),
    ("airflow-dag-processor", "airflow jobs check --job-type DagProcessorJob"),
    ("airflow-triggerer", "airflow jobs check --job-type TriggererJob"),
    (WORKER, "inspect ping"),
    ("redis", "redis-cli ping"),
    ("airflow-db", "pg_isready"),
    ("warehouse", "pg_isready"),
])
def test_healthchecks_ask_the_right_question(services, name, expected):
    assert expected in health_test(services[name]), (
        f"{name}'s healthcheck should run {expected!r}, it runs {health_test(services[name])!r}")


def test_worker_can_be_scaled_out(services):
    worker = services[WORKER]
    for key in ("container_name", "hostname", "ports"):
        assert key not in worker, (
            f"{WORKER} sets {key}: replicas of `docker compose up --scale {WORKER}=N` would clash on it")
    assert "celery@$${HOSTNAME}" in health_test(worker), (
        f"{WORKER}'s ping must address this replica (celery@$${{HOSTNAME}}), not whichever worker answers")


def airflow_services(services: dict) -> list[str]:
    """Every service that runs the project's Airflow image (the api-server's)."""
    return [name for name, service in services.items() if service.get("image") == services[API_SERVER]["image"]]


def test_celery_executor_in_every_airflow_service(services, generated_env):
    assert set(AIRFLOW_COMPONENTS) | {INIT} <= set(airflow_services(services)), (
        f"every Airflow component should run the image of {API_SERVER} ({services[API_SERVER].get('image')})")
    for name in airflow_services(services):
        service = services[name]
        env = interpolate(environment(service), generated_env, name)
        assert env.get("AIRFLOW__CORE__EXECUTOR") == "CeleryExecutor", (
            f"{name}: AIRFLOW__CORE__EXECUTOR is {env.get('AIRFLOW__CORE__EXECUTOR')!r}, not CeleryExecutor")
        broker = urlparse(env.get("AIRFLOW__CELERY__BROKER_URL", ""))
        assert broker.scheme == "redis" and broker.hostname == "redis", (
            f"{name}: the Celery broker should be the redis service, is {broker.geturl()!r}")
        assert broker.password == generated_env["REDIS_PASSWORD"], f"{name}: the broker URL lacks Redis' password"
        backend = urlparse(env.get("AIRFLOW__CELERY__RESULT_BACKEND", ""))
        assert backend.scheme.startswith("db+postgresql") and backend.hostname == "airflow-db", (
            f"{name}: the Celery result backend should be the metadata database (airflow-db), is {backend.scheme}"
            f"://{backend.hostname}")
        for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"):
            assert urlparse(env.get(key, "")).hostname == "airflow-db", f"{name}: {key} is not on airflow-db"
        assert "asyncpg" not in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"], (
            f"{name}: the async metadata URL uses asyncpg, which uv.lock does not have")
        assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES", "").lower() == "false", f"{name} loads the example DAGs"


def test_airflow_services_share_secrets_and_reach_the_api_server(services):
    shared = ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY",
              "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
              "AIRFLOW__CORE__DAGS_FOLDER", "PIPELINE_TIMEZONE", "RELEASE_DEADLINE_HOUR")
    reference = environment(services[API_SERVER])
    for name in (*AIRFLOW_COMPONENTS, INIT):
        env = environment(services[name])
        for key in shared:
            assert env.get(key) == reference.get(key), (
                f"{name}: {key} is {env.get(key)!r} but {API_SERVER} has {reference.get(key)!r}; "
                "every Airflow service needs the same value")
    url = urlparse(reference["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    container_ports = {str(port).rsplit(":", 1)[-1] for port in services[API_SERVER].get("ports", [])}
    assert url.hostname == API_SERVER and str(url.port) in container_ports and url.path == "/execution/", (
        f"AIRFLOW__CORE__EXECUTION_API_SERVER_URL should be http://{API_SERVER}:<its port>/execution/, "
        f"is {url.geturl()}")


def test_published_ports_are_bound_to_loopback(services, generated_env):
    assert services[API_SERVER].get("ports"), f"{API_SERVER} publishes no port"
    for name, service in services.items():
        for port in interpolate(service.get("ports") or [], generated_env, name):
            if isinstance(port, dict):
                host_ip, published = port.get("host_ip"), port.get("published")
            else:
                host_ip, _, published = str(port).rpartition(":")[0].rpartition(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {port!r} on every interface, not 127.0.0.1 only"
            assert published, f"{name} publishes {port!r} without a fixed host port"
    published = interpolate(services[API_SERVER]["ports"], {}, API_SERVER)
    assert "127.0.0.1:8080:8080" in published, f"{API_SERVER} should default to 127.0.0.1:8080, is {published}"


def test_tasks_see_the_warehouse_and_the_shared_folders(services, generated_env):
    runners = [name for name, service in services.items() if "WAREHOUSE_URL" in environment(service)]
    assert {WORKER, "airflow-dag-processor"} <= set(runners), (
        "the workers (tasks) and the dag-processor (DAG callbacks write audit.pipeline_runs) need WAREHOUSE_URL; "
        f"it is set in {runners}")
    for name in runners:
        env = interpolate(environment(services[name]), generated_env, name)
        url = urlparse(env["WAREHOUSE_URL"])
        assert url.hostname == "warehouse" and url.password == generated_env["WAREHOUSE_DB_PASSWORD"], (
            f"{name}: WAREHOUSE_URL should point at the warehouse service with WAREHOUSE_DB_PASSWORD")
        assert depends_on(services[name]).get("warehouse") == "service_healthy", (
            f"{name} uses the warehouse, so it must wait for it to be healthy")
        for role in ("REPORT_READER", "ANALYST", "APPROVER", "LOADER", "TRANSFORMER"):
            assert env.get(f"WAREHOUSE_{role}_PASSWORD"), (
                f"{name}: WAREHOUSE_{role}_PASSWORD is unset, so each container would make its own password")
    for name, service in services.items():
        env = environment(service)
        mounts = named_volume_mounts(service)
        for variable, volume in (("LANDING_DIR", "landing"), ("REPORTS_DIR", "reports")):
            if variable in env:
                assert mounts.get(env[variable]) == volume, (
                    f"{name}: {variable}={env[variable]} but volume {volume!r} is not mounted there "
                    f"(mounts: {mounts})")
    worker = environment(services[WORKER])
    assert worker.get("LANDING_DIR") and worker.get("REPORTS_DIR"), f"{WORKER} lacks LANDING_DIR or REPORTS_DIR"
    assert worker.get("PSEUDONYMISATION_KEY"), (
        f"{WORKER} lacks PSEUDONYMISATION_KEY: each replica would generate its own key and pseudonyms would differ")
    logs = {path for path, volume in named_volume_mounts(services[WORKER]).items() if volume == "airflow-logs"}
    for name in (*AIRFLOW_COMPONENTS, INIT):
        assert logs <= set(named_volume_mounts(services[name])), f"{name} does not mount the shared task logs"


# --- secrets -------------------------------------------------------------------------------------------------

def secret_problems(name: str, env: dict[str, str]) -> list[str]:
    problems = []
    for key, value in env.items():
        if SECRET_NAME.search(key) and not key.endswith(("_FILE", "_USERS", "_USER")) and key != "AIRFLOW_HOME":
            match = VARIABLE.fullmatch(value)
            if not match:
                problems.append(f"{name}: {key} is a literal ({value[:4]}...), not a ${{VARIABLE}}")
            elif match.group("op") in (":-", "-") and match.group("arg"):
                problems.append(f"{name}: {key} has a committed default ({match.group(0)})")
        for url in re.findall(r"[a-z0-9+]+://[^\s'\"]+", value):
            password = urlparse(url).password
            if password and not VARIABLE.fullmatch(password):
                problems.append(f"{name}: {key} has a literal password in {url.split('@')[-1]}")
    return problems


def test_no_plaintext_secrets(compose, services):
    problems = []
    for name, service in services.items():
        problems += secret_problems(name, environment(service))
    for key, block in compose.items():
        if key.startswith("x-") and isinstance(block, dict) and "environment" not in block:
            problems += secret_problems(key, {k: str(v) for k, v in block.items() if not isinstance(v, dict)})
    assert not problems, "secrets must come from the environment/.env:\n" + "\n".join(problems)
    for name in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
        value = environment(services[API_SERVER])[name]
        assert VARIABLE.fullmatch(value) and VARIABLE.fullmatch(value).group("op") == ":?", (
            f"{name} should be a required variable (${{NAME:?...}}), is {value!r}")


def test_compose_refuses_to_start_without_the_secrets(compose):
    with pytest.raises(KeyError, match="required variable"):
        interpolate(compose, {}, "docker-compose.yml")


def test_env_example_documents_every_variable_and_make_env_fills_the_secrets(generated_env):
    text = COMPOSE_FILE.read_text(encoding="utf-8").replace("$$", "")  # $$ escapes: the container's variables
    required = {m.group("name") for m in VARIABLE.finditer(text) if m.group("op") in (":?", "?")}
    optional = {m.group("name") for m in VARIABLE.finditer(text) if m.group("op") not in (":?", "?")}
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    listed_required = set(load_make_env().required_names(example))
    assert required == listed_required, (
        f"required variables of docker-compose.yml and the empty (required) lines of deploy/env.example differ: "
        f"only in compose {sorted(required - listed_required)}, only in env.example "
        f"{sorted(listed_required - required)}")
    undocumented = {name for name in optional if not re.search(rf"^#?\s*{name}=", example, re.M)}
    assert not undocumented, f"deploy/env.example does not mention the optional variable(s) {sorted(undocumented)}"
    for name in required:
        value = generated_env.get(name, "")
        assert re.fullmatch(r"[A-Za-z0-9_\-=]{32,}", value), (
            f"make_env.py made {name}={value!r}: it must be URL-safe (it goes into URLs) and long")
    from cryptography.fernet import Fernet

    Fernet(generated_env["AIRFLOW_FERNET_KEY"].encode())  # raises if it is not a valid Fernet key
    assert len(set(generated_env[name] for name in required)) == len(required), "make_env.py repeated a secret"


# --- the image -------------------------------------------------------------------------------------------------

def test_dags_folder_is_where_the_image_has_the_dags(services, image):
    dags = image.path_of("dags")
    assert dags, "the Dockerfile does not COPY dags/ into the image"
    for name in (*AIRFLOW_COMPONENTS, INIT):
        folder = environment(services[name]).get("AIRFLOW__CORE__DAGS_FOLDER")
        assert folder == dags, f"{name}: AIRFLOW__CORE__DAGS_FOLDER={folder} but the Dockerfile copies dags/ to {dags}"
    assert image.env.get("AIRFLOW__CORE__DAGS_FOLDER", dags) == dags, (
        f"the image's ENV AIRFLOW__CORE__DAGS_FOLDER={image.env['AIRFLOW__CORE__DAGS_FOLDER']} but dags/ is at {dags}")
    home = image.env.get("AIRFLOW_HOME")
    for name in (*AIRFLOW_COMPONENTS, INIT):
        env = environment(services[name])
        assert env.get("AIRFLOW_HOME", home) == home, f"{name}: AIRFLOW_HOME differs from the image's {home}"
        logs = env.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER", f"{home}/logs")
        assert logs in named_volume_mounts(services[name]), f"{name}: the log folder {logs} is not on a volume"


def test_dockerfile_installs_from_the_lock_with_uv_sync_frozen(image):
    runs = image.runs()
    syncs = [i for i, run in enumerate(runs) if "uv sync" in run]
    assert syncs and all("--frozen" in runs[i] for i in syncs), "the Dockerfile must install with `uv sync --frozen`"
    assert not any("--no-editable" in runs[i] for i in syncs), (
        "the project must be installed editable: its packages find dbt/ and expectations/ beside them")
    assert all("--no-dev" in runs[i] for i in syncs), "the image should not carry the dev dependency group"
    # Layer caching: the lock is installed before the project's sources are copied.
    order = [keyword for keyword, _ in image.instructions]
    lock_copy = next(i for i, (keyword, rest) in enumerate(image.instructions)
                     if keyword == "COPY" and "uv.lock" in rest)
    first_sync = next(i for i, (keyword, rest) in enumerate(image.instructions)
                      if keyword == "RUN" and "uv sync" in rest)
    source_copy = next(i for i, (keyword, rest) in enumerate(image.instructions)
                       if keyword == "COPY" and re.search(r"\b(ingest|pipeline|dags)/", rest))
    assert lock_copy < first_sync < source_copy, (
        f"copy pyproject.toml and uv.lock, run `uv sync`, then copy the sources (instructions: {order})")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pinned = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", makefile, re.M)
    dockerfile_uv = re.search(r"^ARG UV_VERSION=(\S+)", DOCKERFILE.read_text(encoding="utf-8"), re.M)
    assert dockerfile_uv, "the Dockerfile does not pin uv (ARG UV_VERSION=...)"
    if pinned:
        assert dockerfile_uv.group(1) == pinned.group(1), (
            f"the Dockerfile installs uv {dockerfile_uv.group(1)}, the Makefile pins {pinned.group(1)}")


def test_dockerfile_copies_files_that_exist_and_are_in_the_build_context(image):
    ignore = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")]
    for sources, _ in image.copies:
        for source in sources:
            path = source.rstrip("/")
            assert (ROOT / path).exists(), f"the Dockerfile copies {source}, which is not in the repository"
            assert not ignored(path, ignore), f"the Dockerfile copies {source}, which .dockerignore leaves out"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    packages = re.search(r"packages\s*=\s*\[([^\]]*)\]", pyproject)
    needed = set(re.findall(r'"([^"]+)"', packages.group(1))) if packages else set()
    readme = re.search(r'^readme\s*=\s*"([^"]+)"', pyproject, re.M)
    needed |= {"dags", "dbt", "expectations", "pyproject.toml", "uv.lock", *([readme.group(1)] if readme else [])}
    missing = {path for path in needed if image.path_of(path) is None}
    assert not missing, f"the image lacks {sorted(missing)} (add a COPY line to the Dockerfile)"
    project = image.path_of("pyproject.toml").rsplit("/", 1)[0]
    misplaced = {path: image.path_of(path) for path in needed if image.path_of(path) != f"{project}/{path}"}
    assert not misplaced, f"the project's parts must sit together in {project}: {misplaced}"
    for secret in (".env", ".warehouse", ".venv", ".git"):
        assert ignored(secret, ignore), f".dockerignore must leave {secret} out of the build context"


def ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics enough for this file: a path is left out if it or a parent matches the last
    matching pattern (`**/` matches any depth, `!` re-includes)."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        bare = pattern[3:] if pattern.startswith("**/") else None
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, pattern) or (
                    bare and any(fnmatch.fnmatchcase("/".join(candidate.split("/")[i:]), bare)
                                 for i in range(len(candidate.split("/"))))):
                result = not negate
    return result


def test_image_runs_as_a_non_root_user_with_a_supported_python(services, image):
    assert image.user not in ("root", "0", ""), f"the image's last USER is {image.user!r}: run as a non-root user"
    for name, service in services.items():
        assert str(service.get("user", "")).split(":")[0] not in ("root", "0"), f"{name} runs as root"
    version = re.search(r"python:(3\.\d+)", image.base)
    assert version, f"the image is not built FROM an official python image: {image.base}"
    minor = int(version.group(1).split(".")[1])
    requires = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    lower = re.search(r'requires-python\s*=\s*">=3\.(\d+)', requires)
    upper = re.search(r'requires-python\s*=\s*"[^"]*<3\.(\d+)', requires)
    assert (not lower or minor >= int(lower.group(1))) and (not upper or minor < int(upper.group(1))), (
        f"the base image's Python {version.group(1)} is outside requires-python of pyproject.toml")


def test_scripts_the_stack_runs_are_in_the_image_and_executable(services, image):
    referenced = set(image.entrypoint[:1])
    for service in services.values():
        command = service.get("command") or []
        referenced |= {word for word in (command if isinstance(command, list) else command.split())
                       if word.startswith("/opt/")}
    project = image.path_of("pyproject.toml").rsplit("/", 1)[0]
    modes = git_modes()
    for path in referenced:
        assert path.startswith(project + "/"), f"{path} is run but not inside the project folder {project}"
        relative = path[len(project) + 1:]
        assert image.path_of(relative) == path, f"{path} is run but the Dockerfile does not copy {relative}"
        file = ROOT / relative
        assert file.is_file(), f"{path} is run but {relative} is not in the repository"
        mode = modes.get(relative)
        executable = mode == "100755" if mode else bool(file.stat().st_mode & 0o111)
        assert executable, f"{relative} is run directly but is not executable (chmod +x, git add --chmod=+x)"


def git_modes() -> dict[str, str]:
    """File modes as git records them (the image is built from a checkout); empty outside a git work tree."""
    try:
        listing = subprocess.run(["git", "ls-files", "-s", "deploy"], cwd=ROOT, capture_output=True, text=True,
                                 timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {line.split("\t", 1)[1]: line.split()[0] for line in listing.splitlines() if "\t" in line}


def test_celery_provider_and_redis_client_are_in_the_image(image):
    lock = (ROOT / "uv.lock").read_text(encoding="utf-8")
    locked = dict(re.findall(r'^name = "([^"]+)"\nversion = "([^"]+)"', lock, re.M))
    needed = ("apache-airflow-providers-celery", "celery", "redis")
    if all(name in locked for name in needed):
        return
    installs = [run for run in image.runs() if "uv pip install" in run]
    assert any(CELERY_REQUIREMENTS.name in run for run in installs), (
        f"uv.lock lacks {[n for n in needed if n not in locked]} and the Dockerfile does not install "
        f"deploy/{CELERY_REQUIREMENTS.name}")
    assert any("--constraint" in run or " -c " in run for run in installs), (
        "the extra install must be constrained to uv.lock's versions so it cannot move a locked package")
    pins = {}
    for line in CELERY_REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", line)
            assert match, f"deploy/{CELERY_REQUIREMENTS.name}: {line!r} is not pinned as name==version"
            pins[match.group(1).lower()] = match.group(2)
    for name in needed:
        assert name in locked or name in pins, f"neither uv.lock nor deploy/{CELERY_REQUIREMENTS.name} has {name}"
    clashes = {name: (version, locked[name]) for name, version in pins.items() if locked.get(name, version) != version}
    assert not clashes, (
        f"deploy/{CELERY_REQUIREMENTS.name} pins other versions than uv.lock (pinned, locked): {clashes}; "
        "drop them from the file")
