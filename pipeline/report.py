"""What a run did, read back from the warehouse: rows per feed, missing and late deliveries, the release,
headline values."""

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
                  count(*) filter (where status = 'rejected'),
                  count(*) filter (where status = 'empty'), count(*) filter (where status = 'failed'),
                  count(*) filter (where status = 'interrupted'), coalesce(sum(rows_read), 0),
                  coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0)
             from audit.load_batches where run_id is not distinct from %s group by feed order by feed""",
        (run_id,),
    ).fetchall()
    lines.append("  Loads (this run):")
    for feed, files, loaded, skipped, rejected, empty, failed, interrupted, read, rows_loaded, quarantined in feeds:
        others = "".join(f", {label} {count}" for label, count in
                         (("empty", empty), ("failed", failed), ("interrupted", interrupted)) if count)
        lines.append(f"    {feed:<14} files {files} (loaded {loaded}, skipped {skipped}, rejected {rejected}{others}); "
                     f"rows read {read}, loaded {rows_loaded}, quarantined {quarantined}")
    for feed, name, status, reason in conn.execute(
            "select feed, file_name, status, reason from audit.load_batches where run_id is not distinct from %s "
            "and status in ('rejected', 'failed', 'interrupted') order by batch_id", (run_id,)):
        lines.append(f"    {status} {feed}/{name}: {(reason or '').removeprefix(name + ': ')}")
    from ingest.supersession import pending_confirmations

    if waiting := pending_confirmations(conn):
        lines.append("  Corrections waiting for confirmation (they would shrink a province-period by more than "
                     "INGEST_MAX_SHRINK; the earlier rows still count):")
        lines += [f"    {line}" for line in waiting]
    failures = conn.execute(
        """select suite, expectation, admin_code, period, severity, pinned from audit.quality_results
            where run_id is not distinct from %s and not success order by severity, pinned, suite limit 20""",
        (run_id,),
    ).fetchall() if _has_table(conn, "audit.quality_results") else []
    if failures:
        lines.append("  Quality checks that failed (error: blocks the release; error, withheld: withholds the values "
                     "it names; warning: reported):")
        for suite, expectation, admin_code, period, severity, pinned in failures:
            where = ", ".join(p for p in (f"unit {admin_code}" if admin_code else "", f"period {period}" if period else "") if p)
            label = "error, withheld" if severity == "error" and pinned else severity
            lines.append(f"    {label}: {suite} / {expectation}{' — ' + where if where else ''}")
    lines += dbt_test_lines(conn, run_id)
    lines += delivery_lines(conn)
    from quality.docs import data_docs_index

    if index := data_docs_index():
        lines.append(f"  Great Expectations Data Docs: {index}")
    stale = conn.execute(
        "select message from audit.pipeline_events where run_id is not distinct from %s and event = 'feed_stale'"
        " order by event_id", (run_id,)).fetchall() if _has_table(conn, "audit.pipeline_events") else []
    if stale:
        lines.append("  Stale feeds (warning: no new load for longer than the sources' YAML allows):")
        lines += [f"    {message}" for (message,) in stale]
    release = conn.execute(
        "select release_id, run_id, row_count, created_at, coalesce(withheld_count, 0), coalesce(withheld, '[]'::jsonb),"
        " changed_count from published.latest_release").fetchone() if _has_table(conn, "published.releases") else None
    if release is None:
        lines.append("  No release is published yet.")
        return "\n".join(lines)
    release_id, release_run, row_count, created_at, withheld_count, withheld, changed_count = release
    made_now = release_run == run_id
    changed = "" if changed_count is None else f", {changed_count} added, changed or dropped"
    lines.append(f"  Release: {release_id} ({row_count} values{changed}, {created_at:%Y-%m-%d %H:%M} UTC)"
                 + ("" if made_now else " — made by an earlier run; this run published no new release"))
    if withheld_count:
        lines.append(f"  Withheld by failed quality checks: {withheld_count} value(s), with what aggregates them:")
        for group in withheld[:WITHHELD_SHOWN]:
            lines.append("    " + withheld_line(group))
        if len(withheld) > WITHHELD_SHOWN:
            lines.append(f"    ... and {len(withheld) - WITHHELD_SHOWN} more (published.releases.withheld)")
    headline = conn.execute(
        """select period, indicator_id, value, unit, withheld, suppression, is_preliminary
             from published.indicator_values
            where admin_level = 'national' and sex = 'total' and age_group = 'total' and ethnicity = 'total'
              and category = 'total' and period_type = 'year' and indicator_id = any(%s)
            order by period, indicator_id""",
        (list(HEADLINE_INDICATORS),),
    ).fetchall()
    if headline:
        lines.append("  Headline values (Việt Nam, total):")
        for period, indicator, value, unit, withheld_reason, suppression, preliminary in headline:
            shown = format_value(value, unit, withheld_reason, suppression)
            lines.append(f"    {period}  {indicator:<24} {shown:>10} {unit}" + ("  (preliminary)" if preliminary else ""))
    return "\n".join(lines)


DBT_TEST_LINES_SHOWN = 10


def dbt_test_lines(conn: psycopg.Connection, run_id: str | None) -> list[str]:
    """The dbt data tests that failed tonight (suite dbt_data_tests, quality/dbt_tests.py), with their messages:
    failing row count and examples."""
    if not _has_table(conn, "audit.quality_results"):
        return []
    rows = conn.execute(
        """select message from audit.quality_results
            where run_id is not distinct from %s and suite = 'dbt_data_tests' and not success and message is not null
            order by severity, pinned, quality_result_id""", (run_id,)).fetchall()
    if not rows:
        return []
    lines = ["  dbt data tests that failed (the gate judged them like the checks above; audit.quality_results):"]
    lines += [f"    {message.splitlines()[0]}" for (message,) in rows[:DBT_TEST_LINES_SHOWN]]
    if len(rows) > DBT_TEST_LINES_SHOWN:
        lines.append(f"    … and {len(rows) - DBT_TEST_LINES_SHOWN} more (audit.quality_results, suite dbt_data_tests)")
    return lines


DELIVERY_LINES_SHOWN = 15
COMPLETENESS = "marts.fct_feed_completeness"


def delivery_lines(conn: psycopg.Connection) -> list[str]:
    """Missing, then late deliveries (marts.fct_feed_completeness, as dbt built it tonight), most recent
    period first, in plain words; a feed and period that every province missed, or delivered late, is one
    line. Nothing before dbt has built the mart."""
    if not _has_table(conn, COMPLETENESS):
        return []
    expected, received, on_time, late, missing, awaited = conn.execute(
        f"""select count(*) filter (where expected), count(*) filter (where expected and received),
                   count(*) filter (where on_time), count(*) filter (where late), count(*) filter (where missing),
                   count(*) filter (where delivery_status = 'awaited')
              from {COMPLETENESS}""").fetchone()
    if not expected:
        return []
    lines = [f"  Deliveries (feed × province × period that has ended): {expected} expected, "
             f"{received} received ({100 * received / expected:.1f} %), {on_time} on time, {late} late, "
             f"{missing} missing, {awaited} not due yet"]
    groups = conn.execute(
        f"""select missing, feed, period, count(*) = max(expected_provinces) and count(*) > 1, count(*),
                   min(due_date), max(days_past_due),
                   array_agg(array[province_code, province_name, current_province_name, due_date::text,
                                   days_past_due::text] order by province_code)
              from (select *, count(*) filter (where expected) over (partition by feed, period) as expected_provinces
                      from {COMPLETENESS}) as judged
             where missing or late
             group by missing, feed, period, period_end
             order by missing desc, period_end desc, feed""").fetchall()
    shown = []  # (line, deliveries it stands for)
    for is_missing, feed, period, every_province, count, due, days, provinces in groups:
        if every_province:
            shown.append((f"no province has delivered {feed} for {period} (due {due}, {count} provinces)"
                          if is_missing else
                          f"every province delivered {feed} for {period} late (due {due}, up to {days} days)", count))
            continue
        for code, name, current_name, its_due, its_days in provinces:
            province = f"province {code} ({name}{'' if current_name == name else f', now {current_name}'})"
            shown.append((f"{province} has not delivered {feed} for {period} (due {its_due}, {its_days} days ago)"
                          if is_missing else
                          f"{province} delivered {feed} for {period} late (due {its_due}, {its_days} days late)", 1))
    lines += ["    " + line for line, _ in shown[:DELIVERY_LINES_SHOWN]]
    more = sum(count for _, count in shown[DELIVERY_LINES_SHOWN:])
    if more:
        lines.append(f"    … and {more} more (select * from {COMPLETENESS} where missing or late)")
    empty_files = conn.execute(
        f"""select feed, count(*) from audit.load_batches
             where status in ('loaded', 'empty') and rows_loaded = 0 and feed in (select feed from {COMPLETENESS} where missing)
             group by feed order by feed""").fetchall()
    lines += [f"    ({feed}: {files} file(s) without rows (empty, or all quarantined); a province with nothing to "
              "report, or whose rows were all quarantined, reads as missing)" for feed, files in empty_files]
    return lines


WITHHELD_SHOWN = 20
COUNT_UNITS = ("births", "deaths", "children", "pupils", "cases", "persons", "VND")


def withheld_line(group: dict) -> str:
    """One withheld group: indicator, unit, period, breakdown, the check and what it saw, how many values."""
    unit = "Việt Nam" if group.get("admin_level") == "national" else f"{group.get('admin_level')} {group.get('admin_code')}"
    breakdown = ", ".join(f"{key} {group[key]}" for key in ("sex", "age_group", "ethnicity", "category")
                          if group.get(key) not in (None, "total"))
    where = ", ".join(part for part in (group.get("indicator_id"), unit, group.get("period"), breakdown) if part)
    return f"{where}: {group.get('check')}: {group.get('detail', '')} ({group.get('values_withheld', 0)} value(s))"


def format_value(value, unit: str, withheld: str | None = None, suppression: str | None = None) -> str:
    """A value for the console; a null value says why it is missing."""
    if value is None:
        return "withheld" if withheld else "suppressed" if suppression else "n/a"
    return f"{value:,.0f}" if unit in COUNT_UNITS else f"{value:.2f}"


def _has_table(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]
