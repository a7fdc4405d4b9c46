"""Folium pages load Leaflet and its plugins from the app (/static), never from a CDN."""

from __future__ import annotations

import json
import re

import folium
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from folium import plugins

from geo_service.maps.assets import (
    CDN_TO_LOCAL,
    GENERATED,
    NODE_MODULES,
    localize,
    localize_html,
    mount_static,
    remote_assets,
)

TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def test_assets_are_installed() -> None:
    """`make assets` (run by `make run` and `make test`) installed the npm packages."""
    assert (NODE_MODULES / "leaflet").is_dir(), "node_modules absent : lancez « make assets »"


def full_map() -> folium.Map:
    """Every folium part our pages use: Map, GeoJson, LayerControl and the plugins."""
    fmap = folium.Map(location=[44.6, 1.6], zoom_start=9, tiles=None)
    folium.TileLayer(TILES, attr="© contributeurs OpenStreetMap", name="Fond").add_to(fmap)
    square = {
        "type": "Feature",
        "id": "0",
        "properties": {"nom": "Figeac"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[2, 44.6], [2.1, 44.6], [2.1, 44.7], [2, 44.6]]],
        },
    }
    communes = folium.GeoJson({"type": "FeatureCollection", "features": [square]}, name="Communes")
    communes.add_to(fmap)
    plugins.VectorGridProtobuf(
        url="/tiles/prises/{z}/{x}/{y}.pbf", name="Immeubles", options={"maxNativeZoom": 14}
    ).add_to(fmap)
    plugins.TimeSliderChoropleth(
        data=json.dumps({"type": "FeatureCollection", "features": [square]}),
        styledict={"0": {"1577836800": {"color": "#009E73", "opacity": 0.8}}},
    ).add_to(fmap)
    plugins.Search(layer=communes, search_label="nom", placeholder="Commune").add_to(fmap)
    cluster = plugins.MarkerCluster().add_to(fmap)
    folium.Marker([44.6, 2.0], icon=folium.Icon(icon="info-sign", angle=30)).add_to(cluster)
    folium.LayerControl().add_to(fmap)
    return fmap


def test_localized_map_loads_no_script_or_stylesheet_from_outside() -> None:
    html = localize(full_map()).get_root().render()
    assert remote_assets(html) == []
    for url in re.findall(r"""https?://[^\s"'\\)<>]+""", html):
        assert url == TILES or url.startswith("https://www.openstreetmap.org/")
    assert '<script src="/static/leaflet/dist/leaflet.js">' in html
    assert "/static/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" in html


def test_unlocalized_map_would_load_from_cdns_and_the_html_rewrite_fixes_it() -> None:
    html = full_map().get_root().render()
    assert len(remote_assets(html)) > 10
    assert remote_assets(localize_html(html)) == []


@pytest.mark.parametrize(
    "element",
    [
        folium.Map,
        plugins.VectorGridProtobuf,
        plugins.TimeSliderChoropleth,
        plugins.Search,
        plugins.MarkerCluster,
    ],
)
def test_every_cdn_url_of_the_folium_parts_we_use_is_mapped(element: type) -> None:
    for _name, url in [*element.default_js, *element.default_css]:
        assert url in CDN_TO_LOCAL, url


def test_every_local_file_is_installed() -> None:
    for local in set(CDN_TO_LOCAL.values()) - set(GENERATED):
        assert (NODE_MODULES / local).is_file(), local


def test_static_files_are_served_and_nothing_else() -> None:
    app = FastAPI()
    mount_static(app)
    with TestClient(app) as client:
        for local in sorted(set(CDN_TO_LOCAL.values())):
            response = client.get(f"/static/{local}")
            assert response.status_code == 200, local
            assert response.content
        glyphs = client.get("/static/bootstrap3/dist/css/glyphicons.css").text
        assert ".glyphicon-info-sign:before" in glyphs and ".table" not in glyphs
        assert client.get(
            "/static/bootstrap3/dist/fonts/glyphicons-halflings-regular.woff2"
        ).content
        assert client.get("/static/leaflet/dist/images/marker-icon.png").status_code == 200
        assert client.get("/static/xmlhttprequest/package.json").status_code == 404
        assert client.get("/static/leaflet/../../pyproject.toml").status_code == 404


def test_the_app_mounts_static(client: TestClient) -> None:
    response = client.get("/static/leaflet/dist/leaflet.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
