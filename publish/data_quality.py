"""Data quality for analysts and the report, replaced at every publish from the marts as they stand (like
feed_completeness): the child register's per commune and snapshot (published.register_data_quality; counts
only, the records to fix stay in quarantine.register_cleanup_list); the quality scorecard per province and period
(published.quality_scorecard_base, read through the view published.quality_scorecard, which adds the values the
latest release withholds) and per feed (published.quality_scorecard_feeds); and the outliers among the rates
(audit.indicator_outliers_base, read through published.indicator_outliers, which keeps the values the latest
release publishes)."""

from __future__ import annotations

import psycopg

from publish.copies import replace_published_copy

REGISTER_DATA_QUALITY = "marts.fct_register_data_quality"
COLUMNS = ("snapshot_date, admin_vintage, province_code, commune_code, current_province_code, current_commune_code, "
           "records_delivered, records_counted, records_quarantined, records_without_valid_id, records_id_missing, "
           "records_id_malformed, records_id_inconsistent, records_id_unchecked, records_without_valid_birth_date, "
           "records_other_defects, records_complete, share_complete_pct")


def refresh_register_data_quality(conn: psycopg.Connection) -> int | None:
    return replace_published_copy(conn, REGISTER_DATA_QUALITY, "published.register_data_quality", COLUMNS)


QUALITY_SCORECARD = "marts.fct_quality_scorecard"
QUALITY_SCORECARD_FEEDS = "marts.fct_quality_scorecard_feeds"
SCORECARD_FEED_COLUMNS = ("current_province_code, period, period_type, feed, deliveries_expected, deliveries_received, "
                          "deliveries_on_time, deliveries_late, deliveries_missing, reporting_rate_pct, on_time_rate_pct, "
                          "rows_read, rows_quarantined, quarantine_rate_pct")
SCORECARD_COLUMNS = ("current_province_code, period, period_type, deliveries_expected, deliveries_received, "
                     "deliveries_on_time, deliveries_late, deliveries_missing, reporting_rate_pct, on_time_rate_pct, "
                     "rows_read, rows_quarantined, quarantine_rate_pct, register_id_completeness_pct, outliers")


def refresh_quality_scorecard(conn: psycopg.Connection) -> int | None:
    """The scorecard per province and period, and per feed."""
    replace_published_copy(conn, QUALITY_SCORECARD_FEEDS, "published.quality_scorecard_feeds", SCORECARD_FEED_COLUMNS)
    return replace_published_copy(conn, QUALITY_SCORECARD, "published.quality_scorecard_base", SCORECARD_COLUMNS)


INDICATOR_OUTLIERS = "marts.fct_indicator_outliers"
OUTLIER_COLUMNS = ("indicator_id, period, period_type, admin_level, admin_code, admin_name, compared_with, value, "
                   "numerator, denominator, others, median, mad, modified_z, direction")


def refresh_indicator_outliers(conn: psycopg.Connection) -> int | None:
    # into audit: the copy holds suppressed commune values; published.indicator_outliers shows the released ones
    return replace_published_copy(conn, INDICATOR_OUTLIERS, "audit.indicator_outliers_base", OUTLIER_COLUMNS)
