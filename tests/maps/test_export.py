"""`geo-service maps export` writes a whole static folder: every page, links that resolve inside
it, the assets it loads; only tiles, APIs and pages left out point at the service."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Connection, text
from typer.testing import CliRunner

from geo_service.cli import app
from geo_service.errors import NotFoundError
from geo_service.maps.export import plan_pages, relink
from geo_service.maps.private_lists import PUBLIC_NOTICE
from geo_service.maps.styles import base_tiles
from geo_service.settings import Settings

BASE_URL = "https://carto.example.org"
runner = CliRunner()


class _Links(HTMLParser):
    """Every href and src attribute of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("href", "src") and v is not None]


def links_of(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.urls


# relative asset paths in inline scripts and styles (folium's JS, url() in CSS)
_SCRIPT_ASSET = re.compile(r"""["'(]((?:\.\./)*static/[^"'()\s]+)""")
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+?)["']?\s*\)""")
_ROOT_RELATIVE = re.compile(r"""["'(]/(static|tiles|api|communes|epci|technique|connexion)\b""")


def test_relink_makes_app_links_relative_to_the_page() -> None:
    page = (
        '<script src="/static/leaflet/dist/leaflet.js"></script>'
        "fetch('/api/v1/quand?' + q) \"/tiles/zones/{z}/{x}/{y}.pbf\" s.split('/') "
        '<a href="/">x</a><a href="/communes">x</a><a href="/epci/200023737">x</a>'
        '<a href="/communes/46102">x</a><a href="/communes/46001">x</a>'
        '<a href="/technique">x</a><a href="/connexion">x</a>'
    )
    exported = {"index.html", "communes/index.html", "communes/46102.html", "epci/200023737.html"}
    out = relink(page, name="communes/46102.html", exported=exported, base_url=BASE_URL + "/")
    assert 'src="../static/leaflet/dist/leaflet.js"' in out
    assert f"fetch('{BASE_URL}/api/v1/quand?' + q)" in out
    assert f'"{BASE_URL}/tiles/zones/{{z}}/{{x}}/{{y}}.pbf"' in out
    assert "s.split('/')" in out  # JS code is left alone
    assert 'href="../index.html"' in out and 'href="index.html"' in out
    assert 'href="../epci/200023737.html"' in out and 'href="46102.html"' in out
    # pages left out of the export, the staff map and the login stay on the service
    assert f'href="{BASE_URL}/communes/46001"' in out
    assert f'href="{BASE_URL}/technique"' in out and f'href="{BASE_URL}/connexion"' in out
    top = relink(page, name="index.html", exported=exported | {"technique.html"}, base_url=BASE_URL)
    assert 'src="static/leaflet/dist/leaflet.js"' in top and 'href="technique.html"' in top


def test_the_plan_holds_every_page(demo_url: str, demo_conn: Connection) -> None:
    settings = Settings(database_url=demo_url, departement="46")
    communes = demo_conn.execute(
        text("SELECT count(*) FROM commune WHERE territory_code = '46'")
    ).scalar_one()
    epcis = demo_conn.execute(
        text("SELECT count(DISTINCT epci_siren) FROM commune WHERE territory_code = '46'")
    ).scalar_one()
    names = [p.name for p in plan_pages(demo_conn, settings)]
    assert len(names) == len(set(names)) == 2 + epcis + communes
    assert names[:2] == ["index.html", "communes/index.html"] and "technique.html" not in names
    assert sum(n.startswith("epci/") for n in names) == epcis
    with_technique = [p.name for p in plan_pages(demo_conn, settings, with_technique=True)]
    assert len(with_technique) == len(names) + 1 and "technique.html" in with_technique
    with pytest.raises(NotFoundError):
        plan_pages(demo_conn, settings, communes=["99999"])


@pytest.fixture()
def subset(demo_conn: Connection) -> tuple[list[str], list[str]]:
    """Two communes of one EPCI (exported) and one of another EPCI (left out)."""
    rows = demo_conn.execute(
        text(
            "SELECT insee, epci_siren FROM commune WHERE territory_code = '46' AND NOT amii "
            "ORDER BY epci_siren, insee"
        )
    ).all()
    first = [r.insee for r in rows if r.epci_siren == rows[0].epci_siren][:2]
    other = next(r.insee for r in rows if r.epci_siren != rows[0].epci_siren)
    return [*first, other], [rows[0].epci_siren]


def test_the_exported_folder_is_whole(
    demo_url: str, subset: tuple[list[str], list[str]], tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Export a subset through the CLI (the whole Lot takes minutes), then follow every link."""
    communes, epcis = subset
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.setenv("GEO_SERVICE_DEPARTEMENT", "46")
    args = ["maps", "export", "--out", str(tmp_path), "--base-url", BASE_URL, "--avec-technique"]
    args += [a for c in communes for a in ("--commune", c)] + ["--epci", epcis[0]]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "non publiques" in result.output and "Ne la publiez pas" in result.output

    pages = sorted(tmp_path.rglob("*.html"))
    expected = {"index.html", "communes/index.html", "technique.html"}
    expected |= {f"epci/{s}.html" for s in epcis} | {f"communes/{c}.html" for c in communes}
    assert {p.relative_to(tmp_path).as_posix() for p in pages if "static" not in p.parts} == (
        expected
    )
    assert f"{len(expected)} pages" in result.output

    allowed_hosts = {urlsplit(BASE_URL).netloc, urlsplit(base_tiles("OpenStreetMap")["url"]).netloc}
    followed = 0
    for page in pages:
        body = page.read_text(encoding="utf-8")
        assert _ROOT_RELATIVE.search(body) is None, page
        urls = links_of(page) + _SCRIPT_ASSET.findall(body)
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                assert parts.netloc in allowed_hosts, (page, url)
            elif not parts.scheme and parts.path:
                assert (page.parent / parts.path).resolve().is_file(), (page, url)
                followed += 1
    assert followed > 50
    for css in (tmp_path / "static").rglob("*.css"):
        for url in _CSS_URL.findall(css.read_text(encoding="utf-8")):
            if not url.startswith(("data:", "#")):
                assert (css.parent / urlsplit(url).path).resolve().is_file(), (css, url)

    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<title>Plus de débit quand ? — Lot</title>" in index
    assert f"{BASE_URL}/tiles/prises/{{z}}/{{x}}/{{y}}.pbf" in index
    assert f"fetch('{BASE_URL}/api/v1/quand?'" in index
    assert 'href="communes/index.html"' in index
    member = (tmp_path / "communes" / f"{communes[0]}.html").read_text(encoding="utf-8")
    assert f'href="../epci/{epcis[0]}.html"' in member
    assert PUBLIC_NOTICE.replace('"/connexion"', f'"{BASE_URL}/connexion"') in member
    assert "Listes non publiques" not in member
    assert 'href="../technique.html"' in member
    assert "technique.html contient des données non publiques" in (
        tmp_path / "LISEZMOI.txt"
    ).read_text(encoding="utf-8")
