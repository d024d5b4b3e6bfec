"""The aggregate-report generator (bao_cao_tong_hop): filled templates whose rows the manifest accounts
for, figures within the commune's children (the same population cells as dan_so), byte-identical for a seed."""

from __future__ import annotations

import openpyxl

from ingest.template import DATA_SHEET, HEADER_ROW, HEADERS
from synthetic.aggregate_reports import INVALID_KINDS, generate_aggregate_reports_feed
from synthetic.dan_so import generate_population_feed

H = {header: index for index, header in enumerate(HEADERS)}
FIGURES = HEADERS[4:12]


def _rows(path):
    sheet = openpyxl.load_workbook(path, read_only=True)[DATA_SHEET]
    return [row for row in sheet.iter_rows(min_row=HEADER_ROW + 2, values_only=True)]


def test_filled_reports_are_accounted_for_and_deterministic(tmp_path):
    manifest = generate_aggregate_reports_feed(tmp_path / "a", scale=0.01, seed=4, provinces=["15"], invalid_rate=0.05)
    again = generate_aggregate_reports_feed(tmp_path / "b", scale=0.01, seed=4, provinces=["15"], invalid_rate=0.05)
    assert [f.sha256 for f in manifest.files] == [f.sha256 for f in again.files]
    assert {f.period for f in manifest.files} == {"2024", "2025"}
    kinds = set()
    for entry in manifest.files:
        rows = _rows(tmp_path / "a" / entry.path)
        assert len(rows) == entry.rows == entry.counts["communes"]
        filled = [r for r in rows if any(r[H[h]] is not None for h in FIGURES)]
        complete = [r for r in filled if all(r[H[h]] is not None for h in FIGURES)
                    and r[H[FIGURES[1]]] <= r[H[FIGURES[0]]]
                    and (r[H[FIGURES[7]]] == "Không" or r[H["Số quyết định công nhận"]] is not None)]
        assert entry.counts["communes_reporting"] == len(complete)
        assert entry.valid_rows == entry.rows - sum(entry.invalid_rows.values())
        assert len(filled) - len(complete) == sum(entry.invalid_rows.values())
        assert entry.counts["villages"] == sum(r[H[FIGURES[0]]] for r in complete)
        assert 0.8 < len(filled) / len(rows) < 1.0  # most communes report, some leave their row empty
        kinds |= set(entry.invalid_rows)
    assert kinds == set(INVALID_KINDS)


def test_children_counts_stay_within_the_population_estimate(tmp_path):
    population = generate_population_feed(tmp_path, scale=0.01, seed=4, years=(2025,), provinces=["15"])
    reports = generate_aggregate_reports_feed(tmp_path, scale=0.01, seed=4, years=(2025,), provinces=["15"])
    (estimate,), (report,) = population.files, reports.files
    assert report.counts["reporting_children_under16"] <= estimate.counts["children_under_16"]
    assert report.counts["children_consulted"] <= report.counts["reporting_children_7_15"]
    assert report.counts["children_injured"] <= report.counts["reporting_children_under16"]
