"""Reference data that every release shares rather than snapshots: targets (policy, not data of a release)
and the administrative units of both vintages. Replaced at every publish, in the publish transaction, with
delete and insert (readers see the old rows until it commits; no exclusive lock)."""

from __future__ import annotations

import psycopg

TARGETS = "marts.dim_indicator_target"
ADMIN_UNITS = "marts.dim_admin_unit"


def refresh_reference(conn: psycopg.Connection) -> None:
    conn.execute("delete from published.targets")
    conn.execute(
        f"""insert into published.targets (indicator_id, scope, target_year, target_value, direction, period_types,
                                           baseline_year, baseline_value, source)
            select indicator_id, scope, target_year, target_value, direction, period_types, baseline_year,
                   baseline_value, source
              from {TARGETS}""")
    conn.execute("delete from published.admin_units")
    conn.execute(
        f"""insert into published.admin_units (admin_unit_key, vintage, admin_level, admin_code, admin_name,
                                               admin_type, province_code, current_province_code,
                                               current_commune_code)
            select vintage || ':' || admin_level || ':' || admin_code, vintage, admin_level, admin_code,
                   admin_name, admin_type, province_code, current_province_code, current_commune_code
              from {ADMIN_UNITS}""")
