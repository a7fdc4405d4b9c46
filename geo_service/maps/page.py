"""Wrap a folium map into a full French HTML page (title, language, Leaflet's texts in French,
a viewport that lets users zoom)."""

from __future__ import annotations

import re

import folium

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
# folium writes one per map, with `maximum-scale=1.0, user-scalable=no`: no pinch-zoom (WCAG 1.4.4).
_VIEWPORT_META = re.compile(r"<meta\s+name=\"viewport\"[^>]*>\s*")

# Leaflet's own texts (button names, tooltips, the marker's alt text) in French, for every map
# of the page. Leaflet 1.9 has no option for the layer control's toggle, hence the DOM fix
# once the maps (created by the inline scripts at the end of <body>) exist.
LEAFLET_FR = """<script>
(function () {
  if (!window.L) { return; }
  L.Control.Zoom.mergeOptions({zoomInTitle: 'Zoom avant', zoomOutTitle: 'Zoom arrière'});
  L.Control.Attribution.mergeOptions({prefix: L.Control.Attribution.prototype.options.prefix
    .replace('A JavaScript library for interactive maps', 'Bibliothèque JavaScript de cartes interactives')});
  L.Marker.mergeOptions({alt: 'Repère'});
  L.Map.addInitHook(function () {
    this.on('popupopen', function (e) {
      var close = e.popup.getElement().querySelector('.leaflet-popup-close-button');
      if (close) { close.setAttribute('aria-label', 'Fermer'); close.title = 'Fermer'; }
    });
  });
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('.leaflet-control-layers-toggle').forEach(function (link) {
      link.title = 'Couches de la carte';
      link.setAttribute('aria-label', 'Couches de la carte');
    });
  });
})();
</script>
"""


def render_page(fmap: folium.Map, *, title: str) -> str:
    """Complete HTML document with lang="fr" and a title, ready to serve or save."""
    root = fmap.get_root()
    root.title = title  # type: ignore[attr-defined]
    html = root.render()
    html = html.replace("<html>", '<html lang="fr">', 1)
    if "<title>" not in html:
        html = html.replace("<head>", f"<head>\n<title>{title}</title>", 1)
    html = _VIEWPORT_META.sub("", html)
    # No favicon request (and no 404 in the browser console).
    html = html.replace("<head>", f'<head>\n<link rel="icon" href="data:,">\n{VIEWPORT}', 1)
    # After Leaflet's <script> (in <head>), before the maps are created.
    return html.replace("</head>", f"{LEAFLET_FR}</head>", 1)
