"""The nightly run's steps. Airflow tasks and the CLI call these; they hold the logic, the DAG none."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

RAW_SUITES = {"y_te_sinh": "raw_y_te_sinh", "y_te_tu_vong": "raw_y_te_tu_vong",
              "y_te_tiem_chung": "raw_y_te_tiem_chung", "y_te_can_do": "raw_y_te_can_do", "dan_so": "raw_dan_so",
              "giao_duc_hoc_sinh": "raw_giao_duc_hoc_sinh", "ldxh_tre_em": "raw_ldxh_tre_em",
              "ldxh_xam_hai": "raw_ldxh_xam_hai"}
MART_SUITES = ["marts_indicator_values", "marts_nutrition_zscores"]


class QualityGateFailed(RuntimeError):
    """An error-level check that cannot be pinned to values failed: the run stops and the previous release
    stays published. (Failures pinned to values do not stop it: the release withholds those values.)"""


def ingest(feed: str, run_id: str) -> dict:
    from ingest.run import ingest_feed, summarise

    results = ingest_feed(feed, run_id=run_id)
    log.info("%s: %d file(s)\n%s", feed, len(results), summarise(results))
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise RuntimeError(f"{feed}: loader failed on {', '.join(r.file_name for r in failed)}")
    return {
        "files": len(results),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
        "rejected_files": [f"{r.file_name}: {r.reason}" for r in results if r.status == "rejected"],
    }


def validate(suites: list[str], run_id: str) -> None:
    from quality import run_suites

    outcome = run_suites(suites, run_id=run_id)
    for message in outcome.messages:
        log.warning(message)
    if outcome.blocked:
        blocking = [m for suite in outcome.suites for check in suite.checks
                    if not check.success and check.severity == "error" and not check.pinned for m in check.messages]
        raise QualityGateFailed("quality gate failed:\n" + "\n".join(blocking))
    if outcome.withholding:
        log.warning("%d error-level check(s) failed for named values: the release will withhold them and the "
                    "values that aggregate them", len(outcome.withholding))


def load_reference() -> None:
    """Reference data (geography, catalogue) first: the raw checks compare codes with it."""
    from pipeline.dbt import run_dbt

    run_dbt("seed")


def transform() -> None:
    """Models with their data and unit tests; seeds were loaded by load_reference."""
    from pipeline.dbt import run_dbt

    run_dbt("build", "--exclude", "resource_type:seed")


def publish(run_id: str) -> str:
    from publish.release import create_release

    release = create_release(run_id, [*RAW_SUITES.values(), *MART_SUITES])
    if release.is_new:
        log.info("published release %s: %d values for %s", release.release_id, release.row_count,
                 ", ".join(release.periods))
    else:
        log.info("published release %s stays: the values have not changed", release.release_id)
    for item in release.withheld:
        log.warning("withheld %s value(s): %s", item.get("values_withheld"), _withheld_text(item))
    return release.release_id


def _withheld_text(item: dict) -> str:
    where = ", ".join(str(item[key]) for key in ("indicator_id", "admin_level", "admin_code", "period") if key in item)
    breakdown = ", ".join(f"{key} {item[key]}" for key in ("sex", "age_group", "ethnicity", "category")
                          if item.get(key) not in (None, "total"))
    return f"{where}{', ' + breakdown if breakdown else ''}: {item.get('check')}: {item.get('detail', '')}"


def render_reports() -> list[str]:
    """The report outputs of the latest half-year and year (reports/<period>/, see `make report`), from the
    release just made. Reads published as report_reader, like every report user."""
    import psycopg

    from report.data import latest_periods
    from report.render import render_period
    from warehouse.roles import role_url

    folders = []
    with psycopg.connect(role_url("report_reader"), autocommit=True) as conn:
        for period in latest_periods(conn):
            rendered = render_period(conn, period)
            log.info("rendered %s: %s → %s", period, rendered.counts(), rendered.folder)
            folders.append(str(rendered.folder))
    return folders
