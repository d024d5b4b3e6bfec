"""What a report of one period shows, read from `published` as the report_reader role sees it.

For each unit (the nation, a province with its communes) the values are the official ones when a
statistician approved the period for that unit (published.official_values: the approved release's values,
even if a later release changed them), otherwise the provisional values of the latest release
(published.indicator_values). The same rule holds for the period a year earlier and for the series.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

BREAKDOWNS = ("sex", "age_group", "ethnicity", "category")
TOTAL = ("total", "total", "total", "total")


@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    tt13_code: str | None
    annex: str | None
    indicator_group: str | None
    name_vi: str
    name_en: str
    kind: str
    unit: str
    unit_label_vi: str | None
    multiplier: Decimal | None
    numerator_definition: str | None
    denominator_definition: str | None
    responsible_agency: str | None
    legal_basis: str | None
    notes: str | None
    source_feeds: str | None
    breakdowns: tuple[str, ...]
    period_types: tuple[str, ...]
    is_sensitive: bool

    @property
    def unit_vi(self) -> str:
        return self.unit_label_vi or self.unit


@dataclass(frozen=True)
class Period:
    period: str
    period_type: str
    first_day: date
    last_day: date
    is_preliminary: bool
    data_until: date | None
    round_name_vi: str | None
    deadline: date | None
    province_deadlines: dict

    @property
    def year(self) -> int:
        return int(self.period[:4])

    @property
    def name_vi(self) -> str:
        if self.period_type == "year":
            return f"Năm {self.period}"
        if self.period_type == "half_year":
            return f"6 tháng {'đầu' if self.period.endswith('1') else 'cuối'} năm {self.period[:4]}"
        return f"Báo cáo {self.round_name_vi} {self.period[:4]}"

    @property
    def year_earlier(self) -> str:
        return str(self.year - 1) + self.period[4:]


@dataclass(frozen=True)
class Approval:
    approval_id: int
    release_id: str
    approved_by: str
    approved_at: datetime
    note: str | None


@dataclass(frozen=True)
class Unit:
    admin_code: str  # VN or a current province code
    admin_name: str
    approval: Approval | None  # the approval in force for the report's period, if any

    @property
    def is_nation(self) -> bool:
        return self.admin_code == "VN"

    @property
    def status(self) -> str:
        return "official" if self.approval else "provisional"


@dataclass(slots=True)  # not frozen: half a million values are made per report, and frozen init is 3x slower
class Value:
    indicator_id: str
    period: str
    admin_level: str
    admin_code: str
    admin_name: str | None
    province_code: str | None
    sex: str
    age_group: str
    ethnicity: str
    category: str
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None
    unit: str
    suppression: str | None
    withheld: str | None
    approval_status: str

    @property
    def breakdown(self) -> tuple[str, str, str, str]:
        return (self.sex, self.age_group, self.ethnicity, self.category)

    @property
    def is_total(self) -> bool:
        return self.breakdown == TOTAL

    @property
    def scope(self) -> str:
        """The approval scope the value belongs to: VN or its current province."""
        return "VN" if self.admin_level == "national" else (self.province_code or self.admin_code)

    @property
    def status(self) -> str:
        """published, withheld (failed a quality check), suppressed (protects children) or missing (no denominator)."""
        if self.withheld:
            return "withheld"
        if self.suppression:
            return "suppressed"
        return "missing" if self.value is None else "published"


@dataclass(frozen=True)
class Target:
    indicator_id: str
    scope: str
    target_year: int
    target_value: Decimal
    direction: str
    period_types: tuple[str, ...]
    baseline_year: int | None
    baseline_value: Decimal | None
    source: str | None

    def is_met(self, value: Decimal | None) -> bool | None:
        if value is None:
            return None
        return value <= self.target_value if self.direction == "at_most" else value >= self.target_value


@dataclass
class ReportData:
    """Everything the outputs of one period need. `values` holds the period at every level and breakdown;
    `previous` the totals of the nation and the provinces a year earlier (what the workbooks compare with);
    `series` every published period of the same type up to the
    period, national and province totals; `progress` rows of published.target_progress."""

    release_id: str
    release_created_at: datetime
    period: Period
    periods: list[Period]
    indicators: dict[str, Indicator]
    units: list[Unit]
    values: list[Value]
    previous: list[Value]
    series: list[Value]
    targets: list[Target]
    progress: list[dict]
    made_at: datetime = field(default_factory=datetime.now)
    # the child register's data quality (report.register_quality.RegisterQuality), provinces and communes
    register_quality: list = field(default_factory=list)
    # the quality scorecard of the period per province (report.scorecard.Scorecard)
    scorecard: list = field(default_factory=list)
    # the outliers of the period, furthest out first (report.outliers.Outlier)
    outliers: list = field(default_factory=list)
    # the scorecard per province and feed (report.scorecard.FeedScorecard)
    scorecard_feeds: list = field(default_factory=list)

    def unit(self, admin_code: str) -> Unit:
        return next(u for u in self.units if u.admin_code == admin_code)

    def values_of(self, admin_code: str, levels: tuple[str, ...] | None = None) -> list[Value]:
        """The nation's values, or a province's and (levels permitting) its communes'."""
        return [v for v in self._by_scope(self.values).get(admin_code, [])
                if levels is None or v.admin_level in levels]

    def previous_of(self, admin_code: str) -> list[Value]:
        return self._by_scope(self.previous).get(admin_code, [])

    def target_for(self, indicator_id: str, admin_code: str, period: Period) -> Target | None:
        """The target a value of the period is compared with: the unit's own, else the national one; the
        first target year not before the period's year; none where the target does not apply to the period type."""
        own = [t for t in self.targets if t.indicator_id == indicator_id and t.scope == admin_code]
        candidates = own or [t for t in self.targets if t.indicator_id == indicator_id and t.scope == "VN"]
        candidates = [t for t in candidates if period.period_type in t.period_types and t.target_year >= period.year]
        return min(candidates, key=lambda t: t.target_year, default=None)

    def _by_scope(self, values: list[Value]) -> dict[str, list[Value]]:
        key = id(values)
        cache = self.__dict__.setdefault("_scope_cache", {})
        if key not in cache:
            grouped: dict[str, list[Value]] = defaultdict(list)
            for v in values:
                grouped[v.scope].append(v)
            cache[key] = grouped
        return cache[key]


class PeriodNotPublished(LookupError):
    """The period is not in the latest release."""


_VALUE_COLUMNS = ("indicator_id, period, admin_level, admin_code, admin_name, province_code, sex, age_group, "
                  "ethnicity, category, numerator, denominator, value, unit, suppression, withheld")

# Official values where the (period, unit) is approved; the latest release's values elsewhere.
_VALUES = f"""
    select {_VALUE_COLUMNS}, 'official' as approval_status
      from published.official_values
     where period = any(%(periods)s) and ({{filter}})
    union all
    select {_VALUE_COLUMNS}, 'provisional'
      from published.indicator_values as v
     where period = any(%(periods)s) and ({{filter}})
       and not exists (select 1 from published.current_approvals as a
                        where a.period = v.period
                          and a.admin_code = case when v.admin_level = 'national' then 'VN' else v.province_code end)
"""
_TOTALS = "sex = 'total' and age_group = 'total' and ethnicity = 'total' and category = 'total'"


def _values(conn: psycopg.Connection, periods: list[str], where: str = "true") -> list[Value]:
    # A year's report holds half a million values whose texts repeat (codes, names, breakdowns): one object per
    # distinct text instead of one per cell keeps the report's memory at a third (bench/README.md, nightly).
    texts: dict[str, str] = {}

    def value(row: tuple) -> Value:
        return Value(*(texts.setdefault(cell, cell) if type(cell) is str else cell for cell in row))

    cursor = conn.cursor(row_factory=lambda c: value)
    return cursor.execute(_VALUES.format(filter=where), {"periods": periods}).fetchall()


def _period(row: dict) -> Period:
    window = row["data_window"]  # [first day, day after the last)
    return Period(row["period"], row["period_type"], window.lower, window.upper - timedelta(days=1),
                  row["is_preliminary"], row["data_until"], row["round_name_vi"], row["deadline"],
                  row["province_deadlines"] or {})


def published_periods(conn: psycopg.Connection) -> list[Period]:
    rows = conn.cursor(row_factory=dict_row).execute(
        """select p.* from published.release_periods as p join published.latest_release using (release_id)
            order by p.period""").fetchall()
    return [_period(r) for r in rows]


def latest_periods(conn: psycopg.Connection) -> list[str]:
    """What `make report` renders without PERIOD: the latest half-year and the latest year whose windows
    have ended (the latest preliminary ones when none has)."""
    periods = published_periods(conn)
    chosen = []
    for period_type in ("half_year", "year"):
        of_type = [p for p in periods if p.period_type == period_type]
        ended = [p for p in of_type if not p.is_preliminary]
        if of_type:
            chosen.append((ended or of_type)[-1].period)
    return chosen


def load_report(conn: psycopg.Connection, period: str) -> ReportData:
    from report.outliers import load_outliers
    from report.register_quality import load_register_quality  # it reads Period from here
    from report.scorecard import load_feed_scorecard, load_scorecard

    cursor = conn.cursor(row_factory=dict_row)
    release = cursor.execute("select release_id, created_at from published.latest_release").fetchone()
    if release is None:
        raise PeriodNotPublished("nothing is published yet: run the nightly job first (make run)")
    periods = published_periods(conn)
    wanted = next((p for p in periods if p.period == period), None)
    if wanted is None:
        known = ", ".join(p.period for p in periods)
        raise PeriodNotPublished(f"period {period} is not in release {release['release_id']} (published: {known})")
    indicators = {
        r["indicator_id"]: Indicator(
            r["indicator_id"], r["tt13_code"], r["annex"], r["indicator_group"], r["name_vi"], r["name_en"], r["kind"],
            r["unit"], r["unit_label_vi"], r["multiplier"], r["numerator_definition"], r["denominator_definition"],
            r["responsible_agency"], r["legal_basis"], r["notes"], r["source_feeds"],
            tuple(filter(None, (r["breakdowns"] or "").split("|"))),
            tuple(filter(None, (r["period_types"] or "").split("|"))), bool(r["is_sensitive"]))
        for r in cursor.execute("select * from published.indicators order by indicator_id")}
    approvals = {
        r["admin_code"]: Approval(r["approval_id"], r["release_id"], r["approved_by"], r["approved_at"], r["note"])
        for r in cursor.execute(
            "select admin_code, approval_id, release_id, approved_by, approved_at, note "
            "from published.current_approvals where period = %s", (period,))}
    provinces = cursor.execute(
        """select admin_code, admin_name from published.admin_units
            where vintage = '2025_07' and admin_level = 'province' order by admin_code""").fetchall()
    units = [Unit("VN", "Việt Nam", approvals.get("VN"))] + [
        Unit(p["admin_code"], p["admin_name"], approvals.get(p["admin_code"])) for p in provinces]
    series_periods = [p.period for p in periods if p.period_type == wanted.period_type and p.period <= period]
    targets = [Target(r["indicator_id"], r["scope"], r["target_year"], r["target_value"], r["direction"],
                      tuple(r["period_types"].split("|")), r["baseline_year"], r["baseline_value"], r["source"])
               for r in cursor.execute("select * from published.targets order by indicator_id, scope, target_year")]
    progress = cursor.execute("select * from published.target_progress order by indicator_id, admin_code, target_year"
                              ).fetchall()
    return ReportData(
        release_id=release["release_id"],
        release_created_at=release["created_at"],
        period=wanted,
        periods=periods,
        indicators=indicators,
        units=units,
        values=_values(conn, [period]),
        previous=_values(conn, [wanted.year_earlier], f"admin_level in ('national', 'province') and {_TOTALS}"),
        series=_values(conn, series_periods, f"admin_level in ('national', 'province') and {_TOTALS}"),
        targets=targets,
        progress=progress,
        register_quality=load_register_quality(conn, wanted),
        scorecard=load_scorecard(conn, period),
        outliers=load_outliers(conn, period),
        scorecard_feeds=load_feed_scorecard(conn, period),
    )
