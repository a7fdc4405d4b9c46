"""Maps of the documents, drawn with geopandas/matplotlib from our own commune geometry (no
tile download: a document builds offline): the rate of raccordables by commune at year end,
small multiples of the roll-out year by year, an EPCI's communes."""

from __future__ import annotations

import math

import geopandas as gpd
import matplotlib.pyplot as plt
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch

from geo_service.reports.charts import png

# rate classes (%) and a sequential palette readable by colour-blind readers (viridis steps)
BOUNDS = [0, 1, 25, 50, 75, 95, 100.01]
LABELS = ["0 %", "1-25 %", "25-50 %", "50-75 %", "75-95 %", "95-100 %"]
COLOURS = ["#f0f0f0", "#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"]
CMAP = ListedColormap(COLOURS)
NORM = BoundaryNorm(BOUNDS, CMAP.N)
AMII = "#bdbdbd"


def _draw(ax, frame: gpd.GeoDataFrame, column: str, *, edge: float = 0.2) -> None:  # type: ignore[no-untyped-def]
    rip = frame[~frame["amii"]]
    rip.plot(column=column, cmap=CMAP, norm=NORM, ax=ax, edgecolor="white", linewidth=edge)
    amii = frame[frame["amii"]]
    if len(amii):
        amii.plot(ax=ax, color=AMII, edgecolor="white", linewidth=edge, hatch="///")
    ax.set_axis_off()
    ax.set_aspect("equal")


def _legend(fig, *, amii: bool) -> None:  # type: ignore[no-untyped-def]
    handles = [
        Patch(facecolor=c, edgecolor="#999999", label=lb)
        for c, lb in zip(COLOURS, LABELS, strict=True)
    ]
    if amii:
        handles.append(Patch(facecolor=AMII, hatch="///", label="AMII (réseau d'Orange)"))
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=min(len(handles), 7),
        frameon=False,
        fontsize=7,
        title="Logements raccordables",
        title_fontsize=8,
    )


def rate_map(
    frame: gpd.GeoDataFrame,
    column: str = "taux",
    *,
    labels: bool = False,
    size: tuple[float, float] = (6.5, 6.0),
) -> bytes:
    """Communes coloured by their rate of raccordables; with `labels`, each commune named."""
    fig, ax = plt.subplots(figsize=size)
    _draw(ax, frame, column, edge=0.4 if labels else 0.2)
    if labels:
        for name, point in zip(frame["nom"], frame.geometry.representative_point(), strict=True):
            ax.annotate(name, (point.x, point.y), ha="center", fontsize=5, color="#111111")
    fig.subplots_adjust(bottom=0.1)
    _legend(fig, amii=bool(frame["amii"].any()))
    return png(fig, dpi=120)


def small_multiples(frame: gpd.GeoDataFrame, years: list[int]) -> bytes:
    """One small map per year end (columns 'taux_<year>'), the roll-out year by year."""
    cols = min(3 if len(years) <= 9 else 4, len(years))
    rows = math.ceil(len(years) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7.0, 2.6 * rows + 0.6), squeeze=False)
    for ax, year in zip(axes.flat, years, strict=False):
        _draw(ax, frame, f"taux_{year}", edge=0.05)
        ax.set_title(str(year), fontsize=9)
    for ax in list(axes.flat)[len(years) :]:
        ax.set_axis_off()
    fig.subplots_adjust(bottom=0.12, wspace=0.02, hspace=0.15)
    _legend(fig, amii=bool(frame["amii"].any()))
    return png(fig, dpi=110)
