"""Suites are data: one YAML file per suite in `expectations/`.

A file is Great Expectations' own serialisation of an ExpectationSuite (the dict that
`ExpectationSuite.to_json_dict()` gives: name, expectations of type + kwargs + severity + description, meta),
written as YAML so the SQL of custom checks stays readable. Two keys of the suite's `meta` say what to
validate: `batch` ({schema, table}) and `index_columns` (the columns shown with example failing rows).
See expectations/README.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    import great_expectations as gx

SUITES_DIR = Path(__file__).resolve().parent.parent / "expectations"

# Great Expectations' severity in the files -> the project's word for it.
SEVERITIES = {"critical": "error", "warning": "warning"}

# What a suite's failures can be pinned to (meta.pins), and the columns each failing row must then give.
# `values`: indicator values (indicator, level, unit, period; breakdown columns narrow it where given):
# an error withholds those values and what aggregates them instead of blocking the release.
PIN_KEYS = {"values": ("indicator_id", "admin_level", "admin_code", "period")}

# What a check reads, for a run that re-checks only the changed (province, period) cells of a feed (quality/cells.py):
# - rows: each row is judged alone (column checks): its failures are those of the rows checked;
# - cell: the check reads the rows of one (province, period) at a time and names each failure by
#   `province_code as admin_code, period_key as period`; declared with `meta: {scope: cell}` on a custom SQL check;
# - table: anything else (rows of other periods or provinces, a whole-table aggregate): always the whole table.
SCOPES = ("rows", "cell", "table")
_ROW_WISE = ("expect_column_values_", "expect_column_pair_values_")

# GX's custom SQL check, as the suite files name it, and the subclass the suites are built with
# (quality/expectations.py: one query per check instead of two); GX names a class by its snake case.
GX_TYPE = "unexpected_rows_expectation"
COUNTED_ONCE_TYPE = "unexpected_rows_counted_once"


class SuiteError(ValueError):
    """A suite name or file that cannot be used, with what is wrong in it."""


@dataclass(frozen=True)
class SuiteFile:
    name: str
    schema: str
    table: str
    index_columns: tuple[str, ...]
    definition: dict  # the suite as Great Expectations serialises it
    pins: str | None = None  # a key of PIN_KEYS, or None: every error-level failure blocks
    scopes: tuple[str, ...] = ()  # per expectation, in file order: one of SCOPES
    # meta.cells: the columns that name a (province, period) cell (raw suites: province_code, period_key), and
    # the feed whose loads (audit.batch_coverage) say which cells changed; None: always checked whole
    cell_columns: tuple[str, str] | None = None

    def subset(self, scopes: set[str]) -> dict:
        """The suite's definition with the expectations of these scopes only (their order kept)."""
        kept = [e for e, scope in zip(self.definition["expectations"], self.scopes, strict=True) if scope in scopes]
        return {**self.definition, "expectations": kept}

    @property
    def pin_keys(self) -> tuple[str, ...]:
        return PIN_KEYS[self.pins] if self.pins else ()

    def to_gx(self, definition: dict | None = None) -> gx.ExpectationSuite:
        """The suite for GX, its custom SQL checks computed with one query each (quality/expectations.py)."""
        import great_expectations as gx

        import quality.expectations  # noqa: F401 - registers COUNTED_ONCE_TYPE with GX

        definition = definition or self.definition
        expectations = [{**e, "type": COUNTED_ONCE_TYPE} if e.get("type") == GX_TYPE else e
                        for e in definition["expectations"]]
        return gx.ExpectationSuite(**{**definition, "expectations": expectations})


_BATCH = re.compile(r"\{batch\}(\s+as\s+[a-z_][a-z0-9_]*)?", re.IGNORECASE)


def _query_has_join(query: str) -> bool:
    """GX's own test of whether it leaves `{batch}` unaliased (a JOIN outside strings and comments)."""
    try:
        from great_expectations.expectations.metrics.query_metric_provider import _query_has_join_clause
    except ImportError:  # a GX without it: its older, plain substring test
        return "JOIN" in query.upper()
    return _query_has_join_clause(query)


def batch_alias_problem(query: str) -> str | None:
    """What is wrong with how a custom SQL check places `{batch}`, or None. GX substitutes `{batch}` with the
    batch as a subquery, `(select ...)`, and adds `AS subselect` itself only when the query has no JOIN
    (GX issue 12229). PostgreSQL 14 and 15 refuse a subquery without an alias ("subquery in FROM must have an
    alias"; 16 accepts it), so a query with a JOIN must alias every `{batch}` itself, and a query without
    one must not (GX's alias would follow it). Checked when the suite is loaded, so that a check written on a
    newer server fails at once everywhere instead of only on an older one."""
    occurrences = [match.group(1) for match in _BATCH.finditer(query)]
    if _query_has_join(query):
        if any(alias is None for alias in occurrences):
            return ("the query has a JOIN, so every {batch} needs its own alias (`{batch} as b`): Great "
                    "Expectations then adds none, and PostgreSQL 14/15 refuse a subquery without one")
    elif any(alias is not None for alias in occurrences):
        return ("the query has no JOIN, so write a bare {batch}: Great Expectations adds `AS subselect` "
                "itself, and a second alias after it is a syntax error")
    return None


def _scope(expectation: dict, where: str) -> str:
    declared = (expectation.get("meta") or {}).get("scope")
    if declared is None:
        return "rows" if expectation.get("type", "").startswith(_ROW_WISE) else "table"
    if declared not in SCOPES:
        raise SuiteError(f"{where}: meta.scope must be one of {', '.join(SCOPES)}, not {declared!r}")
    if declared == "cell" and expectation.get("type") != GX_TYPE:
        raise SuiteError(f"{where}: only a custom SQL check (unexpected_rows_expectation) can be of scope cell")
    return declared


def suite_names() -> list[str]:
    return sorted(path.stem for path in SUITES_DIR.glob("*.yml"))


def load_suite(name: str) -> SuiteFile:
    path = SUITES_DIR / f"{name}.yml"
    if not path.is_file():
        raise SuiteError(f"no suite {name!r} in {SUITES_DIR}; known suites: {', '.join(suite_names())}")
    try:
        definition = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(definition, dict) or definition.get("name") != name:
        raise SuiteError(f"{path}: the file must hold a suite whose name is {name!r}")
    meta = definition.get("meta") or {}
    batch = meta.get("batch") or {}
    if not batch.get("schema") or not batch.get("table"):
        raise SuiteError(f"{path}: meta.batch must name the schema and table to validate")
    pins = meta.get("pins")
    if pins is not None and pins not in PIN_KEYS:
        raise SuiteError(f"{path}: meta.pins must be one of {', '.join(PIN_KEYS)} (or absent), not {pins!r}")
    expectations = definition.get("expectations") or []
    if not expectations:
        raise SuiteError(f"{path}: the suite has no expectations")
    for number, expectation in enumerate(expectations, start=1):
        where = f"{path}: expectation {number} ({expectation.get('type', 'no type')})"
        if expectation.get("severity") not in SEVERITIES:
            raise SuiteError(f"{where}: severity must be one of {', '.join(SEVERITIES)} "
                             f"(critical = error, blocks publication), not {expectation.get('severity')!r}")
        if not expectation.get("description"):
            raise SuiteError(f"{where}: a description is required; it names the check in messages")
        query = (expectation.get("kwargs") or {}).get("unexpected_rows_query")
        if isinstance(query, str):
            problem = batch_alias_problem(query)
            if problem:
                raise SuiteError(f"{where}: {problem}")
    scopes = tuple(_scope(expectation, f"{path}: expectation {number}")
                   for number, expectation in enumerate(expectations, start=1))
    cells = meta.get("cells")
    if cells is not None and (not isinstance(cells, dict) or not cells.get("province") or not cells.get("period")):
        raise SuiteError(f"{path}: meta.cells must name the province and period columns ({{province: ..., period: ...}})")
    if "cell" in scopes and cells is None:
        raise SuiteError(f"{path}: a check of scope cell needs meta.cells (the province and period columns)")
    suite = SuiteFile(name=name, schema=batch["schema"], table=batch["table"],
                      index_columns=tuple(meta.get("index_columns") or ()), definition=definition, pins=pins,
                      scopes=scopes, cell_columns=(cells["province"], cells["period"]) if cells else None)
    try:
        suite.to_gx()  # unknown expectation types and bad kwargs fail here, before anything runs
    except Exception as exc:  # noqa: BLE001 - Great Expectations raises many kinds; all mean a bad file
        raise SuiteError(f"{path}: not a valid Great Expectations suite: {exc}") from exc
    return suite
