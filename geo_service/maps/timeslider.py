"""Time slider replaying the roll-out: PM zones coloured by completion band at each quarter
(folium's TimeSliderChoropleth, keyword arguments only)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import geopandas as gpd
from folium.plugins import TimeSliderChoropleth

from geo_service.analysis.progress import band
from geo_service.maps.styles import BAND_COLORS, NO_LOGEMENT_COLOR

FILL_OPACITY = 0.75


def timestamp(day: date) -> str:
    """Unix seconds at noon UTC (the slider shows the same calendar day in every time zone of
    France and overseas)."""
    return str(int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()))


def styledict(
    history: dict[str, list[tuple[int, int]]], dates: list[date]
) -> dict[str, dict[str, dict[str, object]]]:
    """{zone id: {timestamp: {color, opacity}}} from (logements, raccordables) per date."""
    stamps = [timestamp(d) for d in dates]
    out: dict[str, dict[str, dict[str, object]]] = {}
    for ref, values in history.items():
        styles: dict[str, dict[str, object]] = {}
        for stamp, (logements, raccordables) in zip(stamps, values, strict=True):
            if logements:
                colour = BAND_COLORS[band(100.0 * raccordables / logements)]
                styles[stamp] = {"color": colour, "opacity": FILL_OPACITY}
            else:
                styles[stamp] = {"color": NO_LOGEMENT_COLOR, "opacity": 0.35}
        out[ref] = styles
    return out


def rollout_layer(
    zones: gpd.GeoDataFrame,
    history: dict[str, list[tuple[int, int]]],
    dates: list[date],
    *,
    name: str = "Déploiement trimestre par trimestre",
) -> TimeSliderChoropleth:
    """The slider layer, opened on the last date; feature ids are the PM references."""
    shapes = zones[["reference", "geom"]].copy()
    shapes.index = shapes["reference"].astype(str)
    known = set(shapes.index)
    wanted = {ref: style for ref, style in styledict(history, dates).items() if ref in known}
    return TimeSliderChoropleth(
        data=shapes.to_json(drop_id=False),
        styledict=wanted,
        date_options="DD/MM/YYYY",
        highlight=False,
        name=name,
        overlay=True,
        control=False,
        show=True,
        init_timestamp=-1,
        stroke_color="#444444",
        stroke_width=0.8,
        stroke_opacity=0.9,
    )
