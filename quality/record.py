"""Write a suite run and its results to audit.quality_runs / audit.quality_results (warehouse/sql/002_quality.sql)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg

from quality.results import CheckResult


def record_suite_run(conn: psycopg.Connection, run_id: str, suite: str, started_at: datetime,
                     finished_at: datetime, checks: list[CheckResult], input_fingerprint: str | None = None,
                     cells: dict | None = None) -> int:
    """Insert the run and one result row per check, or per failing (admin_code, period); one transaction,
    so a crash never leaves a run that looks complete. `input_fingerprint`: what the suite checked (a later
    run with the same inputs carries these results, quality.carry); `cells`: the columns of a raw suite's cells
    (input_cells, cells_context, checked_cells; quality.cells.recorded_cells)."""
    errors = sum(1 for check in checks if not check.success and check.severity == "error")
    blocking = sum(1 for check in checks if not check.success and check.severity == "error" and not check.pinned)
    warnings = sum(1 for check in checks if not check.success and check.severity == "warning")
    with conn.transaction():
        cells = cells or {}
        (quality_run_id,) = conn.execute(
            """insert into audit.quality_runs (run_id, suite, started_at, finished_at, success, error_failures,
                                               blocking_failures, warning_failures, input_fingerprint, input_cells,
                                               cells_context, checked_cells)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s::jsonb) returning quality_run_id""",
            (run_id, suite, started_at, finished_at, errors == 0, errors, blocking, warnings, input_fingerprint,
             cells.get("input_cells"), cells.get("cells_context"), cells.get("checked_cells")),
        ).fetchone()
        rows = []
        for check in checks:
            common = (quality_run_id, run_id, suite, check.expectation, check.expectation_type, check.severity,
                      check.success, check.pinned, _json(check.observed))
            if check.success or not check.failures:
                rows.append((*common, None, None, None, None))
            for failure in check.failures:
                rows.append((*common, failure.admin_code, failure.period,
                             None if failure.rows is None else _json(failure.rows), "\n".join(failure.messages)))
        with conn.cursor() as cursor:
            cursor.executemany(
                """insert into audit.quality_results (quality_run_id, run_id, suite, expectation, expectation_type,
                                                      severity, success, pinned, observed, admin_code, period,
                                                      failing_rows, message)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s::jsonb, %s)""",
                rows,
            )
    return quality_run_id


def _json(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False)


def _plain(value: Any) -> Any:
    """JSON-ready: numbers stay numbers (NaN and infinities, which jsonb rejects, become null),
    dates become ISO text, anything else unknown becomes its text."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
