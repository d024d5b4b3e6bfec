"""GX's custom SQL check, computed with one query instead of two.

Great Expectations' `unexpected_rows_expectation` depends on two metrics, `unexpected_rows_query.row_count`
(`SELECT COUNT(*) FROM (<query>)`) and `unexpected_rows_query.table` (the query again, its first 200 rows), and
uses the rows only for the COMPLETE result format. The gate validates with SUMMARY and fetches the failing rows of
a failed check itself (quality/context.py, FailingRows), so the second run of every query, a third of the raw
suites' time on the 1 % sample (bench/README.md), bought nothing. The suite files keep GX's own type; the suites
are built with this subclass (quality/suites.py, SuiteFile.to_gx), which GX validates, renders and reports like
its parent.
"""

from __future__ import annotations

from typing import ClassVar

from great_expectations.expectations import UnexpectedRowsExpectation


class UnexpectedRowsCountedOnce(UnexpectedRowsExpectation):
    """The query's rows counted in the database; no rows fetched. GX names it quality.suites.COUNTED_ONCE_TYPE."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine=None) -> dict:
        count = metrics["unexpected_rows_query.row_count"]
        return {"success": count == 0, "result": {"observed_value": count}}

