"""dbt data tests as quality checks, the suite `dbt_data_tests`.

`dbt build` runs every data test at severity warn (dbt/dbt_project.yml), so a test that delivered data fails
never stops the build. Afterwards this module reads the build's target/run_results.json and manifest.json
and sorts the tests:

- a failed test with no source upstream (it tests seeds, the catalogue or models built from them only) is a
  defect of the code or the reference data: `code_defects` lists them and `pipeline.steps.transform` fails;
- every other test is a check of delivered data. `check_results` turns each into a CheckResult like the Great
  Expectations checks (quality.results): severity `error`, or `warning` with `meta: {quality_severity:
  warning}`; for a failure, its failing rows are fetched by running the test's compiled SQL again, grouped by
  place and period, with a message that gives the failing row count and a few examples. Columns that could
  identify a child (pseudonyms, names, birth dates, columns tagged pii) are dropped from examples and stored
  rows. A failure whose rows all name indicator_id, admin_level, admin_code and period is pinned: the release
  withholds those values (publish/withholding.py) instead of being blocked.

quality.run.run_suites records the suite in audit.quality_runs / audit.quality_results with the others.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from quality.results import BREAKDOWNS, EXAMPLES_IN_MESSAGE, CheckResult, Failure, _row_message, is_pinned
from quality.suites import PIN_KEYS

DBT_SUITE = "dbt_data_tests"
DBT_TARGET_DIR = Path(__file__).resolve().parent.parent / "dbt" / "target"
FETCH_LIMIT = 10_000        # failing rows fetched per test; more and the failure is not pinned (rows incomplete)
ROWS_KEPT = 20              # failing rows stored for a failure that is not pinned (examples)
PERSONAL_PARTS = ("pseudonym", "child_key", "person_key", "full_name", "ho_ten", "birth_date", "ngay_sinh",
                  "personal_id", "ma_dinh_danh")
FAILED = ("fail", "warn", "error")
PLACE_COLUMNS = ("admin_code", "current_province_code", "province_code")  # what a failure is grouped by, with period
EXAMPLE_COLUMNS = 8        # columns of a failing row shown in an example
SEVERITY_META = "quality_severity"  # meta key: error (default) or warning


class BuildResultsMissing(RuntimeError):
    """No results of a `dbt build` to read: the gate cannot say the data tests passed."""


class DbtCodeDefect(RuntimeError):
    """A test that no delivery can fail (it tests reference data or code only) failed: the night fails."""


@dataclass(frozen=True)
class DbtTest:
    unique_id: str
    name: str
    model: str | None        # the model (or seed) it tests; None for a singular test over several
    description: str         # how messages name it
    kind: str                # the generic test (unique_combination, not_null, ...) or "singular"
    status: str              # pass, warn, fail, error, skipped
    failures: int
    compiled_code: str | None
    severity: str            # error | warning: the gate's, not dbt's
    from_data: bool          # a source is upstream: delivered data can fail it
    message: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def is_code_defect(self) -> bool:
        return self.failed and (not self.from_data or self.status == "error")


def build_results(target_dir: Path | None = None) -> tuple[dict, list[DbtTest]]:
    """The data tests of the latest `dbt build` (its run_results.json metadata, and the tests)."""
    target = target_dir or DBT_TARGET_DIR
    try:
        run_results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BuildResultsMissing(f"no results of dbt build in {target}: {exc}") from None
    which = (run_results.get("args") or {}).get("which")
    if which != "build":
        raise BuildResultsMissing(f"{target / 'run_results.json'} holds the results of `dbt {which}`, not of "
                                  "the night's `dbt build`")
    nodes, parents = manifest.get("nodes", {}), manifest.get("parent_map", {})
    tests = []
    for result in run_results.get("results", []):
        unique_id = result["unique_id"]
        if not unique_id.startswith("test.") or unique_id not in nodes:
            continue  # models, seeds, unit tests: their failures fail the build itself
        node = nodes[unique_id]
        meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
        severity = str(meta.get(SEVERITY_META, "error")).lower()
        tests.append(DbtTest(
            unique_id=unique_id, name=node["name"], model=_tested_model(node, nodes),
            description=str(meta.get("description") or node.get("description") or _describe(node, nodes)).strip(),
            kind=((node.get("test_metadata") or {}).get("name") or "singular"), status=result["status"],
            failures=int(result.get("failures") or 0),
            compiled_code=result.get("compiled_code") or node.get("compiled_code"),
            severity="warning" if severity in ("warn", "warning") else "error",
            from_data=_has_source_upstream(unique_id, parents), message=result.get("message")))
    return run_results.get("metadata") or {}, tests


def build_was_partial(target_dir: Path | None = None) -> bool:
    """Whether the latest `dbt build` selected only some models (an incremental night, pipeline.incremental)."""
    try:
        run_results = json.loads(((target_dir or DBT_TARGET_DIR) / "run_results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool((run_results.get("args") or {}).get("select"))


def data_test_names(target_dir: Path | None = None) -> set[str]:
    """The names of the project's data tests of delivered data (what check_results records), from the manifest
    of the latest build: all of them, whether the build selected them or not."""
    manifest = json.loads(((target_dir or DBT_TARGET_DIR) / "manifest.json").read_text(encoding="utf-8"))
    nodes, parents = manifest.get("nodes", {}), manifest.get("parent_map", {})
    return {node["name"] for unique_id, node in nodes.items()
            if unique_id.startswith("test.") and _has_source_upstream(unique_id, parents)}


def code_defects(tests: list[DbtTest]) -> list[DbtTest]:
    return [test for test in tests if test.is_code_defect]


def defect_message(test: DbtTest) -> str:
    what = "could not run" if test.status == "error" else f"failed ({test.failures} failing row(s))"
    why = ("" if test.from_data else
           ": it tests reference data or code only (no source upstream), which no delivery can change")
    return f"dbt test {test.name} {what}{why}"


def personal_columns(target_dir: Path | None = None) -> set[str]:
    """Column names tagged pii anywhere in the project (sources and models)."""
    try:
        manifest = json.loads(((target_dir or DBT_TARGET_DIR) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    names = set()
    for node in [*manifest.get("nodes", {}).values(), *manifest.get("sources", {}).values()]:
        for column in (node.get("columns") or {}).values():
            if "pii" in (column.get("tags") or []) or (column.get("meta") or {}).get("pii"):
                names.add(column["name"])
    return names


def check_results(conn: psycopg.Connection, target_dir: Path | None = None) -> list[CheckResult]:
    """One CheckResult per data test of delivered data in the latest build, failures with their rows."""
    metadata, tests = build_results(target_dir)
    personal = personal_columns(target_dir)
    built_at = metadata.get("generated_at")
    checks = []
    for test in tests:
        if not test.from_data:
            continue  # its failure already failed the build (pipeline.steps.transform)
        observed = {"dbt_test": test.name, "model": test.model, "status": test.status,
                    "failing_rows": test.failures, "built_at": built_at}
        check = dict(expectation=test.description, expectation_type=f"dbt:{test.kind}", severity=test.severity)
        if not test.failed:
            checks.append(CheckResult(**check, success=test.status == "pass", observed=observed,
                                      failures=() if test.status == "pass" else (Failure(None, None, None, [
                                          f"{test.severity}: {test.description} did not run ({test.status})"]),)))
            continue
        failures = _failures(conn, test, personal)
        result = CheckResult(**check, success=False, observed=observed, failures=failures)
        checks.append(CheckResult(**check, success=False, observed=observed, failures=failures,
                                  pinned=is_pinned(result, PIN_KEYS["values"]) and test.severity == "error"))
    return checks


def _failures(conn: psycopg.Connection, test: DbtTest, personal: set[str]) -> tuple[Failure, ...]:
    head = f"{test.severity}: {test.description}"
    try:
        with conn.cursor(row_factory=dict_row) as cursor:
            rows = cursor.execute(f"select * from ({test.compiled_code}) as failing limit {FETCH_LIMIT + 1}").fetchall()
    except Exception as exc:  # noqa: BLE001 - the failure stands even when its rows cannot be fetched
        return (Failure(None, None, None, [f"{head} failed: {test.failures} failing row(s); the rows could not be "
                                           f"fetched: {str(exc).strip().splitlines()[0][:300]}"]),)
    if not rows:  # the data changed since the build
        return (Failure(None, None, None, [f"{head} failed: {test.failures} failing row(s) in the build"]),)
    complete = len(rows) <= FETCH_LIMIT
    total = test.failures if complete else max(test.failures, len(rows))
    cleaned = [_without_personal(row, personal) for row in rows[:FETCH_LIMIT]]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in cleaned:
        groups[(_place(row), _text(row.get("period")))].append(row)
    failures = []
    for (admin_code, period), group in groups.items():
        distinct = Counter(json.dumps(row, sort_keys=True, default=str) for row in group)
        kept = [_with_detail(json.loads(text), count) for text, count in distinct.items()]
        pinnable = complete and all(all(row.get(key) is not None for key in PIN_KEYS["values"]) for row in kept)
        messages = ([_row_message(head, row) for row in kept] if pinnable else
                    [_group_message(head, admin_code, period, group, total if len(groups) == 1 else len(group))])
        failures.append(Failure(admin_code, period, kept if pinnable else kept[:ROWS_KEPT], messages,
                                complete=pinnable))
    return tuple(failures)


def _with_detail(row: dict, count: int) -> dict:
    """A failing row as stored: its columns and, in `detail` (the reason a withheld value gives), how many
    failing rows it stands for and what else they say."""
    named = {*PIN_KEYS["values"], *BREAKDOWNS, "detail"}
    rest = _example({key: value for key, value in row.items() if key not in named})
    return {**row, "detail": f"{count} failing row(s)" + (f" ({rest})" if rest else "")}


def _group_message(head: str, admin_code: str | None, period: str | None, rows: list[dict], count: int) -> str:
    unit = "unit" if rows and rows[0].get("admin_code") is not None else "province"
    where = ", ".join(part for part in (f"{unit} {admin_code}" if admin_code else "",
                                        f"period {period}" if period else "") if part)
    named = {*PLACE_COLUMNS, "period"} if where else set()
    shown = "; ".join(_example({key: value for key, value in row.items() if key not in named})
                      for row in rows[:EXAMPLES_IN_MESSAGE])
    return f"{head} failed{' for ' + where if where else ''}: {count} failing row(s)" + (f", e.g. {shown}" if shown else "")


def _example(row: dict, columns: int = EXAMPLE_COLUMNS) -> str:
    shown = [f"{key}={value}" for key, value in row.items() if value is not None]
    return ", ".join(shown[:columns]) + (", …" if len(shown) > columns else "")


def _without_personal(row: dict, personal: set[str]) -> dict:
    return {key: _plain(value) for key, value in row.items()
            if key not in personal and not any(part in key.lower() for part in PERSONAL_PARTS)}


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def _place(row: dict) -> str | None:
    for key in PLACE_COLUMNS:
        if row.get(key) is not None:
            return str(row[key])
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _has_source_upstream(unique_id: str, parents: dict[str, list[str]]) -> bool:
    seen, stack = set(), list(parents.get(unique_id, []))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.startswith("source."):
            return True
        stack.extend(parents.get(node, []))
    return False


def _tested_model(node: dict, nodes: dict) -> str | None:
    attached = node.get("attached_node")
    if attached:
        return attached.rsplit(".", 1)[-1] if attached not in nodes else nodes[attached]["name"]
    models = list((node.get("depends_on") or {}).get("nodes", []))
    return models[0].rsplit(".", 1)[-1] if len(models) == 1 else None


def _describe(node: dict, nodes: dict) -> str:
    """A test in words: the model, the columns and what must hold."""
    metadata = node.get("test_metadata") or {}
    kwargs = metadata.get("kwargs") or {}
    model = _tested_model(node, nodes) or "the warehouse"
    column = kwargs.get("column_name") or node.get("column_name")
    subject = f"{model}.{column}" if column else model
    kind = metadata.get("name")
    if kind == "not_null":
        return f"{subject} is present"
    if kind == "unique":
        return f"{subject} is unique"
    if kind == "unique_combination":
        return f"{model}: one row per {', '.join(kwargs.get('columns') or [])}"
    if kind == "accepted_values":
        return f"{subject} is one of {', '.join(map(str, kwargs.get('values') or []))}"
    if kind == "relationships":
        target = str(kwargs.get("to", "")).replace("ref(", "").replace(")", "").replace("'", "")
        return f"{subject} is found in {target}.{kwargs.get('field')}"
    if kind == "expression_is_true":
        return f"{model}: {kwargs.get('expression')}"
    if kind == "matches_pattern":
        return f"{subject} matches {kwargs.get('pattern')}"
    if kind:
        return f"{subject}: {kind}"
    return node["name"].replace("_", " ")


__all__ = ["DBT_SUITE", "BuildResultsMissing", "DbtCodeDefect", "DbtTest", "build_results",
           "build_was_partial", "check_results", "code_defects", "data_test_names", "defect_message"]
