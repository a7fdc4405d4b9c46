"""Élu pages, index and technical map in headless Chromium: clean load, right figures, one
printed A4 landscape page for a commune, screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.browser.conftest import Watched
from tests.conftest import STAFF_PASSWORD, make_user


@pytest.fixture(scope="module")
def technicien(demo_engine) -> str:  # type: ignore[no-untyped-def]
    """A staff account in the demo database the live server reads (committed)."""
    with demo_engine.begin() as conn:
        make_user(conn, "agent-carte", "technicien")
    return "agent-carte"


def shown_values(watched: Watched, indicator: str) -> list[str]:
    cells = watched.page.locator(f'tr[data-indicateur="{indicator}"] td')
    return [cells.nth(i).get_attribute("data-valeur") or "" for i in range(cells.count())]


def test_commune_page_shows_the_right_figures(
    watched: Watched, live_url: str, demo_client: TestClient, screenshots: Path
) -> None:
    page = watched.page
    page.goto(live_url + "/communes/46102")
    page.wait_for_load_state("load")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "commune_46102.png"), full_page=True)
    assert watched.errors == []
    assert watched.foreign_hosts(live_url) == set()
    assert "Figeac" in page.title()
    commune = demo_client.get(
        "/api/v1/stats/raccordables", params={"level": "commune", "code": "46102"}
    ).json()[0]
    dept = demo_client.get("/api/v1/stats/raccordables", params={"level": "departement"}).json()[0]
    assert shown_values(watched, "logements")[:2] == [
        str(commune["logements"]),
        str(dept["logements"]),
    ]
    assert shown_values(watched, "raccordables")[:2] == [
        str(commune["raccordables"]),
        str(dept["raccordables"]),
    ]
    assert page.locator("svg").count() >= 1  # progress chart


def test_commune_page_prints_on_one_a4_landscape_page(
    watched: Watched, live_url: str, output_dir: Path
) -> None:
    page = watched.page
    page.goto(live_url + "/communes/46102")
    page.wait_for_load_state("load")
    page.wait_for_timeout(1500)
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (output_dir / "commune_46102.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert box is not None and float(box.group(1)) > float(box.group(2))  # landscape


@pytest.mark.parametrize(
    ("path", "name", "title_part"),
    [
        ("/epci/200067361", "epci_grand_figeac.png", "Grand-Figeac"),
        ("/communes", "index_communes.png", "Communes"),
        ("/technique", "technique.png", "technique"),
    ],
)
def test_other_pages_load_cleanly(
    watched: Watched,
    live_url: str,
    screenshots: Path,
    path: str,
    name: str,
    title_part: str,
    technicien: str,
) -> None:
    page = watched.page
    if path == "/technique":  # staff only: sign in first (the context keeps the cookies)
        form = page.request.get(live_url + "/connexion").text()
        token = re.search(r'name="csrftoken" value="([^"]+)"', form)
        assert token
        signed = page.request.post(
            live_url + "/connexion",
            form={"csrftoken": token.group(1), "nom": technicien, "mot_de_passe": STAFF_PASSWORD},
            max_redirects=0,
        )
        assert signed.status == 303
    response = page.goto(live_url + path, timeout=90_000)
    assert response is not None and response.status == 200
    page.wait_for_load_state("load")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / name), full_page=False)
    assert watched.errors == []
    assert watched.foreign_hosts(live_url) == set()
    assert title_part.lower() in page.title().lower()
    assert page.get_attribute("html", "lang") == "fr"
