"""Release governance against a real PostgreSQL, on hand-made stand-in marts (release_standins.py):
a failed check withholds what it touches and only that; sign-off by the approver role, bottom-up, with
completeness; official values that later releases do not change; pending revisions; report rounds."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest
from release_standins import create_marts, deliver, deliver_everything, record_gate

from publish.approval import ApprovalRefused, approve, approve_all, pending_revisions
from publish.release import PublicationBlocked, create_release
from warehouse.roles import role_url

pytestmark = pytest.mark.integration

SUITES = ["raw_y_te_sinh", "marts_indicator_values"]
MALE_U5MR_15_H1 = {"indicator_id": "under5_mortality_rate", "admin_level": "province", "admin_code": "15",
                   "period": "2025-H1", "sex": "male", "age_group": "total", "ethnicity": "total",
                   "category": "total", "detail": "value 95 outside [0, 60]"}


@pytest.fixture
def warehouse(fresh_warehouse):
    with psycopg.connect(fresh_warehouse, autocommit=True) as conn:
        create_marts(conn)
        deliver_everything(conn)
        yield conn


def released(conn, release_id: str) -> dict:
    rows = conn.execute("""select indicator_id, period, admin_code, sex, numerator, value, withheld
                             from published.release_values where release_id = %s""", (release_id,)).fetchall()
    return {tuple(row[:4]): row[4:] for row in rows}


def as_role(url: str, role: str) -> psycopg.Connection:
    return psycopg.connect(role_url(role, url), autocommit=True)


# --- withholding -----------------------------------------------------------------------------------------

def test_a_pinned_failure_withholds_the_value_and_what_aggregates_it_and_nothing_else(warehouse):
    record_gate(warehouse, "run-1", SUITES, pinned=[MALE_U5MR_15_H1])

    release = create_release("run-1", SUITES)

    values = released(warehouse, release.release_id)
    # the male under-5 rate of Lào Cai in H1, the count it is made of (under-5 deaths; not the live births,
    # its denominator), and what contains them: the sex total, the year, the annual round (its window
    # 15/12/2024–14/12/2025 holds H1), the nation
    expected = {(indicator, period, unit, sex)
                for indicator in ("under5_mortality_rate", "under5_deaths")
                for period in ("2025-H1", "2025", "2025-RY")
                for unit in ("15", "VN")
                for sex in ("male", "total")}
    withheld = {key for key, (_, _, reason) in values.items() if reason}
    assert withheld == expected
    for key, (numerator, value, reason) in values.items():
        if key in expected:
            assert numerator is None and value is None
        else:  # female, Hà Nội, the commune, H2, the six-month round (it does not contain H1), live births
            assert numerator is not None and value is not None and reason is None, key
    assert values[("under5_mortality_rate", "2025-H1", "15", "male")][2] == \
        "value within plausible bounds: value 95 outside [0, 60]"
    assert values[("under5_mortality_rate", "2025", "VN", "total")][2] == (
        "aggregates under5_mortality_rate, province 15, 2025-H1, sex male, which failed: "
        "value within plausible bounds: value 95 outside [0, 60]")
    assert values[("under5_deaths", "2025-H1", "15", "male")][2].startswith(
        "the same count as under5_mortality_rate, province 15, 2025-H1, sex male, which failed")
    # the sex total of the same indicator aggregates the male value
    assert values[("under5_mortality_rate", "2025-H1", "15", "total")][2].startswith(
        "aggregates under5_mortality_rate, province 15, 2025-H1, sex male")
    header = warehouse.execute("select withheld_count, withheld from published.releases").fetchone()
    assert header[0] == 24
    assert header[1] == [{"suite": "raw_y_te_sinh", "check": "value within plausible bounds",
                          "indicator_id": "under5_mortality_rate", "admin_level": "province", "admin_code": "15",
                          "period": "2025-H1", "sex": "male", "age_group": "total", "ethnicity": "total",
                          "category": "total", "detail": "value 95 outside [0, 60]", "values_withheld": 24}]
    # users see it in the latest release, as provisional
    shown = warehouse.execute("""select value, withheld, approval_status from published.indicator_values
                                  where indicator_id = 'under5_mortality_rate' and period = '2025' and admin_code = 'VN'
                                    and sex = 'total'""").fetchone()
    assert shown[0] is None and shown[1].startswith("aggregates") and shown[2] == "provisional"


def test_a_province_s_whole_figure_takes_what_the_same_delivery_built(warehouse):
    # The province's total rate fails: every value of its half-year whose numerator comes from the deaths
    # feed goes, for every sex, even those that would pass on their own; the births do not.
    record_gate(warehouse, "run-1", SUITES, pinned=[{**MALE_U5MR_15_H1, "sex": "total"}])

    values = released(warehouse, create_release("run-1", SUITES).release_id)

    withheld = {key for key, (_, _, reason) in values.items() if reason}
    # the six-month round (15/12/2024–14/6/2025) holds most of that delivery too
    assert withheld == {(indicator, period, unit, sex) for indicator in ("under5_mortality_rate", "under5_deaths")
                        for period in ("2025-H1", "2025", "2025-R6", "2025-RY") for unit in ("15", "VN")
                        for sex in ("total", "male", "female")}
    assert values[("under5_mortality_rate", "2025-R6", "15", "total")][2].startswith(
        "built on the same delivery as under5_mortality_rate, province 15, 2025-H1, which failed")
    assert values[("under5_mortality_rate", "2025-H1", "15", "female")][2].startswith(
        "built on the same delivery as under5_mortality_rate, province 15, 2025-H1, which failed")
    assert values[("under5_deaths", "2025-H1", "15", "total")][2].startswith(
        "the same count as under5_mortality_rate, province 15, 2025-H1, which failed")


def test_a_province_s_whole_figure_takes_its_communes_of_the_same_delivery(warehouse):
    record_gate(warehouse, "run-1", SUITES, pinned=[{**MALE_U5MR_15_H1, "admin_code": "01", "period": "2025-H2",
                                                     "sex": "total"}])

    values = released(warehouse, create_release("run-1", SUITES).release_id)

    withheld = {key for key, (_, _, reason) in values.items() if reason}
    # the annual round (to 14/12/2025) reaches into that half-year
    assert withheld == {(indicator, period, unit, sex) for indicator in ("under5_mortality_rate", "under5_deaths")
                        for period in ("2025-H2", "2025", "2025-RY") for unit in ("01", "00004", "VN")
                        for sex in ("total", "male", "female")}
    assert values[("under5_mortality_rate", "2025-H2", "00004", "total")][2].startswith(
        "built on the same delivery as under5_mortality_rate, province 01, 2025-H2")


def test_a_national_figure_takes_only_itself_its_count_and_what_contains_it(warehouse):
    record_gate(warehouse, "run-1", SUITES, pinned=[{**MALE_U5MR_15_H1, "admin_level": "national", "admin_code": "VN",
                                                     "sex": "total"}])

    values = released(warehouse, create_release("run-1", SUITES).release_id)

    withheld = {key for key, (_, _, reason) in values.items() if reason}
    assert withheld == {(indicator, period, "VN", "total") for indicator in ("under5_mortality_rate", "under5_deaths")
                        for period in ("2025-H1", "2025", "2025-RY")}


def test_a_pin_without_breakdowns_takes_every_breakdown_and_a_commune_takes_its_province(warehouse):
    record_gate(warehouse, "run-1", SUITES, pinned=[
        {"indicator_id": "live_births", "admin_level": "commune", "admin_code": "00004", "period": "2025-H2",
         "detail": "no births"}])

    values = released(warehouse, create_release("run-1", SUITES).release_id)

    withheld = {key for key, (_, _, reason) in values.items() if reason}
    assert withheld == {("live_births", period, unit, sex) for period in ("2025-H2", "2025", "2025-RY")
                        for unit in ("00004", "01", "VN") for sex in ("total", "male", "female")}


def test_an_error_that_pins_nothing_blocks_and_the_previous_release_stays(warehouse):
    record_gate(warehouse, "run-1", SUITES)
    first = create_release("run-1", SUITES)
    record_gate(warehouse, "run-2", SUITES, blocking=1)

    with pytest.raises(PublicationBlocked, match="cannot be pinned to values failed in raw_y_te_sinh\n"
                                                 "  error: no duplicate keys failed"):
        create_release("run-2", SUITES)
    assert warehouse.execute("select release_id from published.latest_release").fetchone() == (first.release_id,)


def test_a_pin_on_an_unknown_period_blocks_rather_than_publishing_the_value(warehouse):
    record_gate(warehouse, "run-1", SUITES, pinned=[{**MALE_U5MR_15_H1, "period": "2025-Q3"}])

    with pytest.raises(PublicationBlocked, match="name no known indicator or period"):
        create_release("run-1", SUITES)
    assert warehouse.execute("select count(*) from published.releases").fetchone() == (0,)


def test_a_withheld_value_does_not_fall_back_to_the_previous_release(warehouse):
    record_gate(warehouse, "run-1", SUITES)
    create_release("run-1", SUITES)
    record_gate(warehouse, "run-2", SUITES, pinned=[MALE_U5MR_15_H1])

    second = create_release("run-2", SUITES)

    assert second.is_new and second.withheld_count == 24
    shown = warehouse.execute("""select release_id, value, withheld is not null from published.indicator_values
                                  where indicator_id = 'under5_mortality_rate' and admin_code = '15'
                                    and period = '2025-H1' and sex = 'male'""").fetchone()
    assert shown == (second.release_id, None, True)


# --- periods -----------------------------------------------------------------------------------------------

def test_release_periods_say_which_windows_were_still_open(warehouse):
    today = date.today()
    warehouse.execute(
        """insert into marts.dim_period values ('9999-RY', 'report_round', 9999, null, %s, %s, 'năm', %s, false,
                                                '{"51": "2026-11-20"}')""",
        (today - timedelta(days=300), today + timedelta(days=8), today - timedelta(days=21)))
    warehouse.execute("""insert into marts.fct_published_values
                         select indicator_id, '9999-RY', 'report_round', admin_level, admin_code, admin_name, sex,
                                age_group, ethnicity, category, numerator, denominator, value, unit, suppression
                           from marts.fct_published_values where period = '2025-RY'""")
    record_gate(warehouse, "run-1", SUITES)

    create_release("run-1", SUITES)

    periods = dict((p, (pre, until)) for p, pre, until in warehouse.execute(
        "select period, is_preliminary, data_until from published.release_periods").fetchall())
    assert periods["9999-RY"] == (True, date.today() - timedelta(days=1))  # preliminary: data until yesterday
    assert periods["2025-R6"] == (False, None)  # ended: its values cover the whole window
    window = warehouse.execute("select lower(data_window), upper(data_window) - 1 from published.release_periods"
                               " where period = '2025-R6'").fetchone()
    assert window == (date(2024, 12, 15), date(2025, 6, 14))
    shown = warehouse.execute("""select distinct is_preliminary, data_until from published.indicator_values
                                  where period = '9999-RY'""").fetchall()
    assert shown == [(True, date.today() - timedelta(days=1))]


# --- sign-off ----------------------------------------------------------------------------------------------

@pytest.fixture
def published_once(warehouse, fresh_warehouse):
    record_gate(warehouse, "run-1", SUITES)
    release = create_release("run-1", SUITES)
    return release.release_id


def test_only_the_approver_role_may_approve(warehouse, fresh_warehouse, published_once):
    for role in ("report_reader", "analyst"):
        with as_role(fresh_warehouse, role) as conn:
            with pytest.raises(ApprovalRefused, match="permission denied for function approve"):
                approve(conn, "2025-H1", "01", "Người đọc", None)
    with as_role(fresh_warehouse, "approver") as conn:
        approval = approve(conn, "2025-H1", "01", "Nguyễn Thị Thống Kê", "đã rà soát")
    stored = warehouse.execute("""select period, admin_level, admin_code, release_id, approved_by, note, value_count,
                                         octet_length(values_hash), forced, approved_as from published.approvals""").fetchall()
    assert stored == [("2025-H1", "province", "01", published_once, "Nguyễn Thị Thống Kê", "đã rà soát",
                       # the province's 9 values per sex... : 3 indicators × 3 sexes, for 01 and its commune
                       18, 32, False, stored[0][9])]
    assert stored[0][9].endswith("approver") and approval.is_new
    with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
        warehouse.execute("delete from published.approvals")


def test_the_nation_waits_for_every_province_and_all_approves_bottom_up(warehouse, fresh_warehouse, published_once):
    with as_role(fresh_warehouse, "approver") as conn:
        with pytest.raises(ApprovalRefused) as refusal:
            approve(conn, "2025-H1", None, "Cục Thống kê", None)
        assert "cannot be approved before its provinces: 2 province(s) waiting" in str(refusal.value)
        assert "01 Thành phố Hà Nội (not approved)" in str(refusal.value)
        assert "15 Tỉnh Lào Cai (not approved)" in str(refusal.value)
        approve(conn, "2025-H1", "15", "Sở Y tế Lào Cai", None)
        with pytest.raises(ApprovalRefused, match="1 province\\(s\\) waiting\n01 Thành phố Hà Nội"):
            approve(conn, "2025-H1", None, "Cục Thống kê", None)
        approvals = approve_all(conn, "2025-H1", "Cục Thống kê", "cả nước")
    assert [(a.admin_code, a.is_new) for a in approvals] == [("01", True), ("15", False), ("VN", True)]
    statuses = warehouse.execute("""select period, approval_status, count(*) from published.indicator_values
                                     group by 1, 2 order by 1, 2""").fetchall()
    assert ("2025-H1", "official", 36) in statuses  # 3 indicators × 3 sexes × (VN, 01, 15, commune)
    assert all(status == "provisional" for period, status, _ in statuses if period != "2025-H1")


def test_incomplete_deliveries_need_force(warehouse, fresh_warehouse):
    # Lào Cai's H1 came from old Lào Cai (10) only: old Yên Bái (15), now part of it, sent no deaths.
    warehouse.execute("delete from audit.batch_coverage where feed = 'y_te_tu_vong' and province_code = '15'"
                      " and admin_vintage = 'pre_2025_07'")
    record_gate(warehouse, "run-1", SUITES)
    create_release("run-1", SUITES)

    with as_role(fresh_warehouse, "approver") as conn:
        with pytest.raises(ApprovalRefused) as refusal:
            approve(conn, "2025-H1", "15", "Sở Y tế Lào Cai", None)
        assert str(refusal.value).startswith("2025-H1 of Tỉnh Lào Cai is not complete: 1 warning(s); approve anyway "
                                             "with FORCE=1\n15 Tỉnh Yên Bái: no delivery of y_te_tu_vong for 2025-H1")
        approve(conn, "2025-H1", "01", "Sở Y tế Hà Nội", None)  # Hà Nội is complete
        forced = approve(conn, "2025-H1", "15", "Sở Y tế Lào Cai", "Yên Bái gửi sau", force=True)
    assert forced.forced and forced.warnings == ["15 Tỉnh Yên Bái: no delivery of y_te_tu_vong for 2025-H1"]
    # H2 (new geography) is complete for Lào Cai
    with as_role(fresh_warehouse, "approver") as conn:
        assert not approve(conn, "2025-H2", "15", "Sở Y tế Lào Cai", None).forced


def test_withheld_values_need_force(warehouse, fresh_warehouse):
    record_gate(warehouse, "run-1", SUITES, pinned=[MALE_U5MR_15_H1])
    create_release("run-1", SUITES)

    with as_role(fresh_warehouse, "approver") as conn:
        with pytest.raises(ApprovalRefused, match="4 value\\(s\\) withheld by failed quality checks"):
            approve(conn, "2025-H1", "15", "Sở Y tế Lào Cai", None)
        assert approve(conn, "2025-H1", "01", "Sở Y tế Hà Nội", None).forced is False


def test_official_values_stay_until_approved_again_and_changes_are_pending_revisions(warehouse, fresh_warehouse,
                                                                                     published_once):
    with as_role(fresh_warehouse, "approver") as conn:
        approve_all(conn, "2025-H1", "Cục Thống kê", None)
    # A corrected deaths file for Lào Cai, 2025-H1: 25 deaths instead of 20, in a new release.
    correction = deliver(warehouse, "y_te_tu_vong", [("10", "pre_2025_07", "2025-H1", 25)])
    warehouse.execute("""update marts.fct_published_values set numerator = 25, value = 25
                          where admin_code = '15' and period = '2025-H1' and sex = 'total'
                            and indicator_id in ('under5_mortality_rate', 'under5_deaths')""")
    record_gate(warehouse, "run-2", SUITES)
    second = create_release("run-2", SUITES)
    assert second.is_new

    official = warehouse.execute("""select release_id, value from published.official_values
                                     where indicator_id = 'under5_mortality_rate' and admin_code = '15'
                                       and sex = 'total' and period = '2025-H1'""").fetchall()
    assert official == [(published_once, 20)]
    latest = dict(warehouse.execute("""select indicator_id, approval_status from published.indicator_values
                                        where admin_code = '15' and sex = 'total' and period = '2025-H1'""").fetchall())
    assert latest == {"under5_mortality_rate": "provisional", "under5_deaths": "provisional", "live_births": "official"}
    with as_role(fresh_warehouse, "report_reader") as conn:
        revisions = pending_revisions(conn)
    assert [(r["indicator_id"], r["admin_code"], r["official_value"], r["new_value"], r["changed_by_batches"],
             r["official_release_id"], r["new_release_id"]) for r in revisions] == [
        ("under5_deaths", "15", 20, 25, [correction], published_once, second.release_id),
        ("under5_mortality_rate", "15", 20, 25, [correction], published_once, second.release_id)]

    # Approving again makes the new values official; the old approval stays in history.
    with as_role(fresh_warehouse, "approver") as conn:
        approve(conn, "2025-H1", "15", "Sở Y tế Lào Cai", "đính chính")
        assert pending_revisions(conn) == []
    official = warehouse.execute("""select release_id, value from published.official_values
                                     where indicator_id = 'under5_mortality_rate' and admin_code = '15'
                                       and sex = 'total' and period = '2025-H1'""").fetchall()
    assert official == [(second.release_id, 25)]
    history = warehouse.execute("""select release_id, note from published.approvals where admin_code = '15'
                                    order by approval_id""").fetchall()
    assert history == [(published_once, None), (second.release_id, "đính chính")]


def test_the_nation_cannot_be_approved_over_a_province_whose_values_changed(warehouse, fresh_warehouse,
                                                                            published_once):
    with as_role(fresh_warehouse, "approver") as conn:
        approve(conn, "2025-H1", "01", "Sở Y tế Hà Nội", None)
        approve(conn, "2025-H1", "15", "Sở Y tế Lào Cai", None)
    warehouse.execute("update marts.fct_published_values set numerator = 999 where admin_code = '15'"
                      " and period = '2025-H1' and indicator_id = 'live_births' and sex = 'female'")
    record_gate(warehouse, "run-2", SUITES)
    create_release("run-2", SUITES)

    with as_role(fresh_warehouse, "approver") as conn, pytest.raises(ApprovalRefused) as refusal:
        approve(conn, "2025-H1", None, "Cục Thống kê", None)
    assert f"15 Tỉnh Lào Cai (values changed since approval 2 of release {published_once})" in str(refusal.value)


def test_report_rounds_are_approved_like_calendar_periods(warehouse, fresh_warehouse, published_once):
    with as_role(fresh_warehouse, "approver") as conn:
        approvals = approve_all(conn, "2025-R6", "Sở LĐTBXH", "báo cáo 6 tháng")
        with pytest.raises(ApprovalRefused, match="has no province 79 values for period 2025-R6"):
            approve(conn, "2025-R6", "79", "x", None)
    assert [a.admin_code for a in approvals] == ["01", "15", "VN"]
    official = warehouse.execute("select distinct period from published.official_values").fetchall()
    assert official == [("2025-R6",)]


def test_the_command_line_approves_as_the_approver_and_reports_refusals(warehouse, published_once, capsys):
    from publish.__main__ import main

    assert main(["approve", "--period", "2025-H1", "--province", "01", "--by", "Sở Y tế Hà Nội"]) == 0
    assert f"2025-H1 01 Thành phố Hà Nội: approved 18 values of release {published_once}" in capsys.readouterr().out
    assert main(["approve", "--period", "2025-H1", "--by", "Cục Thống kê"]) == 1
    assert "refused: the nation's 2025-H1 values cannot be approved before its provinces" in capsys.readouterr().err
    assert main(["approve", "--period", "2025-H1", "--all", "--by", "Cục Thống kê"]) == 0
    out = capsys.readouterr().out
    assert "already approved with these values" in out and "2025-H1 Việt Nam: approved 9 values" in out
    assert main(["revisions"]) == 0
    assert "No pending revisions" in capsys.readouterr().out
    approved_as = warehouse.execute("select distinct approved_as from published.approvals").fetchall()
    assert [role for (role,) in approved_as] == [role for (role,) in approved_as if role.endswith("approver")]
