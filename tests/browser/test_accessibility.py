"""Accessibility of the public and élu pages: axe-core (served by the app) finds no serious or
critical violation once the maps are drawn, in the states users reach (suggestions, answer,
open layer menu, popup, chart data), and the forms work with the keyboard alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Connection, text

from tests.browser.axe import AXE_PATH, assert_accessible
from tests.browser.conftest import Watched

TAB_LIMIT = 40
# The first élu page of a freshly loaded demo database can take well over Playwright's default
# 30 s (until PostgreSQL's autovacuum has analysed the new tables); later ones take 2 to 3 s.
FIRST_PAGE_TIMEOUT = 120_000


def open_page(watched: Watched, url: str) -> Page:
    """Load a page and wait until its maps are drawn."""
    page = watched.page
    response = page.goto(url, timeout=FIRST_PAGE_TIMEOUT)
    assert response is not None and response.status == 200
    wait_for_maps(page)
    return page


def wait_for_maps(page: Page) -> None:
    """Wait until every map of the page has drawn its layers and controls."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        """() => {
            const maps = document.querySelectorAll('.folium-map');
            return maps.length > 0 && Array.from(maps).every(m =>
                m.classList.contains('leaflet-container')
                && m.querySelector('.leaflet-control-attribution')
                && m.querySelector('.leaflet-overlay-pane canvas, .leaflet-overlay-pane svg,'
                    + ' .leaflet-tile-container canvas, .leaflet-tile-container svg'));
        }""",
        timeout=30_000,
    )
    page.wait_for_timeout(500)  # the last tiles of the first view


def wait_for_popups(page: Page) -> None:
    """Leaflet fades popups in and pans the map to show them: axe must see the end state."""
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.leaflet-popup'))"
        ".every(p => getComputedStyle(p).opacity === '1')"
    )
    page.wait_for_timeout(300)


def tab_to(page: Page, selector: str) -> None:
    """Press Tab (from wherever the focus is) until `selector` has the focus."""
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} n'est pas atteint en {TAB_LIMIT} tabulations")


def show_everything(page: Page) -> None:
    """Open what a user can open: a popup (a site marker's, opened with the keyboard, or else
    the one at the first map's centre, clicked), the layer menus, the chart's data table."""
    markers = page.locator(".marqueur-symbole")
    if markers.count():
        markers.first.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".leaflet-popup")).to_have_count(1, timeout=5000)
    else:
        box = page.locator(".leaflet-container").first.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_popups(page)
    for toggle in page.locator(".leaflet-control-layers-toggle").all():
        if toggle.is_visible():  # a collapsed menu: Enter on its button opens it
            toggle.focus()
            page.keyboard.press("Enter")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def test_axe_core_is_served_by_the_app(watched: Watched, live_url: str) -> None:
    response = watched.page.request.get(live_url + AXE_PATH)
    assert response.status == 200 and b"axe" in response.body()[:2000]


def test_public_page(watched: Watched, live_url: str) -> None:
    page = open_page(watched, live_url + "/")
    assert_accessible(page, live_url, "Carte publique")
    viewport = page.locator('meta[name="viewport"]')
    expect(viewport).to_have_count(1)
    assert "user-scalable" not in (viewport.get_attribute("content") or "")  # pinch-zoom allowed
    expect(page.get_by_role("button", name="Zoom avant")).to_be_visible()
    expect(page.get_by_role("button", name="Zoom arrière")).to_be_visible()
    expect(page.locator("#replay-date")).to_have_attribute("aria-valuetext", "aujourd'hui")
    page.get_by_role("button", name="Couches de la carte").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-control-layers-list")).to_be_visible()
    assert_accessible(page, live_url, "Carte publique, menu des couches ouvert")
    assert watched.errors == []
    assert watched.foreign_hosts(live_url) == set()


def test_index_page(watched: Watched, live_url: str) -> None:
    page = watched.page
    response = page.goto(live_url + "/communes")
    assert response is not None and response.status == 200
    page.wait_for_load_state("load")
    assert_accessible(page, live_url, "Index des communes et EPCI")


@pytest.mark.parametrize(
    ("path", "name"),
    [("/communes/46102", "Page de Figeac"), ("/reference", "Carte de référence")],
)
def test_map_pages(watched: Watched, live_url: str, path: str, name: str) -> None:
    page = open_page(watched, live_url + path)
    assert_accessible(page, live_url, name)
    show_everything(page)
    assert_accessible(page, live_url, f"{name}, menus et tableau ouverts")
    assert watched.errors == []


def test_epci_page(watched: Watched, live_url: str) -> None:
    page = watched.page
    page.goto(live_url + "/communes")
    siren_link = page.locator("tr.epci a").first.get_attribute("href")
    assert siren_link and siren_link.startswith("/epci/")
    page = open_page(watched, live_url + siren_link)
    assert page.locator(".marqueur-symbole").count() > 0  # focusable site markers to name
    assert_accessible(page, live_url, f"Page EPCI {siren_link}")
    show_everything(page)
    assert_accessible(page, live_url, f"Page EPCI {siren_link}, menus, tableau et popup ouverts")
    assert watched.errors == []


def test_address_search_with_the_keyboard_alone(
    watched: Watched, live_url: str, demo_conn: Connection
) -> None:
    row = demo_conn.execute(
        text(
            "SELECT concat_ws(' ', numero, type_voie, nom_voie) AS voie, commune_nom FROM premise "
            "WHERE etat = 'DEPLOYE' AND NOT amii AND removed_on IS NULL "
            "ORDER BY identifiant_immeuble LIMIT 1"
        )
    ).one()
    page = open_page(watched, live_url + "/")
    tab_to(page, "#adresse")
    page.keyboard.type(f"{row.voie} {row.commune_nom}", delay=15)
    suggestions = page.locator("#suggestions li")
    expect(suggestions.first).to_be_visible(timeout=5000)
    expect(page.locator("#adresse")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(suggestions.first).to_have_attribute("aria-selected", "true")
    expect(page.locator("#adresse")).to_have_attribute("aria-activedescendant", "suggestion-0")
    assert_accessible(page, live_url, "Carte publique, suggestions d'adresses")
    page.keyboard.press("Enter")
    answer = page.locator("#reponse .statut")
    expect(answer).to_have_attribute("data-statut", "RACCORDABLE", timeout=5000)
    expect(answer).to_contain_text("Raccordable à la fibre depuis le")
    expect(page.locator("#reponse h2")).to_contain_text(row.commune_nom)
    expect(page.locator("#suggestions")).to_be_hidden()
    expect(page.locator(".leaflet-popup")).to_have_count(1)
    wait_for_popups(page)
    assert_accessible(page, live_url, "Carte publique, réponse et popup affichées")
    assert watched.errors == []


def test_typed_address_submitted_with_the_search_button(
    watched: Watched, live_url: str, demo_conn: Connection
) -> None:
    row = demo_conn.execute(
        text(
            "SELECT concat_ws(' ', numero, type_voie, nom_voie) AS voie, commune_nom FROM premise "
            "WHERE etat = 'DEPLOYE' AND NOT amii AND removed_on IS NULL AND numero IS NOT NULL "
            "ORDER BY identifiant_immeuble LIMIT 1"
        )
    ).one()
    page = open_page(watched, live_url + "/")
    tab_to(page, "#adresse")
    page.keyboard.type(f"{row.voie} {row.commune_nom}", delay=15)
    expect(page.locator("#suggestions li").first).to_be_visible(timeout=5000)
    page.keyboard.press("Escape")
    expect(page.locator("#suggestions")).to_be_hidden()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "chercher"
    page.keyboard.press("Enter")
    answer = page.locator("#reponse .statut")
    expect(answer).to_have_attribute("data-statut", "RACCORDABLE", timeout=5000)
    expect(page.locator("#reponse h2")).to_contain_text(row.commune_nom)
    assert watched.errors == []


def test_index_search_and_rollout_slider_with_the_keyboard_alone(
    watched: Watched, live_url: str
) -> None:
    page = watched.page
    page.goto(live_url + "/communes")
    page.wait_for_load_state("load")
    tab_to(page, "#recherche")
    page.keyboard.type("46102")
    expect(page.locator("#resultats")).to_have_text("1 résultat")
    tab_to(page, 'a[href="/communes/46102"]')
    page.keyboard.press("Enter")
    page.wait_for_url("**/communes/46102", timeout=FIRST_PAGE_TIMEOUT)
    wait_for_maps(page)
    slider = page.locator('[id^="slider_"] input[type="range"]')
    tab_to(page, '[id^="slider_"] input[type="range"]')
    today = slider.get_attribute("aria-valuetext")
    page.keyboard.press("Home")
    first = slider.get_attribute("aria-valuetext")
    assert today and first and first != today
    expect(page.locator('[id^="slider_"] output')).to_have_text(first)
    assert watched.errors == []
