"""Row rules several feeds share: dates in order, dates not in the future."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc


def broken_rows(mask: pa.Array) -> list[int]:
    """Rows where a rule's condition holds; rows with a null (a bad cell) are judged by their cell rule."""
    return pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()


def not_in_future(column: str, header: str):
    def rule(columns: dict[str, pa.Array]):
        values = columns[column]
        return [(i, header, f"date {values[i].as_py()} is in the future")
                for i in broken_rows(pc.greater(values, date.today().isoformat()))]

    return rule


def not_before(column: str, header: str, earlier: str, what: str):
    """`column` (ISO date) must not be before `earlier` (ISO date): e.g. a dose before birth."""
    def rule(columns: dict[str, pa.Array]):
        values, limits = columns[column], columns[earlier]
        return [(i, header, f"{what} {values[i].as_py()} is before the birth date {limits[i].as_py()}")
                for i in broken_rows(pc.less(values, limits))]

    return rule


def years_later(dates: pa.Array, years: int) -> pa.Array:
    """ISO dates `years` later as text (29 February stays 29 February, which sorts right as text)."""
    return pc.binary_join_element_wise(
        pc.cast(pc.add(pc.cast(pc.utf8_slice_codeunits(dates, 0, 4), pa.int32()), years), pa.string()),
        pc.utf8_slice_codeunits(dates, 4, 10), "")
