"""The yearly documents read back as a reader would (pdftotext / pdftoppm / pdfinfo from
poppler-utils): the figures printed equal the API's for the same date, no map or chart page is
blank, an EPCI dossier names only its communes, a commune sheet fits one A4 page, and the console
serves them to staff only. A handful of documents, built once for the module."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image as PilImage
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from geo_service.api.deps import get_session
from geo_service.demo.operations import write_operations
from geo_service.ingest.operations_common import import_register_conn
from geo_service.ingest.operations_files import plan_operations
from geo_service.main import create_app
from geo_service.reports.context import YearContext, build_context
from geo_service.reports.data import fr_int
from geo_service.reports.render import build
from geo_service.settings import Settings
from tests.conftest import make_user

YEAR = 2023  # the demo's registers (incidents, controls) are of 2023
AS_OF = date(YEAR, 12, 31)
# pdftotext/pdfinfo come from poppler-utils, which `make test` installs (system-deps): no skip.


@pytest.fixture(scope="module")
def conn(
    demo_engine: Engine, demo_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Connection]:
    """The demo Lot plus its operating registers, imported in a transaction rolled back at the end."""
    with demo_engine.connect() as connection:
        trans = connection.begin()
        if not connection.execute(text("SELECT count(*) FROM incident")).scalar_one():
            folder = tmp_path_factory.mktemp("exploitation")
            (folder / "ipe").symlink_to(demo_folder / "ipe")
            write_operations("46", folder, seed=46)
            for register, path in plan_operations(folder):
                result = import_register_conn(
                    connection, register, path, territory="46", user="tests"
                )
                assert result.status == "OK", result.problems[:3]
        yield connection
        trans.rollback()


@pytest.fixture(scope="module")
def ctx(conn: Connection) -> YearContext:
    return build_context(conn, "46", YEAR)


@pytest.fixture(scope="module")
def client(conn: Connection, demo_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=demo_url, departement="46"))
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as test_client:
        yield test_client
    session.close()


@pytest.fixture(scope="module")
def epci_siren(ctx: YearContext) -> str:
    """The EPCI with the fewest communes (cheapest to draw), not Cahors' AMII one."""
    return min(ctx.epcis, key=lambda e: len(ctx.members(e["siren"])))["siren"]


@pytest.fixture(scope="module")
def documents(
    ctx: YearContext, epci_siren: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("rapports")
    insee = ctx.members(epci_siren)[0]["insee"]
    wanted = {
        "departement": ("departement", None),
        "epci": ("epci", epci_siren),
        "commune": ("commune", insee),
    }
    out = {}
    for name, (level, code) in wanted.items():
        path = folder / f"{name}.pdf"
        path.write_bytes(build(ctx, level, code, "pdf"))  # type: ignore[arg-type]
        out[name] = path
    (folder / "departement.html").write_bytes(build(ctx, "departement", None, "html"))
    out["html"] = folder / "departement.html"
    return out


def pdf_text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", *pages, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def figure_line(text_: str, label: str) -> str:
    """What the document prints right after a figure's label (its value, date and source), with
    spaces and the thin spaces of numbers made plain."""
    flat = " " + re.sub(r"\s+", " ", text_.replace("\u202f", " ").replace("\u00a0", " ")) + " "
    at = flat.find(label)
    assert at >= 0, f"« {label} » absent du document"
    return flat[at + len(label) : at + len(label) + 400]


def printed(value: int) -> str:
    """A count as printed, between spaces (never a part of a date or of another number)."""
    return f" {fr_int(value).replace(chr(0x202F), ' ')} "


def test_department_figures_equal_the_api(documents: dict[str, Path], client: TestClient) -> None:
    words = pdf_text(documents["departement"])
    racc = client.get("/api/v1/stats/raccordables", params={"as_of": AS_OF.isoformat()}).json()[0]
    prog = client.get("/api/v1/stats/programmes", params={"as_of": AS_OF.isoformat()}).json()[
        "resume"
    ]
    assert printed(racc["raccordables"]) in figure_line(words, "Logements raccordables (cumul)")
    assert printed(racc["logements"]) in figure_line(words, "Logements à raccorder (RIP)")
    rate = f"{racc['taux']:.1f}".replace(".", ",")
    assert f" {rate} %" in figure_line(words, "Taux de logements raccordables")
    assert "31/12/2023" in figure_line(words, "Logements raccordables (cumul)")
    assert printed(prog["sites_mobiles_en_service"]) in figure_line(
        words, "Sites mobiles en service"
    )
    assert printed(prog["bornes_wifi_en_service"]) in figure_line(words, "Bornes WiFi en service")
    assert printed(prog["sites_med_ouverts"]) in figure_line(
        words, "Sites de montée en débit ouverts"
    )
    before = client.get("/api/v1/stats/raccordables", params={"as_of": f"{YEAR - 1}-12-31"}).json()[
        0
    ]
    new = racc["raccordables"] - before["raccordables"]
    assert printed(new) in figure_line(words, f"Nouveaux raccordables en {YEAR}")


def test_registers_figures_and_dsp_apart(
    documents: dict[str, Path], client: TestClient, demo_conn: Connection
) -> None:
    words = pdf_text(documents["departement"])
    # the DSP's figures (LOT_FACTS: 1 557 incidents, 1 297 PM controlled) sit in their own lines
    assert printed(1557) in figure_line(words, f"Incidents ouverts en {YEAR} — toute la DSP")
    assert printed(1297) in figure_line(words, "PM contrôlés — toute la DSP")
    own = figure_line(words, f"Incidents ouverts en {YEAR} (territoire)")
    assert printed(round(1557 * 412 / 1308)) in own
    assert printed(16) in figure_line(words, "Immeubles du territoire servis par un réseau voisin")
    assert printed(34) in figure_line(words, "Immeubles hors territoire servis par le délégataire")


def test_every_map_and_chart_page_is_not_blank(documents: dict[str, Path], tmp_path: Path) -> None:
    for name in ("departement", "epci", "commune"):
        path = documents[name]
        subprocess.run(
            ["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / name)], check=True
        )
        pages = sorted(tmp_path.glob(f"{name}-*.png"))
        assert len(pages) == page_count(path)
        for page in pages:
            pixels = np.asarray(PilImage.open(page).convert("L"), dtype=float)
            assert pixels.std() > 5, f"{page.name} est blanche"
        # the map pages: the pixels of a choropleth are not only black text on white
        if name != "commune":
            maps = [
                p
                for i, p in enumerate(pages, 1)
                if "Cartes" in pdf_text(path, i) or "par commune au" in pdf_text(path, i)
            ]
            assert maps
            for page in maps:
                rgb = np.asarray(PilImage.open(page).convert("RGB"), dtype=float)
                coloured = (rgb.max(axis=2) - rgb.min(axis=2)) > 40
                assert coloured.mean() > 0.02, f"{page.name} : pas de carte en couleur"


def test_epci_dossier_names_only_its_communes(
    documents: dict[str, Path], ctx: YearContext, epci_siren: str
) -> None:
    words = re.sub(r"\s+", " ", pdf_text(documents["epci"]))
    members = {c["nom"] for c in ctx.members(epci_siren)}
    others = {c["nom"] for c in ctx.communes} - members
    for name in members:
        assert name in words
    # a name of another commune may be a part of a member's name (Saint-Cirq in Saint-Cirq-Lapopie)
    named = [
        o
        for o in others
        if re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", words)
        and not any(o in m for m in members)
    ]
    assert not named, named[:5]


def test_commune_sheet_fits_one_a4_page(documents: dict[str, Path]) -> None:
    path = documents["commune"]
    assert page_count(path) == 1
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())  # type: ignore[union-attr]
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    words = pdf_text(path)
    assert "Fiche 2023" in words and "é" in words  # accents survive the fonts


def test_html_version_is_accessible(documents: dict[str, Path]) -> None:
    html = documents["html"].read_text()
    assert '<html lang="fr">' in html
    assert html.count("<caption>") >= 5
    images = re.findall(r"<img [^>]*>", html)
    assert len(images) >= 4
    assert all(re.search(r'alt="[^"]{40,}"', img) for img in images)


def test_console_page_for_staff_only(client: TestClient, conn: Connection) -> None:
    anonymous = client.get("/console/rapports", follow_redirects=False)
    assert anonymous.status_code in (401, 303)
    browser = client.get(
        "/console/rapports/document",
        params={"annee": YEAR},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert browser.status_code == 303 and browser.headers["location"].startswith("/connexion")
    api = client.get("/console/rapports/document", params={"annee": YEAR}, follow_redirects=False)
    assert api.status_code == 401
    headers = make_user(conn, "tech-rapports", "technicien")
    page = client.get("/console/rapports", headers=headers)
    assert page.status_code == 200 and "Rapports annuels" in page.text
    insee = "46102"
    answer = client.get(
        "/console/rapports/document", params={"annee": YEAR, "commune": insee}, headers=headers
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    assert f"rapport_{YEAR}_commune_{insee}.pdf" in answer.headers["content-disposition"]
