# syntax=docker/dockerfile:1
# The child-statistics Airflow image: Airflow 3 (api-server, scheduler, dag-processor, triggerer, Celery
# worker) with the project's packages, dbt project and expectation suites. Built by docker-compose.yml
# (`docker compose build`); the same image runs every Airflow service.
#
# Layout (docker-compose.yml and tests/unit/test_compose_stack.py rely on it):
#   /opt/child-stats            the project (read-only, owned by root); its virtualenv in .venv
#   /opt/child-stats/dags       AIRFLOW__CORE__DAGS_FOLDER
#   /opt/airflow                AIRFLOW_HOME (logs/ on a volume shared by every Airflow service)
#   /data/landing, /data/reports  LANDING_DIR and REPORTS_DIR, named volumes in docker-compose.yml
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

# The same uv as the Makefile (UV_VERSION there).
ARG UV_VERSION=0.13.9
# The non-root user every service runs as (the uid of Airflow's official image).
ARG AIRFLOW_UID=50000

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/opt/child-stats/.venv

RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
 && groupadd --gid "${AIRFLOW_UID}" airflow \
 && useradd --uid "${AIRFLOW_UID}" --gid "${AIRFLOW_UID}" --create-home --home-dir /home/airflow \
      --shell /bin/bash airflow

WORKDIR /opt/child-stats

# 1. Third-party packages from the lock only, so this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# 2. The Celery executor's provider and its Redis client. They are not in uv.lock (pyproject.toml does not
#    ask for them), so they are installed here at the exact versions of deploy/requirements-celery.txt,
#    with every locked package held at its locked version (constraints exported from uv.lock): nothing the
#    lock pins can move. Drop this step once the provider is added to pyproject.toml and locked.
COPY deploy/requirements-celery.txt deploy/requirements-celery.txt
RUN --mount=type=cache,target=/root/.cache/uv \
    uv export --frozen --no-dev --no-emit-project --no-hashes --quiet --output-file /tmp/lock-constraints.txt \
 && uv pip install --python /opt/child-stats/.venv/bin/python \
      --requirement deploy/requirements-celery.txt --constraint /tmp/lock-constraints.txt \
 && rm /tmp/lock-constraints.txt

# 3. The project. Installed editable (uv's default; never --no-editable): the packages find dbt/,
#    expectations/ and the reference seeds beside them (Path(__file__).parent.parent), so they must run
#    from /opt/child-stats, not from site-packages. --inexact keeps the packages of step 2.
COPY README.md ./
COPY ingest/ ingest/
COPY warehouse/ warehouse/
COPY quality/ quality/
COPY publish/ publish/
COPY report/ report/
COPY pipeline/ pipeline/
COPY dags/ dags/
COPY dbt/ dbt/
COPY expectations/ expectations/
COPY deploy/ deploy/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --inexact \
 && python -m compileall -q ingest warehouse quality publish report pipeline dags \
 && chmod 0755 deploy/*.sh \
 && mkdir -p dbt/target dbt/logs /opt/airflow/logs /data/landing /data/reports \
 && chown -R airflow:airflow dbt/target dbt/logs /opt/airflow /data

# Named volumes mounted on these paths start as copies of them, owned by the airflow user.
ENV PATH="/opt/child-stats/.venv/bin:${PATH}" \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/child-stats/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    GX_ANALYTICS_ENABLED=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false

USER airflow
ENTRYPOINT ["/opt/child-stats/deploy/entrypoint.sh"]
CMD ["airflow", "version"]
