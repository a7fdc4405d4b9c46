"""Charts of the documents (matplotlib, PNG): progress against the contractual targets, take-up
against the national rate, incidents by month. Pure: figures in, PNG bytes out."""

from __future__ import annotations

import io
import math
from datetime import date
from html import escape
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402

# colour-blind safe (Okabe-Ito)
BLUE, ORANGE, GREEN, GREY, VERMILION = "#0072B2", "#E69F00", "#009E73", "#666666", "#D55E00"
plt.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.formatter.use_locale": False,
    }
)


def png(fig: MplFigure, dpi: int = 130) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buffer.getvalue()


def _days(days: list[date]) -> np.ndarray:
    """Dates as numpy days (what matplotlib's date axis reads, and typed)."""
    return np.array(days, dtype="datetime64[D]")


def _thousands(value: float, _pos: float = 0) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def progress_chart(
    dates: list[date],
    raccordables: list[int],
    logements: int,
    targets: list[tuple[date, int]],
    *,
    target_label: str = "Objectif contractuel",
    size: tuple[float, float] = (7.0, 3.2),
    dpi: int = 130,
) -> bytes:
    """Raccordables quarter by quarter, the contractual targets (steps) and the logements."""
    fig, ax = plt.subplots(figsize=size)
    ax.plot(_days(dates), raccordables, color=BLUE, linewidth=2, label="Logements raccordables")
    if targets:
        ax.plot(
            _days([t[0] for t in targets]),
            [t[1] for t in targets],
            color=ORANGE,
            linestyle="--",
            marker="o",
            markersize=4,
            label=target_label,
        )
    if logements:
        ax.axhline(logements, color=GREY, linewidth=1, linestyle=":", label="Logements à raccorder")
    ax.yaxis.set_major_formatter(_thousands)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#dddddd")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    return png(fig, dpi=dpi)


def take_up_chart(points: list[dict[str, Any]], *, size: tuple[float, float] = (7.0, 3.0)) -> bytes:
    """Penetration rate at each count of the délégataire, beside ARCEP's national rate."""
    fig, ax = plt.subplots(figsize=size)
    days = [date.fromisoformat(p["date"]) for p in points]
    ax.plot(
        _days(days),
        [p["taux_penetration"] for p in points],
        color=GREEN,
        marker="o",
        linewidth=2,
        label="Taux de pénétration du territoire",
    )
    national = [(d, p["taux_national"]) for d, p in zip(days, points, strict=True)]
    national = [(d, t) for d, t in national if t is not None]
    if national:
        ax.plot(
            _days([d for d, _ in national]),
            [t for _, t in national],
            color=VERMILION,
            linestyle="--",
            marker="s",
            markersize=4,
            label="Taux national (ARCEP)",
        )
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_ylabel("% des raccordables")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", color="#dddddd")
    ax.legend(loc="upper left", frameon=False)
    return png(fig)


def incidents_chart(
    months: list[dict[str, Any]], *, label: str, size: tuple[float, float] = (7.0, 2.8)
) -> bytes:
    """Incidents opened per month, and the share restored within the commitment (line)."""
    fig, ax = plt.subplots(figsize=size)
    names = [str(m["groupe"])[5:7] + "/" + str(m["groupe"])[2:4] for m in months]
    positions = list(range(len(months)))
    ax.bar(positions, [m["incidents"] for m in months], color=BLUE, label=f"Incidents ({label})")
    ax.set_xticks(positions, names)
    ax.set_ylabel("incidents")
    ax2 = ax.twinx()
    ax2.plot(
        positions,
        [m["part_dans_engagement"] for m in months],
        color=ORANGE,
        marker="o",
        label="Rétablis dans le délai (%)",
    )
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("% dans le délai")
    ax2.spines["right"].set_visible(True)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=2,
        frameon=False,
        fontsize=8,
    )
    return png(fig)


def progress_svg(
    dates: list[date],
    raccordables: list[int],
    logements: int,
    targets: list[tuple[date, int]],
    *,
    target_label: str = "Objectif contractuel",
    width: int = 520,
    height: int = 160,
) -> bytes:
    """`progress_chart` as a small hand-written SVG (a commune sheet: 300 of them must be cheap
    to draw, matplotlib takes ~0.2 s a figure)."""
    left, right, top, bottom = 46, 10, 8, 42
    w, h = width - left - right, height - top - bottom
    start, end = dates[0].toordinal(), dates[-1].toordinal()
    top_value = max([logements, *raccordables, *(t[1] for t in targets), 1])
    step = _nice_step(top_value)
    ymax = step * math.ceil(top_value / step)

    def x(day: date) -> float:
        return left + w * (min(max(day.toordinal(), start), end) - start) / max(end - start, 1)

    def y(value: float) -> float:
        return top + h - h * value / ymax

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans" font-size="9">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for i in range(int(ymax // step) + 1):
        yy = y(i * step)
        parts.append(
            f'<line x1="{left}" x2="{left + w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#dddddd"/>'
        )
        label = _thousands(i * step)
        parts.append(f'<text x="{left - 4}" y="{yy + 3:.1f}" text-anchor="end">{label}</text>')
    for year in range(dates[0].year, dates[-1].year + 1):
        xx = x(date(year, 1, 1))
        if xx >= left:
            parts.append(
                f'<text x="{xx:.1f}" y="{top + h + 12}" text-anchor="middle">{year}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{left + w}" y1="{top + h}" y2="{top + h}" stroke="#333"/>')
    if logements:
        yy = y(logements)
        parts.append(
            f'<line x1="{left}" x2="{left + w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{GREY}" '
            'stroke-dasharray="2 2"/>'
        )
    points = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in zip(dates, raccordables, strict=True))
    parts.append(f'<polyline points="{points}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    shown = [(d, v) for d, v in targets if start <= d.toordinal() <= end + 400]
    if shown:
        path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in shown)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{ORANGE}" stroke-dasharray="5 3"/>'
        )
        parts += [
            f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="2.5" fill="{ORANGE}"/>' for d, v in shown
        ]
    legend = [(BLUE, "Logements raccordables", ""), (GREY, "Logements à raccorder", "2 2")]
    if shown:
        legend.insert(1, (ORANGE, target_label, "5 3"))
    xx, yy = float(left), height - 15
    for colour, label, dash in legend:
        room = 26 + 5.0 * len(label)
        if xx + room > width:  # next line
            xx, yy = float(left), yy + 11
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{xx:.0f}" x2="{xx + 16:.0f}" y1="{yy - 3}" y2="{yy - 3}" '
            f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
        )
        parts.append(f'<text x="{xx + 20:.0f}" y="{yy}">{escape(label)}</text>')
        xx += room
    parts.append("</svg>")
    return "".join(parts).encode()


def _nice_step(value: float) -> float:
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(power * m for m in (1, 2, 2.5, 5, 10) if power * m >= raw)
