"""The public page in headless Chromium: it loads cleanly, draws vector tiles, answers an
address typed in the search box and a click on the map, and fits a 360 px phone screen."""

from __future__ import annotations

from pathlib import Path

import mapbox_vector_tile
from playwright.sync_api import Browser, expect
from sqlalchemy import Connection, text

from tests.browser.conftest import Watched


def test_public_page_loads_and_draws_vector_tiles(
    watched: Watched, live_url: str, screenshots: Path
) -> None:
    page = watched.page
    page.goto(live_url + "/")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "public.png"), full_page=True)
    assert watched.errors == []
    assert watched.foreign_hosts(live_url) == set()
    prises = watched.tile_bodies("prises")
    zones = watched.tile_bodies("zones")
    assert prises and zones
    decoded = [mapbox_vector_tile.decode(body) for body in prises if body]
    features = sum(len(d.get("prises", {}).get("features", [])) for d in decoded)
    assert features > 100  # every commune of the Lot shows up at the starting zoom
    # VectorGrid draws on canvas/SVG inside the map pane.
    assert page.locator(".leaflet-tile-container canvas, .leaflet-tile-container svg").count() > 0
    assert page.get_attribute("html", "lang") == "fr"
    assert page.title() == "Plus de débit quand ? — Lot"


def test_typing_an_address_shows_the_answer(
    watched: Watched, live_url: str, demo_conn: Connection, screenshots: Path
) -> None:
    row = demo_conn.execute(
        text(
            "SELECT concat_ws(' ', numero, type_voie, nom_voie) AS voie, commune_nom FROM premise "
            "WHERE etat = 'DEPLOYE' AND NOT amii AND removed_on IS NULL ORDER BY identifiant_immeuble LIMIT 1"
        )
    ).one()
    page = watched.page
    page.goto(live_url + "/")
    search = page.get_by_label("Votre adresse (numéro, rue, commune) ou cliquez sur la carte :")
    search.click()
    search.type(f"{row.voie} {row.commune_nom}", delay=15)
    expect(page.locator("#suggestions li").first).to_be_visible(timeout=5000)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    answer = page.locator("#reponse .statut")
    expect(answer).to_have_attribute("data-statut", "RACCORDABLE", timeout=5000)
    expect(answer).to_contain_text("Raccordable à la fibre depuis le")
    expect(page.locator("#reponse h2")).to_contain_text(row.commune_nom)
    page.screenshot(path=str(screenshots / "public_recherche.png"))
    assert watched.errors == []


def test_clicking_the_map_answers_in_plain_french(watched: Watched, live_url: str) -> None:
    page = watched.page
    page.goto(live_url + "/")
    page.wait_for_load_state("networkidle")
    box = page.locator(".folium-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    answer = page.locator("#reponse .statut")
    expect(answer).to_be_visible(timeout=5000)
    assert answer.get_attribute("data-statut") in {
        "RACCORDABLE",
        "EN_COURS",
        "PREVU",
        "A_LA_DEMANDE",
        "AMII",
        "NON_COUVERT",
        "ABANDONNE",
    }
    assert watched.errors == []


def test_phone_screen(browser: Browser, live_url: str, screenshots: Path) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.route("https://tile.openstreetmap.org/**", lambda route: route.fulfill(status=204))
    page.goto(live_url + "/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator("#adresse").is_visible() and page.locator("#chercher").is_visible()
    page.screenshot(path=str(screenshots / "public_360px.png"), full_page=True)
    context.close()


def test_the_replay_slider_asks_zones_as_of_each_quarter(watched: Watched, live_url: str) -> None:
    page = watched.page
    page.goto(live_url + "/")
    page.wait_for_load_state("networkidle")
    with page.expect_response(lambda r: "as_of=2019-12-31" in r.url, timeout=30_000):
        page.fill("#replay-date", "7")
        page.dispatch_event("#replay-date", "input")
    expect(page.locator("#replay-label")).to_have_text("31/12/2019")
    page.wait_for_load_state("networkidle")
    replayed = [u for u, status in watched.tiles if "as_of=2019-12-31" in u and status == 200]
    assert replayed
    assert watched.errors == []
