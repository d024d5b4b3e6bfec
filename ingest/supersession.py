"""Which earlier rows a delivery replaces, so that a correction can never erase what it does not carry.

A file's rows fall into cells (province, geography vintage, period key). A newer file replaces the rows of
the cells it carries, never more, and only cells it carries for real:

1. **Rows outside the delivery's period are quarantined**, not used to widen the replacement. The delivery's
   period is what its name says (`y_te_sinh_15_2025-H1.csv`; ingest.file_periods) when the file holds rows
   of it; for a name without a period, the periods holding at least INGEST_MIN_PERIOD_SHARE (5 %) of a
   province's rows. A 2025-H1 correction with one row dated 15/12/2024 no longer replaces 2024-H2.
2. **A correction that would shrink a cell by more than INGEST_MAX_SHRINK (50 %) waits**: its rows are
   loaded but held (they point at their own batch in `superseded_by_batch`, so nothing counts them), the
   earlier rows stay, and `make confirm BATCH=n` applies it. A 5-row file no longer replaces 1,453 rows
   without a word.

Replaced rows are marked, never deleted; audit.batch_coverage keeps each cell's state.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

from psycopg import sql

from ingest.file_periods import half_years_in_name
from ingest.spec import FeedSpec

Cell = tuple[str, str, str]  # (province code, admin vintage, period key)


def max_shrink() -> float:
    return float(os.environ.get("INGEST_MAX_SHRINK", "0.5"))


def min_period_share() -> float:
    return float(os.environ.get("INGEST_MIN_PERIOD_SHARE", "0.05"))


def outside_cells(file_name: str, coverage: Counter) -> tuple[set[Cell], str]:
    """The cells of a file that lie outside the delivery's period, and the period as words."""
    declared = half_years_in_name(file_name)
    if declared and any(half_years_in_name(period) & declared for _, _, period in coverage):
        outside = {cell for cell in coverage if not half_years_in_name(cell[2]) & declared}
        return outside, f"{', '.join(sorted(declared))}, as the file name says"
    per_province: Counter = Counter()
    for (province, vintage, _), rows in coverage.items():
        per_province[(province, vintage)] += rows
    share = min_period_share()
    outside = {cell for cell, rows in coverage.items() if rows < share * per_province[cell[:2]]}
    return outside, f"the periods holding at least {share:.0%} of the province's rows in the file"


def quarantine_outside_rows(conn, spec: FeedSpec, batch_id: int, file_name: str, cells: set[Cell],
                            period_words: str, date_header: str) -> int:
    """Move the batch's rows of `cells` from raw to quarantine (inside the load's transaction)."""
    if not cells:
        return 0
    provinces, vintages, periods = (list(values) for values in zip(*sorted(cells)))
    return conn.execute(sql.SQL("""
        with moved as (
            delete from {table} as r
             using unnest(%(provinces)s::text[], %(vintages)s::text[], %(periods)s::text[])
                   as cell (province_code, admin_vintage, period_key)
             where r.batch_id = %(batch)s and r.{province} = cell.province_code
               and r.admin_vintage = cell.admin_vintage and r.period_key = cell.period_key
            returning r.*
        ),
        reasons as (
            select moved.*, format('%%s puts the row in %%s, outside the delivery''s period (%%s)',
                                   %(header)s::text, moved.period_key, %(words)s::text) as reason
              from moved
        )
        insert into quarantine.rejected_rows (batch_id, feed, file_name, line_number, column_name, reason,
                                              errors, record)
        select %(batch)s, %(feed)s, %(file)s, line_number, %(header)s, reason,
               jsonb_build_array(jsonb_build_object('column', %(header)s::text, 'reason', reason)),
               to_jsonb(reasons) - array['batch_id', 'source_file', 'file_sha256', 'loaded_at', 'line_number',
                                         'superseded_by_batch', 'reason']
          from reasons""").format(table=sql.Identifier("raw", spec.name), province=sql.Identifier(spec.province_column)),
        {"provinces": provinces, "vintages": vintages, "periods": periods, "batch": batch_id, "feed": spec.name,
         "file": file_name, "header": date_header, "words": period_words},
    ).rowcount


@dataclass
class CellDecision:
    cell: Cell
    rows: int
    rows_before: int
    older_batches: list[int]

    def held(self, shrink: float) -> bool:
        return self.rows_before > 0 and self.rows < self.rows_before * (1 - shrink)

    def describe(self, batch_id: int) -> str:
        province, _, period = self.cell
        return (f"province {province} {period}: {self.rows:,} row(s) would replace {self.rows_before:,} "
                f"(a shrink of {1 - self.rows / self.rows_before:.0%}); held until make confirm BATCH={batch_id}")


def _decisions(conn, batch_id: int, only_held: bool = False) -> list[CellDecision]:
    rows = conn.execute(
        """select n.province_code, n.admin_vintage, n.period_key, n.rows,
                  coalesce(sum(o.rows) filter (where not o.awaiting_confirmation), 0)::bigint,
                  coalesce(array_agg(o.batch_id order by o.batch_id) filter (where o.batch_id is not null), '{}')
             from audit.batch_coverage as n
             left join audit.batch_coverage as o
               on o.feed = n.feed and o.province_code = n.province_code and o.admin_vintage = n.admin_vintage
              and o.period_key = n.period_key and o.batch_id < n.batch_id and o.superseded_by_batch is null
            where n.batch_id = %s and n.superseded_by_batch is null
              and (not %s or n.awaiting_confirmation)
            group by n.province_code, n.admin_vintage, n.period_key, n.rows""",
        (batch_id, only_held),
    ).fetchall()
    return [CellDecision((province, vintage, period), rows, before, older)
            for province, vintage, period, rows, before, older in rows]


def _cell_arrays(decisions: list[CellDecision]) -> dict:
    return {"provinces": [d.cell[0] for d in decisions], "vintages": [d.cell[1] for d in decisions],
            "periods": [d.cell[2] for d in decisions]}


_CELL_JOIN = """unnest(%(provinces)s::text[], %(vintages)s::text[], %(periods)s::text[])
                as cell (province_code, admin_vintage, period_key)"""


def _supersede(conn, spec: FeedSpec, batch_id: int, decisions: list[CellDecision]) -> int:
    """The earlier rows of these cells (and earlier held corrections of them) are replaced by the batch."""
    older = sorted({b for d in decisions for b in d.older_batches})
    if not older:
        return 0
    cells = _cell_arrays([d for d in decisions if d.older_batches])
    conn.execute(f"""
        update audit.batch_coverage as c set superseded_by_batch = %(batch)s, awaiting_confirmation = false
          from {_CELL_JOIN}
         where c.batch_id = any(%(older)s) and c.superseded_by_batch is null
           and c.province_code = cell.province_code and c.admin_vintage = cell.admin_vintage
           and c.period_key = cell.period_key""", {"batch": batch_id, "older": older, **cells})
    return conn.execute(sql.SQL(f"""
        update {{table}} as r set superseded_by_batch = %(batch)s
          from {_CELL_JOIN}
         where r.batch_id = any(%(older)s)
           and (r.superseded_by_batch is null or r.superseded_by_batch = r.batch_id)
           and r.{{province}} = cell.province_code and r.admin_vintage = cell.admin_vintage
           and r.period_key = cell.period_key""").format(
        table=sql.Identifier("raw", spec.name), province=sql.Identifier(spec.province_column)),
        {"batch": batch_id, "older": older, **cells}).rowcount


def _mark_own_rows(conn, spec: FeedSpec, batch_id: int, decisions: list[CellDecision], held: bool) -> None:
    """Hold the batch's rows of these cells (they point at their own batch) or release them."""
    conn.execute(sql.SQL(f"""
        update {{table}} as r set superseded_by_batch = {'r.batch_id' if held else 'null'}
          from {_CELL_JOIN}
         where r.batch_id = %(batch)s and r.superseded_by_batch is {'null' if held else 'not distinct from r.batch_id'}
           and r.{{province}} = cell.province_code and r.admin_vintage = cell.admin_vintage
           and r.period_key = cell.period_key""").format(
        table=sql.Identifier("raw", spec.name), province=sql.Identifier(spec.province_column)),
        {"batch": batch_id, **_cell_arrays(decisions)})


def apply_delivery(conn, spec: FeedSpec, batch_id: int) -> tuple[int, list[str]]:
    """After a batch's rows and coverage are written (same transaction): replace the earlier rows of its
    cells, or hold the cells it would shrink too much. Returns (rows superseded, held cells as words)."""
    decisions = _decisions(conn, batch_id)
    shrink = max_shrink()
    held = [d for d in decisions if d.held(shrink)]
    applied = [d for d in decisions if not d.held(shrink)]
    for group, awaiting in ((held, True), (applied, False)):
        if group:
            conn.execute("""
                update audit.batch_coverage as c set awaiting_confirmation = %(awaiting)s,
                       rows_before = before.rows_before
                  from unnest(%(provinces)s::text[], %(vintages)s::text[], %(periods)s::text[], %(before)s::bigint[])
                       as before (province_code, admin_vintage, period_key, rows_before)
                 where c.batch_id = %(batch)s and c.province_code = before.province_code
                   and c.admin_vintage = before.admin_vintage and c.period_key = before.period_key""",
                         {"batch": batch_id, "awaiting": awaiting, "before": [d.rows_before for d in group],
                          **_cell_arrays(group)})
    if held:
        _mark_own_rows(conn, spec, batch_id, held, held=True)
    return _supersede(conn, spec, batch_id, applied), [d.describe(batch_id) for d in held]


def confirm_batch(conn, spec: FeedSpec, batch_id: int, confirmed_by: str) -> tuple[int, list[str]]:
    """Apply a held correction (`make confirm BATCH=n`): its rows count and replace the earlier ones."""
    with conn.transaction():
        held = _decisions(conn, batch_id, only_held=True)
        if not held:
            return 0, []
        _mark_own_rows(conn, spec, batch_id, held, held=False)
        conn.execute(f"""
            update audit.batch_coverage as c set awaiting_confirmation = false, confirmed_by = %(by)s,
                   confirmed_at = clock_timestamp()
              from {_CELL_JOIN}
             where c.batch_id = %(batch)s and c.awaiting_confirmation
               and c.province_code = cell.province_code and c.admin_vintage = cell.admin_vintage
               and c.period_key = cell.period_key""", {"batch": batch_id, "by": confirmed_by, **_cell_arrays(held)})
        superseded = _supersede(conn, spec, batch_id, held)
        conn.execute("update audit.load_batches set rows_superseded = rows_superseded + %s where batch_id = %s",
                     (superseded, batch_id))
    return superseded, [f"province {d.cell[0]} {d.cell[2]}: {d.rows:,} row(s) now replace {d.rows_before:,}"
                        for d in held]


def pending_confirmations(conn) -> list[str]:
    """Corrections waiting for `make confirm`, as lines for the run summary."""
    rows = conn.execute(
        """select c.batch_id, c.feed, b.file_name, c.province_code, c.period_key, c.rows, c.rows_before
             from audit.batch_coverage as c join audit.load_batches as b using (batch_id)
            where c.awaiting_confirmation and c.superseded_by_batch is null
            order by c.batch_id, c.province_code, c.period_key""").fetchall()
    return [f"batch {batch} {feed} {file_name}: province {province} {period}: {rows:,} row(s) would replace "
            f"{before:,}; make confirm BATCH={batch} applies it"
            for batch, feed, file_name, province, period, rows, before in rows]
