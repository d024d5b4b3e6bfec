"""Turn Great Expectations validation results into checks with a severity, failures pinned to a place
and period where the failing rows say so, and readable messages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from quality.suites import COUNTED_ONCE_TYPE, GX_TYPE, SEVERITIES

MESSAGES_PER_CHECK = 20
EXAMPLES_IN_MESSAGE = 3
BREAKDOWNS = ("sex", "age_group", "ethnicity", "category")


@dataclass(frozen=True)
class Failure:
    """The failing rows of one check for one (admin_code, period), or unpinned when they have none.
    `complete` is true when `rows` are all the failing rows (custom SQL checks), not examples."""
    admin_code: str | None
    period: str | None
    rows: list[Any] | None
    messages: list[str]
    complete: bool = False


@dataclass(frozen=True)
class CheckResult:
    expectation: str        # the description from the suite file
    expectation_type: str
    severity: str           # error | warning
    success: bool
    observed: dict
    failures: tuple[Failure, ...] = field(default=())
    # A failed check whose failing rows are complete and each name what they concern (the suite's pin
    # keys, e.g. indicator, level, unit and period): publication withholds those values instead of blocking.
    pinned: bool = False

    @property
    def messages(self) -> list[str]:
        messages = [message for failure in self.failures for message in failure.messages]
        if len(messages) > MESSAGES_PER_CHECK:
            extra = len(messages) - MESSAGES_PER_CHECK
            messages = [*messages[:MESSAGES_PER_CHECK],
                        f"{self.severity}: {self.expectation}: {extra} more failure(s), see audit.quality_results"]
        return messages

    @classmethod
    def suite_could_not_run(cls, suite: str, exc: BaseException) -> CheckResult:
        reason = _first_line(f"{type(exc).__name__}: {exc}")
        return cls(expectation=f"suite {suite} runs", expectation_type="suite", severity="error", success=False,
                   observed={"exception": reason},
                   failures=(Failure(None, None, None, [f"error: suite {suite} could not run: {reason}"]),))


def check_results(suite, suite_result, failing_rows, pin_keys: tuple[str, ...] = ()) -> list[CheckResult]:
    """One CheckResult per expectation, in the order of the suite file. `failing_rows` (context.FailingRows)
    fetches the rows of the checks that failed; `pin_keys` are the columns every failing row must name for
    the failure to be pinned (none: nothing of this suite can be pinned)."""
    expectations = {expectation.id: expectation for expectation in suite.expectations}
    order = list(expectations)
    results = sorted(suite_result.results, key=lambda r: order.index(r.expectation_config.id))
    checks = [_check_result(failing_rows, expectations[r.expectation_config.id], r) for r in results]
    return [replace(check, pinned=is_pinned(check, pin_keys)) for check in checks]


def is_pinned(check: CheckResult, pin_keys: tuple[str, ...]) -> bool:
    """Whether a failed check says exactly what it concerns: all its failing rows (not examples), each with
    every pin key. A check that could not run, or that only counts rows, is never pinned."""
    if check.success or not pin_keys or not check.failures:
        return False
    return all(failure.complete and failure.rows and
               all(isinstance(row, dict) and all(row.get(key) is not None for key in pin_keys) for row in failure.rows)
               for failure in check.failures)


def _check_result(failing_rows, expectation, result) -> CheckResult:
    config = result.expectation_config
    severity = SEVERITIES[str(getattr(config.severity, "value", config.severity))]
    kind = GX_TYPE if config.type == COUNTED_ONCE_TYPE else config.type  # the suite file's type (quality/expectations.py)
    description = config.description or kind
    check = dict(expectation=description, expectation_type=kind, severity=severity)
    head = f"{severity}: {description}"
    exception = _exception_message(result.exception_info)
    if exception:
        return CheckResult(**check, success=False, observed={"exception": exception},
                           failures=(Failure(None, None, None, [f"{head} could not be evaluated: {exception}"]),))
    details = dict(result.result or {})
    # Counts and observed values; the (empty) example lists of the first pass are left out.
    observed = {key: value for key, value in details.items() if not key.startswith("partial_unexpected")}
    if result.success:
        return CheckResult(**check, success=True, observed=observed)
    try:
        if kind == GX_TYPE:
            failures = _unexpected_rows_failures(failing_rows.unexpected_rows(expectation), head, observed)
        elif "unexpected_count" in details:
            failures = (_column_check_failure(head, details, failing_rows.examples(expectation)),)
        else:
            failures = (Failure(None, None, None, [f"{head} failed: observed {details.get('observed_value')!r}"]),)
    except Exception as exc:  # noqa: BLE001 - the failure stands even when its rows cannot be fetched
        count = details.get("unexpected_count", details.get("observed_value"))
        failures = (Failure(None, None, None, [f"{head} failed: {count} unexpected row(s); the failing rows "
                                               f"could not be fetched: {_first_line(str(exc))}"]),)
    return CheckResult(**check, success=False, observed=observed, failures=failures)


def _unexpected_rows_failures(rows: list[dict], head: str, observed: dict) -> tuple[Failure, ...]:
    """All failing rows (not only the 200 a result holds), grouped by (admin_code, period) when the query
    returns those columns: one Failure per failing place and period."""
    if not rows:  # the data changed between the check and the fetch
        return (Failure(None, None, None, [f"{head} failed: {observed.get('observed_value')} unexpected row(s)"]),)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(_text(row.get("admin_code")), _text(row.get("period")))].append(row)
    return tuple(Failure(admin_code, period, group, [_row_message(head, row) for row in group], complete=True)
                 for (admin_code, period), group in groups.items())


def _row_message(head: str, row: dict) -> str:
    where = []
    if row.get("indicator_id") is not None:
        where.append(str(row["indicator_id"]))
    if row.get("admin_code") is not None:
        where.append(f"{row.get('admin_level') or 'province'} {row['admin_code']}")
    where += [f"{column} {row[column]}" for column in BREAKDOWNS if row.get(column) not in (None, "total")]
    if row.get("period") is not None:
        where.append(f"period {row['period']}")
    message = f"{head} failed" + (f" for {', '.join(where)}" if where else "")
    return message + (f": {row['detail']}" if row.get("detail") else "")


def _column_check_failure(head: str, details: dict, example_details: dict) -> Failure:
    examples = example_details.get("partial_unexpected_index_list") or example_details.get("partial_unexpected_list")
    message = f"{head} failed: {details['unexpected_count']} of {details.get('element_count')} rows"
    if examples:
        message += ", e.g. " + "; ".join(_example(example) for example in examples[:EXAMPLES_IN_MESSAGE])
    return Failure(None, None, examples or None, [message])


def _example(example: Any) -> str:
    if isinstance(example, dict):
        return ", ".join(f"{key}={value}" for key, value in example.items())
    if isinstance(example, (list, tuple)):
        return ", ".join(str(value) for value in example)
    return repr(example)


def _exception_message(info: dict | None) -> str | None:
    """The first exception a result carries: Great Expectations gives either one
    {raised_exception, exception_message} or a dict of them keyed by metric."""
    if not info:
        return None
    candidates = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception") or candidate.get("exception_message"):
            return _first_line(str(candidate.get("exception_message") or "unknown error"))
    return None


def _first_line(text: str, limit: int = 500) -> str:
    return text.strip().splitlines()[0][:limit] if text.strip() else text


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
