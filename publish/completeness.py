"""Completeness and timeliness of deliveries for statisticians: published.feed_completeness is replaced at
every publish by marts.fct_feed_completeness as it stands (like the targets, not snapshotted per release),
in the publish transaction, with delete and insert (readers see the old rows until it commits).
published.feed_reporting_rates summarises it per feed and period."""

from __future__ import annotations

import psycopg

from publish.copies import replace_published_copy

COMPLETENESS = "marts.fct_feed_completeness"
COLUMNS = ("feed, period, period_type, period_start, period_end, admin_vintage, province_code, province_name, "
           "current_province_code, current_province_name, expected, due_date, due_date_basis, received, "
           "first_received_at, last_received_at, rows, current_batch_id, on_time, late, missing, delivery_status, "
           "days_past_due, no_province_delivered")


def refresh_completeness(conn: psycopg.Connection) -> int | None:
    """Replace the published rows with the mart's; None when dbt has not built the mart yet."""
    return replace_published_copy(conn, COMPLETENESS, "published.feed_completeness", COLUMNS)
