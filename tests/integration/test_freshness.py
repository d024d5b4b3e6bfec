"""Feed freshness from audit.load_batches against the thresholds of the dbt sources' YAML (pipeline.freshness)."""

from __future__ import annotations

import psycopg
import pytest

from pipeline.freshness import stale_feeds, thresholds
from pipeline.steps import feed_names

pytestmark = pytest.mark.integration


def test_every_feed_has_a_threshold_from_its_source():
    limits = thresholds()
    assert set(feed_names()) <= set(limits)
    assert limits["y_te_sinh"] == (2 * 86400, None)  # warn_after: {count: 2, period: day}


def test_a_feed_is_stale_after_its_threshold_and_never_loaded_feeds_say_so(fresh_warehouse):
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        for feed, days_ago, rows in (("y_te_sinh", 3, 10), ("y_te_tu_vong", 1, 10), ("y_te_can_do", 0, 0)):
            conn.execute("""insert into audit.load_batches (feed, file_name, file_path, file_sha256, file_bytes, status,
                                                            rows_read, rows_loaded, finished_at)
                            values (%s, 'f.csv', '/l/f.csv', 'x', 1, 'loaded', %s, %s, now() - %s * interval '1 day')""",
                         (feed, rows, rows, days_ago))
        stale = {item.feed: item for item in stale_feeds(conn, ["y_te_sinh", "y_te_tu_vong", "y_te_can_do"])}
    assert set(stale) == {"y_te_sinh", "y_te_can_do"}  # 3 days > 2; 1 day is fresh; a load of no rows is no load
    assert stale["y_te_sinh"].status == "warn" and 2.9 < stale["y_te_sinh"].age_days < 3.1
    assert stale["y_te_sinh"].message.startswith("y_te_sinh: no new load for 3.0 days (last ")
    assert stale["y_te_can_do"].message == "y_te_can_do: no load yet"
