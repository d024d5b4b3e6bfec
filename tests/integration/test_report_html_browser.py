"""The HTML report in a real browser: headless Chromium opens the pages from disk (file://, no network),
the charts paint and the values show in the rendered page.

The report is built from the real catalogue, targets and the 34 provinces, with made-up values (no database
needed), so that it is as large as a real one; writing its 35 pages must take seconds."""

from __future__ import annotations

import csv
import os
import random
import shutil
import struct
import subprocess
import time
import zlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np  # installed with pandas
import pytest

from report.data import Indicator, Period, ReportData, Target, Unit, Value
from report.labels import format_number
from report.site import write_site

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "dbt" / "seeds"
NATION_LINE = (0x1F, 0x4E, 0x79)   # .nation in report/site.py
BAR = (0x9B, 0xB7, 0xD4)           # .bar
HIGHLIGHT = (0xD3, 0x54, 0x00)     # .province and .bar.hl
PERIODS = ["2023-H1", "2023-H2", "2024-H1", "2024-H2", "2025-H1"]


def catalogue() -> dict[str, Indicator]:
    with open(SEEDS / "catalogue" / "indicator_catalogue.csv", encoding="utf-8") as f:
        return {r["indicator_id"]: Indicator(
            r["indicator_id"], r["tt13_code"] or None, r["annex"], r["indicator_group"], r["name_vi"], r["name_en"],
            r["kind"], r["unit"], r["unit_label_vi"] or None, Decimal(r["multiplier"]) if r["multiplier"] else None,
            r["numerator_definition"], r["denominator_definition"], r["responsible_agency"], r["legal_basis"],
            r["notes"], r["source_feeds"], tuple(filter(None, r["breakdowns"].split("|"))),
            tuple(r["period_types"].split("|")), r["is_sensitive"] == "true") for r in csv.DictReader(f)}


def targets() -> list[Target]:
    with open(SEEDS / "catalogue" / "indicator_targets.csv", encoding="utf-8") as f:
        return [Target(r["indicator_id"], r["scope"], int(r["target_year"]), Decimal(r["target_value"]), r["direction"],
                       tuple(r["period_types"].split("|")), int(r["baseline_year"]) if r["baseline_year"] else None,
                       Decimal(r["baseline_value"]) if r["baseline_value"] else None, r["source"])
                for r in csv.DictReader(f)]


def provinces() -> list[tuple[str, str]]:
    with open(SEEDS / "reference" / "admin_units_2025.csv", encoding="utf-8") as f:
        return sorted({(r["province_code"], r["province_name"]) for r in csv.DictReader(f)})


def realistic_report(communes: bool = False) -> ReportData:
    """46 indicators × the nation and 34 provinces × five half-years; some cells suppressed or withheld."""
    rng = random.Random(13)
    indicators = catalogue()
    units = [Unit("VN", "Việt Nam", None)] + [Unit(code, name, None) for code, name in provinces()]
    weight = {u.admin_code: rng.uniform(0.3, 3.0) for u in units[1:]}
    base_rate = {i: rng.uniform(5, 95) for i in indicators}
    series: list[Value] = []
    for indicator in indicators.values():
        for index, period in enumerate(PERIODS):
            for unit in units:
                level = "national" if unit.is_nation else "province"
                if indicator.kind == "rate":
                    value = base_rate[indicator.indicator_id] * (1 - 0.02 * index) * (
                        1 if unit.is_nation else rng.uniform(0.7, 1.3))
                    numerator, denominator = Decimal(round(value * 100)), Decimal(10000)
                else:
                    people = sum(weight.values()) if unit.is_nation else weight[unit.admin_code]
                    value = 1000 * people * (1 + 0.03 * index)
                    numerator, denominator = Decimal(round(value)), None
                amount = Decimal(str(round(value, 4)))
                suppression = withheld = None
                if indicator.is_sensitive and not unit.is_nation and rng.random() < 0.15:
                    amount = numerator = None
                    suppression = "small count"
                elif index == 2 and unit.admin_code == "08" and indicator.kind == "rate":
                    amount = None
                    withheld = "bounds"
                series.append(Value(indicator.indicator_id, period, level, unit.admin_code, unit.admin_name,
                                    None if unit.is_nation else unit.admin_code, "total", "total", "total", "total",
                                    numerator, denominator, amount, indicator.unit, suppression, withheld,
                                    "provisional"))
    values = [v for v in series if v.period == PERIODS[-1]]
    # breakdowns and communes the pages do not show, but that a real report carries
    values += [Value(v.indicator_id, v.period, v.admin_level, v.admin_code, v.admin_name, v.province_code, sex,
                     "total", "total", "total", v.numerator, v.denominator, v.value, v.unit, v.suppression,
                     v.withheld, v.approval_status) for v in list(values) for sex in ("male", "female")]
    if communes:
        with open(SEEDS / "reference" / "admin_units_2025.csv", encoding="utf-8") as f:
            commune_rows = list(csv.DictReader(f))
        values += [Value(i, PERIODS[-1], "commune", r["commune_code"], r["commune_name"], r["province_code"],
                         "total", "total", "total", "total", Decimal(5), None, Decimal(5), indicators[i].unit,
                         None, None, "provisional") for i in indicators for r in commune_rows]
    progress = [{"indicator_id": t.indicator_id, "admin_code": u.admin_code, "target_year": t.target_year,
                 "target_value": t.target_value, "direction": t.direction, "latest_year": 2024,
                 "latest_value": Decimal("18.2"), "gap": Decimal("18.2") - t.target_value,
                 "is_met": t.is_met(Decimal("18.2")), "projected_value": Decimal("17.9"), "is_on_track": True,
                 "baseline_year": t.baseline_year, "baseline_value": t.baseline_value, "target_scope": "VN"}
                for t in targets() for u in units]
    periods = [Period(p, "half_year", date(int(p[:4]), 1 if p.endswith("1") else 7, 1),
                      date(int(p[:4]), 6 if p.endswith("1") else 12, 30 if p.endswith("1") else 31),
                      p == PERIODS[-1], date(2025, 6, 20) if p == PERIODS[-1] else None, None, None, {})
               for p in PERIODS]
    return ReportData(release_id="r-20250621-0200", release_created_at=datetime(2025, 6, 21, 2, 0),
                      period=periods[-1], periods=periods, indicators=indicators, units=units, values=values,
                      previous=[], series=series, targets=targets(), progress=progress,
                      made_at=datetime(2025, 6, 21, 8, 0))


@pytest.fixture(scope="session")
def chromium() -> str:
    """The chromium binary; installed with apt when missing and we are root, else the tests skip."""
    found = shutil.which("chromium")
    if found is None:
        if os.geteuid() != 0:
            pytest.skip("chromium is not installed and installing it needs root (apt-get install chromium)")
        subprocess.run(["apt-get", "update"], check=False, capture_output=True)
        installed = subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, text=True)
        found = shutil.which("chromium")
        if found is None:
            pytest.skip(f"could not install chromium: {installed.stderr[-500:]}")
    return found


def run_chromium(binary: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120, check=True)


def png_pixels(path: Path) -> np.ndarray:
    """The (height, width, 3) RGB pixels of an 8-bit RGB or RGBA PNG, decoded with zlib (no Pillow here)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunk = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width * channels + 1)
    image = np.zeros((height, width * channels), dtype=np.uint8)
    previous = np.zeros(width * channels, dtype=np.uint8)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:
            row = line.copy()
        elif kind == 1:  # Sub: a running sum along the row, per channel (uint8 wraps like the PNG byte sums)
            row = np.cumsum(line.reshape(width, channels), axis=0, dtype=np.uint8).reshape(-1)
        elif kind == 2:  # Up
            row = line + previous
        else:  # Average or Paeth: each byte needs the one decoded before it
            row, up = bytearray(line.tobytes()), previous.tobytes()
            for i in range(len(row)):
                a = row[i - channels] if i >= channels else 0
                b, c = up[i], (up[i - channels] if i >= channels else 0)
                if kind == 3:
                    row[i] = (row[i] + ((a + b) >> 1)) & 0xFF
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            row = np.frombuffer(bytes(row), dtype=np.uint8)
        image[y] = previous = row
    return image.reshape(height, width, channels)[:, :, :3]


def count_colour(pixels: np.ndarray, colour: tuple[int, int, int]) -> int:
    """Pixels of exactly that colour (filled points and bars paint it unblended)."""
    return int(np.all(pixels == np.array(colour, dtype=np.uint8), axis=2).sum())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[ReportData, Path, float]:
    data = realistic_report()
    folder = tmp_path_factory.mktemp("report")
    started = time.perf_counter()
    write_site(data, folder, docs_href="../docs/index.html")
    return data, folder / "html", time.perf_counter() - started


def test_all_35_pages_are_written_in_seconds(site):
    data, html, seconds = site
    assert len(list(html.glob("*.html"))) == 35
    assert seconds < 15, f"writing 35 pages took {seconds:.1f} s"


def test_the_charts_paint_in_a_browser(site, chromium, tmp_path):
    _, html, _ = site
    for page in ("index.html", "01.html"):
        screenshot = tmp_path / f"{page}.png"
        run_chromium(chromium, f"--screenshot={screenshot}", "--window-size=1280,2400", (html / page).as_uri())
        pixels = png_pixels(screenshot)
        height, width, _ = pixels.shape
        assert (width, height) == (1280, 2400)
        not_white = int((pixels.astype(int).sum(axis=2) < 720).sum())
        assert not_white > 0.05 * width * height, "the page looks blank"
        assert count_colour(pixels, BAR) > 20_000, "no province bars painted"
        if page == "index.html":  # the chart colours are used by nothing else on the page
            assert count_colour(pixels, NATION_LINE) > 500, "no national line or point painted"
        else:
            assert count_colour(pixels, HIGHLIGHT) > 1000, "the province's line and bar are not painted"


def test_the_values_are_in_the_rendered_page(site, chromium):
    data, html, _ = site
    indicator = data.indicators["under5_mortality_rate"]
    national = next(v for v in data.values if v.indicator_id == indicator.indicator_id and v.admin_code == "VN"
                    and v.is_total)
    dom = run_chromium(chromium, "--dump-dom", (html / "index.html").as_uri()).stdout
    assert format_number(national.value, 1) in dom
    assert "SỐ LIỆU SƠ BỘ" in dom and "preliminary until 2025-06-20" in dom
    assert 'href="01.html"' in dom
