"""Load every new file of a feed's landing folder."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.feeds import FEEDS
from ingest.loader import BatchResult, landing_files, load_file

DEFAULT_LANDING_DIR = Path(__file__).resolve().parent.parent / "landing"


def landing_dir() -> Path:
    return Path(os.environ.get("LANDING_DIR") or DEFAULT_LANDING_DIR)


def ingest_feed(feed: str, landing: Path | None = None, run_id: str | None = None,
                periods: list[str] | None = None) -> list[BatchResult]:
    """Load the feed's new files; with `periods`, only the files whose names hold one of them (a rerun of
    one period; ingest.file_periods). The warehouse must be set up (ingest.schema.setup_warehouse): no DDL
    here, so parallel loads never wait on, or deadlock with, schema changes."""
    from ingest.file_periods import name_matches_periods
    from warehouse.connection import connect

    spec = FEEDS[feed]
    landing = landing or landing_dir()
    files = landing_files(spec, landing / feed)
    if periods:
        files = [path for path in files if name_matches_periods(path.name, periods)]
    with connect(autocommit=True) as conn:
        return [load_file(conn, spec, path, run_id=run_id) for path in files]


def summarise(results: list[BatchResult]) -> str:
    lines = []
    for r in results:
        line = f"  {r.status:<8} {r.file_name}: read {r.rows_read}, loaded {r.rows_loaded}, quarantined {r.rows_quarantined}"
        if r.seconds:
            line += f" in {r.seconds:.1f} s ({r.rows_read / r.seconds:,.0f} rows/s)"
        if r.rows_superseded:
            line += f", superseded {r.rows_superseded} earlier rows"
        if r.reason:
            line += f" — {r.reason}"
        lines.append(line)
    return "\n".join(lines)
