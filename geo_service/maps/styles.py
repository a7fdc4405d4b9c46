"""Colours and French labels shared by every map (colour-blind safe palettes: Okabe-Ito)."""

from __future__ import annotations

COMMUNE_STYLE = {"color": "#555555", "weight": 0.6, "fillColor": "#56B4E9", "fillOpacity": 0.15}
EPCI_STYLE = {"color": "#0072B2", "weight": 2.2, "fill": False}
AMII_STYLE = {"color": "#E69F00", "weight": 1, "fillColor": "#E69F00", "fillOpacity": 0.25}

BASE_TILES = {
    "OpenStreetMap": {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "© contributeurs OpenStreetMap",
    },
    "PlanIGN": {
        "url": "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&FORMAT=image/png"
        "&TILEMATRIXSET=PM&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
        "attribution": "© IGN Plan IGN",
    },
}


def base_tiles(name: str) -> dict[str, str]:
    """The base map (name from the registry, or a custom URL template with {z}/{x}/{y})."""
    if name in BASE_TILES:
        return BASE_TILES[name]
    return {"url": name, "attribution": "Fond de carte"}
