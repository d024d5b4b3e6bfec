"""Data-quality gate: Great Expectations suites (expectations/*.yml) run inside PostgreSQL, results in
audit.quality_runs / audit.quality_results. `run_suites([...]).blocked` is true when an error-level check failed
that cannot be pinned to values; `.withholding` lists the pinned ones (the release withholds their values)."""

from quality.run import GateOutcome, SuiteOutcome, run_suite, run_suites

__all__ = ["GateOutcome", "SuiteOutcome", "run_suite", "run_suites"]
