"""Feed freshness: how long since each feed last loaded rows, against the thresholds the dbt sources declare
(`freshness: warn_after / error_after` in models/staging/*/_*__sources.yml, the one place they are set).

Computed from audit.load_batches, one small query whatever the volume: `dbt source freshness` reads
max(loaded_at) of every raw table (a scan of tens of millions of rows at national scale) and costs a dbt start,
which on a night with nothing new was a quarter of the night."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
import yaml

from pipeline.dbt import DBT_PROJECT_DIR

PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Staleness:
    feed: str
    status: str                    # warn | error
    last_load: datetime | None     # None: never loaded
    age_days: float | None

    @property
    def message(self) -> str:
        if self.last_load is None:
            return f"{self.feed}: no load yet"
        return f"{self.feed}: no new load for {self.age_days:.1f} days (last {self.last_load:%Y-%m-%d %H:%M %Z})"


def _seconds(threshold: dict | None) -> float | None:
    if not threshold or threshold.get("count") is None:
        return None
    return float(threshold["count"]) * PERIOD_SECONDS[threshold.get("period", "day")]


def thresholds() -> dict[str, tuple[float | None, float | None]]:
    """Raw table (feed) → (warn after, error after) in seconds, from the sources' YAML: the source's freshness,
    or the table's own (null: not checked)."""
    result = {}
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        for source in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("sources") or []:
            if source.get("schema", source.get("name")) != "raw":
                continue
            for table in source.get("tables") or []:
                freshness = table["freshness"] if "freshness" in table else source.get("freshness")
                if freshness:
                    result[table["name"]] = (_seconds(freshness.get("warn_after")),
                                             _seconds(freshness.get("error_after")))
    return result


def stale_feeds(conn: psycopg.Connection, feeds: list[str]) -> list[Staleness]:
    limits = thresholds()
    loads = dict(conn.execute(
        """select feed, max(finished_at) from audit.load_batches
            where status = 'loaded' and rows_loaded > 0 group by feed""").fetchall())
    (now,) = conn.execute("select clock_timestamp()").fetchone()
    stale = []
    for feed in feeds:
        if feed not in limits:
            continue
        warn_after, error_after = limits[feed]
        last = loads.get(feed)
        if last is None:
            stale.append(Staleness(feed, "warn", None, None))
            continue
        age = (now - last).total_seconds()
        status = ("error" if error_after is not None and age > error_after else
                  "warn" if warn_after is not None and age > warn_after else None)
        if status:
            stale.append(Staleness(feed, status, last, age / 86400))
    return stale
