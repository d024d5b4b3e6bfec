"""What a run did, read back from the warehouse: rows per feed, the release, headline values."""

from __future__ import annotations

import psycopg

HEADLINE_INDICATORS = ("child_population", "live_births", "neonatal_mortality_rate", "infant_mortality_rate",
                       "under5_mortality_rate", "dropout_rate", "kindergarten_attendance_rate_age5",
                       "nursery_attendance_rate", "full_immunisation_rate_under1", "hepb_birth_dose_rate",
                       "stunting_rate", "underweight_rate", "wasting_rate", "overweight_rate", "injury_death_rate",
                       "drowning_death_rate", "sex_ratio_at_birth")


def latest_run_id(conn: psycopg.Connection) -> str | None:
    row = conn.execute("select run_id from audit.load_batches order by batch_id desc limit 1").fetchone()
    return row[0] if row else None


def run_summary(conn: psycopg.Connection, run_id: str | None) -> str:
    lines = [f"Run {run_id}"]
    feeds = conn.execute(
        """select feed, count(*), count(*) filter (where status = 'loaded'), count(*) filter (where status = 'skipped'),
                  count(*) filter (where status = 'rejected'), coalesce(sum(rows_read), 0),
                  coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0)
             from audit.load_batches where run_id is not distinct from %s group by feed order by feed""",
        (run_id,),
    ).fetchall()
    lines.append("  Loads (this run):")
    for feed, files, loaded, skipped, rejected, read, rows_loaded, quarantined in feeds:
        lines.append(f"    {feed:<14} files {files} (loaded {loaded}, skipped {skipped}, rejected {rejected}); "
                     f"rows read {read}, loaded {rows_loaded}, quarantined {quarantined}")
    for feed, name, reason in conn.execute(
            "select feed, file_name, reason from audit.load_batches where run_id is not distinct from %s "
            "and status = 'rejected' order by batch_id", (run_id,)):
        lines.append(f"    rejected {feed}/{name}: {reason}")
    failures = conn.execute(
        """select suite, expectation, admin_code, period, severity from audit.quality_results
            where run_id is not distinct from %s and not success order by severity, suite limit 20""",
        (run_id,),
    ).fetchall() if _has_table(conn, "audit.quality_results") else []
    if failures:
        lines.append("  Quality checks that failed:")
        for suite, expectation, admin_code, period, severity in failures:
            where = ", ".join(p for p in (f"province {admin_code}" if admin_code else "", f"period {period}" if period else "") if p)
            lines.append(f"    {severity}: {suite} / {expectation}{' — ' + where if where else ''}")
    release = conn.execute("select release_id, run_id, row_count, created_at from published.latest_release").fetchone() \
        if _has_table(conn, "published.releases") else None
    if release is None:
        lines.append("  No release is published yet.")
        return "\n".join(lines)
    release_id, release_run, row_count, created_at = release
    made_now = release_run == run_id
    lines.append(f"  Release: {release_id} ({row_count} values, {created_at:%Y-%m-%d %H:%M} UTC)"
                 + ("" if made_now else " — made by an earlier run; this run published no new release"))
    headline = conn.execute(
        """select period, indicator_id, value, unit from published.indicator_values
            where admin_level = 'national' and sex = 'total' and age_group = 'total' and ethnicity = 'total'
              and category = 'total' and period_type = 'year' and indicator_id = any(%s)
            order by period, indicator_id""",
        (list(HEADLINE_INDICATORS),),
    ).fetchall()
    if headline:
        lines.append("  Headline values (Việt Nam, total):")
        for period, indicator, value, unit in headline:
            shown = f"{value:,.0f}" if unit in ("births", "deaths", "children", "pupils") else f"{value:.2f}"
            lines.append(f"    {period}  {indicator:<24} {shown:>10} {unit}")
    return "\n".join(lines)


def _has_table(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]
