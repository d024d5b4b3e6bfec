"""The population generator (dan_so): shape, geography by vintage, magnitudes, determinism."""

from __future__ import annotations

import csv

from ingest.geography import admin_units
from synthetic import generate_population_feed


def rows(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_files_per_province_and_year_with_codes_of_their_vintage(tmp_path):
    manifest = generate_population_feed(tmp_path, scale=0.01, seed=4, years=(2024, 2025), provinces=("15",),
                                        delivery_variants=False)
    assert sorted((f.period, f.province, f.vintage) for f in manifest.files) == [
        ("2024", "10", "pre_2025_07"), ("2024", "15", "pre_2025_07"), ("2025", "15", "2025_07")]
    units = admin_units()
    for entry in manifest.files:
        data = rows(tmp_path / entry.path)
        assert len(data) == entry.rows
        communes = {row["Mã xã"] for row in data}
        assert all(units.province_of_commune(entry.vintage, c) == entry.province for c in communes)
        assert {row["Năm"] for row in data} == {entry.period}
        if entry.period == "2024":  # children only: every commune, ages 0–17, both sexes
            assert len(data) == len(communes) * 18 * 2
            assert "population_all_ages" not in entry.counts
        else:  # the latest year covers all ages: 0–79 and 80+, closed by the open-ended group
            assert len(data) == len(communes) * 81 * 2
            assert {row["Tuổi"] for row in data} == {str(age) for age in range(80)} | {"80+"}
            assert entry.counts["population_all_ages"] == sum(int(row["Dân số"]) for row in data)


def test_children_do_not_jump_at_the_reform_and_magnitudes_are_national_scale(tmp_path):
    manifest = generate_population_feed(tmp_path, scale=0.01, seed=4, years=(2024, 2025), delivery_variants=False)
    by_year = {year: sum(f.counts["children_under_16"] for f in manifest.files if f.period == year)
               for year in ("2024", "2025")}
    assert abs(by_year["2025"] - by_year["2024"]) / by_year["2024"] < 0.01
    assert 230_000 < by_year["2024"] < 260_000  # ≈ 24.6 M children × 0.01
    boys = sum(f.counts["children_under_16_male"] for f in manifest.files if f.period == "2024")
    assert 0.51 < boys / by_year["2024"] < 0.53
    # ≈ 100 M people of all ages in 2025 (indicators.md: crude birth rate ≈ 13.5 ‰ of ≈ 1.37 M births)
    everyone = sum(f.counts["population_all_ages"] for f in manifest.files if f.period == "2025")
    assert 960_000 < everyone < 1_040_000
    assert 0.23 < by_year["2025"] / everyone < 0.27  # children under 16 are about a quarter


def test_same_seed_same_files(tmp_path):
    first = generate_population_feed(tmp_path / "a", scale=0.005, seed=9, years=(2025,), provinces=("01",))
    second = generate_population_feed(tmp_path / "b", scale=0.005, seed=9, years=(2025,), provinces=("01",))
    assert [f.sha256 for f in first.files] == [f.sha256 for f in second.files]
