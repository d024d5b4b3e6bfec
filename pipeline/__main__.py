"""`python -m pipeline run` — start the warehouse, make sample landing files if needed, run the nightly
DAG end to end with Airflow, and print what happened. `python -m pipeline summary` reprints the summary.

`python -m pipeline up|down|status|trigger` — the Airflow services on this machine (make up, make down,
make status, make trigger [FEEDS=…] [PERIODS=…]); see pipeline/services.py."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ingest.run import DEFAULT_LANDING_DIR
from warehouse.connection import acting_as, connect, masked, owner_url


def _landing_dir() -> Path:
    if os.environ.get("LANDING_DIR"):
        return Path(os.environ["LANDING_DIR"])
    if not DEFAULT_LANDING_DIR.exists():
        # the generator is a dev tool of the repository, not part of the product: run it as its own step
        import subprocess

        print(f"No LANDING_DIR given: generating a sample landing folder in {DEFAULT_LANDING_DIR} ...", flush=True)
        command = [sys.executable, "-m", "synthetic", "sample", "--landing", str(DEFAULT_LANDING_DIR)]
        subprocess.run(command, cwd=Path(__file__).resolve().parents[1], check=True)
    return DEFAULT_LANDING_DIR


def _connect_hint(url: str) -> str:
    """How to connect, without a password: `make db-url` prints a URL with one (the owner's, or a role's)."""
    return ("Connect:\n"
            f"  {masked(url)}   (password masked; `make db-url` prints a usable URL, `make db-url ROLE=analyst`\n"
            "  one for a least-privilege role; or: make psql)\n"
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


def _services(args: argparse.Namespace) -> int:
    from pipeline import services

    try:
        if args.command == "up":
            print("Starting the warehouse and Airflow (api-server, scheduler, dag-processor, triggerer) ...")
            deployment = services.up()
            print(f"Airflow is up: UI and REST API at {deployment.base_url}/  (login: {services.ADMIN}, password in "
                  f"{deployment.home / 'passwords.json'})\n  the nightly schedule is live; `make trigger` starts a run now;"
                  f" logs in {deployment.home / 'logs'}; `make down` stops everything.")
        elif args.command == "down":
            stopped = services.down()
            print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
        elif args.command == "status":
            processes, health, deployment = services.status()
            if not processes:
                print("Airflow services are not running (`make up`).")
                return 1
            for name, alive in processes.items():
                print(f"  {name:<14} {'running' if alive else 'STOPPED'}")
            for component in services.HEALTH_COMPONENTS:
                print(f"  health {component:<14} {((health or {}).get(component) or {}).get('status', 'unreachable')}")
            print(f"  UI: {deployment.base_url}/   logs: {deployment.home / 'logs'}")
            return 0 if all(processes.values()) and services.is_healthy(health) else 1
        elif args.command == "trigger":
            feeds = args.feeds.split() if args.feeds else None
            periods = args.periods.split() if args.periods else None
            run_id = services.trigger(feeds, periods, full_refresh=args.full_refresh)
            print(run_id)
            if args.wait:
                state = services.wait_for_run(run_id)
                print(f"{run_id}: {state}")
                return 0 if state == "success" else 1
    except services.ServicesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "summary", "up", "down", "status", "trigger"])
    parser.add_argument("--feeds", default=None, help="trigger: feeds to load, space-separated (default: all)")
    parser.add_argument("--periods", default=None, help="trigger: periods whose files to load, e.g. '2025-H1 2025-H2'")
    parser.add_argument("--wait", action="store_true", help="trigger: wait for the run to finish")
    parser.add_argument("--full-refresh", action="store_true",
                        help="trigger: rebuild every model and run every check (default: only what changed)")
    args = parser.parse_args(argv)
    if args.command in ("up", "down", "status", "trigger"):
        return _services(args)
    url = owner_url()  # the bootstrap's, and the DAG's (whose tasks then connect as loader and transformer)
    from ingest.schema import setup_warehouse as bootstrap
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
    with acting_as("analyst"), connect() as conn:  # the summary only reads marts, published and audit
        print(run_summary(conn, latest_run_id(conn)))
    print(_reports_hint())
    print(_connect_hint(url))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
