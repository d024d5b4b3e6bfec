# One command to run the nightly job end to end, one to run the tests. Needs only Python 3.11+.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .warehouse/tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python

.PHONY: install lint run test test-fast db-url psql stop bench bench-nightly docs clean approve revisions report template up down status trigger retry confirm

$(UV):
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)  ## create .venv from the committed lock (seconds when cached)
	@$(UV) sync --frozen --python $(PYTHON) --quiet

run: install  ## start the warehouse, run the nightly DAG on the landing folder, print the summary [FULL_REFRESH=1: rebuild everything]
	$(if $(filter 1,$(FULL_REFRESH)),PIPELINE_FULL_REFRESH=1 )$(PY) -m pipeline run

lint: install  ## ruff (Python: lint rules and import order) and sqlfluff (dbt models and tests); config in pyproject.toml, .sqlfluff
	.venv/bin/ruff check --quiet .
	.venv/bin/sqlfluff lint --quiet --nocolor dbt/models dbt/tests

test: install lint  ## lint, then the whole test suite: unit, integration (real PostgreSQL, dbt, GE) and a real DAG run
	$(PY) -m pytest

test-fast: install  ## unit tests only
	$(PY) -m pytest -m "not integration and not e2e"

db-url: install  ## print a connection URL psql accepts (ROLE=report_reader|analyst|approver|loader|transformer: as that role)
	@$(PY) -m warehouse url$(if $(ROLE), --role $(ROLE))

approve: install  ## sign off a period: PERIOD=2025-H1 [PROVINCE=15 | ALL=1] BY="name" [NOTE="..."] [FORCE=1] [RELEASE=id]
	@$(PY) -m publish approve --period "$(PERIOD)" --by "$(BY)"$(if $(PROVINCE), --province "$(PROVINCE)")$(if $(NOTE), --note "$(NOTE)")$(if $(filter 1,$(FORCE)), --force)$(if $(filter 1,$(ALL)), --all)$(if $(RELEASE), --release "$(RELEASE)")

retry: install  ## load a batch's file again (a failed, rejected or interrupted file, after a fix): BATCH=n
	@$(PY) -m ingest retry "$(BATCH)"

confirm: install  ## apply a correction held because it would shrink a province-period by more than INGEST_MAX_SHRINK: BATCH=n BY="name"
	@$(PY) -m ingest confirm "$(BATCH)" --by "$(BY)"

revisions: install  ## approved values that the latest release changes (pending revisions) [PERIOD=2025-H1]
	@$(PY) -m publish revisions$(if $(PERIOD), --period "$(PERIOD)")

template: install  ## the aggregate-report workbooks the communes fill (bao_cao_tong_hop), one per province: YEAR=2025 [PROVINCE=01]
	@$(PY) -m ingest template --year "$(YEAR)"$(if $(PROVINCE), --province "$(PROVINCE)")

report: install  ## report workbooks, tidy CSV, SDMX and HTML of a period in reports/<period>/ [PERIOD=2025-H1; default: latest half-year and year]
	@$(PY) -m report$(if $(PERIOD), --period "$(PERIOD)")

up: install  ## start the warehouse and Airflow (api-server on 127.0.0.1:$${AIRFLOW_PORT:-8080}, scheduler, dag-processor, triggerer); the nightly schedule is live
	@$(PY) -m pipeline up

down:  ## stop every process `make up` started
	@$(PY) -m pipeline down

status:  ## the Airflow services and their health
	@$(PY) -m pipeline status

trigger: install  ## start a nightly run now through the REST API [FEEDS="y_te_sinh ..."] [PERIODS="2025-H1 ..."] [WAIT=1] [FULL_REFRESH=1]
	@$(PY) -m pipeline trigger$(if $(FEEDS), --feeds "$(FEEDS)")$(if $(PERIODS), --periods "$(PERIODS)")$(if $(filter 1,$(WAIT)), --wait)$(if $(filter 1,$(FULL_REFRESH)), --full-refresh)

psql: install  ## open psql on the warehouse
	$(PY) -m warehouse psql

stop:  ## stop the embedded PostgreSQL
	$(PY) -m warehouse stop

bench: install  ## load-throughput benchmark (see bench/README.md)
	$(PY) -m bench.ingest_throughput

bench-nightly: install  ## the whole night at a share of the nation: SCALE=0.1 (default 0.01); see bench/README.md
	$(PY) -m bench.nightly --scale $(or $(SCALE),0.01)

docs: install  ## dbt docs as one offline HTML file in dbt/target/static_index.html; prints where the GE Data Docs are
	$(PY) -c "from pipeline.dbt import run_dbt; run_dbt('docs', 'generate', '--static')"
	@$(PY) -c "from quality.docs import data_docs_index as i; print('dbt docs: dbt/target/static_index.html'); print('Great Expectations Data Docs:', i() or 'none yet (run the nightly job)')"

clean: stop
	rm -rf .venv .warehouse landing reports dbt/target dbt/logs
