"""The staff console in headless Chromium, on a database of its own: sign in, upload a valid
and an invalid IPE, edit a PM's planned date (the public « quand ? » follows), close a
signalement, sign out; each page passes axe-core and works with the keyboard."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect
from pyproj import Transformer
from sqlalchemy import text

from geo_service.analysis.quand import quarter
from geo_service.db.session import make_engine
from geo_service.ingest.gracethd import import_gracethd
from geo_service.main import create_app
from geo_service.settings import Settings
from tests.browser.axe import assert_accessible
from tests.browser.conftest import _free_port
from tests.conftest import (
    STAFF_PASSWORD,
    create_scratch_database,
    data_checksums,
    drop_database,
    make_user,
)
from tests.ingest.ipe_files import write_ipe

IDS = ["IMB/46102/T/0001", "IMB/46102/T/0002", "IMB/46102/T/0003", "IMB/46102/T/0004"]
# building 1 of the IPE fixture, in zone TST01
_LON, _LAT = Transformer.from_crs(2154, 4326, always_xy=True).transform(621_500, 6_390_100)
POINT = {"lat": round(_LAT, 6), "lon": round(_LON, 6)}


@pytest.fixture(scope="module")
def console_server(gracethd_gpkg: Path) -> Iterator[tuple[str, str]]:
    url = create_scratch_database("console")
    engine = make_engine(url)
    import_gracethd(engine, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="t")
    with engine.begin() as conn:
        make_user(conn, "agent", "technicien")
    port = _free_port()
    app = create_app(Settings(database_url=url, departement="46"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", url
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()
    drop_database(url)


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="fr-FR")
    yield context.new_page()
    context.close()


def _sign_in_with_keyboard(page: Page, base: str) -> None:
    page.goto(f"{base}/console")
    expect(page).to_have_url(f"{base}/connexion?suivant=%2Fconsole")
    assert_accessible(page, base, "connexion")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # the public map link of the banner
    page.keyboard.press("Tab")
    expect(page.locator("#nom")).to_be_focused()
    page.keyboard.type("agent")
    page.keyboard.press("Tab")
    page.keyboard.type(STAFF_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/console")


def test_console_end_to_end(page: Page, console_server: tuple[str, str], tmp_path: Path) -> None:
    base, db_url = console_server
    _sign_in_with_keyboard(page, base)
    expect(page.get_by_role("heading", name="Console du syndicat")).to_be_visible()
    assert_accessible(page, base, "console")

    # a valid IPE
    good = write_ipe(
        tmp_path / "IPE_TEST_46_20211231.csv",
        {i: ("EN COURS DE DEPLOIEMENT", 2, "EN COURS DE DEPLOIEMENT", "2021-06-01") for i in IDS},
    )
    page.get_by_role("link", name="Imports").first.click()
    page.get_by_label("Type de fichier").select_option("ipe")
    page.get_by_label("Fichier", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_role("status")).to_contain_text("IPE_TEST_46_20211231.csv")
    assert_accessible(page, base, "import réussi")

    # an invalid one: the report is a table, the database is unchanged
    engine = make_engine(db_url)
    with engine.connect() as conn:
        before = data_checksums(conn)
    bad = tmp_path / "IPE_TEST_46_20220331.csv"
    lines = good.read_text().splitlines()
    lines[3] = lines[3].replace(";EN COURS DE DEPLOIEMENT;TST02;", ";PRESQUE;TST02;", 1)
    assert "PRESQUE" in lines[3]
    bad.write_text("\n".join(lines) + "\n")
    page.get_by_label("Fichier", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_role("alert")).to_contain_text("Fichier refusé")
    row = page.locator("table", has_text="Rapport de rejet").locator("tbody tr").first
    expect(row).to_contain_text("EtatImmeuble")
    expect(row).to_contain_text("PRESQUE")
    expect(row.locator("td").nth(1)).to_have_text("4")
    assert_accessible(page, base, "rapport de rejet")
    with engine.connect() as conn:
        after = data_checksums(conn)
    for table in ("api_token",):
        before.pop(table), after.pop(table)
    assert after == before

    # the planned date of PM TST01 → the public answer gives its quarter
    new_day = date(date.today().year + 1, 5, 15)
    page.goto(f"{base}/console")
    page.get_by_label("Rechercher un PM").fill("TST01")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="TST01", exact=True).click()
    assert_accessible(page, base, "édition PM")
    page.get_by_label("Date prévue de la zone").fill("1999-01-01")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#erreur-date_prevue")).to_contain_text("hors de la plage")
    page.get_by_label("Date prévue de la zone").fill(new_day.isoformat())
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Modification enregistrée.")
    expect(page.locator("table", has_text="Auteur").locator("tbody tr").first).to_contain_text(
        "agent"
    )
    answer = httpx.get(f"{base}/api/v1/quand", params=POINT).json()
    assert answer["trimestre_prevu"] == quarter(new_day)
    assert answer["statut"] == "EN_COURS" and quarter(new_day) in answer["reponse"]

    # a citizen's report, closed by the technician
    created = httpx.post(
        f"{base}/api/v1/signalements",
        json={"adresse": "Lieu-dit Test, Figeac", "contact": "habitant@example.org", **POINT},
    ).json()
    page.goto(f"{base}/console/signalements")
    page.get_by_role("link", name=f"n° {created['id']}").click()
    expect(page.get_by_text("habitant@example.org")).to_be_visible()
    page.get_by_label("Statut").select_option("RESOLU")
    page.get_by_label("Réponse à l'habitant").fill("Votre adresse a été ajoutée au déploiement.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Modification enregistrée.")
    assert_accessible(page, base, "signalement")
    with engine.connect() as conn:
        statut = conn.execute(
            text("SELECT statut FROM signalement WHERE id = :i"), {"i": created["id"]}
        ).scalar_one()
    assert statut == "RESOLU"

    # a form posted without its CSRF token, with the session cookie: refused
    forged = page.request.post(
        f"{base}/console/pm/TST01", form={"version": "2", "date_prevue": "2030-01-01"}
    )
    assert forged.status == 403
    assert "CSRF" in forged.text()

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(f"{base}/")
    page.goto(f"{base}/console")
    expect(page).to_have_url(f"{base}/connexion?suivant=%2Fconsole")
    engine.dispose()


def test_console_follows_a_running_import(page: Page, console_server: tuple[str, str]) -> None:
    """Another tab on the imports page sees the running import's step, refreshed by itself."""
    base, db_url = console_server
    _sign_in_with_keyboard(page, base)
    engine = make_engine(db_url)
    try:
        with engine.connect() as running:  # stands for the session of the running import
            pid = running.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with engine.begin() as conn:
                marker = conn.execute(
                    text(
                        "INSERT INTO import_journal (kind, file_name, sha256, user_name, status,"
                        " counts) VALUES ('ipe', 'IPE_GROS_46_20230101.csv', '', 'agent',"
                        " 'EN_COURS', jsonb_build_object('pid', :p, 'etape',"
                        " 'lecture et contrôle du fichier')) RETURNING id"
                    ),
                    {"p": pid},
                ).scalar_one()
            page.goto(f"{base}/console/imports")
            row = page.locator("tbody tr", has_text="IPE_GROS_46_20230101.csv")
            expect(row).to_contain_text("en cours : lecture et contrôle du fichier")
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE import_journal SET counts = jsonb_set(counts, '{etape}',"
                        " '\"fusion et historique\"') WHERE id = :i"
                    ),
                    {"i": marker},
                )
            expect(row).to_contain_text("en cours : fusion et historique", timeout=10_000)
            running.invalidate()  # closed, not back to the pool: the session ends
        # its session is gone: interrupted, and the page stops refreshing
        expect(row).to_contain_text("INTERROMPU", timeout=10_000)
        expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("DELETE FROM import_journal WHERE file_name = 'IPE_GROS_46_20230101.csv'")
            )
        engine.dispose()
