"""Great Expectations Data Docs of the quality gate, against a real PostgreSQL (fresh_warehouse, with the stand-in
tables of test_quality.py): run_suites validates through GX Checkpoints and updates a Data Docs site under
GX_DATA_DOCS_DIR, without changing what the gate decides or records."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest
from test_quality import _create_candidates, _load_raw

import quality.docs
from quality import run_suites
from quality.docs import data_docs_index

pytestmark = pytest.mark.integration

BAD_COMMUNE = """insert into raw.y_te_sinh (batch_id, source_file, file_sha256, loaded_at, line_number, event_id,
                     birth_date, sex, is_live_birth, province_code, commune_code, mother_ethnicity_code, birth_place,
                     admin_vintage, period_key)
                 values (3, 'sinh_79.csv', 'y', now(), 7, 'S7', '2025-03-01', 'male', true, '79', '2676', '01', 'CSYT',
                         'pre_2025_07', '2025-H1')"""
# What audit.quality_results holds of a run, without its ids and times.
AUDIT_ROWS = """select r.suite, r.success, r.error_failures, r.blocking_failures, r.warning_failures,
                       q.expectation, q.expectation_type, q.severity, q.success, q.pinned, q.observed, q.admin_code,
                       q.period, q.failing_rows, q.message
                  from audit.quality_runs r join audit.quality_results q using (quality_run_id)
                 where r.run_id = %s
                 order by q.expectation, q.admin_code nulls first, q.period nulls first"""


@pytest.fixture
def docs_dir(tmp_path, monkeypatch) -> Path:
    docs = tmp_path / "gx-data-docs"
    monkeypatch.setenv("GX_DATA_DOCS_DIR", str(docs))
    return docs


@pytest.fixture
def warehouse(fresh_warehouse) -> str:
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        _create_candidates(conn)
        _load_raw(conn)
    return fresh_warehouse


def _execute(url: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _validation_pages(docs_dir: Path, suite: str) -> list[Path]:
    return sorted((docs_dir / "local_site" / "validations" / suite).rglob("*.html"))


def test_a_run_builds_data_docs_that_name_the_suite(warehouse, docs_dir):
    assert data_docs_index() is None  # nothing built yet

    outcome = run_suites(["raw_y_te_sinh"], run_id="docs-1")

    assert outcome.passed
    index = data_docs_index()
    assert index == docs_dir / "local_site" / "index.html" and index.is_file()
    html = index.read_text(encoding="utf-8")
    assert "raw_y_te_sinh" in html and "docs-1" in html
    # GX's tables are built by scripts from CDNs; the plain list beside them works offline
    plain = html[html.index('id="quality-plain-index"'):html.index("</script>", html.index('id="quality-plain-index"'))]
    assert "raw_y_te_sinh" in plain and "docs-1" in plain and "Success" in plain
    assert not re.search(r'(src|href)="https?://', plain)
    # a page for the suite and one for this validation result, built from a result kept on disk
    assert (docs_dir / "local_site" / "expectations" / "raw_y_te_sinh.html").is_file()
    [page] = _validation_pages(docs_dir, "raw_y_te_sinh")
    assert "docs-1" in page.parts and "commune_code is 5 digits" in page.read_text(encoding="utf-8")
    [result] = (docs_dir / "validations" / "raw_y_te_sinh").rglob("*.json")
    assert json.loads(result.read_text(encoding="utf-8"))["meta"]["run_id"]["run_name"] == "docs-1"


def test_a_failing_check_records_the_same_audit_rows_with_and_without_data_docs(warehouse, docs_dir, tmp_path,
                                                                               monkeypatch):
    _execute(warehouse, BAD_COMMUNE)

    with_docs = run_suites(["raw_y_te_sinh"], run_id="with-docs")
    # A folder that cannot be created (its parent is a file): the gate runs without Data Docs.
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("GX_DATA_DOCS_DIR", str(tmp_path / "a-file" / "docs"))
    without_docs = run_suites(["raw_y_te_sinh"], run_id="without-docs")
    monkeypatch.setenv("GX_DATA_DOCS_DIR", str(docs_dir))

    assert with_docs.blocked and without_docs.blocked
    assert with_docs.messages == without_docs.messages
    [message] = with_docs.messages
    assert message.startswith("error: commune_code is 5 digits failed: 1 of ")
    assert "source_file=sinh_79.csv, line_number=7, province_code=79, period_key=2025-H1, commune_code=2676" in message
    rows = _execute(warehouse, AUDIT_ROWS, ("with-docs",))
    assert rows == _execute(warehouse, AUDIT_ROWS, ("without-docs",))
    failed = [row for row in rows if not row[8]]
    assert [(row[5], row[7], row[9]) for row in failed] == [("commune_code is 5 digits", "error", False)]
    assert failed[0][13]  # the example failing rows are recorded, as before

    # The Data Docs show the failure, as counts: no row of the table is written to the static pages.
    [page] = _validation_pages(docs_dir, "raw_y_te_sinh")
    html = page.read_text(encoding="utf-8")
    assert "with-docs" in page.parts and "Failed" in html
    assert 'content: " failed"' in html and html.count('<i class="fas fa-times text-danger" >') == 1  # the check
    assert "sinh_79.csv" not in html
    index = data_docs_index().read_text(encoding="utf-8")
    assert "Failed" in index and "without-docs" not in index


def test_the_site_keeps_past_runs_up_to_a_limit(warehouse, docs_dir, monkeypatch):
    monkeypatch.setattr(quality.docs, "KEEP_PER_SUITE", 2)

    for run in ("night-1", "night-2", "night-3"):
        run_suites(["raw_y_te_sinh", "raw_y_te_tu_vong"], run_id=run)
    run_suites(["marts_indicator_values"], run_id="marts-1")

    html = data_docs_index().read_text(encoding="utf-8")
    assert "night-1" not in html and "night-2" in html and "night-3" in html and "marts-1" in html
    for suite in ("raw_y_te_sinh", "raw_y_te_tu_vong"):
        assert [page.relative_to(docs_dir / "local_site" / "validations" / suite).parts[0]
                for page in _validation_pages(docs_dir, suite)] == ["night-2", "night-3"]
        assert len(list((docs_dir / "validations" / suite).rglob("*.json"))) == 2
        # the other suites' pages stay when a call runs only the marts suite
        assert (docs_dir / "local_site" / "expectations" / f"{suite}.html").is_file()
    assert not (docs_dir / "validations" / "raw_y_te_sinh" / "night-1").exists()  # no empty folders left


def test_a_suite_that_cannot_run_still_blocks_and_builds_no_page(warehouse, docs_dir):
    _execute(warehouse, "drop table marts.fct_indicator_values")

    outcome = run_suites(["raw_y_te_tu_vong", "marts_indicator_values"], run_id="half")

    assert outcome.blocked
    assert [m.split(":")[0:2] for m in outcome.messages] == [["error", " suite marts_indicator_values could not run"]]
    assert _validation_pages(docs_dir, "raw_y_te_tu_vong") and not _validation_pages(docs_dir, "marts_indicator_values")
