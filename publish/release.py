"""Make a release: an immutable snapshot of the candidate indicator values after disclosure control
(marts.fct_published_values: small counts of sensitive indicators suppressed, with the reason in
`suppression`).

The quality gate of the same run decides: a suite that did not run, or an error-level failure that cannot
be pinned to values, blocks the release (the previous one stays in place). An error-level failure pinned to
values withholds those values and what aggregates them (publish.withholding); everything else is released.
Every release is provisional; statisticians approve periods afterwards (published.approve)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from publish.completeness import refresh_completeness
from publish.data_quality import refresh_indicator_outliers, refresh_quality_scorecard, refresh_register_data_quality
from publish.deliveries import record_deliveries
from publish.periods import record_periods
from publish.reference import refresh_reference
from publish.versions import apply_changes, compare_with_latest
from publish.withholding import CANDIDATES_TABLE, UnresolvedPins, as_json, build_candidates, withheld_summary
from warehouse.connection import connect

log = logging.getLogger(__name__)

# The candidates after disclosure control; the quality gate checks marts.fct_indicator_values, the same
# rows before suppression.
CANDIDATES = "marts.fct_published_values"
CATALOGUE = "marts.dim_indicator"
INDICATOR_COLUMNS = ("indicator_id, tt13_code, name_vi, name_en, kind, unit, unit_label_vi, multiplier, "
                     "numerator_definition, denominator_definition, responsible_agency, legal_basis, notes, "
                     "source_feeds, annex, indicator_group, breakdowns, period_types, is_sensitive")


@contextmanager
def _timed(step: str):
    """Log how long a step of the release took (the engineer's first question when publish is slow)."""
    started = time.monotonic()
    yield
    log.info("release: %s in %.1f s", step, time.monotonic() - started)


class PublicationBlocked(RuntimeError):
    """The quality gate did not pass for this run; nothing was published."""


@dataclass
class Release:
    release_id: str
    row_count: int
    periods: list[str]
    is_new: bool = True  # False when the candidates equal the latest release, which then stays
    withheld: list[dict] = field(default_factory=list)  # the pinned failures and how many values each withheld
    changed_count: int = 0  # values added, changed or dropped against the release before

    @property
    def withheld_count(self) -> int:
        return sum(item.get("values_withheld", 0) for item in self.withheld)


def _catalogue_changed(conn: psycopg.Connection, release_id: str) -> bool:
    """The catalogue differs from the one the release carries (a name, a definition)."""
    return conn.execute(
        f"""select exists (
                (select {INDICATOR_COLUMNS} from {CATALOGUE}
                 except
                 select {INDICATOR_COLUMNS} from published.release_indicators where release_id = %(id)s)
                union all
                (select {INDICATOR_COLUMNS} from published.release_indicators where release_id = %(id)s
                 except
                 select {INDICATOR_COLUMNS} from {CATALOGUE}))""",
        {"id": release_id},
    ).fetchone()[0]


def _preliminary_changed(conn: psycopg.Connection, release_id: str) -> bool:
    """A period of the release that has ended since (it was preliminary and is no longer, or the other way)."""
    return conn.execute(
        """select exists (select 1 from published.release_periods as r
                            join marts.dim_period as p using (period)
                           where r.release_id = %s and r.is_preliminary <> (p.end_date >= current_date))""",
        (release_id,)).fetchone()[0]


def inputs_fingerprint(conn: psycopg.Connection, quality: dict) -> str | None:
    """What a release is made from: the latest build's inputs (pipeline.incremental: the dbt project and every
    feed's active rows), the results of the quality runs that gate it, and the publishing code. None when no
    build was recorded (a build outside the pipeline): the release is then recomputed."""
    build = conn.execute("""select code_fingerprint, feed_fingerprints::text from audit.build_state
                             where step = 'build' order by build_id desc limit 1""").fetchone()
    if build is None:
        return None
    (results,) = conn.execute(
        """select md5(string_agg(concat_ws('|', suite, expectation, severity, success, pinned, admin_code, period,
                                           message, failing_rows::text), E'\n'
                                 order by suite, expectation, admin_code, period, message, failing_rows::text))
             from audit.quality_results where quality_run_id = any(%s)""",
        ([item["quality_run_id"] for item in quality.values()],)).fetchone()
    code = hashlib.sha256(b"".join(path.read_bytes() for path in sorted(Path(__file__).parent.glob("*.py"))))
    return hashlib.sha256("\0".join((*build, results or "", code.hexdigest())).encode()).hexdigest()


def _kept_release(conn: psycopg.Connection, fingerprint: str | None) -> tuple | None:
    """The latest release, when it stands for exactly these inputs (audit.release_inputs) and no period of it
    has ended since: a night that changed nothing keeps it without recomputing the candidates."""
    if fingerprint is None:
        return None
    latest = conn.execute(
        """select r.release_id, r.row_count, r.periods, coalesce(r.withheld, '[]'::jsonb)
             from published.latest_release as r
             join audit.release_inputs as i on i.release_id = r.release_id and i.inputs_fingerprint = %s""",
        (fingerprint,)).fetchone()
    if latest is None or _preliminary_changed(conn, latest[0]):
        return None
    return latest


def _record_inputs(conn: psycopg.Connection, release_id: str, fingerprint: str | None, run_id: str) -> None:
    if fingerprint is not None:
        conn.execute("""insert into audit.release_inputs (release_id, inputs_fingerprint, run_id) values (%s, %s, %s)
                        on conflict do nothing""", (release_id, fingerprint, run_id))


def _gate_results(conn: psycopg.Connection, run_id: str, required_suites: list[str]) -> dict:
    rows = conn.execute(
        """select distinct on (suite) suite, quality_run_id, success, error_failures,
                  coalesce(blocking_failures, error_failures), warning_failures
             from audit.quality_runs where run_id = %s order by suite, quality_run_id desc""",
        (run_id,),
    ).fetchall()
    latest = {suite: row for suite, *row in rows}
    missing = [suite for suite in required_suites if suite not in latest]
    if missing:
        raise PublicationBlocked(f"run {run_id}: quality suites not run: {', '.join(missing)}")
    failing = [suite for suite in required_suites if latest[suite][3] > 0]
    if failing:
        messages = [message for (message,) in conn.execute(
            """select message from audit.quality_results
                where quality_run_id = any(%s) and not success and severity = 'error' and not pinned
                order by quality_result_id limit 10""",
            ([latest[suite][0] for suite in failing],))]
        raise PublicationBlocked(f"run {run_id}: error-level checks that cannot be pinned to values failed in "
                                 f"{', '.join(failing)}" + "".join(f"\n  {m}" for m in messages if m))
    return {suite: {"quality_run_id": latest[suite][0], "warnings": latest[suite][4],
                    "errors_pinned": latest[suite][2]} for suite in required_suites}


def _next_release_id(conn: psycopg.Connection, now: datetime) -> str:
    day = now.strftime("%Y%m%d")
    count = conn.execute("select count(*) from published.releases where release_id like %s", (f"{day}-%",)).fetchone()[0]
    return f"{day}-{count + 1:02d}"


def create_release(run_id: str, required_suites: list[str], recompute: bool = False) -> Release:
    """The night's release, or the latest one when the candidates equal it. A night whose inputs are those of the
    latest release keeps it without recomputing the candidates, unless `recompute` (a full refresh)."""
    with connect() as conn, conn.transaction():
        # One release at a time: concurrent runs queue here rather than racing for an id.
        conn.execute("select pg_advisory_xact_lock(hashtext('child-stats-release'))")
        with _timed("gate and reference tables"):
            quality = _gate_results(conn, run_id, required_suites)
            refresh_reference(conn)
            refresh_completeness(conn)
            refresh_register_data_quality(conn)
            refresh_quality_scorecard(conn)
            refresh_indicator_outliers(conn)
            fingerprint = inputs_fingerprint(conn, quality)
        if not recompute and (kept := _kept_release(conn, fingerprint)) is not None:
            release_id, row_count, periods, latest_withheld = kept
            return Release(release_id, row_count, list(periods), is_new=False, withheld=list(latest_withheld))
        try:
            with _timed("candidates with withholding"):
                build_candidates(conn, run_id, CANDIDATES)
        except UnresolvedPins as exc:
            raise PublicationBlocked(f"run {run_id}: {exc}") from None
        withheld = withheld_summary(conn)
        latest = conn.execute("""select release_id, row_count, periods, coalesce(withheld, '[]'::jsonb), release_seq
                                   from published.latest_release""").fetchone()
        with _timed("comparison with the latest release"):
            changed = compare_with_latest(conn)
        # the candidates equal the latest release, its catalogue and its periods' preliminary state: keep it
        if latest is not None and changed == 0 and not _catalogue_changed(conn, latest[0]) \
                and not _preliminary_changed(conn, latest[0]):
            release_id, row_count, periods, latest_withheld, _ = latest
            _record_inputs(conn, release_id, fingerprint, run_id)
            return Release(release_id, row_count, list(periods), is_new=False, withheld=list(latest_withheld))
        now = datetime.now(UTC)
        release_id = _next_release_id(conn, now)
        latest_seq = latest[4] if latest is not None else None
        release_seq = (latest_seq or 0) + 1
        counts = dict(conn.execute(f"select indicator_id, count(*) from {CANDIDATES_TABLE} group by 1 order by 1").fetchall())
        periods = [p for (p,) in conn.execute(f"select distinct period from {CANDIDATES_TABLE} order by 1")]
        withheld_count = conn.execute(f"select count(*) from {CANDIDATES_TABLE} where withheld is not null").fetchone()[0]
        batches = conn.execute(
            """select feed, array_agg(batch_id order by batch_id) from audit.load_batches
                where status = 'loaded' group by feed""").fetchall()
        conn.execute(
            """insert into published.releases (release_id, created_at, run_id, periods, row_count, row_counts,
                                               quality_results, source_batches, withheld_count, withheld,
                                               release_seq, changed_count)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (release_id, now, run_id, periods, sum(counts.values()), json.dumps(counts), json.dumps(quality),
             json.dumps(dict(batches)), withheld_count, as_json(withheld), release_seq, changed),
        )
        with _timed(f"{changed} changed values stored"):
            apply_changes(conn, latest_seq, release_seq)
        conn.execute(
            f"insert into published.release_indicators (release_id, {INDICATOR_COLUMNS}) "
            f"select %s, {INDICATOR_COLUMNS} from {CATALOGUE}",
            (release_id,),
        )
        _record_inputs(conn, release_id, fingerprint, run_id)
        with _timed("periods and deliveries recorded"):
            record_periods(conn, release_id, now.date(), CANDIDATES_TABLE)
            record_deliveries(conn, release_id)
    return Release(release_id, sum(counts.values()), periods, withheld=withheld, changed_count=changed)
