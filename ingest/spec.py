"""What a feed is: its columns, their rules, and how its rows find their geography and period."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.fields import Parser
from ingest.text import header_key

# A row rule sees a chunk's typed columns {column name: Arrow string array, null where a cell is bad}
# and returns (row index, column header or None, reason) for each row that breaks it. Rules work on
# whole columns with Arrow compute, so that checking stays close to COPY speed.
RowRule = Callable[[dict], "list[tuple[int, str | None, str]]"]


@dataclass(frozen=True)
class Column:
    header: str       # the header as sources.md defines it (Vietnamese, verbatim)
    name: str         # the raw-table column name
    sql_type: str
    parser: Parser
    description: str

    @property
    def key(self) -> str:
        return header_key(self.header)


@dataclass(frozen=True)
class Derived:
    """Columns the loader computes from a chunk's typed columns (e.g. growth z-scores), stored in raw next
    to the delivered values. `compute(columns, errors)` returns {name: array of COPY text}; rows in
    `errors` are quarantined anyway and may be left null."""

    columns: tuple[tuple[str, str, str], ...]   # (raw column name, SQL type, description)
    compute: Callable[[dict, dict], dict]


@dataclass(frozen=True)
class Lookup:
    """Reference figures some row rules compare with (e.g. a commune's children in the population estimates),
    read by the loader once per file from the warehouse: `query` returns key columns then a value, and the
    rules get {key tuple (as text): value}. Without a warehouse (tools, unit tests) the lookup is empty and
    the rules that need a figure skip the rows they have none for."""

    name: str
    query: str


# A lookup rule is a row rule that also sees the feed's lookups: rule(columns, {lookup name: {key: value}}).
LookupRule = Callable[[dict, dict], "list[tuple[int, str | None, str]]"]


def half_year(iso_date: str) -> str:
    return f"{iso_date[:4]}-H{1 if iso_date[5:7] <= '06' else 2}"


@dataclass(frozen=True)
class FeedSpec:
    name: str
    description: str
    columns: tuple[Column, ...]
    reference_date: str                      # column whose date decides the geography vintage
    province_column: str = "province_code"
    commune_column: str = "commune_code"
    row_rules: tuple[RowRule, ...] = ()
    period_of: Callable[[str], str] = half_year  # supersede key: a newer file replaces this period
    extensions: tuple[str, ...] = (".csv",)
    derived: tuple[Derived, ...] = ()
    unique_within_file: tuple[str, ...] = ()   # raw columns whose values a file may hold only once
    # for rows whose unique_within_file key has a null (a child without a valid ID): the key used instead
    unique_within_file_without_id: tuple[str, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    lookup_rules: tuple[LookupRule, ...] = ()
    after: tuple[str, ...] = ()   # feeds loaded before this one in a night: its lookups read their rows

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    @property
    def derived_columns(self) -> tuple[tuple[str, str, str], ...]:
        return tuple(column for derived in self.derived for column in derived.columns)

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    def header_of(self, name: str) -> str:
        return self.column(name).header


# Columns every raw table carries before and after the feed's own columns. The batch's own facts are
# filled by the server from settings the loader makes for its transaction, not sent on every COPY row:
# same values in every row, a fraction of the bytes and parsing (see bench/README.md).
BATCH_COLUMNS = (
    ("batch_id", "bigint not null", "Load batch (audit.load_batches) the row came in."),
    ("source_file", "text not null", "File name as delivered."),
    ("file_sha256", "text not null", "SHA-256 of the delivered file."),
    ("loaded_at", "timestamptz not null", "When the row was loaded (start of its load transaction)."),
    ("line_number", "integer not null", "Line number in the file (the header is line 1)."),
)
BATCH_DEFAULTS = {
    "batch_id": "current_setting('ingest.batch_id')::bigint",
    "source_file": "current_setting('ingest.source_file')",
    "file_sha256": "current_setting('ingest.file_sha256')",
    "loaded_at": "now()",
}
TRAILING_COLUMNS = (
    ("admin_vintage", "text not null",
     "Geography vintage of the codes: pre_2025_07 (63 provinces) or 2025_07 (34 provinces), by the reference date."),
    ("period_key", "text not null", "Period the row belongs to for supersession (e.g. 2025-H1)."),
    ("extra_columns", "jsonb", "Unknown extra columns of the file, kept as delivered and ignored."),
    ("superseded_by_batch", "bigint",
     "Set when a newer file for the same feed, province and period replaced this row; such rows are never counted."),
)


@dataclass
class FeedRegistry:
    feeds: dict[str, FeedSpec] = field(default_factory=dict)

    def register(self, spec: FeedSpec) -> FeedSpec:
        self.feeds[spec.name] = spec
        return spec

    def __getitem__(self, name: str) -> FeedSpec:
        try:
            return self.feeds[name]
        except KeyError:
            raise KeyError(f"unknown feed {name!r}; known feeds: {', '.join(sorted(self.feeds))}") from None

    def __iter__(self):
        return iter(self.feeds.values())


FEEDS = FeedRegistry()
