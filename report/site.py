"""A static HTML report of one published period: html/index.html for the nation, html/<province>.html for
each province. Self-contained (inline CSS and SVG, no scripts needed, nothing fetched), so the folder opens
from disk, offline, and prints.

Every text that comes from data is escaped: names may hold '<', '&', '"' or a spreadsheet formula.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from html import escape
from itertools import groupby
from pathlib import Path

from report.charts import Bar, Line, Reference, bar_chart, trend_chart
from report.data import Indicator, Period, ReportData, Target, Unit, Value
from report.labels import LEGEND, STATUS_LABEL, STATUS_NOTE, SYMBOLS, decimals, format_number, indicator_order
from report.manifest import OutputFile

TITLE = "Số liệu thống kê trẻ em — Child statistics"
NATION = "Toàn quốc — Viet Nam"
DOCS_LABEL = "Tài liệu dữ liệu / Data documentation"
SYMBOL_TITLE = {"suppressed": "bị che — suppressed", "withheld": "tạm giữ lại — withheld",
                "missing": "không có số liệu — no value"}
APPROVAL_SHORT = {"official": "Chính thức", "provisional": "Sơ bộ"}
SAFE_CODE = re.compile(r"[0-9A-Za-z_-]+")

CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 "Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,sans-serif;color:#222;background:#fff}
header.banner{padding:14px 24px;border-bottom:4px solid}
header.provisional{background:#fff4e0;border-color:#b45f06}
header.official{background:#e8f3ea;border-color:#1e6b34}
.status{display:inline-block;margin:0;padding:3px 10px;font-weight:700;font-size:16px;letter-spacing:.04em;color:#fff}
.provisional .status{background:#b45f06}.official .status{background:#1e6b34}
.status-note{display:inline;margin-left:10px}
h1{margin:8px 0 2px;font-size:24px}
h2{margin:28px 0 8px;padding-bottom:4px;border-bottom:2px solid #5b6b7f;font-size:19px}
a{color:#0b57a4}h3{margin:0 0 4px;font-size:16px}.en{font-weight:400;color:#555}
.facts{display:flex;flex-wrap:wrap;gap:4px 28px;margin:8px 0 0}.facts dt{font-size:12px;color:#555}.facts dd{margin:0}
.facts .prelim dd{font-weight:700;color:#8a3b00}
nav.units{padding:8px 24px;background:#f3f5f8;border-bottom:1px solid #d5dbe3;font-size:13px}
nav.units a{display:inline-block;margin:1px 8px 1px 0;color:#0b57a4}
nav.units a[aria-current]{font-weight:700;color:#222}
main{max-width:1200px;padding:0 24px 24px}
.legend dl{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:4px 0}
.legend dt{font-weight:700;text-align:center}
.toc .cols{columns:3 280px;font-size:13px}.toc h4{margin:6px 0 2px;font-size:13px;break-after:avoid}
.toc ol{margin:0;padding-left:18px}
section.indicator{margin:18px 0 26px;padding-top:10px;border-top:1px solid #ccd}
.meta{margin:0 0 8px;color:#444;font-size:13px}
.panels{display:flex;flex-wrap:wrap;gap:18px}.panel{flex:1 1 500px;margin:0;min-width:0}
.panel>figcaption{font-weight:700;font-size:13px;margin-bottom:2px}
svg.chart{display:block;width:100%;max-width:560px;height:auto;font-family:inherit}
svg text{fill:#333}.axis-title{fill:#555;font-style:italic}.symbol{fill:#777;font-weight:700}
.grid{stroke:#e4e4e4}.axis{stroke:#666}
.nation,.province{fill:none;stroke-width:2.5}.nation{stroke:#1f4e79}.province{stroke:#d35400}
circle.nation{fill:#1f4e79;stroke-width:1}circle.province{fill:#d35400;stroke-width:1}
.nation-text{fill:#1f4e79;font-weight:700}.province-text{fill:#d35400;font-weight:700}
.target{stroke:#2e7d32;stroke-width:2;stroke-dasharray:6 4}.target-text{fill:#2e7d32;font-weight:700}
.nation-ref{stroke:#1f4e79;stroke-width:1.5;stroke-dasharray:3 3}.nation-ref-text{fill:#1f4e79}
.bars rect{fill:#9bb7d4}circle.prelim{fill:#fff;stroke-width:2}
svg text{stroke:#fff;stroke-width:3px;stroke-linejoin:round;paint-order:stroke}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
caption{text-align:left;font-size:12px;color:#444;padding:2px 0}
th,td{border:1px solid #d0d4da;padding:2px 7px;vertical-align:top}thead th{background:#eef1f5}
th{text-align:left;font-weight:600}
.values td{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.values td.t{text-align:left}
tr.nation-row{font-weight:700}abbr{text-decoration:none;cursor:help}
details>summary{cursor:pointer;color:#0b57a4;font-size:13px}
.progress td,.progress th{font-size:13px}.met{color:#1e6b34;font-weight:700}.unmet{color:#a33;font-weight:700}
.note{color:#555;font-size:13px}
footer{padding:12px 24px;border-top:1px solid #ccc;color:#444;font-size:12px}
@media print{nav.units,.toc{display:none}section.indicator{break-inside:avoid-page}header.banner{padding:6px 0}}
"""
# Tables folded in <details> print too.
PRINT_SCRIPT = ("<script>addEventListener('beforeprint',()=>document.querySelectorAll('details')"
                ".forEach(d=>d.open=true))</script>")


def write_site(data: ReportData, folder: Path, docs_href: str | None = None) -> list[OutputFile]:
    """Write the national page (index.html) and one page per province into folder/html."""
    site = Site(data, docs_href)
    html_folder = folder / "html"
    html_folder.mkdir(parents=True, exist_ok=True)
    files = []
    for unit in data.units:
        name = page_name(unit)
        (html_folder / name).write_text(site.page(unit), encoding="utf-8")
        files.append(OutputFile(f"html/{name}", "html", unit.admin_code, unit.status, role="page"))
    return files


def page_name(unit: Unit) -> str:
    if unit.is_nation:
        return "index.html"
    if not SAFE_CODE.fullmatch(unit.admin_code):  # the code becomes a file name
        raise ValueError(f"unexpected province code {unit.admin_code!r}")
    return f"{unit.admin_code}.html"


def e(value: object) -> str:
    return escape(str(value), quote=True)


def day(value: date | datetime) -> str:
    return value.strftime("%d/%m/%Y")


def number(value: Decimal | float | None, indicator: Indicator) -> str:
    return format_number(value, decimals(indicator.unit, indicator.kind))


def published(value: Value | None) -> Decimal | None:
    """The value, or None for a withheld, suppressed or missing cell: it leaves a gap, never a zero."""
    return value.value if value is not None and value.status == "published" else None


def as_float(value: Value | None) -> float | None:
    amount = published(value)
    return None if amount is None else float(amount)


def value_cell(value: Value | None, indicator: Indicator, field: str = "value") -> str:
    """A table cell: the number, or the symbol of why there is none (never a number that could be summed)."""
    status = value.status if value is not None else "missing"
    amount = getattr(value, field) if value is not None else None
    if status != "published" or amount is None:
        status = status if status != "published" else "missing"
        return f'<td><abbr title="{SYMBOL_TITLE[status]}">{e(SYMBOLS[status])}</abbr></td>'
    if field != "value":  # numerators and denominators are counts, decimals only where a source has them
        return f'<td>{format_number(amount, 0 if amount == int(amount) else 2)}</td>'
    return f'<td>{number(amount, indicator)}</td>'


def target_text(target: Target, indicator: Indicator, with_year: bool = True) -> str:
    sign = "≤" if target.direction == "at_most" else "≥"
    return f"{sign} {number(target.target_value, indicator)}" + (f" ({target.target_year})" if with_year else "")


def yes_no(flag: bool | None, yes: str, no: str, unknown: str) -> str:
    if flag is None:
        return f'<span class="note">{unknown}</span>'
    return f'<span class="met">{yes}</span>' if flag else f'<span class="unmet">{no}</span>'


@dataclass(frozen=True)
class Group:
    annex: str | None
    name: str
    indicators: list[Indicator]

    @property
    def anchor(self) -> str:
        return "g-" + re.sub(r"[^0-9A-Za-z]+", "-", f"{self.annex}-{self.name.split(' ', 1)[0]}")


class Site:
    """The period's values indexed once, then one page per unit."""

    def __init__(self, data: ReportData, docs_href: str | None) -> None:
        self.data = data
        self.docs_href = docs_href
        self.provinces = [u for u in data.units if not u.is_nation]
        self.periods: list[Period] = [p for p in data.periods
                                      if p.period_type == data.period.period_type and p.period <= data.period.period
                                      ] or [data.period]
        levels = ("national", "province")
        self.totals = {(v.indicator_id, v.scope): v for v in data.values if v.is_total and v.admin_level in levels}
        self.series = {(v.indicator_id, v.scope, v.period): v for v in data.series
                       if v.is_total and v.admin_level in levels}
        self.progress = {(r["indicator_id"], r["admin_code"], r["target_year"]): r for r in data.progress}
        self.with_values = {key[0] for key in [*self.totals, *self.series]}
        # an indicator of other period types only (e.g. yearly in a half-year report) is left out
        shown = sorted((i for i in data.indicators.values() if i.indicator_id in self.with_values
                        or not i.period_types or data.period.period_type in i.period_types), key=indicator_order)
        self.groups = [Group(annex, name or "Khác — Other", list(members))
                       for (annex, name), members in groupby(shown, key=lambda i: (i.annex, i.indicator_group))]
        self._provinces_panels: dict[str, str] = {}
        # provinces by value, largest first, those without a value last: the same for every page
        self.ranked = {i.indicator_id: sorted(self.provinces, key=lambda u, i=i: self._rank(i, u))
                       for i in shown}

    def _rank(self, indicator: Indicator, unit: Unit) -> tuple:
        value = as_float(self.totals.get((indicator.indicator_id, unit.admin_code)))
        return (value is None, -(value or 0), unit.admin_code)

    # --- the page ---------------------------------------------------------------------------------------
    def page(self, unit: Unit) -> str:
        data, period = self.data, self.data.period
        title = f"{STATUS_LABEL[unit.status]} · {unit.admin_name} · {period.name_vi} — {TITLE}"
        sections = "\n".join(self.group_section(g, unit) for g in self.groups)
        # the page's province among the provinces compared (those panels are shared by every page)
        row = f"u{unit.admin_code}"
        highlight = "" if unit.is_nation else (
            f".{row} rect{{fill:#d35400}}.{row} text{{font-weight:700}}tr.{row}{{background:#fdebd9;font-weight:700}}")
        return f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>{CSS}{highlight}</style>
</head>
<body>
{self.header(unit)}
{self.navigation(unit)}
<main>
{self.legend()}
{self.targets_summary(unit)}
{self.contents()}
{sections}
{self.scorecard_section(unit)}
{self.outliers_section(unit)}
{self.register_quality_section(unit)}
</main>
<footer>{STATUS_LABEL[unit.status]} · {e(unit.admin_name)} · {e(period.name_vi)} ({e(period.period)}) ·
phát hành — release <code>{e(data.release_id)}</code> · lập ngày — made {day(data.made_at)} ·
Thông tư 13/2021/TT-BLĐTBXH</footer>
{PRINT_SCRIPT}
</body>
</html>
"""

    def header(self, unit: Unit) -> str:
        data, period = self.data, self.data.period
        facts = [
            ("Kỳ báo cáo — Period",
             f"{e(period.name_vi)} (<code>{e(period.period)}</code>): {day(period.first_day)}–{day(period.last_day)}"),
            ("Phát hành — Release", f"<code>{e(data.release_id)}</code>, {day(data.release_created_at)}"),
        ]
        if unit.approval:
            a = unit.approval
            note = f": {e(a.note)}" if a.note else ""
            facts.append(("Phê duyệt — Approval", f"{e(a.approved_by)}, {day(a.approved_at)} "
                          f"(phát hành — release <code>{e(a.release_id)}</code>){note}"))
        else:
            facts.append(("Phê duyệt — Approval", "Chưa phê duyệt — not yet approved"))
        prelim = ""
        if period.is_preliminary:
            until = period.data_until
            until_text = (f"số liệu tính đến ngày {day(until)} — preliminary until {until.isoformat()}"
                          if until else "kỳ chưa kết thúc — preliminary, the period has not ended")
            prelim = f'<div class="prelim"><dt>Kỳ chưa kết thúc — Period not ended</dt><dd>{until_text}</dd></div>'
        facts_html = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
        return f"""<header class="banner {unit.status}">
<p class="status">{STATUS_LABEL[unit.status]}</p><p class="status-note">{e(STATUS_NOTE[unit.status])}</p>
<h1>{e(unit.admin_name)} <span class="en">— {TITLE}</span></h1>
<dl class="facts">{facts_html}{prelim}</dl>
</header>"""

    def navigation(self, unit: Unit) -> str:
        links = []
        for other in self.data.units:
            name = NATION if other.is_nation else other.admin_name
            current = ' aria-current="page"' if other.admin_code == unit.admin_code else ""
            links.append(f'<a href="{page_name(other)}"{current}>{e(name)}</a>')
        docs = f' · <a href="{e(self.docs_href)}">{DOCS_LABEL}</a>' if self.docs_href else ""
        return (f'<nav class="units" aria-label="Tỉnh/thành phố — Provinces">'
                f'<strong>Trang — Pages:</strong> {" ".join(links)}{docs}</nav>')

    def legend(self) -> str:
        rows = "".join(f"<dt>{e(symbol)}</dt><dd>{e(vi)} — <span class=\"en\">{e(en)}</span></dd>"
                       for symbol, vi, en in LEGEND)
        return f"""<section class="legend" aria-labelledby="legend-h">
<h2 id="legend-h">Ký hiệu — Symbols</h2>
<dl>{rows}</dl>
<p class="note">Số liệu viết theo cách Việt Nam: dấu chấm ngăn cách hàng nghìn, dấu phẩy thập phân (1.234,5) —
Vietnamese number format. Trên biểu đồ, ô không có số liệu để trống, không vẽ bằng 0 — in charts a cell without a
value is a gap, never a zero.</p>
</section>"""

    def contents(self) -> str:
        parts = []
        for group in self.groups:
            items = "".join(f'<li><a href="#i-{e(i.indicator_id)}">{e(i.name_vi)}</a></li>' for i in group.indicators)
            parts.append(f'<h4><a href="#{group.anchor}">Phụ lục {e(group.annex or "")} — {e(group.name)}</a></h4>'
                         f"<ol>{items}</ol>")
        return (f'<nav class="toc" aria-labelledby="toc-h"><h2 id="toc-h">Mục lục — Contents</h2>'
                f'<div class="cols">{"".join(parts)}</div></nav>')

    def targets_summary(self, unit: Unit) -> str:
        rows = []
        for group in self.groups:
            for indicator in group.indicators:
                target = self.data.target_for(indicator.indicator_id, unit.admin_code, self.data.period)
                if target is None:
                    continue
                value = self.totals.get((indicator.indicator_id, unit.admin_code))
                progress = self.progress.get((indicator.indicator_id, unit.admin_code, target.target_year), {})
                met = yes_no(target.is_met(published(value)), "Đạt — met", "Chưa đạt — not met", "—")
                on_track = yes_no(progress.get("is_on_track"), "Đúng tiến độ — on track", "Chậm tiến độ — off track",
                                  "Chưa đủ số liệu — no trend yet")
                rows.append(
                    f'<tr><th scope="row"><a href="#i-{e(indicator.indicator_id)}">{e(indicator.name_vi)}</a></th>'
                    f'<td>{e(target_text(target, indicator))}</td>{value_cell(value, indicator)}'
                    f'<td class="t">{met}</td><td class="t">{on_track}</td></tr>')
        if not rows:
            return ""
        return f"""<section aria-labelledby="targets-h">
<h2 id="targets-h">Mục tiêu — Targets</h2>
<table class="progress values"><caption>Giá trị kỳ báo cáo so với mục tiêu (QĐ 23/QĐ-TTg và các mục tiêu khác) —
the period's value against each target; tiến độ theo xu hướng các năm đầy đủ — on track by the trend of complete
years</caption>
<thead><tr><th scope="col">Chỉ tiêu — Indicator</th><th scope="col">Mục tiêu (năm) — Target (year)</th>
<th scope="col">Giá trị {e(self.data.period.period)} — Value</th><th scope="col">Kỳ này — This period</th>
<th scope="col">Tiến độ — Progress</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</section>"""

    # --- the quality scorecard ------------------------------------------------------------------------
    def scorecard_section(self, unit: Unit) -> str:
        """The nation's page: every province, the least complete deliveries first; a province's page: its row."""
        rows = [r for r in self.data.scorecard if unit.is_nation or r.province_code == unit.admin_code]
        if not rows:
            return ""

        def pct(value) -> str:
            return "—" if value is None else format_number(value, 2)

        body = "".join(
            f'<tr><th scope="row">{e(r.province_name)}</th>'
            f"<td>{format_number(r.deliveries_received, 0)}/{format_number(r.deliveries_expected, 0)}</td>"
            f"<td>{pct(r.reporting_rate_pct)}</td><td>{format_number(r.deliveries_on_time, 0)}</td>"
            f"<td>{format_number(r.deliveries_missing, 0)}</td><td>{pct(r.quarantine_rate_pct)}</td>"
            f"<td>{pct(r.register_id_completeness_pct)}</td><td>{format_number(r.outliers, 0)}</td>"
            f"<td>{format_number(r.withheld_values, 0)}</td></tr>"
            for r in rows)
        return f"""<section class="quality" aria-labelledby="scorecard-h">
<h2 id="scorecard-h">Chất lượng số liệu của kỳ — Quality scorecard of the period</h2>
<table class="values quality"><caption>Báo cáo đã nhận và đúng hạn, bản ghi bị loại, mã định danh hợp lệ trong hệ
thống quản lý thông tin trẻ em, giá trị bất thường và giá trị bị giữ lại — deliveries received and on time, rows
quarantined, valid personal IDs in the child register, outliers and withheld values
(published.quality_scorecard).</caption><thead><tr><th scope="col">Tỉnh/thành phố — Province</th>
<th scope="col">Báo cáo đã nhận — Deliveries received</th><th scope="col">Tỷ lệ nhận (%) — Reporting rate</th>
<th scope="col">Đúng hạn — On time</th><th scope="col">Thiếu — Missing</th>
<th scope="col">Bản ghi bị loại (%) — Quarantined rows</th><th scope="col">Mã định danh hợp lệ (%) — Valid IDs</th>
<th scope="col">Giá trị bất thường — Outliers</th><th scope="col">Giá trị bị giữ lại — Withheld</th></tr></thead>
<tbody>{body}</tbody></table>
{"" if unit.is_nation else self.feed_scorecard_table(unit)}
</section>"""

    def feed_scorecard_table(self, unit: Unit) -> str:
        """A province's page: its deliveries and quarantined rows per feed (published.quality_scorecard_feeds)."""
        rows = [r for r in self.data.scorecard_feeds if r.province_code == unit.admin_code]
        if not rows:
            return ""
        body = "".join(
            f'<tr><th scope="row">{e(r.label)}</th>'
            f"<td>{format_number(r.deliveries_received, 0)}/{format_number(r.deliveries_expected, 0)}</td>"
            f"<td>{format_number(r.deliveries_on_time, 0)}</td><td>{format_number(r.deliveries_missing, 0)}</td>"
            f"<td>{format_number(r.rows_read, 0)}</td><td>{format_number(r.rows_quarantined, 0)}</td>"
            f"<td>{'—' if r.quarantine_rate_pct is None else format_number(r.quarantine_rate_pct, 2)}</td></tr>"
            for r in rows)
        return f"""<table class="values quality"><caption>Theo nguồn số liệu — by feed
(published.quality_scorecard_feeds).</caption><thead><tr><th scope="col">Nguồn — Feed</th>
<th scope="col">Báo cáo đã nhận — Deliveries received</th><th scope="col">Đúng hạn — On time</th>
<th scope="col">Thiếu — Missing</th><th scope="col">Bản ghi — Rows read</th><th scope="col">Bị loại — Quarantined</th>
<th scope="col">Bị loại (%) — Quarantined (%)</th></tr></thead>
<tbody>{body}</tbody></table>"""

    # --- outliers ---------------------------------------------------------------------------------------
    def outliers_section(self, unit: Unit) -> str:
        """The furthest-out rates of the page's scope: warnings to look at before signing off, nothing withheld."""
        from report.outliers import SHOWN_PER_PAGE, outliers_of

        rows = outliers_of(self.data.outliers, unit.admin_code)
        if not rows:
            return ""
        compared = {"peers": "các đơn vị cùng cấp — its peers", "history": "các kỳ trước — its own history"}
        names = {key: indicator.name_vi for key, indicator in self.data.indicators.items()}
        body = "".join(
            f'<tr><th scope="row">{e(names.get(o.indicator_id, o.indicator_id))}'
            f"</th><td>{e(o.admin_name)}</td><td>{e(compared.get(o.compared_with, o.compared_with))}</td>"
            f"<td>{format_number(o.value, 2)}</td><td>{format_number(o.median, 2)}</td>"
            f"<td>{format_number(o.modified_z, 2)}</td></tr>"
            for o in rows)
        return f"""<section class="quality" aria-labelledby="outliers-h">
<h2 id="outliers-h">Giá trị bất thường — Outliers</h2>
<table class="values quality"><caption>Tỷ lệ khác xa các đơn vị cùng cấp trong kỳ hoặc các kỳ trước của chính đơn vị
(điểm z hiệu chỉnh ngoài ±3,5); cần xem lại trước khi phê duyệt, không bị giữ lại. Tối đa {SHOWN_PER_PAGE} giá trị xa
nhất — rates far from their peers in the period or from the unit's own history (modified z-score beyond ±3.5): to
look at before signing off, nothing is withheld. The {SHOWN_PER_PAGE} furthest out (published.indicator_outliers).
</caption><thead><tr><th scope="col">Chỉ tiêu — Indicator</th><th scope="col">Đơn vị — Unit</th>
<th scope="col">So với — Compared with</th><th scope="col">Giá trị — Value</th><th scope="col">Trung vị — Median</th>
<th scope="col">Điểm z hiệu chỉnh — Modified z</th></tr></thead>
<tbody>{body}</tbody></table>
</section>"""

    # --- data quality of the register -----------------------------------------------------------------
    def register_quality_section(self, unit: Unit) -> str:
        """The nation's page: one row per province; a province's page: its total and its communes, the least
        complete first (the communes to follow up)."""
        rows = self.data.register_quality
        if unit.is_nation:
            shown = [r for r in rows if r.commune_code is None]
        else:
            own = [r for r in rows if r.province_code == unit.admin_code]
            shown = [r for r in own if r.commune_code is None] + sorted(
                (r for r in own if r.commune_code is not None),
                key=lambda r: (r.share_complete_pct is None, r.share_complete_pct or 0, r.admin_name))
        if not shown:
            return ""
        body = "".join(
            f'<tr{" class=total" if r.commune_code is None and not unit.is_nation else ""}>'
            f'<th scope="row">{e(r.admin_name)}</th><td>{day(r.snapshot_date)}</td>'
            + "".join(f"<td>{format_number(count, 0)}</td>" for count in (
                r.records_delivered, r.records_without_valid_id, r.records_id_inconsistent, r.records_quarantined))
            + f"<td>{format_number(r.share_complete_pct, 2) if r.share_complete_pct is not None else '—'}</td></tr>"
            for r in shown)
        unit_label = "Tỉnh/thành phố — Province" if unit.is_nation else "Xã/phường — Commune"
        return f"""<section class="quality" aria-labelledby="quality-h">
<h2 id="quality-h">Chất lượng dữ liệu hệ thống quản lý thông tin trẻ em — Data quality of the child register</h2>
<table class="values quality"><caption>Bản ghi của lần cập nhật gần nhất trong kỳ. Trẻ em không có mã định danh
hợp lệ vẫn được tính trong các chỉ tiêu; danh sách bản ghi cần sửa (tệp, dòng, lỗi) dành cho cán bộ dữ liệu — the
latest snapshot in the period. Children without a valid personal ID still count; the list of records to fix (file,
line, problem) is for data staff (quarantine.register_cleanup_list).</caption><thead><tr><th scope="col">{unit_label}</th>
<th scope="col">Ngày cập nhật — Snapshot</th><th scope="col">Bản ghi — Records</th>
<th scope="col">Không có mã định danh hợp lệ — Without a valid ID</th>
<th scope="col">Mã định danh không khớp — ID inconsistent</th><th scope="col">Bị loại — Quarantined</th>
<th scope="col">Đầy đủ (%) — Complete (%)</th></tr></thead>
<tbody>{body}</tbody></table>
</section>"""

    # --- one indicator ----------------------------------------------------------------------------------
    def group_section(self, group: Group, unit: Unit) -> str:
        body = "\n".join(self.indicator_section(i, unit) for i in group.indicators)
        return (f'<section class="group" id="{group.anchor}"><h2>Phụ lục {e(group.annex or "")} — {e(group.name)}</h2>'
                f"\n{body}</section>")

    def indicator_section(self, indicator: Indicator, unit: Unit) -> str:
        code = f"{e(indicator.tt13_code)} " if indicator.tt13_code else ""
        unit_text = (e(indicator.unit_vi) if indicator.unit_vi == indicator.unit
                     else f"{e(indicator.unit_vi)} ({e(indicator.unit)})")
        kind = "Tỷ lệ/tỷ suất — rate" if indicator.kind == "rate" else "Số lượng — count"
        meta = f"Đơn vị — Unit: {unit_text} · {kind}"
        if indicator.responsible_agency:
            meta += f" · {e(indicator.responsible_agency)}"
        head = (f'<section class="indicator" id="i-{e(indicator.indicator_id)}">\n'
                f'<h3>{code}{e(indicator.name_vi)} <span class="en">— {e(indicator.name_en)}</span></h3>\n'
                f'<p class="meta">{meta}</p>\n')
        if indicator.indicator_id not in self.with_values:
            return head + ('<p class="note">Không có số liệu tổng của chỉ tiêu này trong kỳ — no total values in '
                           'this period (the indicator may be published by breakdown only).</p>\n</section>')
        target = self.data.target_for(indicator.indicator_id, unit.admin_code, self.data.period)
        return (head + '<div class="panels">\n' + self.trend_panel(indicator, unit, target)
                + self.provinces_panel(indicator) + "</div>\n"
                + (self.progress_table(indicator, unit, target) if target else "") + "</section>")

    def trend_panel(self, indicator: Indicator, unit: Unit, target: Target | None) -> str:
        ind = indicator.indicator_id
        shown = [self.data.unit("VN")] + ([] if unit.is_nation else [unit])
        # A province's count is a sliver of the nation's: on a shared axis its line would be flat, so a
        # province page plots the province's counts alone (the nation's stay in the table).
        plotted = shown if indicator.kind == "rate" or unit.is_nation else [unit]
        lines = [Line("Toàn quốc" if u.is_nation else u.admin_name,
                      [as_float(self.series.get((ind, u.admin_code, p.period))) for p in self.periods],
                      "nation" if u.is_nation else "province") for u in plotted]
        references = [Reference(float(target.target_value), f"Mục tiêu {target.target_year}: "
                                f"{target_text(target, indicator, with_year=False)}", "target")] if target else []
        first, last = self.periods[0].period, self.periods[-1].period
        title = f"{indicator.name_vi} — {indicator.name_en}: {', '.join(line.name for line in lines)}, {first}–{last}"
        chart = trend_chart(f"t-{ind}", title, [p.period for p in self.periods], lines,
                            f"Đơn vị — Unit: {indicator.unit_vi}", decimals(indicator.unit, indicator.kind),
                            references, frozenset(i for i, p in enumerate(self.periods) if p.is_preliminary))
        head = "".join(f'<th scope="col">{e(NATION if u.is_nation else u.admin_name)}</th>'
                       for u in shown)
        rows = []
        for p in self.periods:
            label = f"{e(p.period)}"
            if p.is_preliminary:
                label += f" <small>(sơ bộ{', đến ' + day(p.data_until) if p.data_until else ''})</small>"
            cells = "".join(value_cell(self.series.get((ind, u.admin_code, p.period)), indicator) for u in shown)
            rows.append(f'<tr><th scope="row">{label}</th>{cells}</tr>')
        table = (f'<table class="values"><caption>Bảng — Table: {e(indicator.name_vi)}, {e(indicator.unit_vi)}, '
                 f'{first}–{last}</caption><thead><tr><th scope="col">Kỳ — Period</th>{head}</tr></thead>'
                 f'<tbody>{"".join(rows)}</tbody></table>')
        note = (" <small>(số của tỉnh; số toàn quốc ở bảng — the nation's counts are in the table)</small>"
                if len(plotted) < len(shown) else "")
        return (f'<figure class="panel"><figcaption>Xu hướng qua các kỳ — Trend over the published periods{note}'
                f"</figcaption>\n{chart}\n{table}</figure>\n")

    def provinces_panel(self, indicator: Indicator) -> str:
        """The provinces compared: the same on every page (a page highlights its province with a CSS rule
        on the class `u<code>`), so it is drawn once per indicator."""
        if indicator.indicator_id in self._provinces_panels:
            return self._provinces_panels[indicator.indicator_id]
        ind, period = indicator.indicator_id, self.data.period
        digits = decimals(indicator.unit, indicator.kind)
        bars = []
        for u in self.ranked[ind]:
            value = self.totals.get((ind, u.admin_code))
            bars.append(Bar(u.admin_name, as_float(value), SYMBOLS.get(value.status if value else "missing", ""),
                            f"u{u.admin_code}"))
        references = []
        national = as_float(self.totals.get((ind, "VN")))
        if indicator.kind == "rate" and national is not None:  # a national count is the sum, not a reference
            references.append(Reference(national, f"Toàn quốc {format_number(national, digits)}", "nation-ref"))
        national_target = self.data.target_for(ind, "VN", period)
        if national_target:
            references.append(Reference(float(national_target.target_value),
                                        f"Mục tiêu {national_target.target_year}", "target"))
        title = f"{indicator.name_vi} — {indicator.name_en}: các tỉnh/thành phố — provinces, {period.period}"
        chart = bar_chart(f"p-{ind}", title, bars, f"Đơn vị — Unit: {indicator.unit_vi}", digits, references)
        is_rate = indicator.kind == "rate"
        listed = [self.data.unit("VN")] + self.ranked[ind]
        values = [self.totals.get((ind, u.admin_code)) for u in listed]
        statuses = {v.approval_status for v in values if v is not None}
        with_status = len(statuses) > 1  # a status column only when it tells the rows apart
        head = ('<th scope="col">Tỉnh/thành phố — Province</th><th scope="col">Giá trị — Value</th>'
                + ('<th scope="col">Tử số — Numerator</th><th scope="col">Mẫu số — Denominator</th>' if is_rate else "")
                + ('<th scope="col">Tình trạng — Status</th>' if with_status else ""))
        rows = []
        for u, value in zip(listed, values):
            css, name = ("nation-row", NATION) if u.is_nation else (f"u{u.admin_code}", u.admin_name)
            cells = value_cell(value, indicator)
            if is_rate:
                cells += value_cell(value, indicator, "numerator") + value_cell(value, indicator, "denominator")
            if with_status:
                cells += f'<td class="t">{APPROVAL_SHORT.get(value.approval_status, "") if value else ""}</td>'
            rows.append(f'<tr class="{css}"><th scope="row">{e(name)}</th>{cells}</tr>')
        status_note = "" if with_status else "".join(f", {APPROVAL_SHORT[s].lower()} — {s}" for s in statuses)
        table = (f'<details><summary>Bảng số liệu — Table: toàn quốc và {len(self.provinces)} tỉnh/thành phố</summary>'
                 f'<table class="values"><caption>{e(indicator.name_vi)}, {e(indicator.unit_vi)}, {e(period.period)}'
                 f'{status_note}</caption><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
                 '</table></details>')
        panel = (f'<figure class="panel"><figcaption>So sánh các tỉnh/thành phố, {e(period.period)} — '
                 f'Provinces compared</figcaption>\n{chart}\n{table}</figure>\n')
        self._provinces_panels[ind] = panel
        return panel

    def progress_table(self, indicator: Indicator, unit: Unit, target: Target) -> str:
        progress = self.progress.get((indicator.indicator_id, unit.admin_code, target.target_year), {})
        scope = ("mục tiêu quốc gia — national target" if target.scope == "VN"
                 else "mục tiêu của tỉnh — the province's own target")
        rows = [("Mục tiêu — Target", f"{e(target_text(target, indicator))}, {scope}")]
        if target.source:
            rows.append(("Nguồn — Source", e(target.source)))
        if progress.get("baseline_year") is not None:
            rows.append(("Giá trị gốc — Baseline",
                         f'{progress["baseline_year"]}: {number(progress.get("baseline_value"), indicator)}'))
        this_period = published(self.totals.get((indicator.indicator_id, unit.admin_code)))
        rows.append((f"Kỳ báo cáo — This period ({e(self.data.period.period)})",
                     (number(this_period, indicator) + " · " if this_period is not None else "")
                     + yes_no(target.is_met(this_period), "đạt mục tiêu — met", "chưa đạt — not met",
                              "không có số liệu — no value")))
        if progress:
            latest = (f'{progress["latest_year"]}: {number(progress["latest_value"], indicator)} · '
                      if progress.get("latest_value") is not None else "")
            rows.append(("Năm đầy đủ gần nhất — Latest complete year",
                         latest + yes_no(progress.get("is_met"), "đạt — met", "chưa đạt — not met",
                                         "chưa có số liệu — no value")))
            if progress.get("projected_value") is not None:
                rows.append((f"Dự báo theo xu hướng — Projected ({target.target_year})",
                             number(progress["projected_value"], indicator)))
            rows.append(("Tiến độ — On track",
                         yes_no(progress.get("is_on_track"), "đúng tiến độ — on track", "chậm tiến độ — off track",
                                "chưa đủ số liệu để dự báo — no trend yet")))
        body = "".join(f'<tr><th scope="row">{k}</th><td>{v}</td></tr>' for k, v in rows)
        return (f'<table class="progress"><caption>Mục tiêu và tiến độ — Target and progress: '
                f'{e(indicator.name_vi)}</caption><tbody>{body}</tbody></table>\n')
