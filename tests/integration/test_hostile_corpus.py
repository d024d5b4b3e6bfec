"""The hostile corpus (tests/hostile_corpus.py) through the loader: every case ends as expected, within a time
bound, every batch adds up, none is left running, and nothing of a secret reaches the audit trail."""

from __future__ import annotations

import time

import pytest

from ingest.run import ingest_feed
from tests.hostile_corpus import build_corpus
from tests.integration.test_loader import query

pytestmark = pytest.mark.integration

TIME_BOUND_SECONDS = 120  # the whole corpus; each case is small, only an unbounded read could take long


def test_every_hostile_delivery_ends_as_expected(fresh_warehouse, tmp_path):
    landing = tmp_path / "landing"
    cases = build_corpus(landing)
    started = time.monotonic()
    results = {}
    for feed in sorted({case.feed for case in cases}):
        for result in ingest_feed(feed, landing, run_id="hostile"):
            results[(feed, result.file_name)] = result
    elapsed = time.monotonic() - started
    assert elapsed < TIME_BOUND_SECONDS, f"the corpus took {elapsed:.0f} s"

    mismatches = []
    for case in cases:
        result = results[(case.feed, case.files[-1])]
        quarantine_reasons = " | ".join(reason for (reason,) in query(
            fresh_warehouse, "select reason from quarantine.rejected_rows where batch_id = %s", result.batch_id))
        got = (result.status, result.rows_loaded, result.rows_quarantined)
        wanted = (case.status, case.loaded, case.quarantined)
        if any(w is not None and g != w for g, w in zip(got, wanted)) \
                or case.fragment not in f"{result.reason or ''} | {quarantine_reasons}":
            mismatches.append(f"{case.name}: got {got} {result.reason!r} [{quarantine_reasons[:300]}], "
                              f"wanted {wanted} with {case.fragment!r}")
    assert not mismatches, "\n".join(mismatches)

    assert query(fresh_warehouse, "select count(*) from audit.load_batches where status = 'running'") == [(0,)]
    assert query(fresh_warehouse, "select count(*) from audit.load_batches"
                                  " where rows_read <> rows_loaded + rows_quarantined") == [(0,)]
    # A value over the limit is kept as a prefix and a hash, never whole.
    assert query(fresh_warehouse, "select max(length(record::text)) < 4096 from quarantine.rejected_rows") == [(True,)]
    secret = next(case.extra["secret"] for case in cases if "secret" in case.extra)
    for table in ("audit.load_batches", "quarantine.rejected_rows"):
        assert secret not in str(query(fresh_warehouse, f"select * from {table}"))

    # The corrections left the province-periods they did not carry (or carry for real) as they were.
    for case in (case for case in cases if "kept" in case.extra):
        period, rows = case.extra["kept"]
        assert query(fresh_warehouse, "select count(*) from raw.y_te_sinh where province_code = %s and period_key = %s"
                                      " and superseded_by_batch is null", case.extra["province"], period) == [(rows,)]
