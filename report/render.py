"""Render every output of one period into reports/<period>/, with its manifest.

The folder is built beside the old one and swapped in at the end, so a reader never sees half a report
and files of an earlier render never linger."""

from __future__ import annotations

import hashlib
import json
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


def render_inputs(conn: psycopg.Connection, period: str) -> str:
    """What a period's outputs are made from: the latest release, the approvals in force (official or provisional
    values), and the report code and templates."""
    (release_id, approvals) = conn.execute(
        """select (select release_id from published.latest_release),
                  (select count(*) || ':' || coalesce(max(approval_id), 0) from published.approvals)""").fetchone()
    code = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            code.update(path.name.encode() + b"\0" + path.read_bytes())
    return hashlib.sha256(f"{period}|{release_id}|{approvals}|{code.hexdigest()}".encode()).hexdigest()


def _unchanged(final: Path, inputs: str) -> Rendered | None:
    """The period's outputs as they are, when they were made from these inputs (a night that published
    nothing new renders nothing again)."""
    try:
        manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("inputs") != inputs or not all((final / entry["path"]).exists() for entry in manifest["files"]):
        return None
    files = [OutputFile(**{key: entry[key] for key in OutputFile.__dataclass_fields__ if key in entry})
             for entry in manifest["files"]]
    return Rendered(manifest["period"], final, manifest["release_id"], files, 0.0)


def render_period(conn: psycopg.Connection, period: str, root: Path | None = None, force: bool = False) -> Rendered:
    """Every output of the period, unless the folder already holds those of the same release, approvals and
    code (then it is kept as it is; `force` renders it again)."""
    started = time.monotonic()
    root = root or reports_dir()
    final = root / period
    inputs = render_inputs(conn, period)
    if not force and (kept := _unchanged(final, inputs)) is not None:
        log.info("%s: the outputs in %s are those of release %s with the same approvals: kept", period, final,
                 kept.release_id)
        return kept
    data = load_report(conn, period)
    building = root / f".{period}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    files = [*write_workbooks(data, building), *write_tidy_csv(data, building), *write_sdmx(data, building),
             *write_site(data, building, _docs_href(root))]
    write_manifest(building, files, data.release_id, period, inputs)
    retired = root / f".{period}.retired-{os.getpid()}"
    if final.exists():
        final.rename(retired)
    building.rename(final)
    shutil.rmtree(retired, ignore_errors=True)
    rendered = Rendered(period, final, data.release_id, files, time.monotonic() - started)
    log.info("rendered %s: %s in %.1f s", period, rendered.counts(), rendered.seconds)
    return rendered
