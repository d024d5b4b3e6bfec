"""Load one landing file: hash, skip re-deliveries, validate every record, COPY good rows to raw and bad
rows to quarantine, supersede older deliveries of the same province and period, and account for it all
in audit.load_batches. The file is streamed in chunks; memory does not grow with the file."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import tempfile
from collections import Counter
from contextlib import contextmanager
from itertools import repeat
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from ingest.geography import AdminUnits, admin_units
from ingest.readers import UnreadableFile, reader_for
from ingest.spec import FeedSpec
from ingest.validate import CheckedChunk, RecordValidator

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


_COPY_SPECIALS = ("\\", "\t", "\n", "\r")


def _copy_text(values: list) -> list[str]:
    """A column as COPY text: NULL as \\N, and escapes only where a value needs them (checked once per
    column, at C speed, since validated codes, dates and labels never do)."""
    joined = "\x00".join(filter(None, values))
    if any(special in joined for special in _COPY_SPECIALS):
        values = [value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
                  if value else value for value in values]
    if None in values:
        values = ["\\N" if value is None else value for value in values]
    return values


class _BatchWriter:
    """Streams one batch: good rows into a single COPY to raw as they are checked (the server parses
    while Python validates the next chunk), bad rows spooled and COPYed to quarantine at the end."""

    def __init__(self, spec: FeedSpec, path: Path, batch_id: int, sha256: str, quarantine_spool):
        self.spec, self.batch_id, self.file_name = spec, batch_id, path.name
        self.value_names = [column.name for column in spec.columns] + ["admin_vintage", "period_key"]
        sent = ["line_number", *self.value_names, "extra_columns"]  # the rest are filled by the server
        self.copy_statement = sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier("raw", spec.name), sql.SQL(", ").join(map(sql.Identifier, sent)))
        self.quarantine = quarantine_spool
        self.coverage: Counter = Counter()  # (province, vintage, period) -> rows, for supersession

    def write(self, copy, lines: list[int], records: list[list[str]], chunk: CheckedChunk,
              validator: RecordValidator) -> tuple[int, int]:
        good = chunk.good
        columns = [chunk.columns[name] for name in self.value_names]
        if len(good) < len(lines):
            columns = [[values[i] for i in good] for values in columns]
            good_lines = [lines[i] for i in good]
        else:
            good_lines = lines
        columns = [_copy_text(values) for values in columns]
        if validator.extra_positions:
            extras = [validator.extras(records[i]) for i in good]
            extras = _copy_text([json.dumps(extra, ensure_ascii=False) if extra else None for extra in extras])
        else:
            extras = repeat("\\N", len(good))
        rows = map("\t".join, zip(map(str, good_lines), *columns, extras))
        if good:
            copy.write("\n".join(rows) + "\n")
        names = self.value_names
        self.coverage.update(zip(columns[names.index(self.spec.province_column)],
                                 columns[names.index("admin_vintage")], columns[names.index("period_key")]))
        for index, problems in sorted(chunk.errors.items()):
            self.quarantine.write(json.dumps(self._quarantine_row(lines[index], problems, validator, records[index]),
                                             ensure_ascii=False) + "\n")
        return len(good), len(chunk.errors)

    def _quarantine_row(self, line: int, problems, validator: RecordValidator, cells: list[str]) -> list:
        column, reason = problems[0]
        listed = [{"column": c, "reason": r} for c, r in problems]
        return [self.batch_id, self.spec.name, self.file_name, line, column, reason,
                json.dumps(listed, ensure_ascii=False),
                json.dumps(validator.record_as_dict(cells), ensure_ascii=False, default=str)]

    def write_quarantine(self, cursor) -> None:
        self.quarantine.seek(0)
        with cursor.copy(
            "copy quarantine.rejected_rows (batch_id, feed, file_name, line_number, column_name, "
            "reason, errors, record) from stdin"
        ) as copy:
            for line in self.quarantine:
                copy.write_row(json.loads(line))


def _stream_into_batch(conn, spec: FeedSpec, path: Path, batch_id: int, sha256: str,
                       units: AdminUnits) -> tuple[BatchResult, Counter]:
    source = reader_for(path)(path)
    validator = RecordValidator(spec, source.header, units, path.name)
    result = BatchResult(batch_id, spec.name, path.name, "loaded")
    conn.execute("select set_config('ingest.batch_id', %s, true), set_config('ingest.source_file', %s, true),"
                 " set_config('ingest.file_sha256', %s, true)", (str(batch_id), path.name, sha256))
    with conn.cursor() as cursor, tempfile.TemporaryFile(mode="w+", encoding="utf-8") as spool:
        writer = _BatchWriter(spec, path, batch_id, sha256, spool)
        # A queued writer sends to the server from a thread, so PostgreSQL parses one chunk while
        # Python checks the next (two cores busy instead of taking turns).
        with cursor.copy(writer.copy_statement, writer=QueuedLibpqWriter(cursor)) as copy:
            for lines, cells in source.chunks(CHUNK_ROWS):
                loaded, quarantined = writer.write(copy, lines, cells, validator.check(cells), validator)
                result.rows_read += len(cells)
                result.rows_loaded += loaded
                result.rows_quarantined += quarantined
        writer.write_quarantine(cursor)
    return result, writer.coverage


def _record_coverage(conn, spec: FeedSpec, batch_id: int, coverage: Counter) -> None:
    with conn.cursor() as cursor, cursor.copy(
            "copy audit.batch_coverage (batch_id, feed, province_code, admin_vintage, period_key, rows) from stdin") as copy:
        for (province, vintage, period), rows in coverage.items():
            copy.write_row((batch_id, spec.name, province, vintage, period, rows))


def _supersede_older_deliveries(conn, spec: FeedSpec, batch_id: int) -> int:
    """A newer file for the same (feed, province, period) replaces the older rows: mark, never delete.
    The small coverage table says which older batches overlap; only those are touched in raw (found
    through the BRIN index on batch_id), and a load that overlaps nothing costs one tiny query."""
    overlapping = conn.execute(
        """select distinct older.batch_id
             from audit.batch_coverage as newer
             join audit.batch_coverage as older
               on older.feed = newer.feed and older.province_code = newer.province_code
              and older.admin_vintage = newer.admin_vintage and older.period_key = newer.period_key
              and older.batch_id < newer.batch_id
            where newer.batch_id = %s""",
        (batch_id,),
    ).fetchall()
    if not overlapping:
        return 0
    return conn.execute(
        sql.SQL("""
            update {table} as older set superseded_by_batch = %(batch)s
              from audit.batch_coverage as newer
             where newer.batch_id = %(batch)s
               and older.batch_id = any(%(older)s)
               and older.superseded_by_batch is null
               and older.province_code = newer.province_code
               and older.admin_vintage = newer.admin_vintage
               and older.period_key = newer.period_key""").format(table=sql.Identifier("raw", spec.name)),
        {"batch": batch_id, "older": [row[0] for row in overlapping]},
    ).rowcount


@contextmanager
def _without_cyclic_gc():
    """Bulk loading allocates millions of short-lived lists and tuples; the cyclic collector would walk
    them over and over (about a third of the load time) while finding no cycles to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
        with conn.transaction(), _without_cyclic_gc():
            result, coverage = _stream_into_batch(conn, spec, path, batch_id, sha256, units)
            _record_coverage(conn, spec, batch_id, coverage)
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
