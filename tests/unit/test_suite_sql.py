"""Custom SQL checks place `{batch}` so that Great Expectations' substitution is valid SQL on PostgreSQL 14 and
15 too (issue 12): GX aliases the batch subquery itself only when the query has no JOIN (GX issue 12229), and
PostgreSQL < 16 refuses a subquery without an alias. quality.suites refuses a file that gets it wrong."""

from __future__ import annotations

import pytest

import quality.suites
from quality.suites import SuiteError, batch_alias_problem, load_suite, suite_names

JOINED_BARE = """with delivered as (select distinct province_code from {batch} where superseded_by_batch is null)
select d.province_code as admin_code from delivered as d join reference.admin_units_2025 as u using (province_code)"""


def test_every_suite_file_places_batch_as_gx_needs():
    for name in suite_names():
        load_suite(name)  # raises SuiteError on a misplaced alias


def test_a_query_with_a_join_must_alias_every_batch():
    assert "needs its own alias" in batch_alias_problem(JOINED_BARE)
    assert batch_alias_problem(JOINED_BARE.replace("from {batch} where", "from {batch} as b where")) is None


def test_a_query_without_a_join_must_leave_batch_bare():
    assert batch_alias_problem("select province_code from {batch} where superseded_by_batch is null") is None
    assert "write a bare {batch}" in batch_alias_problem("select v.province_code from {batch} as v")
    # a JOIN inside a string or a comment is not one (GX masks them too)
    assert batch_alias_problem("select 'join' as detail from {batch} -- no join here") is None


def test_a_suite_file_with_a_bare_batch_in_a_join_is_refused(tmp_path, monkeypatch):
    query = JOINED_BARE.replace("\n", "\n        ")
    (tmp_path / "bad.yml").write_text(
        "name: bad\nmeta: {batch: {schema: raw, table: y_te_sinh}}\nexpectations:\n"
        "  - type: unexpected_rows_expectation\n    severity: warning\n    description: joined\n"
        f"    kwargs:\n      unexpected_rows_query: |\n        {query}\n")
    monkeypatch.setattr(quality.suites, "SUITES_DIR", tmp_path)

    with pytest.raises(SuiteError, match=r"expectation 1 .*every \{batch\} needs its own alias"):
        load_suite("bad")
