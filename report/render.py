"""Render every output of one period into reports/<period>/, with its manifest.

The folder is built beside the old one and swapped in at the end, so a reader never sees half a report
and files of an earlier render never linger."""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from report.data import load_report
from report.manifest import OutputFile, write_manifest
from report.sdmx import write_sdmx
from report.site import write_site
from report.tidy_csv import write_tidy_csv
from report.workbook import write_workbooks

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
DBT_DOCS = PROJECT_DIR / "dbt" / "target" / "static_index.html"


def reports_dir() -> Path:
    return Path(os.environ.get("REPORTS_DIR", PROJECT_DIR / "reports"))


@dataclass
class Rendered:
    period: str
    folder: Path
    release_id: str
    files: list[OutputFile]
    seconds: float

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        return counts


def _docs_href(root: Path) -> str | None:
    """The project overview (make docs), copied beside the reports so that the link works from any copy."""
    if not DBT_DOCS.exists():
        return None
    (root / "docs").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DBT_DOCS, root / "docs" / "index.html")
    return "../../docs/index.html"  # from reports/<period>/html/


def render_period(conn: psycopg.Connection, period: str, root: Path | None = None) -> Rendered:
    started = time.monotonic()
    root = root or reports_dir()
    data = load_report(conn, period)
    final = root / period
    building = root / f".{period}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    files = [*write_workbooks(data, building), *write_tidy_csv(data, building), *write_sdmx(data, building),
             *write_site(data, building, _docs_href(root))]
    write_manifest(building, files, data.release_id, period)
    retired = root / f".{period}.retired-{os.getpid()}"
    if final.exists():
        final.rename(retired)
    building.rename(final)
    shutil.rmtree(retired, ignore_errors=True)
    rendered = Rendered(period, final, data.release_id, files, time.monotonic() - started)
    log.info("rendered %s: %s in %.1f s", period, rendered.counts(), rendered.seconds)
    return rendered
