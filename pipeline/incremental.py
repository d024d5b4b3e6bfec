"""What a night must rebuild, check and publish, from what changed since the last successful build.

A night's inputs are the dbt project (models, macros, seeds, tests: the *code*, with the dbt version and the
half-year the date-dependent models see) and, per feed, its active load cells (audit.batch_coverage: which
batch counts for which province, vintage and period, with how many rows). Each successful `dbt seed` and
`dbt build` records the fingerprints it was built from in audit.build_state. The next night compares:

- the code changed, no earlier build, the warehouse's marts are gone, or FULL_REFRESH=1 (the DAG param
  `full_refresh`) → **full**: every model and test;
- some feeds changed → **incremental**: the models downstream of those feeds' sources (`source:<s>.<feed>+`);
- nothing changed → **none**: no dbt build at all. What depends on today's date or on the audit tables (the
  expected deliveries, `fct_feed_completeness`, `fct_quality_issues`) is a view, current whenever it is read.

A model downstream of an unchanged feed is not rebuilt: its inputs are what they were when it was last built,
so its rows are too. The quality suites work the same way (quality.carry): a suite whose inputs have the same
fingerprint as an earlier run keeps that run's results, and the release is kept without recomputing it when
the build and the quality results are the ones it was made from (publish.release).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import yaml

from pipeline.dbt import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from quality.cells import SuiteCells

log = logging.getLogger(__name__)

PROJECT_ROOT = DBT_PROJECT_DIR.parent
# What dbt builds from, besides the delivered rows: a change to any of these files rebuilds everything.
CODE_PATHS = ("models", "macros", "tests", "dbt_project.yml", "packages.yml")
SEED_PATHS = ("seeds",)
# What the quality suites are, besides their inputs: a change re-runs every suite.
QUALITY_CODE_PATHS = (PROJECT_ROOT / "expectations", PROJECT_ROOT / "quality")
FULL_REFRESH_ENV = "PIPELINE_FULL_REFRESH"


@dataclass(frozen=True)
class BuildPlan:
    mode: str                 # full | incremental | none
    reason: str
    code_fingerprint: str
    feed_fingerprints: dict[str, str]
    changed_feeds: tuple[str, ...] = ()
    selection: tuple[str, ...] = field(default=())  # dbt --select arguments; empty for a full build
    # per feed, the state of each (province, period) cell (audit.feed_cells): the models kept per province
    # rebuild the provinces whose cells differ from those of the build before (dbt macro changed_current_provinces)
    feed_cells: dict[str, dict[str, str]] = field(default_factory=dict)

    def dbt_build_args(self) -> list[str] | None:
        """The `dbt build` to run; None when there is nothing to build. A full build rebuilds the incremental
        models whole (--full-refresh)."""
        args = ["build", "--exclude", "resource_type:seed"]
        if self.mode == "none":
            return None
        return [*args, "--full-refresh"] if self.mode == "full" else [*args, "--select", *self.selection]


def full_refresh_requested(params: dict | None = None) -> bool:
    """FULL_REFRESH=1 on `make run` (the environment) or the DAG param `full_refresh` on a triggered run."""
    return bool((params or {}).get("full_refresh")) or os.environ.get(FULL_REFRESH_ENV, "") in ("1", "true", "yes")


def _sha(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _files_fingerprint(roots: list[Path]) -> str:
    digest = hashlib.sha256()
    for root in roots:
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if root.is_dir() else ([root] if root.exists() else [])
        for path in files:
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def calendar_half_year(today: date | None = None) -> str:
    """The latest half-year that has ended: models that compare periods with today's date (a cohort counts once
    its period has ended) change when it does, so a new one rebuilds everything."""
    today = today or date.today()
    return f"{today.year}-H1" if today.month >= 7 else f"{today.year - 1}-H2"


def code_fingerprint(today: date | None = None) -> str:
    versions = ",".join(f"{package}={_version(package)}" for package in ("dbt-core", "dbt-postgres"))
    return _sha(_files_fingerprint([DBT_PROJECT_DIR / path for path in CODE_PATHS]),
                _files_fingerprint([DBT_PROJECT_DIR / path for path in SEED_PATHS]), versions,
                calendar_half_year(today))


def seed_fingerprint() -> str:
    return _sha(_files_fingerprint([DBT_PROJECT_DIR / path for path in SEED_PATHS]),
                _files_fingerprint([DBT_PROJECT_DIR / "dbt_project.yml"]), _version("dbt-core"))


def quality_code_fingerprint() -> str:
    return _files_fingerprint(list(QUALITY_CODE_PATHS))


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def feed_fingerprints(conn: psycopg.Connection, feeds: list[str]) -> dict[str, str]:
    """Per feed, an MD5 of its load cells as they count now (a new batch, a superseded one, a held correction
    confirmed, a retried file: each changes it; files that loaded no row do not), and of the raw table's write
    counters, so that a row changed by hand in raw (not through the loader) is seen too. The counters are
    reset by a crash of the server: the next night then rebuilds what they cover, which is safe."""
    cells = dict(conn.execute(
        """select feed, md5(string_agg(concat_ws(':', batch_id, province_code, admin_vintage, period_key, rows,
                                                 superseded_by_batch, awaiting_confirmation), ','
                                       order by batch_id, province_code, admin_vintage, period_key))
             from audit.batch_coverage group by feed""").fetchall())
    writes = dict(conn.execute(
        """select relname, concat_ws(':', n_tup_ins, n_tup_upd, n_tup_del) from pg_stat_user_tables
            where schemaname = 'raw' and relname = any(%s)""", (feeds,)).fetchall())
    return {feed: f"{cells.get(feed, 'no rows')}/{writes.get(feed, 'no table')}" for feed in feeds}


def latest_state(conn: psycopg.Connection, step: str) -> tuple | None:
    return conn.execute(
        """select build_id, code_fingerprint, feed_fingerprints, feed_cells from audit.build_state
            where step = %s order by build_id desc limit 1""", (step,)).fetchone()


def _marts_exist(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass('marts.fct_published_values') is not null").fetchone()[0]


def plan_build(conn: psycopg.Connection, feeds: list[str], full_refresh: bool = False) -> BuildPlan:
    """What tonight's dbt build must rebuild (see the module's docstring)."""
    code = code_fingerprint()
    current = feed_fingerprints(conn, feeds)
    cells = {feed: feed_cells(conn, feed) for feed in feeds}
    previous = latest_state(conn, "build")

    def full(reason: str, changed: tuple[str, ...] = ()) -> BuildPlan:
        return BuildPlan("full", reason, code, current, changed, feed_cells=cells)

    if full_refresh:
        return full("a full rebuild was asked for (FULL_REFRESH)")
    if previous is None:
        return full("no earlier build of this warehouse")
    if not _marts_exist(conn):
        return full("the marts are missing")
    _, previous_code, previous_feeds, previous_cells = previous
    if previous_code != code:
        return full("the dbt project, its reference data, dbt or the calendar half-year changed")
    changed = tuple(feed for feed in feeds if previous_feeds.get(feed) != current[feed])
    if not changed:
        return BuildPlan("none", "no feed's active rows changed since the last build", code, current, feed_cells=cells)
    sources = source_names()
    unknown = [feed for feed in changed if feed not in sources]
    if unknown:  # a feed dbt does not read: nothing downstream of it, but be safe
        return full(f"feeds without a dbt source: {', '.join(unknown)}", changed)
    # The models kept per province rebuild the provinces whose cells changed: rows changed in raw without a change
    # of any cell's loads (written by hand, not through the loader) would go unseen, so everything is rebuilt.
    if previous_cells is None:
        return full("the last build did not record its cells", changed)
    by_hand = [feed for feed in changed if previous_cells.get(feed, {}) == cells[feed]]
    if by_hand:
        return full(f"rows of {', '.join(by_hand)} changed outside the loader (no cell's loads changed)", changed)
    return BuildPlan("incremental", f"changed feeds: {', '.join(changed)}", code, current, changed,
                     selection=tuple(f"source:{sources[feed]}.{feed}+" for feed in changed), feed_cells=cells)


def source_names() -> dict[str, str]:
    """Raw table (feed) → the dbt source that declares it, from the staging YAML."""
    names = {}
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        for source in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("sources") or []:
            if source.get("schema", source.get("name")) == "raw":
                for table in source.get("tables") or []:
                    names[table["name"]] = source["name"]
    return names


def record_state(conn: psycopg.Connection, run_id: str, step: str, plan: BuildPlan, seconds: float) -> int:
    return conn.execute(
        """insert into audit.build_state (run_id, step, code_fingerprint, feed_fingerprints, mode, changed_feeds,
                                          selection, reason, seconds, feed_cells)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning build_id""",
        (run_id, step, plan.code_fingerprint, json.dumps(plan.feed_fingerprints), plan.mode, list(plan.changed_feeds),
         " ".join(plan.selection) or None, plan.reason, round(seconds, 3),
         json.dumps(plan.feed_cells) if plan.feed_cells else None)).fetchone()[0]


def plan_seed(conn: psycopg.Connection, full_refresh: bool = False) -> BuildPlan:
    """`dbt seed` when the reference data or the catalogue changed (or was never loaded), else nothing."""
    fingerprint = seed_fingerprint()
    previous = latest_state(conn, "seed")
    loaded = conn.execute("select to_regclass('reference.indicator_catalogue') is not null").fetchone()[0]
    if full_refresh or previous is None or previous[1] != fingerprint or not loaded:
        reason = ("a full rebuild was asked for (FULL_REFRESH)" if full_refresh else
                  "reference data never loaded" if previous is None or not loaded else "the reference data changed")
        return BuildPlan("full", reason, fingerprint, {})
    return BuildPlan("none", "the reference data did not change", fingerprint, {})


def feed_cells(conn: psycopg.Connection, feed: str) -> dict[str, str]:
    """Per (province, period) cell of a feed, in every vintage of the province code: an MD5 of its loads as they
    count now (audit.feed_cells, the same inputs as feed_fingerprints, cell by cell). Keys are "province|period"."""
    return dict(conn.execute("select cell, state from audit.feed_cells(%s)", (feed,)).fetchall())


def suite_cells(conn: psycopg.Connection, raw_suites: dict[str, str], full_refresh: bool = False
                ) -> dict[str, SuiteCells]:
    """What each raw suite reads, cell by cell (quality/cells.py re-checks only the cells that changed; a full
    refresh checks every table whole)."""
    from quality.cells import SuiteCells

    context = _sha(quality_code_fingerprint(), seed_fingerprint())
    return {suite: SuiteCells(feed, _sha(context, suite), feed_cells(conn, feed), check_all=full_refresh)
            for feed, suite in raw_suites.items()}


def suite_fingerprints(conn: psycopg.Connection, raw_suites: dict[str, str], mart_suites: list[str]) -> dict[str, str]:
    """The inputs of each quality suite: a raw suite reads its feed and the reference data; a mart suite reads
    what the latest build was built from."""
    quality = quality_code_fingerprint()
    feeds = feed_fingerprints(conn, list(raw_suites))
    seeds = seed_fingerprint()
    fingerprints = {suite: _sha(quality, seeds, feed, feeds[feed]) for feed, suite in raw_suites.items()}
    build = latest_state(conn, "build")
    if build is not None:
        built_from = _sha(build[1], json.dumps(build[2], sort_keys=True))
        fingerprints.update({suite: _sha(quality, suite, built_from) for suite in mart_suites})
    return fingerprints
