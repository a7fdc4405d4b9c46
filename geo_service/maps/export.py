"""Export the pages as a static folder that works on any static web host or opened from disk.

Every page is rendered in-process by the builders the routes use (public versions only), its
links are made relative to the folder, the app's assets it loads are copied under `static/`, and
what needs the service (vector tiles, the `quand ?` and address APIs, pages left out of the
export, the login) points at `base_url`.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection

from geo_service.analysis.reference import territory_name
from geo_service.analysis.unit_report import Unit, commune_unit, epci_unit, index_rows
from geo_service.api.routes.elus import technique_html, unit_html
from geo_service.api.routes.pages import public_html
from geo_service.errors import GeoServiceError
from geo_service.maps import html
from geo_service.maps.assets import (
    GLYPHICONS_CSS,
    NODE_MODULES,
    PACKAGES,
    ROTATE_CSS,
    STATIC_PREFIX,
    glyphicons_css,
    rotate_css,
)
from geo_service.settings import Settings

INDEX, COMMUNES_INDEX, TECHNIQUE = "index.html", "communes/index.html", "technique.html"
README = "LISEZMOI.txt"
# A root-relative URL inside an attribute, a JS string or a CSS url(): the app's own paths only
# (a bare "/" only as an href, so that JS code such as split('/') is never touched).
_APP_URL = re.compile(
    r"""(?P<quote>["'(])(?P<url>/(?:static|tiles|api|communes|epci|technique|connexion|"""
    r"""reference|console)(?:[/?#][^"'()\s]*)?)(?=["')])"""
)
_HOME = re.compile(r"""(?P<attr>href=["'])/(?=["'#])""")
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+?)["']?\s*\)""")
_GENERATED = {GLYPHICONS_CSS: glyphicons_css, ROTATE_CSS: rotate_css}


@dataclass(frozen=True)
class Page:
    """One file of the export: its path in the folder and how to render it."""

    name: str
    label: str
    render: Callable[[], str]


@dataclass
class ExportResult:
    pages: list[Path] = field(default_factory=list)
    assets: list[Path] = field(default_factory=list)
    readme: Path | None = None


def plan_pages(
    conn: Connection,
    settings: Settings,
    *,
    communes: Iterable[str] | None = None,
    epcis: Iterable[str] | None = None,
    with_technique: bool = False,
) -> list[Page]:
    """The pages to write: public map, communes index, every EPCI and commune (or the ones
    asked for), and the technical map only when asked (it holds non-public addresses)."""
    code, tiles = settings.departement, settings.base_tiles
    rows = index_rows(conn, code)
    dept_name = territory_name(conn, code)
    insees = [r["code"] for r in rows["communes"]] if communes is None else list(communes)
    sirens = [r["code"] for r in rows["epci"]] if epcis is None else list(epcis)
    pages = [
        Page(INDEX, "carte publique", lambda: public_html(conn, settings)),
        Page(
            COMMUNES_INDEX, "index des communes", lambda: html.index_page(rows, dept_name=dept_name)
        ),
    ]
    if with_technique:
        pages.append(Page(TECHNIQUE, "carte technique", lambda: technique_html(conn, settings)))
    for siren in sirens:
        unit = epci_unit(conn, code, siren)  # unknown codes fail before anything is written
        pages.append(
            Page(f"epci/{siren}.html", unit.label, _unit_renderer(conn, code, unit, tiles))
        )
    for insee in insees:
        unit = commune_unit(conn, code, insee)
        pages.append(
            Page(f"communes/{insee}.html", unit.label, _unit_renderer(conn, code, unit, tiles))
        )
    return pages


def _unit_renderer(conn: Connection, code: str, unit: Unit, tiles: str) -> Callable[[], str]:
    return lambda: unit_html(conn, code, unit, tiles, private=False)


def local_target(path: str, exported: set[str]) -> str | None:
    """The file of the export an app path designates, or None when it needs the service."""
    if path.startswith(STATIC_PREFIX + "/"):
        return "static/" + path[len(STATIC_PREFIX) + 1 :]
    if path == "/":
        target = INDEX
    elif path == "/communes":
        target = COMMUNES_INDEX
    elif path == "/technique":
        target = TECHNIQUE
    elif re.fullmatch(r"/(communes|epci)/[0-9A-Za-z]+", path):
        target = path[1:] + ".html"
    else:
        return None
    return target if target in exported else None


def relink(page_html: str, *, name: str, exported: set[str], base_url: str) -> str:
    """Make the page's app links relative to its place in the folder; what the folder does not
    hold (tiles, APIs, pages left out, the login) points at `base_url`."""
    base = base_url.rstrip("/")
    here = posixpath.dirname(name) or "."

    def resolve(url: str) -> str:
        path, sep, rest = _split(url)
        target = local_target(path, exported)
        if target is None:
            return base + url
        return posixpath.relpath(target, here) + sep + rest

    page_html = _HOME.sub(lambda m: m.group("attr") + resolve("/"), page_html)
    return _APP_URL.sub(lambda m: m.group("quote") + resolve(m.group("url")), page_html)


def _split(url: str) -> tuple[str, str, str]:
    match = re.search(r"[?#]", url)
    if not match:
        return url, "", ""
    return url[: match.start()], url[match.start()], url[match.start() + 1 :]


def static_paths(page_html: str) -> set[str]:
    """The /static files a rendered page loads (paths relative to /static)."""
    prefix = STATIC_PREFIX + "/"
    return {
        _split(m.group("url"))[0][len(prefix) :]
        for m in _APP_URL.finditer(page_html)
        if m.group("url").startswith(prefix)
    }


def copy_assets(paths: Iterable[str], out: Path, root: Path = NODE_MODULES) -> list[Path]:
    """Copy the assets under `out/static/`, with what their CSS loads (fonts, images) and the
    `images/` folder beside each stylesheet (Leaflet's default marker is found from its CSS)."""
    written: dict[str, Path] = {}
    todo = sorted(set(paths))
    while todo:
        rel = todo.pop()
        if rel in written:
            continue
        target = out / "static" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel in _GENERATED:
            target.write_text(_GENERATED[rel](), encoding="utf-8")
        else:
            source = _asset_source(rel, root)
            shutil.copyfile(source, target)
            if rel.endswith(".css"):
                images = source.parent / "images"
                if images.is_dir():
                    todo += [
                        posixpath.join(posixpath.dirname(rel), "images", f.name)
                        for f in images.iterdir()
                        if f.is_file()
                    ]
        written[rel] = target
        if rel.endswith(".css"):
            todo += _css_dependencies(rel, target.read_text(encoding="utf-8"))
    return sorted(written.values())


def _asset_source(rel: str, root: Path) -> Path:
    source = (root / rel).resolve()
    package = rel.split("/")[0]
    if package not in PACKAGES or not source.is_relative_to((root / package).resolve()):
        raise GeoServiceError(f"Ressource hors des paquets servis : /static/{rel}.")
    if not source.is_file():
        raise GeoServiceError(f"Ressource absente : /static/{rel} (lancez « make assets »).")
    return source


def _css_dependencies(rel: str, css: str) -> list[str]:
    deps = []
    for url in _CSS_URL.findall(css):
        if url.startswith(("data:", "http:", "https:", "/", "#")):
            continue
        deps.append(posixpath.normpath(posixpath.join(posixpath.dirname(rel), _split(url)[0])))
    return deps


def readme_text(*, base_url: str, with_technique: bool, page_count: int) -> str:
    """The folder's notice: what it holds, what needs the service, what must not be published."""
    lines = [
        "Pages « Plus de débit quand ? » exportées par `geo-service maps export`.",
        "",
        f"{page_count} pages : index.html (carte publique), communes/index.html (toutes les",
        "communes et EPCI), epci/SIREN.html et communes/INSEE.html (pages des élus, version",
        "publique), static/ (Leaflet et les extensions des cartes).",
        "",
        "Le dossier se publie tel quel sur n'importe quel hébergement statique, ou s'ouvre",
        "depuis le disque (index.html). Les pages des élus sont complètes ; la carte publique",
        f"charge ses tuiles vectorielles et les réponses « quand ? » depuis le service {base_url} :",
        "il doit être joignable depuis le navigateur du visiteur et autoriser l'origine du site",
        "(en-têtes CORS), sinon les zones, les adresses et la recherche ne s'affichent pas.",
        "Le fond de carte vient de son propre serveur de tuiles.",
    ]
    if with_technique:
        lines += [
            "",
            "ATTENTION : technique.html contient des données non publiques (adresses des prises",
            "onéreuses et des oubliés). Ne la publiez pas : retirez-la avant de copier le dossier",
            "sur un site public.",
        ]
    return "\n".join(lines) + "\n"


def export_pages(
    conn: Connection,
    settings: Settings,
    out: Path,
    *,
    base_url: str,
    communes: Iterable[str] | None = None,
    epcis: Iterable[str] | None = None,
    with_technique: bool = False,
    on_plan: Callable[[int], None] | None = None,
    on_page: Callable[[Page], None] | None = None,
) -> ExportResult:
    """Render every page and write the folder `out` (pages, assets, LISEZMOI.txt)."""
    pages = plan_pages(
        conn, settings, communes=communes, epcis=epcis, with_technique=with_technique
    )
    if on_plan:
        on_plan(len(pages))
    exported = {p.name for p in pages}
    result = ExportResult()
    assets: set[str] = set()
    out.mkdir(parents=True, exist_ok=True)
    for page in pages:
        page_html = page.render()
        assets |= static_paths(page_html)
        target = out / page.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            relink(page_html, name=page.name, exported=exported, base_url=base_url),
            encoding="utf-8",
        )
        result.pages.append(target)
        if on_page:
            on_page(page)
    result.assets = copy_assets(assets, out)
    result.readme = out / README
    result.readme.write_text(
        readme_text(base_url=base_url, with_technique=with_technique, page_count=len(pages)),
        encoding="utf-8",
    )
    return result
