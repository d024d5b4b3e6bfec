"""Check records against their feed, a chunk of columns at a time: every cell rule, then geography,
then row rules. Per cell only Arrow kernels run; Python sees distinct values and failing rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from ingest.encoding import excerpt
from ingest.fields import Pseudonymised
from ingest.geography import POST_REFORM, PRE_REFORM, REFORM_DATE, AdminUnits
from ingest.readers import UnreadableFile
from ingest.spec import FeedSpec
from ingest.text import header_key

Problem = tuple[str | None, str]  # (column header as delivered, reason)
_NULL = pa.scalar(None, pa.string())
MAX_HEADER_CELLS_QUOTED = 20
HEADER_EXCERPT_CHARS = 24  # a header cell of a file that is no feed's (a key, say) is quoted short


@dataclass
class CheckedChunk:
    columns: dict[str, pa.Array]      # typed values (COPY text) per raw column name, incl. vintage and period
    errors: dict[int, list[Problem]] = field(default_factory=dict)  # row index -> every problem found

    @property
    def size(self) -> int:
        return len(next(iter(self.columns.values())))

    def good_mask(self) -> pa.BooleanArray | None:
        """None when every row passed (the common case), else True for the rows that passed."""
        if not self.errors:
            return None
        bad = pa.array(sorted(self.errors), pa.int64())
        return pc.invert(pc.is_in(pa.array(range(self.size), pa.int64()), bad))


class RecordValidator:
    """Built once per file from its header; checks chunks of records."""

    def __init__(self, spec: FeedSpec, header: list[str], units: AdminUnits, file_name: str,
                 lookups: dict[str, dict] | None = None):
        self.spec = spec
        self.units = units
        self.lookups = lookups or {lookup.name: {} for lookup in spec.lookups}
        self.header = header
        seen: dict[str, int] = {}
        for index, cell in enumerate(header):
            key = header_key(cell)
            if key in seen:
                raise UnreadableFile(f"{file_name}: column {excerpt(cell, HEADER_EXCERPT_CHARS)} appears twice in the header")
            seen[key] = index
        self.positions: list[int | None] = [seen.get(column.key) for column in spec.columns]
        missing = [column.header for column, position in zip(spec.columns, self.positions)
                   if position is None and column.parser.required]
        if missing:
            raise UnreadableFile(
                f"{file_name}: missing required column(s) {', '.join(repr(m) for m in missing)}; "
                f"the header has {', '.join(excerpt(h, HEADER_EXCERPT_CHARS) for h in header[:MAX_HEADER_CELLS_QUOTED])}"
                f"{f' and {len(header) - MAX_HEADER_CELLS_QUOTED} more' if len(header) > MAX_HEADER_CELLS_QUOTED else ''}"
            )
        self.personal_id_positions = [(position, column.parser) for column, position in zip(spec.columns, self.positions)
                                      if position is not None and isinstance(column.parser, Pseudonymised)]
        known = {position for position in self.positions if position is not None}
        self.extra_positions = [index for index in range(len(header)) if index not in known]
        # Problems are reported under the header as the file spelled it.
        self.delivered_header = {
            column.name: (header[position] if position is not None else column.header)
            for column, position in zip(spec.columns, self.positions)
        }
        self._geography_verdicts: dict[str, str | None] = {}
        self._seen: dict[tuple, int | None] = {}
        self._periods: dict[str, str] = {}

    def record_as_dict(self, cells: list[str]) -> dict:
        """The record as delivered, for quarantine; personal IDs only as their pseudonym. A row whose cells
        do not line up with the header (an unquoted comma, a missing cell) cannot tell its IDs from its
        other cells: in a feed with personal IDs its cells are withheld (the file and line locate it)."""
        if self.personal_id_positions and len(cells) != len(self.header):
            return {"(cells withheld)": f"the row has {len(cells)} cells but the header has {len(self.header)}, "
                                        "so personal IDs cannot be told apart from other cells; see the file "
                                        "at this line"}
        record = {name: (cells[i] if i < len(cells) else None) for i, name in enumerate(self.header)}
        for position, parser in self.personal_id_positions:
            raw = record.get(self.header[position])
            if raw and raw.strip():
                record[self.header[position]] = parser.quarantine_text(raw.strip())
        if len(cells) > len(self.header):
            record["(cells beyond the header)"] = cells[len(self.header):]
        return record

    def extras(self, cells: list[str]) -> dict[str, str] | None:
        extra = {self.header[i]: cells[i] for i in self.extra_positions if i < len(cells) and cells[i]}
        return extra or None

    def check_columns(self, cells_by_position: Sequence[pa.Array], lines=None) -> CheckedChunk:
        """The chunk's columns, one string array per header position (and the records' line numbers,
        for messages that point at an earlier record)."""
        size = len(cells_by_position[0]) if cells_by_position else 0
        errors: dict[int, list[Problem]] = {}
        columns: dict[str, pa.Array] = {}
        for column, position in zip(self.spec.columns, self.positions):
            cells = cells_by_position[position] if position is not None else pa.array([""] * size, pa.string())
            values, bad = column.parser.column(cells)
            columns[column.name] = values
            header = self.delivered_header[column.name]
            for index, reason in bad:
                errors.setdefault(index, []).append((header, reason))
        self._add_geography(columns, errors)
        for rule in self.spec.row_rules:
            for index, header, reason in rule(columns):
                if index not in errors:  # rules judge rows whose cells are good
                    errors[index] = [(header, reason)]
        for rule in self.spec.lookup_rules:
            for index, header, reason in rule(columns, self.lookups):
                if index not in errors:
                    errors[index] = [(header, reason)]
        if self.spec.unique_within_file:
            self._check_unique(columns, errors, lines)
        for derived in self.spec.derived:
            columns.update(derived.compute(columns, errors))
        return CheckedChunk(columns, errors)

    def _check_unique(self, columns: dict[str, pa.Array], errors: dict, lines) -> None:
        """A record repeating the key of an earlier good record of the same file is quarantined (e.g. one
        child twice in one register snapshot); the first one stays. A record whose key has a null (no valid
        ID) is compared on the feed's fallback key instead, when it has one."""
        names = self.spec.unique_within_file
        fallback = self.spec.unique_within_file_without_id
        header = self.delivered_header[names[0]]
        keys = zip(*(columns[name].to_pylist() for name in names))
        fallback_keys = zip(*(columns[name].to_pylist() for name in fallback)) if fallback else None
        for index, key in enumerate(keys):
            fallback_key = next(fallback_keys) if fallback_keys is not None else None
            if index in errors:
                continue
            what = f"{header} appears twice in this file"
            if any(part is None for part in key):
                if fallback_key is None or any(part is None for part in fallback_key):
                    continue
                key = ("without id", *fallback_key)
                what = (f"the same child ({', '.join(self.delivered_header[name] for name in fallback[:-1])}) appears "
                        f"twice in this file without a valid {header}")
            if key in self._seen:
                first = self._seen[key]
                where = f" (first on line {first})" if first is not None else ""
                errors[index] = [(header, f"{what}{where}")]
            else:
                self._seen[key] = int(lines[index]) if lines is not None else None

    def check(self, records: list[list[str]]) -> CheckedChunk:
        """Records as lists of cells (tools and tests); rows of the wrong width are problems."""
        width = len(self.header)
        errors: dict[int, list[Problem]] = {}
        fitted = [self._fit(index, cells, width, errors) for index, cells in enumerate(records)]
        arrays = [pa.array(list(column), pa.string()) for column in zip(*fitted)] if fitted \
            else [pa.array([], pa.string())] * width
        chunk = self.check_columns(arrays)
        for index, problems in errors.items():
            chunk.errors[index] = problems + chunk.errors.get(index, [])
        return chunk

    def __call__(self, cells: list[str]) -> tuple[dict | None, list[Problem]]:
        """One record: its typed row and no problems, or None and its problems."""
        chunk = self.check([cells])
        if chunk.errors:
            return None, chunk.errors[0]
        return {name: values[0].as_py() for name, values in chunk.columns.items()}, []

    @staticmethod
    def _fit(index: int, cells: list[str], width: int, errors: dict) -> list[str]:
        if len(cells) > width:
            errors.setdefault(index, []).append((None, f"the row has {len(cells)} cells but the header has {width}"))
            return cells[:width]
        return cells + [""] * (width - len(cells))

    def _add_geography(self, columns: dict[str, pa.Array], errors: dict) -> None:
        """Vintage and period by the reference date; codes valid in that vintage and inside the province."""
        spec = self.spec
        references = columns[spec.reference_date]
        vintages = pc.if_else(pc.less(references, REFORM_DATE), PRE_REFORM, POST_REFORM)
        columns["admin_vintage"] = vintages
        columns["period_key"] = self._map_distinct(references, self._periods, spec.period_of)

        keys = pc.binary_join_element_wise(vintages, columns[spec.province_column],
                                           pc.fill_null(columns[spec.commune_column], ""), "|")
        encoded = keys.dictionary_encode()
        distinct = encoded.dictionary.to_pylist()
        verdicts = self._geography_verdicts
        for key in distinct:
            if key not in verdicts:
                verdicts[key] = self._geography_problem(*key.split("|"))
        bad = [position for position, key in enumerate(distinct) if verdicts[key]]
        if not bad:
            return
        rows = pc.indices_nonzero(pc.is_in(encoded.indices, pa.array(bad, encoded.indices.type)))
        for index in rows.to_pylist():
            if index in errors:
                continue  # a row with a bad code or date is already explained
            column, _, text = verdicts[distinct[encoded.indices[index].as_py()]].partition("|")
            errors[index] = [(self.delivered_header[column], text.replace("{date}", references[index].as_py()))]

    @staticmethod
    def _map_distinct(values: pa.Array, memo: dict, function) -> pa.Array:
        encoded = values.dictionary_encode()
        distinct = encoded.dictionary.to_pylist()
        for value in distinct:
            if value not in memo:
                memo[value] = function(value)
        return pa.array([memo[value] for value in distinct], pa.string()).take(encoded.indices)

    def _geography_problem(self, vintage: str, province: str, commune: str) -> str | None:
        spec = self.spec
        era = "before 1 July 2025" if vintage == PRE_REFORM else "from 1 July 2025"
        if not self.units.has_province(vintage, province):
            return f"{spec.province_column}|province {province} does not exist {era} (the row's date is {{date}})"
        if not commune:
            return None
        commune_province = self.units.province_of_commune(vintage, commune)
        if commune_province is None:
            return f"{spec.commune_column}|commune {commune} does not exist {era} (the row's date is {{date}})"
        if commune_province != province:
            return f"{spec.commune_column}|commune {commune} is in province {commune_province}, not {province} ({era})"
        return None
