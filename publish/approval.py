"""Statisticians' sign-off, from the command line: approve a period for a province or the nation, and list
the pending revisions. The rules live in the warehouse (published.approve, warehouse/sql/004_approval.sql),
so approving from psql as the approver role obeys the same ones; this module only calls it, connected as
the `approver` role (never as the owner), and reports what the database says."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


class ApprovalRefused(RuntimeError):
    """The warehouse refused the approval; the message says why and what to do."""


@dataclass(frozen=True)
class Approval:
    approval_id: int
    period: str
    admin_code: str
    admin_name: str | None
    release_id: str
    value_count: int
    forced: bool
    warnings: list[str]
    is_new: bool


def approve(conn: psycopg.Connection, period: str, province: str | None, approved_by: str, note: str | None,
            force: bool = False, release_id: str | None = None) -> Approval:
    """Approve one period for one province (its current code) or, with province None, the nation."""
    notices: list[str] = []
    conn.add_notice_handler(lambda diagnostic: notices.append(diagnostic.message_primary or ""))
    try:
        with conn.transaction():
            row = conn.execute(
                """select approval_id, period, admin_code, admin_name, release_id, value_count, forced, warnings
                     from published.approve(%s, %s, %s, %s, %s, %s)""",
                (period, province, approved_by, note, force, release_id)).fetchone()
    except psycopg.errors.RaiseException as exc:
        raise ApprovalRefused(_diagnostic_text(exc)) from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ApprovalRefused(f"{exc.diag.message_primary}: approving needs the approver role "
                              "(make db-url ROLE=approver)") from None
    already = any("already approved" in notice for notice in notices)
    return Approval(*row, is_new=not already)


def provinces_of(conn: psycopg.Connection, period: str, release_id: str | None = None) -> list[tuple[str, str]]:
    """The provinces with values for the period in the release (default: the latest)."""
    return conn.execute(
        """select distinct admin_code, admin_name from published.release_values
            where release_id = coalesce(%s, (select release_id from published.latest_release))
              and period = %s and admin_level = 'province' order by admin_code""",
        (release_id, period)).fetchall()


def approve_all(conn: psycopg.Connection, period: str, approved_by: str, note: str | None, force: bool = False,
                release_id: str | None = None) -> list[Approval]:
    """Every province of the period, then the nation (a national statistician's sign-off in one go). Stops
    at the first refusal, keeping the approvals made before it."""
    release_id = release_id or conn.execute("select release_id from published.latest_release").fetchone()[0]
    approvals = [approve(conn, period, code, approved_by, note, force, release_id)
                 for code, _ in provinces_of(conn, period, release_id)]
    approvals.append(approve(conn, period, None, approved_by, note, force, release_id))
    return approvals


def pending_revisions(conn: psycopg.Connection, period: str | None = None) -> list[dict]:
    cursor = conn.execute(
        """select indicator_id, period, admin_level, admin_code, admin_name, sex, age_group, ethnicity, category,
                  unit, official_value, new_value, new_withheld, approval_id, official_release_id, new_release_id,
                  changed_by_batches
             from published.pending_revisions
            where %(period)s::text is null or period = %(period)s
            order by period, admin_level, admin_code, indicator_id, sex, age_group, ethnicity, category""",
        {"period": period})
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _diagnostic_text(exc: psycopg.Error) -> str:
    diag = exc.diag
    parts = [diag.message_primary or str(exc)]
    if diag.message_detail:
        parts.append(diag.message_detail)
    if diag.message_hint:
        parts.append(diag.message_hint)
    return "\n".join(parts)
