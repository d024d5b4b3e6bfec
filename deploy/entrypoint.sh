#!/bin/sh
# Entry point of every container of the image: writes the Airflow UI login from the environment, then runs
# the command (airflow api-server, airflow scheduler, airflow celery worker, python -m ..., bash).
#
# The UI login (Airflow's SimpleAuthManager, the only auth manager in uv.lock): when AIRFLOW_ADMIN_PASSWORD
# is set (docker-compose.yml gives it to the api-server only), the passwords file that SimpleAuthManager
# reads is written with it, so the password is the configured one instead of one generated and printed
# in the log at every new container.
set -eu

if [ -n "${AIRFLOW_ADMIN_PASSWORD:-}" ]; then
    python - <<'PY'
import json
import os
from pathlib import Path

home = Path(os.environ.get("AIRFLOW_HOME", "/opt/airflow"))
path = Path(os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
            or home / "simple_auth_manager_passwords.json.generated")
path.parent.mkdir(parents=True, exist_ok=True)
user = os.environ.get("AIRFLOW_ADMIN_USER") or "admin"
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w", encoding="utf-8") as handle:
    handle.write(json.dumps({user: os.environ["AIRFLOW_ADMIN_PASSWORD"]}) + "\n")
PY
fi

exec "$@"
