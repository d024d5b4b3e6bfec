"""Check one record against its feed: every cell rule, then geography, then row rules."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.fields import CellError
from ingest.geography import AdminUnits, vintage_of
from ingest.readers import UnreadableFile
from ingest.spec import FeedSpec
from ingest.text import header_key


@dataclass
class RowErrors:
    errors: list[tuple[str | None, str]]  # (column as delivered, reason)


class RecordValidator:
    """Built once per file from its header; called once per record."""

    def __init__(self, spec: FeedSpec, header: list[str], units: AdminUnits, file_name: str):
        self.spec = spec
        self.units = units
        self.header = header
        keys = [header_key(cell) for cell in header]
        seen: dict[str, int] = {}
        for index, key in enumerate(keys):
            if key in seen:
                raise UnreadableFile(f"{file_name}: column {header[index]!r} appears twice in the header")
            seen[key] = index
        self.positions: list[int | None] = []
        missing = []
        for column in spec.columns:
            position = seen.get(column.key)
            if position is None and column.parser.required:
                missing.append(column.header)
            self.positions.append(position)
        if missing:
            raise UnreadableFile(
                f"{file_name}: missing required column(s) {', '.join(repr(m) for m in missing)}; "
                f"the header has {', '.join(repr(h) for h in header)}"
            )
        known = {position for position in self.positions if position is not None}
        self.extra_positions = [index for index in range(len(header)) if index not in known]
        # Report errors under the header as the file spelled it.
        self.delivered_header = {
            column.name: (header[position] if position is not None else column.header)
            for column, position in zip(spec.columns, self.positions)
        }
        self.names = [column.name for column in spec.columns]
        self.parsers = [column.parser for column in spec.columns]

    def record_as_dict(self, cells: list[str]) -> dict[str, str]:
        record = {name: (cells[i] if i < len(cells) else None) for i, name in enumerate(self.header)}
        if len(cells) > len(self.header):
            record["(cells beyond the header)"] = cells[len(self.header):]
        return record

    def extras(self, cells: list[str]) -> dict[str, str] | None:
        extra = {self.header[i]: cells[i] for i in self.extra_positions if i < len(cells) and cells[i]}
        return extra or None

    def __call__(self, cells: list[str]) -> tuple[dict | None, list[tuple[str | None, str]]]:
        """The typed row {name: value} and no errors, or None and the errors."""
        errors: list[tuple[str | None, str]] = []
        if len(cells) > len(self.header):
            errors.append((None, f"the row has {len(cells)} cells but the header has {len(self.header)}"))
        row: dict = {}
        width = len(cells)
        for name, parser, position in zip(self.names, self.parsers, self.positions):
            raw = cells[position] if position is not None and position < width else None
            try:
                row[name] = parser(raw)
            except CellError as error:
                errors.append((self.delivered_header[name], str(error)))
                row[name] = None
        if not errors:
            errors.extend(self._geography(row))
        if not errors:
            for rule in self.spec.row_rules:
                problem = rule(row)
                if problem:
                    column, reason = problem
                    errors.append((column, reason))
        return (None, errors) if errors else (row, errors)

    def _geography(self, row: dict) -> list[tuple[str | None, str]]:
        spec = self.spec
        reference = row[spec.reference_date]
        vintage = vintage_of(reference)
        row["admin_vintage"] = vintage
        row["period_key"] = spec.period_of(reference)
        province, commune = row[spec.province_column], row[spec.commune_column]
        era = "before 1 July 2025" if vintage == "pre_2025_07" else "from 1 July 2025"
        if not self.units.has_province(vintage, province):
            return [(self.delivered_header[spec.province_column],
                     f"province {province} does not exist {era} (the row's date is {reference})")]
        if commune is None:
            return []
        commune_province = self.units.province_of_commune(vintage, commune)
        if commune_province is None:
            return [(self.delivered_header[spec.commune_column],
                     f"commune {commune} does not exist {era} (the row's date is {reference})")]
        if commune_province != province:
            return [(self.delivered_header[spec.commune_column],
                     f"commune {commune} is in province {commune_province}, not {province} ({era})")]
        return []
