#!/usr/bin/env bash
# One-off service `airflow-init` of docker-compose.yml: checks the shared volumes, then creates or upgrades
# the Airflow metadata database. The long-running Airflow services start only after it exits with 0.
set -euo pipefail

fail() { echo "airflow-init: $*" >&2; exit 1; }

echo "airflow-init: running as uid $(id -u)"
for dir in "${AIRFLOW_HOME}/logs" "${REPORTS_DIR:-/data/reports}"; do
    [ -d "$dir" ] || fail "$dir does not exist (is its volume mounted?)"
    [ -w "$dir" ] || fail "$dir is not writable by uid $(id -u): a bind-mounted host folder must be owned by that uid"
done
landing="${LANDING_DIR:-/data/landing}"
[ -d "$landing" ] && [ -r "$landing" ] && [ -x "$landing" ] \
    || fail "$landing is not readable by uid $(id -u): the workers read the deliveries there"

airflow version
airflow db migrate
echo "airflow-init: metadata database is up to date"
