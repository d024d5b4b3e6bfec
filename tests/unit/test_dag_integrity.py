"""DagBag checks (in the style of datacoves/balboa): the DAG folder imports cleanly and every DAG has
an owner, tags, retries set explicitly and a schedule, and stays thin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dag_bag(tmp_path_factory):
    import os

    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_dags_import_without_errors(dag_bag):
    assert dag_bag.import_errors == {}
    assert "child_stats_nightly" in dag_bag.dags


def test_every_dag_has_owner_tags_and_schedule(dag_bag):
    for dag_id, dag in dag_bag.dags.items():
        assert dag.tags, dag_id
        assert dag.schedule is not None or dag.timetable is not None, dag_id
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
            assert task.retries is not None, f"{dag_id}.{task.task_id} has no retries setting"


def test_nightly_dag_shape(dag_bag):
    """Bootstrap once at the head; one ingest task per feed of the registry, after the feeds whose rows its
    rules read (FeedSpec.after: the aggregate reports after the population estimates), whatever became of
    them; the release is an asset that the reports DAG is scheduled on."""
    from ingest.feeds import FEEDS

    feeds = sorted(spec.name for spec in FEEDS)
    after = {spec.name: [f"ingest_{feed}" for feed in spec.after] for spec in FEEDS}
    assert after["bao_cao_tong_hop"] == ["ingest_dan_so"]
    dag = dag_bag.dags["child_stats_nightly"]
    upstream = {task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks}
    assert upstream == {
        "bootstrap": [],
        **{f"ingest_{feed}": sorted(["bootstrap", *after[feed]]) for feed in feeds},
        "load_reference": ["bootstrap"],
        "validate_raw": sorted([*(f"ingest_{feed}" for feed in feeds), "load_reference"]),
        "dbt_build": ["validate_raw"],
        "validate_marts": ["dbt_build"],
        "publish": ["validate_marts"],
        "source_freshness": [f"ingest_{feed}" for feed in feeds],
    }
    assert dag.get_task("validate_raw").trigger_rule == "none_failed"  # a feed left out is skipped
    assert dag.get_task("ingest_bao_cao_tong_hop").trigger_rule == "all_done"  # a failed dan_so load does not stop it
    assert {outlet.uri for outlet in dag.get_task("ingest_y_te_sinh").outlets} == {"warehouse://raw/y_te_sinh"}
    assert {outlet.uri for outlet in dag.get_task("publish").outlets} == {"warehouse://published/releases"}
    assert set(dag.params["feeds"]) == set(feeds) and list(dag.params["periods"]) == []
    reports = dag_bag.dags["child_stats_reports"]
    assert [task.task_id for task in reports.tasks] == ["render_reports"]
    assert "warehouse://published/releases" in str(reports.timetable.asset_condition)
    assert [task.task_id for task in dag_bag.dags["child_stats_deadline"].tasks] == ["check_release_made"]


def test_every_feed_has_its_suite_and_a_sample_generator():
    from ingest.feeds import FEEDS
    from pipeline.steps import RAW_SUITES
    from synthetic.sample import generated_feeds

    feeds = {spec.name for spec in FEEDS}
    assert set(RAW_SUITES) == feeds == generated_feeds()
    for feed in feeds:
        assert (DAGS_FOLDER.parent / "expectations" / f"raw_{feed}.yml").exists(), feed


def test_the_warehouse_package_knows_nothing_of_the_feeds():
    """warehouse/ sits below ingest/: the raw tables' DDL is ingest's, passed in to the bootstrap."""
    for path in (DAGS_FOLDER.parent / "warehouse").glob("*.py"):
        tree = ast.parse(path.read_text())
        modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not {m for m in modules if m.split(".")[0] in ("ingest", "pipeline", "quality", "publish")}, path.name


def test_dag_files_hold_no_logic():
    """Thin DAGs: no SQL, no file or database access in the DAG files themselves."""
    for path in DAGS_FOLDER.glob("*.py"):
        source = path.read_text()
        tree = ast.parse(source)
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                    for alias in node.names} | {node.module.split(".")[0] for node in ast.walk(tree)
                                                  if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"psycopg", "sqlalchemy", "pandas", "csv", "great_expectations"}, path.name
        assert "select " not in source.lower(), path.name
