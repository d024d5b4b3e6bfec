"""Stand-in for dbt's `exceptions` context object when sqlfluff renders the models (see .sqlfluff).

sqlfluff's dbt builtins make var() return a placeholder, so the macros' guards on vars (confidence_interval.sql)
would call exceptions.raise_compiler_error; dbt raises there, linting renders nothing instead.
"""


def raise_compiler_error(message: str) -> str:
    return ""
