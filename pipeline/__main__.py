"""`python -m pipeline run` — start the warehouse, make sample landing files if needed, run the nightly
DAG end to end with Airflow, and print what happened. `python -m pipeline summary` reprints the summary."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ingest.run import DEFAULT_LANDING_DIR
from warehouse.connection import connect, warehouse_url

# ≈ 13,700 births, 245,000 children and 230,000 pupils a year nationally: a sample that loads in seconds.
# Every feed uses the same scale, so rates that combine feeds (preschool attendance) stay realistic.
SAMPLE_SCALE = 0.01


def _landing_dir() -> Path:
    if os.environ.get("LANDING_DIR"):
        return Path(os.environ["LANDING_DIR"])
    if not DEFAULT_LANDING_DIR.exists():
        from synthetic import (generate_abuse_cases_feed, generate_child_register_feed, generate_education_feed,
                               generate_growth_feed, generate_health_feeds, generate_immunisation_feed,
                               generate_population_feed)

        print(f"No LANDING_DIR given: generating a sample landing folder in {DEFAULT_LANDING_DIR} ...")
        generate_health_feeds(DEFAULT_LANDING_DIR, scale=SAMPLE_SCALE, seed=2025, invalid_rate=0.002)
        generate_population_feed(DEFAULT_LANDING_DIR, scale=SAMPLE_SCALE, seed=2025, years=(2023, 2024, 2025))
        generate_education_feed(DEFAULT_LANDING_DIR, scale=SAMPLE_SCALE, seed=2025, invalid_rate=0.002)
        generate_immunisation_feed(DEFAULT_LANDING_DIR, scale=SAMPLE_SCALE, seed=2025, invalid_rate=0.002)
        generate_growth_feed(DEFAULT_LANDING_DIR, scale=SAMPLE_SCALE, seed=2025, invalid_rate=0.002)
        generate_child_register_feed(DEFAULT_LANDING_DIR, scale=SAMPLE_SCALE, seed=2025, invalid_rate=0.002)
        # abuse is rare (≈2,000 victims a year nationally): the sample takes the national volume, so that the
        # statistics and their suppression are realistic
        generate_abuse_cases_feed(DEFAULT_LANDING_DIR, scale=1.0, seed=2025, invalid_rate=0.002)
    return DEFAULT_LANDING_DIR


def _connect_hint(url: str) -> str:
    return ("Connect:\n"
            f"  psql \"{url}\"        (or: make psql)\n"
            "  then: select * from published.indicator_values where admin_level = 'national' limit 20;\n"
            "  BI tools: the same host/port/database; read the published schema.")


def _reports_hint() -> str:
    from report.render import reports_dir

    manifests = sorted(reports_dir().glob("*/manifest.json"), key=lambda p: p.stat().st_mtime, reverse=True)[:2]
    if not manifests:
        return "Reports: none rendered yet (make report PERIOD=2025-H1)."
    folders = ", ".join(f"{m.parent}/" for m in manifests)
    return (f"Reports: {folders} (workbooks, CSV, SDMX, html/index.html; each listed in its manifest.json);\n"
            "  another period: make report PERIOD=2025-H1 (or 2025, 2025-R6, ...).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    parser.add_argument("command", choices=["run", "summary"])
    args = parser.parse_args(argv)
    url = warehouse_url()
    from warehouse.schema import bootstrap
    from pipeline.report import latest_run_id, run_summary

    bootstrap()
    exit_code = 0
    if args.command == "run":
        from pipeline.airflow_local import run_dag

        landing = _landing_dir()
        print(f"Warehouse: {url.split('@')[-1]}   Landing: {landing}")
        print("Running the Airflow DAG child_stats_nightly (airflow dags test) ...")
        exit_code = run_dag(url, landing)
        print("\nThe DAG run succeeded." if exit_code == 0 else "\nThe DAG run FAILED (see the task log above).")
    with connect() as conn:
        print(run_summary(conn, latest_run_id(conn)))
    print(_reports_hint())
    print(_connect_hint(url))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
