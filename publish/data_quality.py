"""The child register's data quality per commune and snapshot for analysts and the report:
published.register_data_quality is replaced at every publish by marts.fct_register_data_quality as it
stands (like feed_completeness). Counts only: the records to fix stay in quarantine.register_cleanup_list."""

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
