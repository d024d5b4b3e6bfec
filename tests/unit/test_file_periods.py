import pytest

from ingest.file_periods import half_years_in_name, name_matches_periods


@pytest.mark.parametrize("name, expected", [
    ("y_te_sinh_01_2025-H1.csv", {"2025-H1"}),
    ("y_te_tu_vong_01_2025-H2_v2.csv", {"2025-H2"}),
    ("dan_so_01_2025.csv", {"2025-H1", "2025-H2"}),
    ("giao_duc_hoc_sinh_01_2024-2025.xlsx", {"2024-H2", "2025-H1"}),
    ("ldxh_tre_em_01_2025-06-30.jsonl", {"2025-H1"}),
    ("ldxh_tre_em_01_2024-12-31.jsonl", {"2024-H2"}),
    ("sinh_tinh_01.csv", set()),
])
def test_half_years_in_name(name, expected):
    assert half_years_in_name(name) == expected


def test_a_year_or_half_year_selects_the_files_that_hold_it():
    assert name_matches_periods("y_te_sinh_01_2025-H1.csv", ["2025"])
    assert name_matches_periods("giao_duc_hoc_sinh_01_2024-2025.xlsx", ["2025-H1", "2026-H1"])
    assert not name_matches_periods("y_te_sinh_01_2025-H1.csv", ["2025-H2", "2024"])
    assert not name_matches_periods("sinh_tinh_01.csv", ["2025"])  # no period in the name: not a subset's file
