"""The audit trail of load batches (audit.load_batches): open and close a batch, decide whether a file was
already seen, and find batches whose process died.

A loading process holds a session advisory lock on its batch for as long as the batch runs. The lock dies
with the database connection, so a batch left `running` whose lock can be taken belongs to a process that
is gone (killed, out of memory, a lost connection): it is marked `interrupted` at the next load. Its rows
were in the load's one transaction, so none of them count.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Advisory-lock namespace of running batches: pg_advisory_lock(BATCH_LOCK_NAMESPACE, batch_id).
BATCH_LOCK_NAMESPACE = 0x6C6F6164  # 'load'
REASON_MAX_CHARS = 600
INTERRUPTIONS_BEFORE_GIVING_UP = 2  # a file that killed its loader twice waits for `make retry`


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
    seconds: float | None = None  # time spent reading and copying (loaded files)
    held: list[str] | None = None  # corrections waiting for confirmation (ingest.supersession)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def safe_reason(reason: str | None) -> str | None:
    """A reason as stored and printed: control characters escaped and the length bounded, so that no message
    carries more than a short excerpt of a file."""
    if reason is None:
        return None
    reason = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", reason)
    return reason if len(reason) <= REASON_MAX_CHARS else reason[:REASON_MAX_CHARS - 1] + "…"


def error_reason(path: Path, error: BaseException) -> str:
    """An unexpected error as a batch reason: its type and the first line of its message, bounded (database
    errors about a COPY row quote the row in later lines)."""
    first_line = (str(error).strip().splitlines() or [""])[0]
    return safe_reason(f"{path.name}: the loader failed ({type(error).__name__}: {first_line[:200]}); the other "
                       "files go on; it is retried when the file changes, or with make retry BATCH=n")


def open_batch(conn, feed: str, path: Path, sha256: str, file_bytes: int, run_id: str | None,
               key_id: str | None, retry_of: int | None = None, file_stat: str | None = None) -> int:
    batch_id = conn.execute(
        """insert into audit.load_batches (run_id, feed, file_name, file_path, file_sha256, file_bytes, status,
                                           pseudonymisation_key_id, retry_of_batch, file_stat)
           values (%s, %s, %s, %s, %s, %s, 'running', %s, %s, %s) returning batch_id""",
        (run_id, feed, path.name, str(path), sha256, file_bytes, key_id, retry_of, file_stat),
    ).fetchone()[0]
    conn.execute("select pg_advisory_lock(%s, %s)", (BATCH_LOCK_NAMESPACE, batch_id))
    return batch_id


def stat_signature(path: Path) -> str:
    """What changes whenever the file's bytes may have: device, inode, size, modification and change time (the
    change time moves on every write and on every `touch`, and cannot be set back)."""
    stat = path.stat()
    return f"{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"


def known_sha256(conn, feed: str, path: Path, signature: str) -> str | None:
    """The SHA-256 of a batch that read this very file unchanged (same path and stat signature): a quiet night
    does not read every stored file again."""
    row = conn.execute(
        """select file_sha256 from audit.load_batches
            where feed = %s and file_path = %s and file_stat = %s and status <> 'running'
            order by batch_id desc limit 1""", (feed, str(path), signature)).fetchone()
    return None if row is None else row[0]


def release_batch_lock(conn, batch_id: int) -> None:
    if not conn.closed and not conn.broken:
        conn.execute("select pg_advisory_unlock(%s, %s)", (BATCH_LOCK_NAMESPACE, batch_id))


def close_batch(conn, result: BatchResult, duplicate_of: int | None = None) -> None:
    conn.execute(
        """update audit.load_batches
              set status = %s, reason = %s, duplicate_of_batch = %s, rows_read = %s, rows_loaded = %s,
                  rows_quarantined = %s, rows_superseded = %s, finished_at = clock_timestamp()
            where batch_id = %s""",
        (result.status, safe_reason(result.reason), duplicate_of, result.rows_read, result.rows_loaded,
         result.rows_quarantined, result.rows_superseded, result.batch_id),
    )


def earlier_outcome(conn, feed: str, sha256: str, batch_id: int) -> tuple[int, str] | None:
    """(earlier batch, why this file is skipped) when the same bytes were already loaded, rejected, found
    empty or failed, or interrupted their loader too often; None when the file is to be loaded."""
    rows = conn.execute(
        """select batch_id, status, reason from audit.load_batches
            where feed = %s and file_sha256 = %s and batch_id <> %s
              and status in ('loaded', 'empty', 'rejected', 'failed', 'interrupted')
            order by batch_id""",
        (feed, sha256, batch_id),
    ).fetchall()
    settled = [row for row in rows if row[1] != "interrupted"]
    if settled:
        loaded = [row for row in settled if row[1] == "loaded"]
        earlier, status, reason = loaded[0] if loaded else settled[-1]
        if status == "loaded":
            return earlier, f"identical to the file already loaded in batch {earlier}"
        if status == "empty":
            return earlier, f"identical to the empty file of batch {earlier}"
        if status == "rejected":
            return earlier, f"identical to the file rejected in batch {earlier}: {reason}"
        return earlier, (f"identical to the file that failed in batch {earlier} ({reason}); it is loaded again "
                         f"when its content changes, or now with make retry BATCH={earlier}")
    interrupted = [row[0] for row in rows]
    if len(interrupted) >= INTERRUPTIONS_BEFORE_GIVING_UP:
        return interrupted[-1], (f"its loader died {len(interrupted)} times on this file (batches "
                                 f"{', '.join(map(str, interrupted))}); make retry BATCH={interrupted[-1]} loads it again")
    return None


def mark_interrupted_batches(conn) -> list[int]:
    """Batches left `running` by a process that is gone become `interrupted` (see the module's docstring).
    Batches of live loads (their lock is held) are left alone."""
    interrupted = []
    for (batch_id,) in conn.execute("select batch_id from audit.load_batches where status = 'running'").fetchall():
        if conn.execute("select pg_try_advisory_lock(%s, %s)", (BATCH_LOCK_NAMESPACE, batch_id)).fetchone()[0]:
            try:
                conn.execute(
                    """update audit.load_batches
                          set status = 'interrupted', rows_read = 0, rows_loaded = 0, rows_quarantined = 0,
                              rows_superseded = 0, finished_at = clock_timestamp(),
                              reason = 'the loading process ended before the file was loaded (killed, out of '
                                       'memory or disconnected); none of its rows count; the file is loaded '
                                       'again at the next run'
                        where batch_id = %s and status = 'running'""", (batch_id,))
            finally:
                conn.execute("select pg_advisory_unlock(%s, %s)", (BATCH_LOCK_NAMESPACE, batch_id))
            interrupted.append(batch_id)
    if interrupted:
        log.warning("marked %d batch(es) interrupted (their loading process is gone): %s", len(interrupted),
                    ", ".join(map(str, interrupted)))
    return interrupted
