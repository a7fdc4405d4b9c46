"""/healthz and the first public page."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text


def test_healthz_reports_database_and_postgis_versions(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["postgresql"].startswith("15") or body["postgresql"][:2].isdigit()
    assert re.match(r"^3\.\d+", body["postgis"])
    assert body["schema_revision"]


def test_home_page_draws_every_commune_with_its_name(
    client: TestClient, connection: Connection
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="fr">' in html
    assert "<title>Plus de débit quand ? — Lot</title>" in html
    # Folium embeds each GeoJSON layer as a JS object literal: count commune features.
    inseee = set(re.findall(r'"insee":\s*"(46\d{3})"', html))
    expected = {r.insee for r in connection.execute(text("SELECT insee FROM commune WHERE territory_code='46'"))}
    assert inseee == expected
    names = json.dumps(["Figeac", "Cahors", "Gourdon"])
    for name in json.loads(names):
        assert f'"nom": "{name}"' in html
    assert "Communauté d'agglomération du Grand Cahors" in html or "Grand Cahors" in html
