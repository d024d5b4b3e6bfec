"""Secrets (issue 12): no command prints a password or the pseudonymisation key unless asked for exactly that
(`python -m warehouse url`, i.e. `make db-url`); none reaches the audit tables or the log files of a run; and
the embedded server wants a password for every login, on the unix socket as over TCP."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import psycopg
import pytest

from warehouse import roles

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KEY = "secret-pseudonymisation-key-" + "s3cr3t" * 6
HEADER = "Mã sự kiện,Ngày sinh,Giới tính,Sinh sống,Cân nặng (g),Mã tỉnh,Mã xã,Mã dân tộc mẹ,Nơi sinh\n"


def secrets_of(url: str) -> dict[str, str]:
    """Every secret a leak could show: the superuser's password, each role's, the pseudonymisation key."""
    found = {"superuser password": unquote(urlparse(url).password or ""), "pseudonymisation key": KEY}
    found.update({f"{role} password": roles.role_password(role) for role in roles.ROLES})
    assert all(len(value) >= 16 for value in found.values()), "a secret too short to search for"
    return found


def assert_no_secret(text: str, secrets: dict[str, str], where: str) -> None:
    for name, value in secrets.items():
        for form in {value, quote(value, safe="")}:
            assert form not in text, f"the {name} appears in {where}"


def run_cli(url: str, *args: str, env: dict | None = None, timeout: float = 300) -> str:
    environment = {**os.environ, "WAREHOUSE_URL": url, "PSEUDONYMISATION_KEY": KEY, **(env or {})}
    result = subprocess.run([sys.executable, "-m", *args], env=environment, cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.fixture
def loaded(fresh_warehouse, tmp_path, monkeypatch):
    """A run's traces: a load (one good file with a quarantined row, one rejected file) through the DAG's ingest
    step, a forced bootstrap, a run record with its params and events, logged at DEBUG to a file."""
    from ingest.pseudonymise import pseudonymisation_key
    from pipeline import steps
    from pipeline.runs import record_event, record_run_end, record_run_start

    monkeypatch.setenv("PSEUDONYMISATION_KEY", KEY)
    pseudonymisation_key.cache_clear()
    landing = tmp_path / "landing"
    (landing / "y_te_sinh").mkdir(parents=True)
    (landing / "y_te_sinh" / "sinh-2025-H1.csv").write_text(
        HEADER + "E1,01/02/2025,Nam,C,3100,01,00004,01,CSYT\nE2,31/02/2025,Nữ,C,,01,00004,01,CSYT\n", encoding="utf-8")
    (landing / "y_te_sinh" / "broken-2025-H1.csv").write_text("not,the,header\n1,2,3\n", encoding="utf-8")
    monkeypatch.setenv("LANDING_DIR", str(landing))
    log_file = tmp_path / "pipeline.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        from warehouse.schema import bootstrap

        bootstrap(force=True)
        record_run_start("child_stats_nightly", "secrets-run", "manual", "someone", None,
                         {"feeds": ["y_te_sinh"], "periods": []})
        summary = steps.ingest("y_te_sinh", "secrets-run")
        assert summary["files"] == 2 and summary["rejected_files"]
        from quality import run_suites
        from warehouse.connection import acting_as

        with acting_as("transformer"):  # as the DAG's validate_raw: GE results and Data Docs are written
            run_suites(["raw_y_te_sinh"], run_id="secrets-run")
        record_event("task_failed", "error", "a task failed", "child_stats_nightly", "secrets-run", "ingest_y_te_sinh")
        record_run_end("secrets-run", "failed", "child_stats_nightly")
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()
        pseudonymisation_key.cache_clear()
    return fresh_warehouse, log_file, tmp_path


def test_no_secret_in_the_summary_the_commands_the_audit_tables_or_the_logs(loaded):
    url, log_file, tmp_path = loaded
    secrets = secrets_of(url)
    # the run's summary (`make run` prints it after the DAG), and the commands that mention the warehouse
    summary = run_cli(url, "pipeline", "summary")
    assert "Run secrets-run" in summary and "rejected y_te_sinh/broken-2025-H1.csv" in summary
    assert f"postgres:***@{urlparse(url).hostname}:{urlparse(url).port}" in summary and "make db-url" in summary
    assert_no_secret(summary, secrets, "the run summary (python -m pipeline summary)")
    for command in (("warehouse", "start"), ("warehouse", "bootstrap"), ("ingest", "y_te_sinh"),
                    ("publish", "revisions")):
        assert_no_secret(run_cli(url, *command, env={"LANDING_DIR": str(tmp_path / "landing")}), secrets,
                         "python -m " + " ".join(command))
    # asked for exactly that: the URL with the password, and nothing else
    assert run_cli(url, "warehouse", "url").strip() == url
    printed = run_cli(url, "warehouse", "url", "--role", "analyst").strip()
    assert printed == roles.role_url("analyst", url)
    assert_no_secret(printed, {k: v for k, v in secrets.items() if k != "analyst password"}, "url --role analyst")

    with psycopg.connect(url) as conn:
        audit = conn.execute(
            """select coalesce(string_agg(reason, E'\\n'), '') from audit.load_batches
               union all select coalesce(string_agg(concat_ws(' ', event, message, notified), E'\\n'), '')
                           from audit.pipeline_events
               union all select coalesce(string_agg(concat_ws(' ', params::text, triggering_user, triggered_by),
                                                    E'\\n'), '') from audit.pipeline_runs
               union all select coalesce(string_agg(concat_ws(' ', record::text, errors::text, reason), E'\\n'), '')
                           from quarantine.rejected_rows
               union all select coalesce(string_agg(concat_ws(' ', observed::text, failing_rows::text, message),
                                                    E'\\n'), '') from audit.quality_results
               union all select fingerprint::text from audit.bootstrap_state""").fetchall()
    text = "\n".join(row[0] for row in audit)
    assert '"feeds": ["y_te_sinh"]' in text
    assert_no_secret(text, secrets, "the audit tables")

    docs = [path for path in Path(os.environ["GX_DATA_DOCS_DIR"]).rglob("*") if path.is_file()]
    assert docs, "no Great Expectations results or Data Docs were written"
    for path in docs:
        assert_no_secret(path.read_text(encoding="utf-8", errors="replace"), secrets, str(path))

    logged = log_file.read_text(encoding="utf-8")
    assert "y_te_sinh" in logged  # the load logged
    assert_no_secret(logged, secrets, "the pipeline's log")


def test_no_secret_in_an_airflow_run_log(fresh_warehouse, tmp_path, monkeypatch):
    """A real (one-task) Airflow run of the project's DAGs file, its task connecting as the transformer: its log
    files hold no password and no key."""
    from pipeline.airflow_local import run_dag

    monkeypatch.setenv("PSEUDONYMISATION_KEY", KEY)
    home = tmp_path / "airflow"
    assert run_dag(fresh_warehouse, tmp_path / "landing", airflow_home=home, quiet=True,
                   dag_ids=("child_stats_deadline",)) == 0
    logs = [path for path in home.rglob("*.log") if path.is_file()]
    assert logs
    secrets = secrets_of(fresh_warehouse)
    for path in logs:
        assert_no_secret(path.read_text(encoding="utf-8", errors="replace"), secrets, str(path))
    with psycopg.connect(fresh_warehouse) as conn:
        events = conn.execute("select event, message from audit.pipeline_events").fetchall()
    assert_no_secret(repr(events), secrets, "audit.pipeline_events")


# --- the embedded server --------------------------------------------------------------------------------------

@pytest.fixture
def embedded_server(server_url):
    if os.environ.get("WAREHOUSE_URL"):
        pytest.skip("WAREHOUSE_URL names another server: the embedded one is not used")
    from warehouse import embedded

    return embedded.ensure_running()


def _over_socket(state, password: str | None) -> psycopg.Connection:
    return psycopg.connect(host=str(state.socket_dir), port=state.port, user="postgres", dbname="postgres",
                           password=password, connect_timeout=5)


def test_the_socket_wants_a_password_like_tcp(embedded_server):
    state = embedded_server
    assert stat.S_IMODE(state.socket_dir.stat().st_mode) == 0o700
    with pytest.raises(psycopg.OperationalError, match="no password supplied|password authentication failed"):
        _over_socket(state, None).close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _over_socket(state, "not-the-password").close()
    with _over_socket(state, state.password) as conn:
        assert conn.execute("select inet_client_addr() is null, current_user").fetchone() == (True, "postgres")
        methods = conn.execute("select type, auth_method, address from pg_hba_file_rules").fetchall()
        settings = dict(conn.execute("select name, setting from pg_settings where name in"
                                     " ('listen_addresses', 'password_encryption')").fetchall())
    assert {method for _, method, _ in methods} == {"scram-sha-256"}
    assert {address for kind, _, address in methods if kind.startswith("host")} <= {"127.0.0.1", "::1"}
    assert settings == {"listen_addresses": "127.0.0.1", "password_encryption": "scram-sha-256"}
    with pytest.raises(psycopg.OperationalError, match="password authentication failed|no password supplied"):
        psycopg.connect(host="127.0.0.1", port=state.port, user="postgres", dbname="postgres",
                        password="not-the-password", connect_timeout=5).close()


def test_a_data_dir_of_an_earlier_version_is_migrated_on_start(embedded_server):
    """Earlier versions initialised the cluster with local `trust`: ensure_running() rewrites pg_hba.conf and
    reloads the running server."""
    from warehouse import embedded

    state = embedded_server
    hba = state.data_dir / "pg_hba.conf"
    try:
        hba.write_text("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
        embedded._pg_ctl(state, "reload")
        for _ in range(50):  # the reload is asynchronous
            try:
                _over_socket(state, None).close()
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        else:
            pytest.fail("the simulated old pg_hba.conf did not take effect")
        embedded.ensure_running()
        for _ in range(50):
            try:
                _over_socket(state, None).close()
                time.sleep(0.1)
            except psycopg.OperationalError as exc:
                assert "no password supplied" in str(exc) or "password authentication failed" in str(exc)
                break
        else:
            pytest.fail("the socket still trusts after ensure_running()")
        assert hba.read_text() == embedded.PG_HBA
    finally:
        embedded.ensure_running()
