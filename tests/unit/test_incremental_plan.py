"""The pure parts of incremental nights (pipeline/incremental.py): the calendar half-year, the dbt selection."""

from __future__ import annotations

from datetime import date

from pipeline.incremental import BuildPlan, calendar_half_year, source_names
from pipeline.steps import feed_names


def test_the_calendar_half_year_turns_on_the_first_of_january_and_july():
    assert calendar_half_year(date(2026, 6, 30)) == "2025-H2"
    assert calendar_half_year(date(2026, 7, 1)) == "2026-H1"
    assert calendar_half_year(date(2026, 12, 31)) == "2026-H1"
    assert calendar_half_year(date(2027, 1, 1)) == "2026-H2"


def test_every_feed_is_a_dbt_source_so_a_changed_feed_selects_its_models():
    sources = source_names()
    assert set(feed_names()) <= set(sources)
    assert sources["y_te_sinh"] == "health" and sources["ldxh_tre_em"] == "child_affairs"


def test_the_dbt_arguments_of_each_mode():
    full = BuildPlan("full", "first", "code", {"y_te_sinh": "a"})
    # a full build rebuilds the models kept per province whole too (macros/province_increments.sql)
    assert full.dbt_build_args() == ["build", "--exclude", "resource_type:seed", "--full-refresh"]
    incremental = BuildPlan("incremental", "changed", "code", {"y_te_sinh": "b"}, ("y_te_sinh",),
                            ("source:health.y_te_sinh+",))
    assert incremental.dbt_build_args() == ["build", "--exclude", "resource_type:seed", "--select",
                                            "source:health.y_te_sinh+"]
    assert BuildPlan("none", "nothing changed", "code", {"y_te_sinh": "b"}).dbt_build_args() is None
