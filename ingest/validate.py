"""Check records against their feed, a chunk at a time: every cell rule, then geography, then row rules.

Work is done column by column (each distinct value is checked once), which keeps validation close to
the speed of a bare COPY; see bench/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.geography import POST_REFORM, PRE_REFORM, REFORM_DATE, AdminUnits
from ingest.readers import UnreadableFile
from ingest.spec import FeedSpec
from ingest.text import header_key

Problem = tuple[str | None, str]  # (column header as delivered, reason)


@dataclass
class CheckedChunk:
    columns: dict[str, list]          # typed values per raw column name, incl. admin_vintage, period_key
    good: list[int]                   # indices of rows that passed every rule
    errors: dict[int, list[Problem]] = field(default_factory=dict)  # row index -> every problem found


class RecordValidator:
    """Built once per file from its header; checks chunks of records."""

    def __init__(self, spec: FeedSpec, header: list[str], units: AdminUnits, file_name: str):
        self.spec = spec
        self.units = units
        self.header = header
        seen: dict[str, int] = {}
        for index, cell in enumerate(header):
            key = header_key(cell)
            if key in seen:
                raise UnreadableFile(f"{file_name}: column {cell!r} appears twice in the header")
            seen[key] = index
        self.positions: list[int | None] = [seen.get(column.key) for column in spec.columns]
        missing = [column.header for column, position in zip(spec.columns, self.positions)
                   if position is None and column.parser.required]
        if missing:
            raise UnreadableFile(
                f"{file_name}: missing required column(s) {', '.join(repr(m) for m in missing)}; "
                f"the header has {', '.join(repr(h) for h in header)}"
            )
        known = {position for position in self.positions if position is not None}
        self.extra_positions = [index for index in range(len(header)) if index not in known]
        # Problems are reported under the header as the file spelled it.
        self.delivered_header = {
            column.name: (header[position] if position is not None else column.header)
            for column, position in zip(spec.columns, self.positions)
        }
        self._geography_verdicts: dict[tuple[str, str, str | None], str | None] = {}
        self._periods: dict[str, str] = {}

    def record_as_dict(self, cells: list[str]) -> dict:
        record = {name: (cells[i] if i < len(cells) else None) for i, name in enumerate(self.header)}
        if len(cells) > len(self.header):
            record["(cells beyond the header)"] = cells[len(self.header):]
        return record

    def extras(self, cells: list[str]) -> dict[str, str] | None:
        extra = {self.header[i]: cells[i] for i in self.extra_positions if i < len(cells) and cells[i]}
        return extra or None

    def check(self, records: list[list[str]]) -> CheckedChunk:
        width = len(self.header)
        errors: dict[int, list[Problem]] = {}
        if set(map(len, records)) - {width}:
            records = [self._fit(index, cells, width, errors) for index, cells in enumerate(records)]
        cells_by_position = list(zip(*records)) if records else [()] * width

        columns: dict[str, list] = {}
        for column, position in zip(self.spec.columns, self.positions):
            cells = cells_by_position[position] if position is not None else ("",) * len(records)
            values, bad = column.parser.column(cells)
            columns[column.name] = values
            header = self.delivered_header[column.name]
            for index, reason in bad:
                errors.setdefault(index, []).append((header, reason))

        self._add_geography(columns, len(records), errors)
        good = [index for index in range(len(records)) if index not in errors]
        for rule in self.spec.row_rules:
            broken = rule(columns, good)
            if broken:
                for index, header, reason in broken:
                    errors.setdefault(index, []).append((header, reason))
                good = [index for index in good if index not in errors]
        return CheckedChunk(columns, good, errors)

    def __call__(self, cells: list[str]) -> tuple[dict | None, list[Problem]]:
        """One record: its typed row and no problems, or None and its problems."""
        chunk = self.check([cells])
        if chunk.errors:
            return None, chunk.errors[0]
        return {name: values[0] for name, values in chunk.columns.items()}, []

    @staticmethod
    def _fit(index: int, cells: list[str], width: int, errors: dict) -> list[str]:
        if len(cells) > width:
            errors.setdefault(index, []).append((None, f"the row has {len(cells)} cells but the header has {width}"))
            return cells[:width]
        return cells + [""] * (width - len(cells))  # missing trailing cells are empty cells

    def _add_geography(self, columns: dict[str, list], size: int, errors: dict) -> None:
        """Vintage and period by the reference date; codes valid in that vintage and inside the province."""
        spec = self.spec
        references = columns[spec.reference_date]
        vintages = [None if day is None else (PRE_REFORM if day < REFORM_DATE else POST_REFORM)
                    for day in references]
        periods = self._periods
        for day in set(references).difference(periods):
            if day is not None:
                periods[day] = spec.period_of(day)
        columns["admin_vintage"] = vintages
        columns["period_key"] = list(map(periods.get, references))

        verdicts = self._geography_verdicts
        keys = list(zip(vintages, columns[spec.province_column], columns[spec.commune_column]))
        distinct = set(keys)
        for key in distinct.difference(verdicts):
            verdicts[key] = self._geography_problem(*key)
        if not any(map(verdicts.get, distinct)):
            return
        for index, key in enumerate(keys):
            reason = verdicts[key]
            if reason and index not in errors:  # a row with a bad code or date is already explained
                column, _, text = reason.partition("|")
                errors[index] = [(self.delivered_header[column], text.replace("{date}", references[index]))]

    def _geography_problem(self, vintage: str | None, province: str | None, commune: str | None) -> str | None:
        if vintage is None or province is None:
            return None  # the date or code itself is bad: reported by its cell rule
        spec = self.spec
        era = "before 1 July 2025" if vintage == PRE_REFORM else "from 1 July 2025"
        if not self.units.has_province(vintage, province):
            return f"{spec.province_column}|province {province} does not exist {era} (the row's date is {{date}})"
        if commune is None:
            return None
        commune_province = self.units.province_of_commune(vintage, commune)
        if commune_province is None:
            return f"{spec.commune_column}|commune {commune} does not exist {era} (the row's date is {{date}})"
        if commune_province != province:
            return f"{spec.commune_column}|commune {commune} is in province {commune_province}, not {province} ({era})"
        return None
