"""Load every new file of a feed's landing folder."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.feeds import FEEDS
from ingest.loader import BatchResult, landing_files, load_file

DEFAULT_LANDING_DIR = Path(__file__).resolve().parent.parent / "landing"


def landing_dir() -> Path:
    return Path(os.environ.get("LANDING_DIR") or DEFAULT_LANDING_DIR)


def ingest_feed(feed: str, landing: Path | None = None, run_id: str | None = None) -> list[BatchResult]:
    from warehouse.connection import connect
    from warehouse.schema import bootstrap

    spec = FEEDS[feed]
    landing = landing or landing_dir()
    with connect(autocommit=True) as conn:
        bootstrap(conn)
        return [load_file(conn, spec, path, run_id=run_id) for path in landing_files(spec, landing / feed)]


def summarise(results: list[BatchResult]) -> str:
    lines = []
    for r in results:
        line = f"  {r.status:<8} {r.file_name}: read {r.rows_read}, loaded {r.rows_loaded}, quarantined {r.rows_quarantined}"
        if r.rows_superseded:
            line += f", superseded {r.rows_superseded} earlier rows"
        if r.reason:
            line += f" — {r.reason}"
        lines.append(line)
    return "\n".join(lines)
