"""Inline SVG charts of the HTML report, drawn here so that they show without scripts, fonts or network.

Colours come from CSS classes the page defines (.nation, .province, .target, .bars), which keeps each
chart small. A value of None is a gap: no point, no bar, never a zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from report.labels import format_number

FONT_PX = 11
TREND_SIZE = (480, 250)
BAR_WIDTH = 480
BAR_ROW = 15


@dataclass(frozen=True)
class Line:
    """One line of a trend chart: a value (or None) for each period."""
    name: str
    values: list[float | None]
    css: str


@dataclass(frozen=True)
class Bar:
    name: str
    value: float | None
    symbol: str = ""  # shown where the bar would start when there is no value
    css: str = ""     # class of the bar's row


@dataclass(frozen=True)
class Reference:
    """A line across the plot at a value: a target, or the national value among the provinces."""
    value: float
    label: str
    css: str


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2, 2.5 or 5 × 10^k)."""
    if high <= low:
        high = low + (abs(low) or 1)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(round((last - first) / step) + 1)]


def tick_label(value: float, step: float) -> str:
    """Vietnamese number with as many decimals as the step needs; millions and billions in words."""
    for divisor, word in ((1e9, " tỷ"), (1e6, " triệu")):
        if abs(value) >= divisor and step >= divisor / 10:
            return tick_label(value / divisor, step / divisor) + word
    digits = 0
    while digits < 4 and abs(step * 10 ** digits - round(step * 10 ** digits)) > 1e-6:
        digits += 1
    return format_number(value, digits)


def value_range(values: list[float], references: list[Reference]) -> tuple[float, float]:
    """The values' range, from zero unless the values sit in a narrow band far from it (e.g. 95–99 %)."""
    every = values + [r.value for r in references]
    low, high = min(every, default=0.0), max(every, default=1.0)
    if low >= 0 and (low < 0.5 * high or high == low):
        low = 0.0
    return low, high


def _svg_open(chart_id: str, title: str, width: int, height: int) -> list[str]:
    chart_id = escape(chart_id)
    return [f'<svg class="chart" id="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
            f' role="img" aria-labelledby="{chart_id}-t {chart_id}-d" font-size="{FONT_PX}">',
            f'<title id="{chart_id}-t">{escape(title)}</title>',
            f'<desc id="{chart_id}-d">Số liệu của biểu đồ ở bảng bên dưới — the values are in the table below.</desc>']


def _n(value: float) -> str:
    """A coordinate, short: pages carry some three thousand of them per chart type."""
    return f"{value:.1f}".removesuffix(".0")


def _text(x: float, y: float, text: str, anchor: str = "start", css: str = "") -> str:
    attributes = (f' text-anchor="{anchor}"' if anchor != "start" else "") + (f' class="{css}"' if css else "")
    return f'<text x="{_n(x)}" y="{_n(y)}"{attributes}>{escape(text)}</text>'


def trend_chart(chart_id: str, title: str, periods: list[str], lines: list[Line], axis_label: str,
                digits: int, references: list[Reference] = (), preliminary: frozenset[int] = frozenset()) -> str:
    """Lines over the published periods, with a point on every value so that a lone value still shows;
    hollow points for the periods in `preliminary` (not ended when released)."""
    width, height = TREND_SIZE
    left, right, top, bottom = 62, 70, 44, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for line in lines for v in line.values if v is not None]
    ticks = nice_ticks(*value_range(values, list(references)))
    low, high = ticks[0], ticks[-1]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1

    def x_at(i: int) -> float:
        return left + (i + 0.5) * plot_w / max(len(periods), 1)

    def y_at(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    out = _svg_open(chart_id, title, width, height)
    out.append(_text(4, 14, axis_label, css="axis-title"))
    for t in ticks:
        out.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{_n(y_at(t))}" y2="{_n(y_at(t))}"/>')
        out.append(_text(left - 6, y_at(t) + 4, tick_label(t, step), "end"))
    out.append(f'<line class="axis" x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    label_every = max(1, math.ceil(len(periods) * 52 / plot_w))
    for i, period in enumerate(periods):
        if i % label_every == 0 or i == len(periods) - 1:
            out.append(_text(x_at(i), top + plot_h + 15, period, "middle"))
    out.append(_text(left + plot_w / 2, height - 6, "Kỳ báo cáo — Period", "middle", "axis-title"))
    for ref in references:
        y = y_at(ref.value)
        out.append(f'<line class="{ref.css}" x1="{left}" x2="{left + plot_w}" y1="{_n(y)}" y2="{_n(y)}"/>')
        out.append(_text(left + plot_w - 2, y - 4, ref.label, "end", f"{ref.css}-text"))
    if not values:  # every cell withheld, suppressed or missing: say so rather than show an empty plot
        out.append(_text(left + plot_w / 2, top + plot_h / 2, "Không có số liệu để vẽ — no value to plot",
                         "middle", "symbol"))
    end_labels: list[list] = []
    for line in lines:
        # one polyline per run of consecutive values: a missing period breaks the line
        run: list[str] = []
        for i, v in enumerate(line.values + [None]):
            if v is not None:
                run.append(f"{_n(x_at(i))},{_n(y_at(v))}")
                continue
            if len(run) > 1:
                out.append(f'<polyline class="{line.css}" points="{" ".join(run)}"/>')
            run = []
        for i, v in enumerate(line.values):
            if v is not None:
                css = f"{line.css} prelim" if i in preliminary else line.css
                out.append(f'<circle class="{css}" cx="{_n(x_at(i))}" cy="{_n(y_at(v))}" r="3.5"/>')
        last = next((i for i in reversed(range(len(line.values))) if line.values[i] is not None), None)
        if last is not None:
            end_labels.append([y_at(line.values[last]) - 6, x_at(last) + 7, format_number(line.values[last], digits),
                               f"{line.css}-text"])
    # the latest value of each line beside its last point, moved apart when two would overlap
    end_labels.sort()
    for above, below in zip(end_labels, end_labels[1:]):
        below[0] = max(below[0], above[0] + FONT_PX + 2)
    for y, x, text, css in end_labels:
        out.append(_text(x, y, text, css=css))
    # legend: one swatch per line, above the plot
    x = left
    for line in lines:
        out.append(f'<line class="{line.css}" x1="{x}" x2="{x + 18}" y1="30" y2="30"/>')
        out.append(_text(x + 22, 34, line.name))
        x += 30 + 6.2 * len(line.name)
    if preliminary:
        out.append(f'<circle class="{lines[0].css} prelim" cx="{_n(x + 6)}" cy="30" r="3.5"/>'
                   + _text(x + 14, 34, "sơ bộ — preliminary"))
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(chart_id: str, title: str, bars: list[Bar], axis_label: str, digits: int,
              references: list[Reference] = ()) -> str:
    """Horizontal bars, one per unit, from zero; a unit without a value shows its symbol instead of a bar.
    Each row is a <g> of its bar's css class, so that a page can highlight one with a CSS rule."""
    left, right, top, bottom = 150, 56, 34, 34
    plot_w, plot_bottom = BAR_WIDTH - left - right, top + BAR_ROW * len(bars)
    values = [b.value for b in bars if b.value is not None]
    low, high = value_range(values, list(references))
    ticks = nice_ticks(min(low, 0.0), high)
    low, high = ticks[0], ticks[-1]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1

    def x_at(v: float) -> float:
        return left + (v - low) / (high - low) * plot_w

    out = _svg_open(chart_id, title, BAR_WIDTH, plot_bottom + bottom)
    out.append(_text(left, 12, axis_label, css="axis-title"))
    for t in ticks:
        x = x_at(t)
        out.append(f'<line class="grid" x1="{_n(x)}" x2="{_n(x)}" y1="{top - 4}" y2="{plot_bottom}"/>')
        out.append(_text(x, plot_bottom + 13, tick_label(t, step), "middle"))
    for ref in references:  # under the bars' labels, which have a white halo
        x = x_at(ref.value)
        out.append(f'<line class="{ref.css}" x1="{_n(x)}" x2="{_n(x)}" y1="{top - 4}" y2="{plot_bottom}"/>')
    out.append('<g class="bars">')
    for row, bar in enumerate(bars):
        y = top + row * BAR_ROW
        css = f' class="{bar.css}"' if bar.css else ""
        out.append(f"<g{css}>" + _text(left - 6, y + 11, bar.name, "end"))
        if bar.value is None:
            out.append(_text(x_at(0) + 4, y + 11, bar.symbol, css="symbol") + "</g>")
            continue
        x0, x1 = sorted((x_at(0), x_at(bar.value)))
        out.append(f'<rect x="{_n(x0)}" y="{y + 2}" width="{_n(max(x1 - x0, 0.5))}" height="{BAR_ROW - 4}"/>'
                   + _text(x1 + 3, y + 11, format_number(bar.value, digits)) + "</g>")
    out.append("</g>")
    out.append(f'<line class="axis" x1="{_n(x_at(0))}" x2="{_n(x_at(0))}" y1="{top - 4}" y2="{plot_bottom}"/>')
    for i, ref in enumerate(references):
        # the first label above the plot, a second one below the ticks, so that they never overlap
        out.append(_text(x_at(ref.value), 25 if i == 0 else plot_bottom + 26, ref.label, "middle", f"{ref.css}-text"))
    out.append("</svg>")
    return "\n".join(out)
