"""An ephemeral Great Expectations context: nothing is written to disk, no Data Docs are built, and every
check runs as SQL in the warehouse (table assets; the current-rows filter of the raw suites is a
row_condition, which becomes a WHERE clause).

One PostgreSQL data source per schema, the schema given as the connection's search_path: GX 1.14+
deprecates `schema_name` on table assets in favour of the schema in the data source's connection, and a
PostgreSQL URL has no other place for it. Custom SQL names every other table with its schema."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from contextlib import contextmanager
from datetime import date
from typing import Iterator

from sqlalchemy.engine import make_url

from quality.results import CheckResult, check_results
from quality.suites import SuiteFile

DATASOURCE = "warehouse"


class Validator:
    def __init__(self, context, sqlalchemy_url: str):
        self.context = context
        self.sqlalchemy_url = sqlalchemy_url
        self.datasources: dict = {}

    def datasource(self, schema: str):
        if schema not in self.datasources:
            url = make_url(self.sqlalchemy_url)
            url = url.update_query_dict({"options": f"-c search_path={schema}"})
            self.datasources[schema] = self.context.data_sources.add_postgres(
                name=f"{DATASOURCE}_{schema}", connection_string=url.render_as_string(hide_password=False))
        return self.datasources[schema]

    def close(self) -> None:
        for datasource in self.datasources.values():
            datasource.get_engine().dispose()

    def validate(self, suite: SuiteFile) -> list[CheckResult]:
        import great_expectations as gx

        asset = self.datasource(suite.schema).add_table_asset(name=suite.name, table_name=suite.table)
        batch = asset.add_batch_definition_whole_table(name=f"{suite.schema}.{suite.table}")
        definition = self.context.validation_definitions.add(gx.ValidationDefinition(
            name=suite.name, data=batch, suite=self.context.suites.add(suite.to_gx())))
        parameters = {"today": date.today().isoformat()}
        # Counts only: asking for example rows costs two more scans per check even when it passes;
        # FailingRows fetches them for the checks that failed.
        result = definition.run(expectation_parameters=parameters,
                                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 0})
        return check_results(definition.suite, result, FailingRows(definition, suite.index_columns, parameters),
                             suite.pin_keys)


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
def validator(sqlalchemy_url: str) -> Iterator[Validator]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    gx_logger = logging.getLogger("great_expectations")
    if gx_logger.level == logging.NOTSET:  # GX logs at INFO on every expectation; Airflow shows INFO
        gx_logger.setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    gx_validator = Validator(context, sqlalchemy_url)
    try:
        yield gx_validator
    finally:
        gx_validator.close()
