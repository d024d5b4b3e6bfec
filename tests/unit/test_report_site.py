"""The HTML report (report/site.py) from a small ReportData made by hand: the nation and two provinces,
three years, a suppressed and a withheld cell, a target. No database, no browser."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from report.data import Approval, Indicator, Period, ReportData, Target, Unit, Value
from report.outliers import Outlier
from report.register_quality import RegisterQuality
from report.scorecard import FeedScorecard, Scorecard
from report.site import write_site

HOSTILE_NAME = 'Tỉnh <Thử> & "Mới"'
FORMULA_NAME = '=HYPERLINK("x","y")'
YEARS = ["2023", "2024", "2025"]


def indicator(indicator_id: str, name_vi: str, kind: str, unit: str, group: str, annex: str = "I",
              name_en: str | None = None, code: str | None = None, sensitive: bool = False) -> Indicator:
    return Indicator(indicator_id, code, annex, group, name_vi, name_en or indicator_id, kind, unit, None,
                     Decimal(1000) if kind == "rate" else None, "numerator", "denominator", "Bộ Y tế", None, None,
                     None, ("sex",), ("year",), sensitive)


INDICATORS = {i.indicator_id: i for i in [
    indicator("under5_mortality_rate", "Tỷ suất chết của trẻ em dưới 5 tuổi", "rate", "per 1,000 live births",
              "II Sức khỏe, dinh dưỡng trẻ em", name_en="Under-five mortality rate", code="0202"),
    indicator("child_population", "Dân số trẻ em", "count", "children", "I Chỉ tiêu chung về trẻ em",
              name_en=FORMULA_NAME, code="0101"),
    indicator("abused_children", "Số trẻ em bị xâm hại", "count", "children", "I Tình hình xâm hại trẻ em",
              annex="II", name_en="Abused children", sensitive=True),
]}
# (indicator, unit, year) → value; None with a reason where the cell has no number
NUMBERS = {
    "under5_mortality_rate": {"VN": [22.5, 21.26, 20.74], "01": [19.5, None, 17.31], "02": [25.5, 24.77, 23.5]},
    "child_population": {"VN": [250000, 251000, 252500], "01": [120000, 121000, 122000],
                         "02": [130000, 130000, 130500]},
    "abused_children": {"VN": [31, 29, 27], "01": [20, 19, 25], "02": [11, 10, None]},
}
WITHHELD = ("under5_mortality_rate", "01", "2024")
SUPPRESSED = ("abused_children", "02", "2025")


def value(indicator_id: str, code: str, year: str) -> Value:
    number = NUMBERS[indicator_id][code][YEARS.index(year)]
    rate = INDICATORS[indicator_id].kind == "rate"
    numerator = None if number is None else Decimal(round(number * 10) if rate else number)
    return Value(indicator_id, year, "national" if code == "VN" else "province", code,
                 "Việt Nam" if code == "VN" else HOSTILE_NAME, None if code == "VN" else code,
                 "total", "total", "total", "total", numerator, Decimal(10000) if rate else None,
                 None if number is None else Decimal(str(number)), INDICATORS[indicator_id].unit,
                 "small count" if (indicator_id, code, year) == SUPPRESSED else None,
                 "bounds" if (indicator_id, code, year) == WITHHELD else None,
                 "official" if code == "02" else "provisional")


def report_data(preliminary: bool = False) -> ReportData:
    periods = [Period(y, "year", date(int(y), 1, 1), date(int(y), 12, 31), preliminary and y == "2025",
                      date(2025, 6, 20) if preliminary and y == "2025" else None, None, None, {}) for y in YEARS]
    approval = Approval(7, "r-20250110", "thongke.nguyen", datetime(2025, 1, 12, 9, 30), None)
    units = [Unit("VN", "Việt Nam", None), Unit("01", HOSTILE_NAME, None), Unit("02", "Tỉnh Hai", approval)]
    series = [value(i, u.admin_code, y) for i in INDICATORS for u in units for y in YEARS]
    values = [v for v in series if v.period == "2025"]
    values.append(Value("child_population", "2025", "commune", "00004", "Phường <Ba Đình>", "01", "total", "total",
                        "total", "total", Decimal(999), None, Decimal(999), "children", None, None, "provisional"))
    target = Target("under5_mortality_rate", "VN", 2025, Decimal("18.5"), "at_most", ("year",), 2020,
                    Decimal("22.3"), "QĐ 23/QĐ-TTg <thử>")
    progress = [{"indicator_id": "under5_mortality_rate", "admin_code": code, "target_year": 2025,
                 "target_value": Decimal("18.5"), "direction": "at_most", "latest_year": 2024,
                 "latest_value": Decimal(latest) if latest else None, "gap": None, "is_met": met,
                 "projected_value": Decimal("19.1"), "is_on_track": on_track, "baseline_year": 2020,
                 "baseline_value": Decimal("22.3"), "target_scope": "VN"}
                for code, latest, met, on_track in [("VN", "21.26", False, False), ("01", None, None, None),
                                                    ("02", "24.77", False, False)]]
    quality = [RegisterQuality("01", None, HOSTILE_NAME, date(2025, 12, 31), 1000, 30, 4, 6, 960),
               RegisterQuality("01", "00004", "Phường <Ba Đình>", date(2025, 12, 31), 400, 28, 2, 6, 364),
               RegisterQuality("01", "00008", "Phường Ngọc Hà", date(2025, 12, 31), 600, 2, 2, 0, 596),
               RegisterQuality("02", None, "Tỉnh Hai", date(2025, 12, 31), 0, 0, 0, 0, 0)]
    scorecard = [Scorecard("02", "Tỉnh Hai", 12, 9, 4, 3, Decimal("75.00"), Decimal("0.352"), None, 2, 14),
                 Scorecard("01", HOSTILE_NAME, 12, 12, 12, 0, Decimal("100.00"), Decimal("0.100"), Decimal("97.25"), 0, 0)]
    # furthest out first, as the view orders them; a commune of 01 and the province 02 itself
    outliers = [Outlier("under5_mortality_rate", "province", "02", "Tỉnh Hai", "02", "peers", Decimal("48.2"),
                        Decimal("21.3"), Decimal("7.41")),
                Outlier("child_population", "commune", "00004", "Phường <Ba Đình>", "01", "history", Decimal("999"),
                        Decimal("1450"), Decimal("-4.02"))]
    return ReportData("r-20250621-0200", datetime(2025, 6, 21, 2), periods[-1], periods, INDICATORS, units,
                      values, [], series, [target], progress, made_at=datetime(2025, 6, 21, 8),
                      register_quality=quality, scorecard=scorecard, outliers=outliers,
                      scorecard_feeds=[FeedScorecard("02", "y_te_sinh", 2, 2, 1, 0, 150, 5, Decimal("3.333")),
                                       FeedScorecard("02", "ldxh_tre_em", 1, 0, 0, 1, 0, 0, None)])


class Tables(HTMLParser):
    """Every <table> of a page: its caption and its rows as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._in_caption:
            self.tables[-1]["caption"] += data
        elif self._cell is not None:
            self._cell.append(data)


def tables_of(page: str) -> list[dict]:
    parser = Tables()
    parser.feed(page)
    return parser.tables


def section(page: str, indicator_id: str) -> str:
    return re.search(rf'<section class="indicator" id="i-{indicator_id}">.*?</section>', page, re.S).group(0)


def svg(page: str, chart_id: str) -> str:
    return re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', page, re.S).group(0)


@pytest.fixture
def site(tmp_path) -> tuple[list, dict[str, str]]:
    files = write_site(report_data(), tmp_path, docs_href="../../docs/overview.html")
    pages = {f.admin_code: (tmp_path / f.path).read_text(encoding="utf-8") for f in files}
    return files, pages


def test_one_page_for_the_nation_and_each_province(site):
    files, _ = site
    assert [(f.path, f.kind, f.role, f.admin_code, f.approval_status) for f in files] == [
        ("html/index.html", "html", "page", "VN", "provisional"),
        ("html/01.html", "html", "page", "01", "provisional"),
        ("html/02.html", "html", "page", "02", "official"),
    ]


def test_pages_are_vietnamese_utf8_and_marked_with_their_status(site):
    _, pages = site
    for _code, page in pages.items():
        assert page.startswith("<!doctype html>\n<html lang=\"vi\">")
        assert '<meta charset="utf-8">' in page
        assert "r-20250621-0200" in page and "Năm 2025" in page
        assert "preliminary until" not in page
    assert "SỐ LIỆU SƠ BỘ" in pages["VN"] and "SỐ LIỆU CHÍNH THỨC" not in pages["VN"]
    assert "SỐ LIỆU CHÍNH THỨC" in pages["02"] and "thongke.nguyen" in pages["02"]
    assert "Tỷ suất chết của trẻ em dưới 5 tuổi <span class=\"en\">— Under-five mortality rate</span>" in pages["VN"]


def test_a_preliminary_period_says_until_when(tmp_path):
    write_site(report_data(preliminary=True), tmp_path)
    page = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert "preliminary until 2025-06-20" in page and "20/06/2025" in page


def test_text_from_data_is_escaped(site):
    _, pages = site
    for page in pages.values():
        assert "<Thử>" not in page and HOSTILE_NAME not in page and FORMULA_NAME not in page
        assert "&lt;Thử&gt; &amp; &quot;Mới&quot;" in page
        assert "=HYPERLINK(&quot;x&quot;,&quot;y&quot;)" in page
        assert "QĐ 23/QĐ-TTg &lt;thử&gt;" in pages["VN"]


def test_no_resource_is_fetched_from_the_network(site):
    _, pages = site
    for page in pages.values():
        assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
        assert not re.search(r"<link[^>]*\bhref\s*=", page, re.I)
        assert not re.search(r"@import|url\(", page, re.I)
        assert not re.search(r"""\b(src|href|xlink:href)\s*=\s*["']?(https?:)?//""", page, re.I)
        assert "http://" not in page and "https://" not in page


def test_tables_hold_the_values_and_symbols_for_cells_without_one(site):
    _, pages = site
    trend = next(t for t in tables_of(section(pages["01"], "under5_mortality_rate")) if "2023–2025" in t["caption"])
    assert trend["rows"] == [["Kỳ — Period", "Toàn quốc — Viet Nam", HOSTILE_NAME],
                             ["2023", "22,5", "19,5"], ["2024", "21,3", ".."], ["2025", "20,7", "17,3"]]
    provinces = next(t for t in tables_of(section(pages["VN"], "abused_children")) if ", 2025" in t["caption"])
    assert provinces["rows"][0][:2] == ["Tỉnh/thành phố — Province", "Giá trị — Value"]
    assert provinces["rows"][1][:2] == ["Toàn quốc — Viet Nam", "27"]
    assert provinces["rows"][2][:2] == [HOSTILE_NAME, "25"]
    assert provinces["rows"][3][:2] == ["Tỉnh Hai", "x"]  # suppressed: the symbol, never the number
    assert "Chính thức" in provinces["rows"][3] and "Sơ bộ" in provinces["rows"][2]
    rates = next(t for t in tables_of(section(pages["VN"], "under5_mortality_rate")) if ", 2025" in t["caption"])
    assert rates["rows"][0][2:4] == ["Tử số — Numerator", "Mẫu số — Denominator"]
    assert [HOSTILE_NAME, "17,3", "173", "10.000", "Sơ bộ"] in rates["rows"]
    for page in pages.values():
        assert "Số liệu được che để bảo vệ trẻ em" in page and "Withheld" in page  # the legend


def test_tables_are_accessible(site):
    _, pages = site
    page = pages["01"]
    assert page.count("<table") == page.count("<caption>") + page.count("<caption ")
    assert '<th scope="col">' in page and '<th scope="row">' in page
    for chart in re.findall(r"<svg [^>]*>", page):
        assert 'role="img"' in chart
        for label_id in re.search(r'aria-labelledby="([^"]+)"', chart).group(1).split():
            assert f'id="{label_id}"' in page
    assert re.search(r'<title id="t-under5_mortality_rate-t">[^<]+</title>', page)


def test_null_values_leave_gaps_never_zeros(site):
    _, pages = site
    trend = svg(pages["01"], "t-under5_mortality_rate")
    assert trend.count('<circle class="province') == 2  # 2023 and 2025; 2024 is withheld
    assert 'class="province"' in trend and '<polyline class="province"' not in trend  # nothing to join across
    assert trend.count('<polyline class="nation"') == 1
    bars = svg(pages["VN"], "p-abused_children")
    assert bars.count("<rect") == 1  # province 02 is suppressed: its symbol, no bar
    assert re.search(r'<g class="u02"><text[^>]*>Tỉnh Hai</text>\s*<text[^>]*class="symbol">x</text></g>', bars)


def test_targets_are_drawn_and_their_progress_shown(site):
    _, pages = site
    page = section(pages["VN"], "under5_mortality_rate")
    assert '<line class="target"' in svg(page, "t-under5_mortality_rate")
    assert "Mục tiêu 2025: ≤ 18,5" in page
    progress = next(t for t in tables_of(page) if t["caption"].startswith("Mục tiêu và tiến độ"))
    cells = {row[0]: row[1] for row in progress["rows"]}
    assert cells["Mục tiêu — Target"].startswith("≤ 18,5 (2025)")
    assert cells["Năm đầy đủ gần nhất — Latest complete year"] == "2024: 21,3 · chưa đạt — not met"
    assert cells["Tiến độ — On track"] == "chậm tiến độ — off track"
    assert "Mục tiêu" not in section(pages["VN"], "child_population")  # no target, no target box


def test_province_pages_highlight_their_province_and_draw_its_line(site):
    _, pages = site
    assert ".u01 rect{fill:" in pages["01"] and ".u01 rect{fill:" not in pages["VN"]
    assert '<polyline class="province"' in svg(pages["02"], "t-under5_mortality_rate")
    assert '<polyline class="province"' not in svg(pages["VN"], "t-under5_mortality_rate")
    # a province's counts are drawn alone (beside the nation's they would be flat); the table has both
    counts = svg(pages["02"], "t-child_population")
    assert "province" in counts and 'class="nation"' not in counts


def test_navigation_and_documentation_link(site, tmp_path):
    _, pages = site
    for page in pages.values():
        assert 'href="index.html"' in page and 'href="01.html"' in page and 'href="02.html"' in page
        assert '<a href="../../docs/overview.html">Tài liệu dữ liệu / Data documentation</a>' in page
    write_site(report_data(), tmp_path / "no-docs")
    assert "Tài liệu dữ liệu" not in (tmp_path / "no-docs" / "html" / "index.html").read_text(encoding="utf-8")


def test_indicators_follow_the_order_of_tt13(site):
    _, pages = site
    page = pages["VN"]
    positions = [page.index(f'<section class="indicator" id="i-{i}">')
                 for i in ("child_population", "under5_mortality_rate", "abused_children")]
    assert positions == sorted(positions)
    assert "Phụ lục II — I Tình hình xâm hại trẻ em" in page


def test_a_province_code_cannot_leave_the_folder(tmp_path):
    data = report_data()
    data.units.append(Unit("../x", "Bad", None))
    with pytest.raises(ValueError):
        write_site(data, tmp_path)


def test_register_data_quality_is_shown_per_province_and_commune(site):
    """Issue 14: the nation's page lists the provinces, a province's page its communes, least complete first;
    counts in Vietnamese notation, a share without records is a dash, names escaped."""
    _, pages = site
    (nation,) = [t for t in tables_of(pages["VN"]) if "register_cleanup_list" in t["caption"]]
    assert nation["rows"][1:] == [
        [HOSTILE_NAME, "31/12/2025", "1.000", "30", "4", "6", "96,00"],
        ["Tỉnh Hai", "31/12/2025", "0", "0", "0", "0", "—"]]
    (province,) = [t for t in tables_of(pages["01"]) if "register_cleanup_list" in t["caption"]]
    assert nation["rows"][0][0].startswith("Tỉnh/thành phố") and province["rows"][0][0].startswith("Xã/phường")
    assert [row[0] for row in province["rows"][1:]] == [HOSTILE_NAME, "Phường <Ba Đình>", "Phường Ngọc Hà"]
    assert province["rows"][2][-1] == "91,00" and province["rows"][3][-1] == "99,33"
    assert "Phường &lt;Ba Đình&gt;" in pages["01"] and "Không có mã định danh hợp lệ" in pages["01"]
    (alone,) = [t for t in tables_of(pages["02"]) if "register_cleanup_list" in t["caption"]]
    assert alone["rows"][1:] == [["Tỉnh Hai", "31/12/2025", "0", "0", "0", "0", "—"]]  # no commune rows: its total


def test_the_quality_scorecard_lists_the_provinces_and_a_province_its_own_row(site):
    _, pages = site
    (nation,) = [t for t in tables_of(pages["VN"]) if "published.quality_scorecard" in t["caption"]]
    assert nation["rows"][1:] == [
        ["Tỉnh Hai", "9/12", "75,00", "4", "3", "0,35", "—", "2", "14"],
        [HOSTILE_NAME, "12/12", "100,00", "12", "0", "0,10", "97,25", "0", "0"]]
    (own,) = [t for t in tables_of(pages["02"]) if "published.quality_scorecard)" in t["caption"]]
    assert own["rows"][1:] == [["Tỉnh Hai", "9/12", "75,00", "4", "3", "0,35", "—", "2", "14"]]
    # a province's page breaks its deliveries down by feed; the nation's does not
    (feeds,) = [t for t in tables_of(pages["02"]) if "published.quality_scorecard_feeds" in t["caption"]]
    assert feeds["rows"][1:] == [["Sổ sinh (y tế) (y_te_sinh)", "2/2", "1", "0", "150", "5", "3,33"],
                                 ["Hệ thống quản lý thông tin trẻ em (ldxh_tre_em)", "0/1", "0", "1", "0", "0", "—"]]
    assert not [t for t in tables_of(pages["VN"]) if "published.quality_scorecard_feeds" in t["caption"]]


def test_the_outliers_of_a_page_are_its_provinces_or_its_own_and_its_communes(site):
    _, pages = site
    (nation,) = [t for t in tables_of(pages["VN"]) if "published.indicator_outliers" in t["caption"]]
    assert nation["rows"][1:] == [["Tỷ suất chết của trẻ em dưới 5 tuổi", "Tỉnh Hai", "các đơn vị cùng cấp — its peers",
                                   "48,20", "21,30", "7,41"]]  # provinces only: the commune is on its province's page
    (province,) = [t for t in tables_of(pages["01"]) if "published.indicator_outliers" in t["caption"]]
    assert province["rows"][1:] == [["Dân số trẻ em", "Phường <Ba Đình>", "các kỳ trước — its own history", "999,00",
                                     "1.450,00", "-4,02"]]
    assert "Phường &lt;Ba Đình&gt;" in pages["01"]
