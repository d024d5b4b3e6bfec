"""Delivery completeness against a real PostgreSQL: the publish step copies marts.fct_feed_completeness into
published.feed_completeness (reporting rates per feed and period beside it), and the run summary names
missing and late deliveries in plain words. The mart is a stand-in with values known by hand (dbt's own
unit tests cover how it is computed); geography as in release_standins: current Lào Cai (15) is old Lào
Cai (10) and old Yên Bái (15)."""

from __future__ import annotations

import psycopg
import pytest
from release_standins import create_marts, record_gate

from pipeline.report import run_summary
from publish.completeness import COLUMNS, refresh_completeness
from publish.release import create_release

pytestmark = pytest.mark.integration

# feed, period, vintage, code, name, current code, current name, due, received at, rows, status, days past due
DELIVERIES = [
    ("y_te_sinh", "2025-H1", "pre_2025_07", "01", "Thành phố Hà Nội", "01", "Thành phố Hà Nội", "2025-11-15",
     "2025-11-01 03:00+00", 100, "on_time", 0),
    ("y_te_sinh", "2025-H1", "pre_2025_07", "10", "Tỉnh Lào Cai", "15", "Tỉnh Lào Cai", "2025-11-15",
     "2025-11-18 03:00+00", 60, "late", 3),
    ("y_te_sinh", "2025-H1", "pre_2025_07", "15", "Tỉnh Yên Bái", "15", "Tỉnh Lào Cai", "2025-11-15",
     None, 0, "missing", 100),
    ("y_te_tiem_chung", "2025-H2", "2025_07", "01", "Thành phố Hà Nội", "01", "Thành phố Hà Nội", "2026-05-15",
     "2026-01-20 03:00+00", 300, "on_time", 0),
    ("y_te_tiem_chung", "2025-H2", "2025_07", "15", "Tỉnh Lào Cai", "15", "Tỉnh Lào Cai", "2026-05-15",
     None, 0, "missing", 20),
]


def create_completeness_mart(conn: psycopg.Connection) -> None:
    conn.execute(f"create table marts.fct_feed_completeness as select {COLUMNS} from published.feed_completeness"
                 " with no data")
    with conn.cursor() as cursor:
        cursor.executemany(
            f"""insert into marts.fct_feed_completeness ({COLUMNS})
                select %(feed)s, %(period)s, 'half_year', half.start_date, (half.start_date + interval '6 months - 1 day')::date,
                       %(vintage)s,
                       %(code)s, %(name)s, %(current)s, %(current_name)s, true, %(due)s::date,
                       'reporting calendar: round 2025-RY', %(at)s::timestamptz is not null, %(at)s::timestamptz,
                       %(at)s::timestamptz, %(rows)s, null, %(status)s = 'on_time', %(status)s = 'late',
                       %(status)s = 'missing', %(status)s, %(days)s, false
                  from (select make_date(left(%(period)s, 4)::int, case right(%(period)s, 1) when '1' then 1 else 7 end, 1)
                               as start_date) as half""",
            [dict(zip(("feed", "period", "vintage", "code", "name", "current", "current_name", "due", "at", "rows",
                       "status", "days"), delivery)) for delivery in DELIVERIES])


@pytest.fixture
def warehouse(fresh_warehouse):
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        create_marts(conn)
        yield conn


def published_rows(conn: psycopg.Connection, table: str) -> list[tuple]:
    return conn.execute(f"select {COLUMNS} from {table} order by feed, period, province_code").fetchall()


def test_publish_copies_the_mart_and_rates_follow(warehouse):
    assert refresh_completeness(warehouse) is None  # before dbt built the mart: nothing to copy, no error
    create_completeness_mart(warehouse)
    with warehouse.transaction():
        assert refresh_completeness(warehouse) == len(DELIVERIES)
    with warehouse.transaction():  # replaced, not appended, at the next publish
        assert refresh_completeness(warehouse) == len(DELIVERIES)
    assert published_rows(warehouse, "published.feed_completeness") == published_rows(
        warehouse, "marts.fct_feed_completeness")
    rates = warehouse.execute(
        """select feed, period, expected, received, on_time, late, missing, reporting_rate::float,
                  on_time_rate::float
             from published.feed_reporting_rates order by feed""").fetchall()
    assert rates == [
        ("y_te_sinh", "2025-H1", 3, 2, 1, 1, 1, 66.7, 33.3),       # 2 of 3 received, 1 of 3 on time
        ("y_te_tiem_chung", "2025-H2", 2, 1, 1, 0, 1, 50.0, 50.0),
    ]


def test_a_release_refreshes_completeness_and_the_summary_names_missing_deliveries(warehouse):
    assert "Deliveries" not in run_summary(warehouse, None)  # a fresh warehouse: no mart, no section
    create_completeness_mart(warehouse)
    record_gate(warehouse, "run-1", ["marts_indicator_values"])
    create_release("run-1", ["marts_indicator_values"])
    assert warehouse.execute("select count(*) from published.feed_completeness").fetchone()[0] == len(DELIVERIES)

    summary = run_summary(warehouse, "run-1")
    assert "5 expected, 3 received (60.0 %), 2 on time, 1 late, 2 missing" in summary
    lines = [line.strip() for line in summary.splitlines()]
    # missing first, the most recent period first; an old province named with the current one it is now in
    assert lines.index("province 15 (Tỉnh Lào Cai) has not delivered y_te_tiem_chung for 2025-H2 "
                       "(due 2026-05-15, 20 days ago)") < lines.index(
        "province 15 (Tỉnh Yên Bái, now Tỉnh Lào Cai) has not delivered y_te_sinh for 2025-H1 "
        "(due 2025-11-15, 100 days ago)") < lines.index(
        "province 10 (Tỉnh Lào Cai) delivered y_te_sinh for 2025-H1 late (due 2025-11-15, 3 days late)")
    assert "Thành phố Hà Nội" not in summary.split("Deliveries")[1].split("Release")[0]  # on time: not listed
