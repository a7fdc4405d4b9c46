"""Inline SVG line chart (no JavaScript, no CDN): printable, readable by screen readers.

Only <line>, <polyline>, <circle>, <rect> and <text> are used — never <path>: the time-slider
plugin restyles every <path> of the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from html import escape


@dataclass(frozen=True)
class ChartSeries:
    label: str
    points: list[tuple[date, float]]
    color: str
    dashed: bool = False
    markers: bool = False


def french_number(value: float, decimals: int = 0) -> str:
    """12345.6 → « 12 346 » (narrow no-break space), decimals with a comma."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k not below value (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover


def line_chart_svg(
    series: list[ChartSeries],
    *,
    title: str,
    description: str,
    chart_id: str = "graphique",
    width: int = 640,
    height: int = 300,
    y_label: str = "logements",
) -> str:
    """A titled, described line chart over dates; y from 0 to a rounded maximum."""
    left, right, top, bottom = 64, 16, 14, 62
    plot_w, plot_h = width - left - right, height - top - bottom
    days = [d for s in series for d, _ in s.points]
    values = [v for s in series for _, v in s.points]
    start = min(days) if days else date.today()
    end = max(days) if days else start
    span = max((end - start).days, 1)
    y_max = nice_ceiling(max(values, default=1.0))

    def x(day: date) -> float:
        return left + plot_w * (day - start).days / span

    def y(value: float) -> float:
        return top + plot_h * (1 - value / y_max)

    title_id, desc_id = f"{chart_id}-titre", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graphique-progression" id="{chart_id}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{title_id} {desc_id}" '
        'preserveAspectRatio="xMidYMid meet">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#ffffff" '
        'stroke="#bbbbbb" stroke-width="0.5"/>',
    ]
    for i in range(5):
        value = y_max * i / 4
        yy = y(value)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" '
            'stroke="#dddddd" stroke-width="0.6"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#333333">{french_number(value)}</text>'
        )
    parts.append(
        f'<text x="12" y="{top + plot_h / 2:.1f}" font-size="11" fill="#333333" '
        f'text-anchor="middle" transform="rotate(-90 12 {top + plot_h / 2:.1f})">'
        f"{escape(y_label)}</text>"
    )
    for year in range(start.year + (start > date(start.year, 1, 1)), end.year + 1):
        xx = x(date(year, 1, 1))
        parts.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{top + plot_h}" '
            'stroke="#eeeeee" stroke-width="0.6"/>'
        )
        parts.append(
            f'<text x="{xx:.1f}" y="{top + plot_h + 15}" text-anchor="middle" font-size="11" '
            f'fill="#333333">{year}</text>'
        )
    for s in series:
        coords = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in s.points)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<polyline class="serie" data-serie="{escape(s.label)}" points="{coords}" '
            f'fill="none" stroke="{s.color}" stroke-width="2.2"{dash}/>'
        )
        if s.markers:
            parts.extend(
                f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="3" fill="{s.color}"/>'
                for d, v in s.points
            )
    legend_y = top + plot_h + 34
    xx = float(left)
    for s in series:
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<line x1="{xx:.1f}" x2="{xx + 26:.1f}" y1="{legend_y}" y2="{legend_y}" '
            f'stroke="{s.color}" stroke-width="2.5"{dash}/>'
        )
        parts.append(
            f'<text x="{xx + 32:.1f}" y="{legend_y + 4}" font-size="11" fill="#222222">'
            f"{escape(s.label)}</text>"
        )
        legend_y += 16
    parts.append("</svg>")
    return "\n".join(parts)


def data_table(series: list[ChartSeries], *, caption: str, date_format: str = "%d/%m/%Y") -> str:
    """The chart's numbers as an HTML table (for screen readers and copy/paste)."""
    dates = sorted({d for s in series for d, _ in s.points})
    lookup = [dict(s.points) for s in series]
    head = "".join(f'<th scope="col">{escape(s.label)}</th>' for s in series)
    rows = []
    for day in dates:
        cells = "".join(
            f"<td>{french_number(values[day]) if day in values else '—'}</td>" for values in lookup
        )
        rows.append(f'<tr><th scope="row">{day.strftime(date_format)}</th>{cells}</tr>')
    return (
        f'<table class="donnees-graphique"><caption>{escape(caption)}</caption>'
        f'<thead><tr><th scope="col">Date</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
