"""A Great Expectations context for a run of the suites. Every check runs as SQL in the warehouse (table assets;
the current-rows filter of the raw suites is a row_condition, which becomes a WHERE clause); each suite runs
through a GX Checkpoint. The context is ephemeral (data sources, suites, validation definitions and checkpoints
in memory), except for the validation results and the Data Docs site, kept on disk under
`.warehouse/gx-data-docs/` (or GX_DATA_DOCS_DIR; quality/docs.py). Without a writable folder there, results stay
in memory and no Data Docs are built.

One PostgreSQL data source per schema, the schema given as the connection's search_path: GX 1.14+
deprecates `schema_name` on table assets in favour of the schema in the data source's connection, and a
PostgreSQL URL has no other place for it. Custom SQL names every other table with its schema."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from quality.docs import build_data_docs, project_config, writable_docs_dir
from quality.results import CheckResult, check_results
from quality.suites import SuiteFile

DATASOURCE = "warehouse"


# Counts only: asking for example rows costs two more scans per check even when it passes; FailingRows fetches
# them for the checks that failed. The validation results, and so the Data Docs, hold no rows.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


class Validator:
    def __init__(self, context, sqlalchemy_url: str, docs_dir: Path | None = None):
        self.context = context
        self.sqlalchemy_url = sqlalchemy_url
        self.docs_dir = docs_dir  # None: no Data Docs
        self.datasources: dict = {}
        self.validation_results: list = []  # GX's keys of the results of this run, for the Data Docs

    def datasource(self, schema: str, temp_tables: bool = False):
        """The data source of a schema. `temp_tables`: its query assets are materialised once as a temporary table
        on the server (the changed cells of a raw table, quality/cells.py); without it GX would run the query in full
        to learn its columns and pull every row of it to the client."""
        key = (schema, temp_tables)
        if key not in self.datasources:
            url = make_url(self.sqlalchemy_url)
            url = url.update_query_dict({"options": f"-c search_path={schema}"})
            # The URL (with the role's password) reaches GX as an environment reference, which GX substitutes
            # when it connects: its configuration, validation results and Data Docs never hold the password.
            variable = f"GX_WAREHOUSE_URL_{schema.upper()}"
            os.environ[variable] = url.render_as_string(hide_password=False)
            self.datasources[key] = self.context.data_sources.add_postgres(
                name=f"{DATASOURCE}_{schema}" + ("_temp_tables" if temp_tables else ""),
                connection_string="${" + variable + "}", create_temp_table=temp_tables)
        return self.datasources[key]

    def close(self) -> None:
        for datasource in self.datasources.values():
            datasource.get_engine().dispose()

    def validate(self, suite: SuiteFile, run_name: str | None = None, cells: str | None = None) -> list[CheckResult]:
        """Run the suite through a GX Checkpoint (one validation definition: the suite on its table's
        whole-table batch). `run_name` becomes the GX run name (the pipeline's run id), shown in the Data Docs.

        `cells` (quality/cells.py: a SQL condition on the table's rows, the changed cells of a feed): the checks of
        scope rows and cell validate a query asset of those rows only, the checks of scope table the whole table,
        two validation definitions of one Checkpoint. The results come back in the suite file's order."""
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier

        everything = range(len(suite.definition["expectations"]))
        parts = [(suite.name, suite.definition, None, list(everything))]
        if cells is not None:
            parts = [(f"{suite.name}.changed_cells", suite.subset({"rows", "cell"}),
                      f"select * from {suite.schema}.{suite.table} where {cells}",
                      [i for i in everything if suite.scopes[i] != "table"]),
                     (suite.name, suite.subset({"table"}), None, [i for i in everything if suite.scopes[i] == "table"])]
        definitions, positions = [], []
        for name, definition, query, indices in parts:
            if not indices:
                continue
            positions.append(indices)
            if query is None:
                asset = self.datasource(suite.schema).add_table_asset(name=name, table_name=suite.table)
                batch = asset.add_batch_definition_whole_table(name=f"{suite.schema}.{suite.table}")
            else:
                asset = self.datasource(suite.schema, temp_tables=True).add_query_asset(name=name, query=query)
                batch = asset.add_batch_definition_whole_table(name=f"{suite.schema}.{suite.table}: changed cells")
            definitions.append(self.context.validation_definitions.add(gx.ValidationDefinition(
                name=name, data=batch, suite=self.context.suites.add(suite.to_gx({**definition, "name": name})))))
        # No UpdateDataDocsAction here: it rebuilds the whole index once per validation result; run_suites
        # builds the Data Docs once, for all its suites (build_data_docs).
        checkpoint = self.context.checkpoints.add(gx.Checkpoint(
            name=suite.name, validation_definitions=definitions, actions=[], result_format=RESULT_FORMAT))
        parameters = {"today": date.today().isoformat()}
        result = checkpoint.run(expectation_parameters=parameters,
                                run_id=RunIdentifier(run_name=run_name, run_time=datetime.now(UTC)))
        self.validation_results.extend(result.run_results)
        by_suite = {suite_result.suite_name: suite_result for suite_result in result.run_results.values()}
        checks = {}
        for definition, indices in zip(definitions, positions, strict=True):
            results = check_results(definition.suite, by_suite[definition.suite.name],
                                    FailingRows(definition, suite.index_columns, parameters), suite.pin_keys)
            checks.update(zip(indices, results, strict=True))
        return [checks[i] for i in everything]

    def build_data_docs(self) -> Path | None:
        """Update the Data Docs with this run's validation results (quality/docs.py); the index, or None."""
        if self.docs_dir is None or not self.validation_results:
            return None
        return build_data_docs(self.context, self.docs_dir, self.validation_results)


class FailingRows:
    """A second look at a check that failed: its failing rows (custom SQL checks, all of them) or
    example rows with their index columns (column checks)."""

    EXAMPLES = 20

    def __init__(self, definition, index_columns: tuple[str, ...], parameters: dict):
        self.definition = definition
        self.index_columns = index_columns
        self.parameters = parameters
        self._batch = None

    def unexpected_rows(self, expectation) -> list[dict]:
        with _quiet():  # get_unexpected_rows always draws a progress bar
            return self.definition.get_unexpected_rows(expectation)

    def examples(self, expectation) -> dict:
        with _quiet():
            if self._batch is None:
                self._batch = self.definition.batch_definition.get_batch()
            result = self._batch.validate(expectation, expectation_parameters=self.parameters, result_format={
                "result_format": "SUMMARY", "partial_unexpected_count": self.EXAMPLES,
                "unexpected_index_column_names": list(self.index_columns)})
        return dict(result.result or {})


def _quiet():
    return contextlib.redirect_stderr(io.StringIO())


@contextmanager
def validator(sqlalchemy_url: str, data_docs: bool = True) -> Iterator[Validator]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    gx_logger = logging.getLogger("great_expectations")
    if gx_logger.level == logging.NOTSET:  # GX logs at INFO on every expectation; Airflow shows INFO
        gx_logger.setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    docs_dir = writable_docs_dir() if data_docs else None
    context = gx.get_context(mode="ephemeral", project_config=project_config(docs_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    gx_validator = Validator(context, sqlalchemy_url, docs_dir)
    try:
        yield gx_validator
    finally:
        gx_validator.close()
