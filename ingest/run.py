"""Load every new file of a feed's landing folder."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.batches import BatchResult, mark_interrupted_batches
from ingest.feeds import FEEDS
from ingest.loader import landing_files, load_file

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
    results = []
    conn = connect(autocommit=True)
    try:
        mark_interrupted_batches(conn)
        for path in files:
            if conn.broken or conn.closed:  # a file's failure took the connection down: the next file goes on
                conn = connect(autocommit=True)
            results.append(load_file(conn, spec, path, run_id=run_id, landing=landing / feed))
        # Again at the end: the server notices a killed client's connection only when it next reads from it.
        mark_interrupted_batches(conn if not conn.broken else connect(autocommit=True))
    finally:
        conn.close()
    return results


def retry_batch(batch_id: int, run_id: str | None = None) -> BatchResult:
    """Load the file of a batch again, even if the same bytes failed, were rejected or were loaded before
    (`make retry BATCH=n`): after a fix of the loader, or of the file in place."""
    from warehouse.connection import connect

    with connect(autocommit=True) as conn:
        row = conn.execute("select feed, file_path from audit.load_batches where batch_id = %s", (batch_id,)).fetchone()
        if row is None:
            raise SystemExit(f"no batch {batch_id} in audit.load_batches")
        feed, file_path = row
        path = Path(file_path)
        if not path.exists() and not path.is_symlink():
            raise SystemExit(f"batch {batch_id}: its file {path} is no longer there")
        mark_interrupted_batches(conn)
        return load_file(conn, FEEDS[feed], path, run_id=run_id, landing=path.parent, retry_of=batch_id)


def confirm_batch(batch_id: int, confirmed_by: str) -> list[str]:
    """Apply a correction held for confirmation (`make confirm BATCH=n`); returns what it changed."""
    from ingest.supersession import confirm_batch as confirm
    from warehouse.connection import connect

    with connect(autocommit=True) as conn:
        row = conn.execute("select feed from audit.load_batches where batch_id = %s", (batch_id,)).fetchone()
        if row is None:
            raise SystemExit(f"no batch {batch_id} in audit.load_batches")
        superseded, changed = confirm(conn, FEEDS[row[0]], batch_id, confirmed_by)
    if not changed:
        return [f"batch {batch_id}: nothing waits for confirmation"]
    return [f"batch {batch_id}: confirmed by {confirmed_by}; {superseded:,} earlier row(s) replaced", *changed]


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
