"""Load one landing file: hash, skip re-deliveries, validate every record, COPY good rows to raw and bad
rows to quarantine, supersede older deliveries of the same province and period, and account for it all
in audit.load_batches. The file is streamed in chunks; memory does not grow with the file."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from queue import Queue

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as arrow_csv
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from ingest.batches import (
    BatchResult,
    close_batch,
    earlier_outcome,
    error_reason,
    known_sha256,
    open_batch,
    release_batch_lock,
    stat_signature,
)
from ingest.fields import Pseudonymised
from ingest.geography import AdminUnits, admin_units
from ingest.pseudonymise import key_id
from ingest.readers import ColumnChunk, EmptyFile, UnreadableFile, reader_for
from ingest.spec import FeedSpec
from ingest.supersession import apply_delivery, outside_cells, quarantine_outside_rows
from ingest.validate import CheckedChunk, RecordValidator

log = logging.getLogger(__name__)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


_WRITE_OPTIONS = arrow_csv.WriteOptions(include_header=False, delimiter="\t", quoting_style="needed")


class _BoundedQueuedWriter(QueuedLibpqWriter):
    """Sends COPY data from a thread, so PostgreSQL parses one chunk while Python checks the next, with at
    most 64 pieces of 128 KiB in flight: psycopg's default queue (1,024 pieces) lets memory grow with
    the file when Python outpaces the server."""

    def __init__(self, cursor):
        super().__init__(cursor)
        self._queue = Queue(maxsize=64)


class _BatchWriter:
    """Streams one batch: good rows into a single COPY to raw as each chunk is checked (rendered as CSV by
    Arrow, no Python per row), bad rows spooled and COPYed to quarantine at the end."""

    def __init__(self, spec: FeedSpec, path: Path, batch_id: int, quarantine_spool):
        self.spec, self.batch_id, self.file_name = spec, batch_id, path.name
        self.value_names = ([column.name for column in spec.columns] + [name for name, _, _ in spec.derived_columns]
                            + ["admin_vintage", "period_key"])
        sent = ["line_number", *self.value_names, "extra_columns"]  # the rest are filled by the server
        self.copy_statement = sql.SQL("copy {} ({}) from stdin (format csv, delimiter E'\\t')").format(
            sql.Identifier("raw", spec.name), sql.SQL(", ").join(map(sql.Identifier, sent)))
        self.quarantine = quarantine_spool
        self.coverage: Counter = Counter()  # (province, vintage, period) -> rows, for supersession

    def write(self, copy, chunk: ColumnChunk, checked: CheckedChunk, validator: RecordValidator) -> tuple[int, int]:
        table = pa.table({
            "line_number": pa.array(chunk.lines, pa.int64()),
            **{name: checked.columns[name] for name in self.value_names},
            "extra_columns": self._extras(chunk, validator),
        })
        keep = checked.good_mask()
        if keep is not None:
            table = table.filter(keep)
        if table.num_rows:
            sink = pa.BufferOutputStream()
            arrow_csv.write_csv(table, sink, _WRITE_OPTIONS)
            copy.write(sink.getvalue())
            counts = table.group_by([self.spec.province_column, "admin_vintage", "period_key"]).aggregate(
                [([], "count_all")])
            for province, vintage, period, rows in zip(*(counts.column(i).to_pylist() for i in range(4))):
                self.coverage[(province, vintage, period)] += rows
        for index, problems in sorted(checked.errors.items()):
            self._spool(int(chunk.lines[index]), problems, validator, chunk.record(index))
        for record in chunk.malformed:
            self._spool(record.line, [(getattr(record, "column", None), record.reason)], validator, record.cells)
        return table.num_rows, len(checked.errors) + len(chunk.malformed)

    @staticmethod
    def _extras(chunk: ColumnChunk, validator: RecordValidator) -> pa.Array:
        """Unknown columns kept as JSON, only where a row has a value in one."""
        if not validator.extra_positions or not chunk.size:
            return pa.nulls(chunk.size, pa.string())
        filled = [pc.greater(pc.utf8_length(chunk.columns[i]), 0) for i in validator.extra_positions]
        any_filled = filled[0]
        for mask in filled[1:]:
            any_filled = pc.or_(any_filled, mask)
        rows = pc.indices_nonzero(any_filled).to_pylist()
        if not rows:
            return pa.nulls(chunk.size, pa.string())
        values = [None] * chunk.size
        extra_columns = {validator.header[i]: chunk.columns[i] for i in validator.extra_positions}
        for row in rows:
            extra = {name: column[row].as_py() for name, column in extra_columns.items() if column[row].as_py()}
            values[row] = json.dumps(extra, ensure_ascii=False)
        return pa.array(values, pa.string())

    def _spool(self, line: int, problems, validator: RecordValidator, cells: list[str]) -> None:
        column, reason = problems[0]
        listed = [{"column": c, "reason": r} for c, r in problems]
        row = [self.batch_id, self.spec.name, self.file_name, line, column, reason,
               json.dumps(listed, ensure_ascii=False),
               json.dumps(validator.record_as_dict(cells), ensure_ascii=False, default=str)]
        self.quarantine.write(json.dumps(row, ensure_ascii=False) + "\n")

    def write_quarantine(self, cursor) -> None:
        self.quarantine.seek(0)
        with cursor.copy(
            "copy quarantine.rejected_rows (batch_id, feed, file_name, line_number, column_name, "
            "reason, errors, record) from stdin"
        ) as copy:
            for line in self.quarantine:
                copy.write_row(json.loads(line))


def read_lookups(conn, spec: FeedSpec) -> dict[str, dict]:
    """The feed's reference figures for its lookup rules, as they stand in the warehouse (FeedSpec.lookups)."""
    return {lookup.name: {tuple(str(part) for part in row[:-1]): row[-1] for row in conn.execute(lookup.query)}
            for lookup in spec.lookups}


def _stream_into_batch(conn, spec: FeedSpec, path: Path, batch_id: int, sha256: str,
                       units: AdminUnits) -> tuple[BatchResult, Counter]:
    if path.suffix.lower() not in spec.extensions:
        raise UnreadableFile(f"{path.name}: {spec.name} is delivered as {' or '.join(spec.extensions)}, "
                             f"not {path.suffix or 'a file without extension'}")
    source = reader_for(path)(path, expected_headers={column.key for column in spec.columns})
    validator = RecordValidator(spec, source.header, units, path.name, read_lookups(conn, spec))
    result = BatchResult(batch_id, spec.name, path.name, "loaded")
    conn.execute("select set_config('ingest.batch_id', %s, true), set_config('ingest.source_file', %s, true),"
                 " set_config('ingest.file_sha256', %s, true)", (str(batch_id), path.name, sha256))
    with conn.cursor() as cursor, tempfile.TemporaryFile(mode="w+", encoding="utf-8") as spool:
        writer = _BatchWriter(spec, path, batch_id, spool)
        progress = _Progress(path.name)
        with cursor.copy(writer.copy_statement, writer=_BoundedQueuedWriter(cursor)) as copy:
            for chunk in source.chunks():
                checked = validator.check_columns(chunk.columns, chunk.lines)
                loaded, quarantined = writer.write(copy, chunk, checked, validator)
                result.rows_read += chunk.size + len(chunk.malformed)
                result.rows_loaded += loaded
                result.rows_quarantined += quarantined
                progress.update(result.rows_read)
        writer.write_quarantine(cursor)
    result.seconds = progress.done(result.rows_read)
    return result, writer.coverage


class _Progress:
    """Rows and rows/s of a long load in the log (the task log in Airflow, stderr on the command line):
    a line every PROGRESS_SECONDS while it runs, and one at the end."""

    every = 10.0

    def __init__(self, name: str):
        self.name, self.started = name, time.monotonic()
        self.next = self.started + self.every

    def update(self, rows: int) -> None:
        now = time.monotonic()
        if now >= self.next:
            self.next = now + self.every
            log.info("%s: %s rows read, %s rows/s", self.name, f"{rows:,}", f"{rows / (now - self.started):,.0f}")

    def done(self, rows: int) -> float:
        seconds = time.monotonic() - self.started
        log.info("%s: %s rows in %.1f s (%s rows/s)", self.name, f"{rows:,}", seconds,
                 f"{rows / seconds:,.0f}" if seconds else "-")
        return seconds


def _record_coverage(conn, spec: FeedSpec, batch_id: int, coverage: Counter) -> None:
    with conn.cursor() as cursor, cursor.copy(
            "copy audit.batch_coverage (batch_id, feed, province_code, admin_vintage, period_key, rows) from stdin") as copy:
        for (province, vintage, period), rows in coverage.items():
            copy.write_row((batch_id, spec.name, province, vintage, period, rows))


@contextmanager
def _without_cyclic_gc():
    """A load makes many short-lived Python objects; the cyclic collector would walk the heap again and
    again while finding no cycles to free (it cost a third of the load time before Arrow took over the
    per-row work, and still costs a little)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_file(conn: psycopg.Connection, spec: FeedSpec, path: Path, *, run_id: str | None = None,
              units: AdminUnits | None = None, landing: Path | None = None,
              retry_of: int | None = None) -> BatchResult:
    """Load one file. `conn` must be in autocommit mode: the audit row commits on its own, the data in
    one transaction, so a file is either wholly loaded or not at all. Whatever the file does, it ends as
    a closed batch (loaded, empty, rejected, skipped or failed) and never raises: the feed's other files go
    on. `retry_of` (make retry BATCH=n) loads a file even if the same bytes were seen before."""
    refusal = _refusal(path, landing)
    if refusal:
        return _refuse(conn, spec, path, refusal, run_id)
    units = units or admin_units()
    signature = stat_signature(path)
    sha256 = (None if retry_of else known_sha256(conn, spec.name, path, signature)) or file_sha256(path)
    has_personal_ids = any(isinstance(column.parser, Pseudonymised) for column in spec.columns)
    batch_id = open_batch(conn, spec.name, path, sha256, path.stat().st_size, run_id,
                          key_id() if has_personal_ids else None, retry_of, signature)
    try:
        earlier = None if retry_of else earlier_outcome(conn, spec.name, sha256, batch_id)
        if earlier is not None:
            result = BatchResult(batch_id, spec.name, path.name, "skipped", reason=earlier[1])
            close_batch(conn, result, earlier[0])
            return result
        try:
            with conn.transaction(), _without_cyclic_gc():
                result, coverage = _stream_into_batch(conn, spec, path, batch_id, sha256, units)
                _settle_coverage(conn, spec, path, result, coverage)
                close_batch(conn, result)
        except EmptyFile as error:
            result = BatchResult(batch_id, spec.name, path.name, "empty", reason=str(error))
            close_batch(conn, result)
        except UnreadableFile as error:
            result = BatchResult(batch_id, spec.name, path.name, "rejected", reason=str(error))
            close_batch(conn, result)
        except Exception as error:  # noqa: BLE001 - one file's failure must not stop the feed
            log.exception("%s: the loader failed", path.name)
            result = BatchResult(batch_id, spec.name, path.name, "failed", reason=error_reason(path, error))
            _close_failed(conn, result)
        return result
    finally:
        release_batch_lock(conn, batch_id)


def _settle_coverage(conn, spec: FeedSpec, path: Path, result: BatchResult, coverage: Counter) -> None:
    """Rows outside the delivery's period to quarantine, the cells' coverage recorded, earlier rows
    replaced or the correction held (ingest.supersession). A file of a header alone is `empty`."""
    if result.rows_read == 0:
        result.status, result.reason = "empty", f"{path.name}: the file has a header but no records"
        return
    outside, period_words = outside_cells(path.name, coverage)
    if outside:
        date_header = spec.header_of(spec.reference_date)
        moved = quarantine_outside_rows(conn, spec, result.batch_id, path.name, outside, period_words, date_header)
        result.rows_loaded -= moved
        result.rows_quarantined += moved
        for cell in outside:
            del coverage[cell]
        log.warning("%s: %d row(s) outside the delivery's period (%s) quarantined", path.name, moved, period_words)
    _record_coverage(conn, spec, result.batch_id, coverage)
    result.rows_superseded, result.held = apply_delivery(conn, spec, result.batch_id)
    if result.held:
        result.reason = "correction waiting for confirmation: " + "; ".join(result.held)


def _close_failed(conn, result: BatchResult) -> None:
    """Close a failed batch, on a new connection if the failure took this one down."""
    if not conn.broken and not conn.closed:
        close_batch(conn, result)
        return
    from warehouse.connection import connect

    with connect(autocommit=True) as other:
        close_batch(other, result)


def _refusal(path: Path, landing: Path | None) -> str | None:
    """Why a path is not read at all: a symbolic link (it could point at any file the loader may read, such
    as a key), or a file outside the landing folder."""
    if path.is_symlink():
        return (f"{path.name}: a symbolic link; the loader reads only regular files inside the landing folder "
                "(copy the file in instead)")
    if not path.is_file():
        return f"{path.name}: not a regular file"
    if landing is not None and not path.resolve().is_relative_to(landing.resolve()):
        return f"{path.name}: outside the landing folder {landing}"
    return None


def _refuse(conn, spec: FeedSpec, path: Path, reason: str, run_id: str | None) -> BatchResult:
    """A refused path is a rejected batch whose fingerprint is the path itself (never its target's bytes),
    so it is reported once and skipped after that."""
    fingerprint = hashlib.sha256(f"refused path {path}".encode()).hexdigest()
    batch_id = open_batch(conn, spec.name, path, fingerprint, 0, run_id, None)
    try:
        earlier = earlier_outcome(conn, spec.name, fingerprint, batch_id)
        if earlier is not None:
            result = BatchResult(batch_id, spec.name, path.name, "skipped", reason=earlier[1])
            close_batch(conn, result, earlier[0])
        else:
            result = BatchResult(batch_id, spec.name, path.name, "rejected", reason=reason)
            close_batch(conn, result)
        return result
    finally:
        release_batch_lock(conn, batch_id)


def landing_files(spec: FeedSpec, feed_dir: Path) -> list[Path]:
    """Files of a feed folder in delivery order (oldest first), so later deliveries supersede earlier."""
    if not feed_dir.is_dir():
        return []
    files = [path for path in feed_dir.iterdir()
             if (path.is_symlink() or path.is_file()) and not path.name.startswith((".", "_"))]
    return sorted(files, key=lambda path: (os.lstat(path).st_mtime_ns, path.name))
