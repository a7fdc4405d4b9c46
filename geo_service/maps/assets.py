"""Leaflet and plugin files served by the app under /static instead of folium's CDNs.

The files come from the npm packages pinned in `package.json` (installed by `make assets` into
`node_modules/`). `localize(fmap)` points every folium element at them before rendering;
`localize_html(html)` does the same on an already rendered page; `mount_static(app)` serves them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import folium
from branca.element import CssLink, JavascriptLink
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, Router
from starlette.staticfiles import StaticFiles

from geo_service.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

STATIC_PREFIX = "/static"
NODE_MODULES = PROJECT_ROOT / "node_modules"
GLYPHICONS_CSS = "bootstrap3/dist/css/glyphicons.css"
ROTATE_CSS = "folium/leaflet.awesome.rotate.css"

# Every CDN URL folium 0.20 uses for Map, GeoJson, LayerControl and the plugins we use
# (VectorGridProtobuf, TimeSliderChoropleth, Search, MarkerCluster, TimestampedGeoJson's jQuery)
# → the file, relative to /static, that replaces it. The first path segment is the npm package
# (`bootstrap3` is bootstrap@3.4.1 installed under an alias, for the glyphicons font only).
_JSDELIVR = "https://cdn.jsdelivr.net/npm"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"
CDN_TO_LOCAL: dict[str, str] = {
    f"{_JSDELIVR}/leaflet@1.9.3/dist/leaflet.js": "leaflet/dist/leaflet.js",
    f"{_JSDELIVR}/leaflet@1.9.3/dist/leaflet.css": "leaflet/dist/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    f"{_CDNJS}/jquery/3.7.1/jquery.min.js": "jquery/dist/jquery.min.js",
    f"{_JSDELIVR}/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap/dist/js/bootstrap.bundle.min.js"
    ),
    f"{_JSDELIVR}/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap/dist/css/bootstrap.min.css"
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        GLYPHICONS_CSS
    ),
    f"{_JSDELIVR}/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "@fortawesome/fontawesome-free/css/all.min.css"
    ),
    f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.js"
    ),
    f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.css"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
    "leaflet.awesome.rotate.min.css": ROTATE_CSS,
    "https://unpkg.com/leaflet.vectorgrid@latest/dist/Leaflet.VectorGrid.bundled.js": (
        "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"
    ),
    "https://d3js.org/d3.v4.min.js": "d3/build/d3.min.js",
    f"{_CDNJS}/moment.js/2.18.1/moment.min.js": "moment/min/moment.min.js",
    f"{_JSDELIVR}/leaflet-search@2.9.7/dist/leaflet-search.min.js": (
        "leaflet-search/dist/leaflet-search.min.js"
    ),
    f"{_JSDELIVR}/leaflet-search@2.9.7/dist/leaflet-search.min.css": (
        "leaflet-search/dist/leaflet-search.min.css"
    ),
    f"{_CDNJS}/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster/dist/leaflet.markercluster.js"
    ),
    f"{_CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster/dist/MarkerCluster.css"
    ),
    f"{_CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster/dist/MarkerCluster.Default.css"
    ),
}
GENERATED = (GLYPHICONS_CSS, ROTATE_CSS)
# Packages served although no folium URL points at them: axe-core, which the browser tests
# inject into the pages to check their accessibility.
EXTRA_PACKAGES = ("axe-core",)
_CDN_PACKAGES = {path.split("/")[0] for path in CDN_TO_LOCAL.values()} - {"folium"}
PACKAGES = tuple(sorted(_CDN_PACKAGES | set(EXTRA_PACKAGES)))
_CSS_RULE = re.compile(r"([^{}]+)\{[^{}]*\}")
_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["'](https?://[^"']+)""")


def local_url(url: str, *, prefix: str = STATIC_PREFIX) -> str:
    """The app URL replacing a folium CDN URL (unknown URLs are returned unchanged)."""
    local = CDN_TO_LOCAL.get(url)
    return f"{prefix}/{local}" if local else url


def _localized(links: Iterable[tuple[str, str]], prefix: str) -> list[tuple[str, str]]:
    return [(name, local_url(url, prefix=prefix)) for name, url in links]


def localize(fmap: folium.Map, *, prefix: str = STATIC_PREFIX) -> folium.Map:
    """Make every element of the map (and its figure) load its JS/CSS from the app."""
    stack: list[Any] = [fmap.get_root(), fmap]
    while stack:
        element = stack.pop()
        for attr in ("default_js", "default_css"):
            links = getattr(element, attr, None)
            if links:
                setattr(element, attr, _localized(links, prefix))
        if isinstance(element, (JavascriptLink, CssLink)):  # links already in the header
            element.url = local_url(element.url, prefix=prefix)
        stack.extend(getattr(element, "_children", {}).values())
    return fmap


def localize_html(html: str, *, prefix: str = STATIC_PREFIX) -> str:
    """Rewrite the CDN URLs of an already rendered folium page."""
    for url in sorted(CDN_TO_LOCAL, key=len, reverse=True):
        html = html.replace(url, local_url(url, prefix=prefix))
    return html


def remote_assets(html: str) -> list[str]:
    """The http(s) URLs a page still loads with <script src> or <link href>."""
    return _REMOTE.findall(html)


@cache
def glyphicons_css(root: Path = NODE_MODULES) -> str:
    """The Glyphicons part of bootstrap 3's CSS (what folium's bootstrap-glyphicons.css gave),
    without the rest of bootstrap 3, which would fight bootstrap 5."""
    source = (root / "bootstrap3" / "dist" / "css" / "bootstrap.css").read_text(encoding="utf-8")
    start = source.index('@font-face {\n  font-family: "Glyphicons Halflings"')
    rules = []
    for rule in _CSS_RULE.finditer(source, start):
        if not rule.group(1).strip().startswith(("@font-face", ".glyphicon")):
            break  # the glyphicons block is contiguous; what follows is the rest of bootstrap
        rules.append(rule.group(0).strip())
    return "\n".join(rules) + "\n"


@cache
def rotate_css() -> str:
    """folium's rotation classes for awesome-markers icons (Icon(angle=…) → fa-rotate-N)."""
    return "".join(
        f".fa-rotate-{angle}{{-webkit-transform:rotate({angle}deg);transform:rotate({angle}deg)}}\n"
        for angle in range(-360, 361)
    )


def _css(body: str) -> Response:
    return Response(body, media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})


def static_router(root: Path = NODE_MODULES) -> Router:
    """/static: the generated CSS files, then one directory per npm package (no other file)."""

    def glyphicons(_request: Request) -> Response:
        try:
            return _css(glyphicons_css(root))
        except (OSError, ValueError):
            return Response("Ressource absente : lancez « make assets ».", status_code=404)

    def rotate(_request: Request) -> Response:
        return _css(rotate_css())

    routes: list[Route | Mount] = [
        Route(f"/{GLYPHICONS_CSS}", glyphicons),
        Route(f"/{ROTATE_CSS}", rotate),
    ]
    routes += [
        Mount(f"/{package}", app=StaticFiles(directory=root / package, check_dir=False))
        for package in PACKAGES
    ]
    return Router(routes=routes)


def mount_static(app: FastAPI, root: Path = NODE_MODULES) -> None:
    """Serve the front-end assets under /static (a warning, not a failure, when not installed)."""
    if not (root / "leaflet").is_dir():
        log.warning("Fichiers Leaflet absents de %s : lancez « make assets ».", root)
    app.mount(STATIC_PREFIX, static_router(root), name="static")
