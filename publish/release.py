"""Make a release: an immutable snapshot of the candidate indicator values after disclosure control
(marts.fct_published_values: small counts of sensitive indicators suppressed, with the reason in
`suppression`), allowed only when the quality gate of the same run passed. The previous release stays in
place until the new one commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

import psycopg

from warehouse.connection import connect

# The candidates after disclosure control; the quality gate checks marts.fct_indicator_values, the same
# rows before suppression.
CANDIDATES = "marts.fct_published_values"
CATALOGUE = "marts.dim_indicator"
VALUE_COLUMNS = ("indicator_id, period, period_type, admin_level, admin_code, admin_name, sex, age_group, "
                 "ethnicity, category, numerator, denominator, value, unit, suppression")


class PublicationBlocked(RuntimeError):
    """The quality gate did not pass for this run; nothing was published."""


@dataclass
class Release:
    release_id: str
    row_count: int
    periods: list[str]
    is_new: bool = True  # False when the candidates equal the latest release, which then stays


def _same_as_latest(conn: psycopg.Connection) -> tuple[str, int, list[str]] | None:
    """The latest release, if the candidate values are exactly its values (a night without new data)."""
    latest = conn.execute("select release_id, row_count, periods from published.latest_release").fetchone()
    if latest is None:
        return None
    differs = conn.execute(
        f"""select exists (
                (select {VALUE_COLUMNS} from {CANDIDATES}
                 except all
                 select {VALUE_COLUMNS} from published.release_values where release_id = %(id)s)
                union all
                (select {VALUE_COLUMNS} from published.release_values where release_id = %(id)s
                 except all
                 select {VALUE_COLUMNS} from {CANDIDATES}))""",
        {"id": latest[0]},
    ).fetchone()[0]
    return None if differs else latest


def _gate_results(conn: psycopg.Connection, run_id: str, required_suites: list[str]) -> dict:
    rows = conn.execute(
        """select distinct on (suite) suite, quality_run_id, success, error_failures, warning_failures
             from audit.quality_runs where run_id = %s order by suite, quality_run_id desc""",
        (run_id,),
    ).fetchall()
    latest = {suite: (run, success, errors, warnings) for suite, run, success, errors, warnings in rows}
    missing = [suite for suite in required_suites if suite not in latest]
    if missing:
        raise PublicationBlocked(f"run {run_id}: quality suites not run: {', '.join(missing)}")
    failing = [suite for suite in required_suites if latest[suite][2] > 0]
    if failing:
        raise PublicationBlocked(f"run {run_id}: error-level checks failed in {', '.join(failing)}")
    return {suite: {"quality_run_id": latest[suite][0], "warnings": latest[suite][3]} for suite in required_suites}


def _next_release_id(conn: psycopg.Connection, now: datetime) -> str:
    day = now.strftime("%Y%m%d")
    count = conn.execute("select count(*) from published.releases where release_id like %s", (f"{day}-%",)).fetchone()[0]
    return f"{day}-{count + 1:02d}"


def create_release(run_id: str, required_suites: list[str]) -> Release:
    with connect() as conn, conn.transaction():
        # One release at a time: concurrent runs queue here rather than racing for an id.
        conn.execute("select pg_advisory_xact_lock(hashtext('child-stats-release'))")
        quality = _gate_results(conn, run_id, required_suites)
        unchanged = _same_as_latest(conn)
        if unchanged is not None:
            release_id, row_count, periods = unchanged
            return Release(release_id, row_count, list(periods), is_new=False)
        now = datetime.now(timezone.utc)
        release_id = _next_release_id(conn, now)
        counts = dict(conn.execute(f"select indicator_id, count(*) from {CANDIDATES} group by 1 order by 1").fetchall())
        periods = [p for (p,) in conn.execute(f"select distinct period from {CANDIDATES} order by 1")]
        batches = conn.execute(
            """select feed, array_agg(batch_id order by batch_id) from audit.load_batches
                where status = 'loaded' group by feed""").fetchall()
        conn.execute(
            """insert into published.releases (release_id, created_at, run_id, periods, row_count, row_counts,
                                               quality_results, source_batches)
               values (%s, %s, %s, %s, %s, %s, %s, %s)""",
            (release_id, now, run_id, periods, sum(counts.values()), json.dumps(counts), json.dumps(quality),
             json.dumps(dict(batches))),
        )
        conn.execute(
            f"insert into published.release_values (release_id, {VALUE_COLUMNS}) "
            f"select %s, {VALUE_COLUMNS} from {CANDIDATES}",
            (release_id,),
        )
        conn.execute(
            f"""insert into published.release_indicators
                select %s, indicator_id, tt13_code, name_vi, name_en, kind, unit, unit_label_vi, multiplier,
                       numerator_definition, denominator_definition, responsible_agency, legal_basis, notes
                  from {CATALOGUE}""",
            (release_id,),
        )
    return Release(release_id, sum(counts.values()), periods)
