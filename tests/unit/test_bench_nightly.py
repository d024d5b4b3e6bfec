"""The pure parts of the nightly benchmark (bench/nightly*.py): no database, no Airflow."""

from __future__ import annotations

import csv
import json

import pytest

from bench import nightly_landing as landing
from bench.nightly import markdown_tables, target_rows
from bench.nightly_measure import percentile, postgres_kind, process_kind, query_plan


def test_percentile_interpolates_between_ranks():
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.95) == pytest.approx(95.05)
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([3, 1, 2], 0.0) == 1 and percentile([3, 1, 2], 1.0) == 3


def test_process_kinds_from_command_lines():
    venv = "/repo/.venv/bin"
    assert process_kind([f"{venv}/python", "-m", "pipeline", "run"]) == "pipeline run (driver)"
    airflow = [f"{venv}/python", f"{venv}/airflow", "dags", "test", "child_stats_reports"]
    assert process_kind(airflow) == "airflow dags test child_stats_reports"
    assert process_kind(airflow, "airflow dags test child_stats_reports", airflow) == \
        "airflow dags test child_stats_reports (forked worker)"
    assert process_kind([f"{venv}/python", f"{venv}/dbt", "build"]) == "dbt"
    assert process_kind([f"{venv}/python", "-c", "x"], parent_kind="airflow dags test x") == \
        "airflow task process (forked)"
    assert postgres_kind(["postgres: transformer bench_nightly_1 127.0.0.1(5) idle"]) == \
        "postgres backend (transformer)"
    assert postgres_kind(["postgres: checkpointer"]) == "postgres (server processes)"
    assert postgres_kind(["postgres: parallel worker for PID 890"]) == "postgres parallel worker"
    for server_process in ("postgres: background writer", "postgres: io worker 2", "postgres: walwriter",
                           "postgres: logical replication launcher", "postgres: autovacuum launcher"):
        assert postgres_kind([server_process]) == "postgres (server processes)"
    assert postgres_kind(["postgres: autovacuum worker bench_nightly_1"]) == "postgres backend (autovacuum)"


def test_query_plan_mixes_the_three_kinds_with_published_parameters():
    cells = [("births", "2025-H1", "half_year", "15"), ("dropout", "2025", "year", "01")]
    plan = query_plan(cells, 9)
    assert [kind for kind, _ in plan[:3]] == ["one indicator x province x period", "a province's trend over periods",
                                              "all provinces for one period"]
    assert all((p["indicator"], p["period"], p["period_type"], p["province"]) in cells for _, p in plan)
    assert plan == query_plan(cells, 9)  # seeded


def _touch(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_redelivery_picks_one_file_of_the_province_and_period_per_feed(tmp_path):
    for name in ("y_te_sinh/y_te_sinh_15_2025-H1.csv", "y_te_sinh/y_te_sinh_15_2025-H2.csv",
                 "y_te_sinh/y_te_sinh_01_2025-H1.csv", "y_te_sinh/y_te_sinh_15_2025-H1_r2.csv",
                 "dan_so/dan_so_15_2025.csv", "dan_so/dan_so_15_2024.csv",
                 "giao_duc_hoc_sinh/giao_duc_hoc_sinh_15_2024-2025.xlsx",
                 "giao_duc_hoc_sinh/giao_duc_hoc_sinh_15_2025-2026.csv",
                 "ldxh_tre_em/ldxh_tre_em_15_2025-06-30.jsonl", "ldxh_tre_em/ldxh_tre_em_15_2025-12-31.jsonl"):
        _touch(tmp_path / name)
    chosen = {feed: path.name for feed, path in landing.redelivery_files(tmp_path, "15", "2025-H1").items()}
    assert chosen == {"y_te_sinh": "y_te_sinh_15_2025-H1.csv", "dan_so": "dan_so_15_2025.csv",
                      "giao_duc_hoc_sinh": "giao_duc_hoc_sinh_15_2024-2025.xlsx",
                      "ldxh_tre_em": "ldxh_tre_em_15_2025-06-30.jsonl"}
    assert landing.corrected_name(tmp_path / "y_te_sinh_15_2025-H1.csv") == "y_te_sinh_15_2025-H1_r2.csv"


def test_alter_records_drops_two_percent_and_changes_values():
    header = ["Mã", " Giới tính "]
    records = [[str(i), "Nam"] for i in range(1, 201)]
    kept, dropped, changed = landing.alter_records(records, header)
    assert dropped == 4 and len(kept) == 196  # every 50th
    assert changed == 2 and sum(r[1] == "Nữ" for r in kept) == 2  # every 100th, counting from the first
    population, _, _ = landing.alter_records([["2025", "Nam", "7"]], ["Năm", "Giới tính", "Dân số"])
    assert population == [["2025", "Nam", "8"]]  # the count, not the sex: (commune, age, sex) stays unique
    json_records = [{"gioi_tinh": "nam"}, {"nan_nhan": [{"gioi_tinh": "nu"}]}]
    kept, _, changed = landing.alter_records(json_records)
    assert kept[0]["gioi_tinh"] == "nu" and changed == 1


def test_write_redelivery_rewrites_csv_and_jsonl_next_to_the_original(tmp_path):
    csv_path = tmp_path / "y_te_sinh" / "y_te_sinh_15_2025-H1.csv"
    rows = [["Mã", "Giới tính"], *[[f"S-{i}", "Nam"] for i in range(100)]]
    csv_path.parent.mkdir(parents=True)
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    _touch(tmp_path / "ldxh_xam_hai" / "ldxh_xam_hai_15_2025-H1.jsonl",
           "".join(json.dumps({"ma_vu": i, "nan_nhan": [{"gioi_tinh": "nam"}]}) + "\n" for i in range(60)))
    written = {w["feed"]: w for w in landing.write_redelivery(tmp_path, "15", "2025-H1")}
    assert written["y_te_sinh"]["dropped"] == 2 and written["ldxh_xam_hai"]["dropped"] == 1
    corrected = tmp_path / "y_te_sinh" / "y_te_sinh_15_2025-H1_r2.csv"
    assert corrected.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM kept
    assert len(corrected.read_text(encoding="utf-8-sig").splitlines()) == 1 + 98
    assert len((tmp_path / "ldxh_xam_hai" / "ldxh_xam_hai_15_2025-H1_r2.jsonl").read_text().splitlines()) == 59


def test_new_records_scale_makes_the_share_of_the_landing():
    # 4 periods of 400,000 rows at scale 0.01: one new period of 100,000 rows; 1 % of 2,000,000 is 20,000
    assert landing.new_records_scale(0.01, 0.01, 2_000_000, 400_000) == pytest.approx(0.002)


def test_generator_commands_fall_back_to_one_per_feed(tmp_path):
    per_feed = landing.generator_commands(tmp_path, 0.05, use_all=False)
    assert [c[3] for c in per_feed] == ["health", "population", "education", "immunisation", "growth", "register",
                                        "abuse"]
    assert per_feed[-1][per_feed[-1].index("--scale") + 1] == "0.5"  # abuse: 10x the scale, at most 1
    assert "--invalid-rate" not in per_feed[1]  # population
    (all_feeds,) = landing.generator_commands(tmp_path, 0.05, use_all=True)
    assert all_feeds[3:4] == ["all"] and all_feeds[all_feeds.index("--scale") + 1] == "0.05"


def _night(dag, gate_share, peak, p95):
    return {"exit_code": 0, "dag_seconds": dag, "gate_share": gate_share, "ingest_tasks_seconds": 1.0,
            "tasks": [{"task_id": "dbt_build", "seconds": dag / 2, "peak_process_rss_mib": 300.0}],
            "other_dags": [{"dag_id": "child_stats_reports",
                            "tasks": [{"task_id": "render_reports", "seconds": 1.0, "peak_process_rss_mib": peak}]}],
            "rows_loaded": 10, "rows_per_s_ingest": 10, "database_bytes": 2**20,
            "memory": {"peak_rss_mib_by_kind": {"airflow dags test": peak, "postgres backend (loader)": 900.0}},
            "queries": {"queries": 1000, "p50_ms": 1.0, "p95_ms": p95}}


def test_targets_compare_each_night_with_the_full_one():
    report = {"arguments": {"scale": 0.1},
              "nights": {"full": _night(200, 0.2, 800.0, 12.0), "quiet": _night(30, 0.3, 500.0, 60.0),
                         "redelivery": _night(25, 0.3, 500.0, 10.0)}}
    verdicts = {what: (measured, met) for what, _, measured, met in target_rows(report)}
    assert verdicts["full night (DAG)"] == ("200 s at scale 0.1", True)
    assert verdicts["quiet night ÷ full"] == ("15%", False)
    assert verdicts["one province's re-delivery ÷ full"] == ("12%", True)
    assert verdicts["gate (validate_raw + validate_marts) ÷ full night"] == ("20%", False)
    assert verdicts["published query p95 (worst night)"] == ("60.0 ms", False)
    # the reports DAG's task counts; PostgreSQL backends are not tasks
    assert verdicts["peak RSS of any task's process"] == ("800 MiB (render_reports)", True)
    report["arguments"]["scale"] = 0.01
    assert dict((w, m) for w, _, _, m in target_rows(report))["full night (DAG)"] is None
    assert "| quiet | 30 | 15% |" in markdown_tables(report)


def test_slowest_dbt_nodes_come_from_the_night_s_run_results_only(tmp_path, monkeypatch):
    import os

    from bench import nightly

    target = tmp_path / "dbt" / "target"
    target.mkdir(parents=True)
    (target / "run_results.json").write_text(json.dumps({"results": [
        {"unique_id": "model.child_stats.fct_published_values", "execution_time": 50.24, "status": "success"},
        {"unique_id": "test.child_stats.unique_x", "execution_time": 2.0, "status": "pass"},
        {"unique_id": "model.child_stats.int_births", "execution_time": 12.0, "status": "success"}]}))
    monkeypatch.setattr(nightly, "REPO", tmp_path)
    written = (target / "run_results.json").stat().st_mtime
    assert [item["node"].split(".")[-1] for item in nightly.dbt_slowest(written - 1, count=2)] == [
        "fct_published_values", "int_births"]
    assert nightly.dbt_slowest(written + 60) == []  # written by an earlier night: not this one's
    os.remove(target / "run_results.json")
    assert nightly.dbt_slowest(0) == []
    table = nightly.slowest_dbt_table({"nights": {"full": {"dbt_slowest": [
        {"node": "model.child_stats.fct_published_values", "seconds": 50.2}]}, "quiet": {}}})
    assert "| full | fct_published_values 50 |" in table and "quiet" not in table
