"""Load one landing file: hash, skip re-deliveries, validate every record, COPY good rows to raw and bad
rows to quarantine, supersede older deliveries of the same province and period, and account for it all
in audit.load_batches. The file is streamed in chunks; memory does not grow with the file."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg import sql

from ingest.geography import AdminUnits, admin_units
from ingest.readers import UnreadableFile, reader_for
from ingest.schema import raw_columns
from ingest.spec import FeedSpec
from ingest.validate import RecordValidator

CHUNK_ROWS = 50_000


@dataclass
class BatchResult:
    batch_id: int
    feed: str
    file_name: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_superseded: int = 0
    reason: str | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _open_batch(conn, spec: FeedSpec, path: Path, sha256: str, run_id: str | None) -> int:
    return conn.execute(
        """insert into audit.load_batches (run_id, feed, file_name, file_path, file_sha256, file_bytes, status)
           values (%s, %s, %s, %s, %s, %s, 'running') returning batch_id""",
        (run_id, spec.name, path.name, str(path), sha256, path.stat().st_size),
    ).fetchone()[0]


def _close_batch(conn, result: BatchResult, duplicate_of: int | None = None) -> None:
    conn.execute(
        """update audit.load_batches
              set status = %s, reason = %s, duplicate_of_batch = %s, rows_read = %s, rows_loaded = %s,
                  rows_quarantined = %s, rows_superseded = %s, finished_at = clock_timestamp()
            where batch_id = %s""",
        (result.status, result.reason, duplicate_of, result.rows_read, result.rows_loaded,
         result.rows_quarantined, result.rows_superseded, result.batch_id),
    )


def _earlier_delivery(conn, spec: FeedSpec, sha256: str, batch_id: int) -> int | None:
    row = conn.execute(
        """select batch_id from audit.load_batches
            where feed = %s and file_sha256 = %s and status in ('loaded', 'rejected') and batch_id <> %s
            order by batch_id limit 1""",
        (spec.name, sha256, batch_id),
    ).fetchone()
    return row[0] if row else None


class _BatchWriter:
    """Writes validated chunks of one batch with COPY: good rows to raw, bad rows to quarantine."""

    def __init__(self, conn, spec: FeedSpec, path: Path, batch_id: int, sha256: str):
        self.conn, self.spec, self.batch_id = conn, spec, batch_id
        self.file_name = path.name
        loaded_at = datetime.now(timezone.utc).isoformat()
        self.constants = (batch_id, path.name, sha256, loaded_at)
        names = [name for name, _, _ in raw_columns(spec)]
        self.own_names = [column.name for column in spec.columns]
        self.copy_raw = sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier("raw", spec.name),
            sql.SQL(", ").join(sql.Identifier(name) for name in names if name != "superseded_by_batch"),
        )

    def write(self, good: list[tuple], bad: list[tuple]) -> None:
        with self.conn.cursor() as cursor:
            if good:
                with cursor.copy(self.copy_raw) as copy:
                    for row in good:
                        copy.write_row(row)
            if bad:
                with cursor.copy(
                    "copy quarantine.rejected_rows (batch_id, feed, file_name, line_number, column_name, "
                    "reason, errors, record) from stdin"
                ) as copy:
                    for row in bad:
                        copy.write_row(row)

    def good_row(self, line: int, row: dict, extras: dict | None) -> tuple:
        return (*self.constants, line, *[row[name] for name in self.own_names],
                row["admin_vintage"], row["period_key"], json.dumps(extras, ensure_ascii=False) if extras else None)

    def bad_row(self, line: int, errors: list, record: dict) -> tuple:
        column, reason = errors[0]
        listed = [{"column": c, "reason": r} for c, r in errors]
        return (self.batch_id, self.spec.name, self.file_name, line, column, reason,
                json.dumps(listed, ensure_ascii=False), json.dumps(record, ensure_ascii=False, default=str))


def _stream_into_batch(conn, spec: FeedSpec, path: Path, batch_id: int, sha256: str,
                       units: AdminUnits) -> BatchResult:
    header, records = reader_for(path)(path)
    validate = RecordValidator(spec, header, units, path.name)
    writer = _BatchWriter(conn, spec, path, batch_id, sha256)
    result = BatchResult(batch_id, spec.name, path.name, "loaded")
    good: list[tuple] = []
    bad: list[tuple] = []
    for line, cells in records:
        result.rows_read += 1
        row, errors = validate(cells)
        if errors:
            bad.append(writer.bad_row(line, errors, validate.record_as_dict(cells)))
        else:
            good.append(writer.good_row(line, row, validate.extras(cells) if validate.extra_positions else None))
        if len(good) + len(bad) >= CHUNK_ROWS:
            writer.write(good, bad)
            result.rows_loaded += len(good)
            result.rows_quarantined += len(bad)
            good, bad = [], []
    writer.write(good, bad)
    result.rows_loaded += len(good)
    result.rows_quarantined += len(bad)
    return result


def _supersede_older_deliveries(conn, spec: FeedSpec, batch_id: int) -> int:
    """A newer file for the same (feed, province, period) replaces the older rows: mark, never delete."""
    table = sql.Identifier("raw", spec.name)
    return conn.execute(
        sql.SQL("""
            update {table} as older set superseded_by_batch = %(batch)s
              from (select distinct province_code, admin_vintage, period_key
                      from {table} where batch_id = %(batch)s) as newer
             where older.batch_id < %(batch)s
               and older.superseded_by_batch is null
               and older.province_code = newer.province_code
               and older.admin_vintage = newer.admin_vintage
               and older.period_key = newer.period_key""").format(table=table),
        {"batch": batch_id},
    ).rowcount


def load_file(conn: psycopg.Connection, spec: FeedSpec, path: Path, *, run_id: str | None = None,
              units: AdminUnits | None = None) -> BatchResult:
    """Load one file. `conn` must be in autocommit mode: the audit row commits on its own, the data in
    one transaction, so a file is either wholly loaded or not at all."""
    units = units or admin_units()
    sha256 = file_sha256(path)
    batch_id = _open_batch(conn, spec, path, sha256, run_id)
    duplicate_of = _earlier_delivery(conn, spec, sha256, batch_id)
    if duplicate_of is not None:
        result = BatchResult(batch_id, spec.name, path.name, "skipped",
                             reason=f"identical to the file already seen in batch {duplicate_of}")
        _close_batch(conn, result, duplicate_of)
        return result
    try:
        with conn.transaction():
            result = _stream_into_batch(conn, spec, path, batch_id, sha256, units)
            result.rows_superseded = _supersede_older_deliveries(conn, spec, batch_id)
            _close_batch(conn, result)
    except UnreadableFile as error:
        result = BatchResult(batch_id, spec.name, path.name, "rejected", reason=str(error))
        _close_batch(conn, result)
    except Exception as error:
        result = BatchResult(batch_id, spec.name, path.name, "failed",
                             reason=f"{type(error).__name__}: {error}")
        _close_batch(conn, result)
        raise
    return result


def landing_files(spec: FeedSpec, feed_dir: Path) -> list[Path]:
    """Files of a feed folder in delivery order (oldest first), so later deliveries supersede earlier."""
    if not feed_dir.is_dir():
        return []
    files = [path for path in feed_dir.iterdir() if path.is_file() and not path.name.startswith((".", "_"))]
    return sorted(files, key=lambda path: (os.stat(path).st_mtime_ns, path.name))
