"""`geo-service maps export` writes self-describing static pages pointing at the service."""

from __future__ import annotations

import re
from pathlib import Path

from geo_service.maps.export import export_pages, rebase


def test_rebase_points_root_links_at_the_service() -> None:
    html = '<script src="/static/leaflet/dist/leaflet.js"></script> fetch(\'/api/v1/quand?\') "/tiles/zones/{z}/{x}/{y}.pbf" <a href="/communes">'
    out = rebase(html, "https://carto.example.org/")
    assert 'src="https://carto.example.org/static/leaflet/dist/leaflet.js"' in out
    assert "fetch('https://carto.example.org/api/v1/quand?')" in out
    assert '"https://carto.example.org/tiles/zones/{z}/{x}/{y}.pbf"' in out
    assert 'href="/communes"' in out  # page links stay relative to the export


def test_export_writes_the_public_page(settings, lot_loaded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = export_pages(settings, tmp_path, base_url="http://127.0.0.1:8000", communes=[])
    index = tmp_path / "index.html"
    assert index in files
    html = index.read_text(encoding="utf-8")
    assert "<title>Plus de débit quand ? — Lot</title>" in html
    assert re.search(r"""["'(]/(static|tiles|api)/""", html) is None
    assert "http://127.0.0.1:8000/tiles/prises/{z}/{x}/{y}.pbf" in html
