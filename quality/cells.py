"""A raw suite re-checks only the (province, period) cells of its feed whose loads changed since its previous run.

A night that loads one province's re-delivery must not check every row of the feed again. Each run of a raw suite
records the state of every cell of its feed (`audit.quality_runs.input_cells`: an MD5 of the cell's loads in
audit.batch_coverage, pipeline.incremental.feed_cells). The next run compares and, when only some cells changed:

- the checks of single rows (scope `rows`, quality/suites.py) and the per-cell custom checks (scope `cell`) run
  on the rows of the changed cells only (a query asset: the cells' batches, found through the BRIN index on
  batch_id, and the cells themselves);
- the checks of scope `table` (rows of other periods or provinces, or the whole table) run on the whole table;
- a per-cell check's failures are the new ones in the changed cells plus the earlier run's failures in the cells
  that did not change; a check of single rows gives those of the changed cells, which is its whole result since
  the earlier run had none (otherwise the whole table is checked: those failures are not per cell).

The whole table is checked when there is no earlier run to build on, when the suites, the quality code or the
reference data changed, when more than half of the cells changed, or when the rows changed without a change of
any cell's loads (raw written by hand, not through the loader). FULL_REFRESH checks every table whole.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace

import psycopg
from psycopg import sql

from quality.results import CheckResult
from quality.suites import SuiteFile

log = logging.getLogger(__name__)

MAX_CHANGED_SHARE = 0.5  # above it, checking the changed cells saves little: the whole table is checked


@dataclass(frozen=True)
class SuiteCells:
    """What a raw suite reads, cell by cell: its feed, everything else it depends on, and each cell's loads."""
    feed: str
    context: str            # SHA-256 of the suites, the quality code and the reference data
    cells: dict[str, str]   # "province|period" -> MD5 of the cell's loads
    check_all: bool = False  # a full refresh: check the whole table (and record the cells for the next night)


@dataclass(frozen=True)
class CellPlan:
    reason: str
    changed: tuple[str, ...] = ()             # the cells to check; () with base_run None: the whole table
    base_run: int | None = None               # the quality run whose failures the unchanged cells keep
    base_checks: tuple[CheckResult, ...] = ()

    @property
    def whole_table(self) -> bool:
        return self.base_run is None


def plan_cells(conn: psycopg.Connection, suite: SuiteFile, inputs: SuiteCells) -> CellPlan:
    """Which cells the suite must check tonight, and the earlier run the others keep their results from."""
    from quality.run import recorded_run  # quality.run imports this module

    if suite.cell_columns is None:
        return CellPlan("the suite names no cells")
    if inputs.check_all:
        return CellPlan("a full refresh was asked for")
    earlier = conn.execute(
        """select quality_run_id, input_cells, cells_context from audit.quality_runs
            where suite = %s order by quality_run_id desc limit 1""", (suite.name,)).fetchone()
    if earlier is None or earlier[1] is None:
        return CellPlan("no earlier run recorded the cells it checked")
    if earlier[2] != inputs.context:
        return CellPlan("the suites, the quality code or the reference data changed")
    before, now = earlier[1], inputs.cells
    changed = tuple(sorted(key for key in before.keys() | now.keys() if before.get(key) != now.get(key)))
    if not changed:
        return CellPlan("the feed's rows changed but no cell's loads did (raw written outside the loader)")
    if len(changed) > MAX_CHANGED_SHARE * len(now):
        return CellPlan(f"{len(changed)} of {len(now)} cells changed")
    checks = recorded_run(conn, earlier[0])
    if len(checks) != len(suite.scopes):
        return CellPlan("the earlier run's checks are not those of the suite")
    for check, scope in zip(checks, suite.scopes, strict=True):
        if scope == "rows" and not check.success:
            return CellPlan(f"'{check.expectation}' failed on the earlier run: failures of single rows are not per cell")
        if scope == "cell" and any(f.admin_code is None or f.period is None for f in check.failures):
            return CellPlan(f"'{check.expectation}' failed on the earlier run without naming its cells")
    return CellPlan(f"{len(changed)} of {len(now)} cells changed", changed, earlier[0], checks)


def cells_condition(conn: psycopg.Connection, suite: SuiteFile, feed: str, changed: tuple[str, ...]) -> str:
    """SQL condition on the suite's table for the rows of the changed cells: their batches (the BRIN index on
    batch_id finds them without reading the table), and the cells themselves (a batch can hold other cells)."""
    batches = [row[0] for row in conn.execute(
        """select distinct batch_id from audit.batch_coverage
            where feed = %s and province_code || '|' || period_key = any(%s) order by batch_id""",
        (feed, list(changed)))]
    province, period = suite.cell_columns
    condition = sql.SQL("batch_id = any({batches}::bigint[]) and ({province} || '|' || {period}) = any({cells}::text[])")
    return condition.format(batches=sql.Literal(batches), province=sql.Identifier(province),
                            period=sql.Identifier(period), cells=sql.Literal(list(changed))).as_string(conn)


def merge(plan: CellPlan, suite: SuiteFile, checks: list[CheckResult]) -> list[CheckResult]:
    """Tonight's results on the changed cells, with the earlier failures of the unchanged cells kept."""
    changed = {tuple(key.split("|", 1)) for key in plan.changed}
    merged = []
    for check, base, scope in zip(checks, plan.base_checks, suite.scopes, strict=True):
        if scope == "cell":
            kept = tuple(f for f in base.failures if (f.admin_code, f.period) not in changed)
            check = replace(check, success=check.success and not kept, failures=(*check.failures, *kept),
                            observed={**check.observed, "cells_checked": len(plan.changed),
                                      "failures_kept_from_quality_run": plan.base_run if kept else None})
        elif scope == "rows":
            total = check.observed.get("element_count")
            checked = f"of {total} rows of the {len(plan.changed)} changed cell(s)"
            failures = tuple(replace(f, messages=[m.replace(f"of {total} rows", checked, 1) for m in f.messages])
                             for f in check.failures)
            check = replace(check, failures=failures, observed={**check.observed, "cells_checked": len(plan.changed)})
        merged.append(check)
    return merged


def recorded_cells(inputs: SuiteCells, plan: CellPlan) -> dict:
    """The columns of audit.quality_runs that say which cells a run stands for and which it checked."""
    return {"input_cells": json.dumps(inputs.cells), "cells_context": inputs.context,
            "checked_cells": None if plan.whole_table else json.dumps(list(plan.changed))}
