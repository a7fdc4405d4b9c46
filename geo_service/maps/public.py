"""The public map « Plus de débit quand ? » (pure builder: data in, folium.Map out).

Premises and PM zones come from the app's vector tiles, never embedded as markers; the light
layers (AMII outline, natural park, MED, mobile sites — the late ones apart — and WiFi bornes
in service with their coverage disc) are small GeoJSON layers.
"""

from __future__ import annotations

from datetime import date

import folium
import geopandas as gpd
from branca.element import MacroElement
from folium.plugins import VectorGridProtobuf
from jinja2 import Template

from geo_service.maps.public_style import (
    AMII_COLOUR,
    LATE_COLOUR,
    MED_COLOUR,
    MOBILE_COLOUR,
    PARK_COLOUR,
    WIFI_COLOUR,
    legend_items,
    prises_style_js,
    zones_style_js,
)
from geo_service.maps.replay import ReplayControl
from geo_service.maps.styles import MED_STATE_LABELS, MOBILE_STATE_LABELS, base_tiles


class Legend(MacroElement):
    """A French legend drawn as a Leaflet control (bottom right)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: 'bottomright'});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'legende');
                div.setAttribute('role', 'region');
                div.setAttribute('aria-label', 'Légende');
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, items: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self._name = "Legend"
        lines = []
        for shape, colour, label in items:
            radius = "50%" if shape == "cercle" else "2px"
            lines.append(
                f'<div><span class="pastille" style="background:{colour};border-radius:{radius}">'
                f"</span>{label}</div>"
            )
        self.html = "<strong>Légende</strong>" + "".join(lines)


def _points(
    frame: gpd.GeoDataFrame,
    name: str,
    colour: str,
    tooltip: list[str],
    aliases: list[str],
    *,
    show: bool,
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, show=show)
    if frame.empty:
        return group
    folium.GeoJson(
        frame,
        marker=folium.CircleMarker(
            radius=6, fill=True, fill_opacity=0.9, weight=1, color="#ffffff", fill_color=colour
        ),
        tooltip=folium.GeoJsonTooltip(fields=tooltip, aliases=aliases),
    ).add_to(group)
    return group


def build_public_map(
    *,
    bounds: tuple[float, float, float, float],
    amii: gpd.GeoDataFrame,
    med: gpd.GeoDataFrame,
    mobiles: gpd.GeoDataFrame,
    bornes: gpd.GeoDataFrame,
    park: gpd.GeoDataFrame | None = None,
    tiles: str = "OpenStreetMap",
    tile_prefix: str = "",
    replay_days: list[date] | None = None,
) -> folium.Map:
    """Territory map: zones and premises from vector tiles, light layers, legend, layer control."""
    base = base_tiles(tiles)
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, height="100%", min_zoom=7)
    folium.TileLayer(
        base["url"], attr=base["attribution"], name="Fond de carte", max_zoom=19
    ).add_to(fmap)
    zones_url = f"{tile_prefix}/tiles/zones/{{z}}/{{x}}/{{y}}.pbf"
    zones = VectorGridProtobuf(
        zones_url,
        name="Zones de déploiement (PM)",
        options="{vectorTileLayerStyles: {zones: "
        + zones_style_js()
        + "}, maxNativeZoom: 16, interactive: false}",
    )
    zones.add_to(fmap)
    VectorGridProtobuf(
        f"{tile_prefix}/tiles/communes/{{z}}/{{x}}/{{y}}.pbf",
        name="Limites des communes",
        options="{vectorTileLayerStyles: {communes: {fill: false, color: '#555555', weight: 0.8, opacity: 0.8}},"
        " maxNativeZoom: 16, interactive: false}",
    ).add_to(fmap)
    VectorGridProtobuf(
        f"{tile_prefix}/tiles/prises/{{z}}/{{x}}/{{y}}.pbf",
        name="État de la fibre par adresse",
        options="{vectorTileLayerStyles: {prises: "
        + prises_style_js()
        + "}, maxNativeZoom: 18, interactive: false}",
    ).add_to(fmap)
    if not amii.empty:
        folium.GeoJson(
            amii,
            name="Zone AMII (Orange)",
            style_function=lambda _f: {
                "color": AMII_COLOUR,
                "weight": 2,
                "fill": False,
                "dashArray": "6 4",
            },
            tooltip="Zone AMII : fibre déployée par Orange sur ses fonds propres",
        ).add_to(fmap)
    if park is not None and not park.empty:
        folium.GeoJson(
            park,
            name="Parc naturel régional",
            show=False,
            style_function=lambda _f: {
                "color": PARK_COLOUR,
                "weight": 2,
                "fill": False,
                "dashArray": "2 6",
            },
            tooltip=folium.GeoJsonTooltip(fields=["nom"], aliases=["Parc"]),
        ).add_to(fmap)
    med = med.assign(etat_label=med["etat"].map(MED_STATE_LABELS).fillna(med["etat"]))
    _points(
        med,
        "Montée en débit",
        MED_COLOUR,
        ["nom", "etat_label", "ouverture"],
        ["Site MED", "État", "Ouverture"],
        show=False,
    ).add_to(fmap)
    mobiles = mobiles.assign(
        etat_label=mobiles["etat"].map(MOBILE_STATE_LABELS).fillna(mobiles["etat"])
    )
    on_time = mobiles[~mobiles["en_retard"]] if "en_retard" in mobiles else mobiles
    _points(
        on_time,
        "Sites mobiles",
        MOBILE_COLOUR,
        ["nom", "etat_label"],
        ["Site mobile", "État"],
        show=False,
    ).add_to(fmap)
    if "en_retard" in mobiles and mobiles["en_retard"].any():
        _points(
            mobiles[mobiles["en_retard"]],
            "Sites mobiles en retard",
            LATE_COLOUR,
            ["nom", "etat_label", "retard"],
            ["Site mobile", "État", "Retard"],
            show=True,
        ).add_to(fmap)
    wifi = folium.FeatureGroup(name="Bornes WiFi publiques", show=False)
    for row, point in zip(bornes.itertuples(), bornes.geometry, strict=True):
        folium.Circle(
            location=(point.y, point.x),
            radius=float(row.rayon_m),
            color=WIFI_COLOUR,
            weight=1,
            fill=True,
            fill_opacity=0.3,
            tooltip=f"Borne WiFi : {row.nom} ({row.rayon_m} m)",
        ).add_to(wifi)
    wifi.add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    Legend(legend_items()).add_to(fmap)
    if replay_days:
        ReplayControl(zones, zones_url, replay_days).add_to(fmap)
    minx, miny, maxx, maxy = bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap
