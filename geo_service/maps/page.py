"""Wrap a folium map into a full French HTML page (title, language)."""

from __future__ import annotations

import folium


def render_page(fmap: folium.Map, *, title: str) -> str:
    """Complete HTML document with lang="fr" and a title, ready to serve or save."""
    root = fmap.get_root()
    root.title = title  # type: ignore[attr-defined]
    html = root.render()
    html = html.replace("<html>", '<html lang="fr">', 1)
    if "<title>" not in html:
        html = html.replace("<head>", f"<head>\n<title>{title}</title>", 1)
    # No favicon request (and no 404 in the browser console).
    html = html.replace("<head>", '<head>\n<link rel="icon" href="data:,">', 1)
    return html
