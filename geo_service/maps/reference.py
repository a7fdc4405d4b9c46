"""Folium map of a territory's communes and EPCI (pure: data in, folium.Map out)."""

from __future__ import annotations

import folium
import geopandas as gpd

from geo_service.maps.styles import AMII_STYLE, COMMUNE_STYLE, EPCI_STYLE, base_tiles


def build_reference_map(
    communes: gpd.GeoDataFrame, epci: gpd.GeoDataFrame, *, tiles: str = "OpenStreetMap"
) -> folium.Map:
    """Communes (name, INSEE, population, EPCI in tooltips) under EPCI outlines."""
    minx, miny, maxx, maxy = communes.total_bounds
    base = base_tiles(tiles)
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    folium.TileLayer(base["url"], attr=base["attribution"], name="Fond de carte").add_to(fmap)
    folium.GeoJson(
        communes[["insee", "nom", "population", "epci_nom", "amii", "geom"]],
        name="Communes",
        style_function=lambda feature: (
            AMII_STYLE if feature["properties"]["amii"] else COMMUNE_STYLE
        ),
        tooltip=folium.GeoJsonTooltip(
            fields=["nom", "insee", "population", "epci_nom"],
            aliases=["Commune", "Code INSEE", "Population", "EPCI"],
        ),
    ).add_to(fmap)
    folium.GeoJson(
        epci[["siren", "nom", "communes", "population", "geom"]],
        name="EPCI",
        style_function=lambda _feature: EPCI_STYLE,
        tooltip=folium.GeoJsonTooltip(
            fields=["nom", "siren", "communes"], aliases=["EPCI", "SIREN", "Communes"]
        ),
    ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap
