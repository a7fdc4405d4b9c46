"""/healthz and the first public page."""

from __future__ import annotations

import re

from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from geo_service.db.migrate import alembic_config


def test_healthz_reports_database_and_postgis_versions(
    client: TestClient, connection: Connection
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    # The server's own version, as the driver got it at connection time (e.g. 150008 → "15.8").
    number = connection.connection.driver_connection.info.server_version  # type: ignore[union-attr]
    major, minor = number // 10000, number % 10000
    assert re.match(rf"^{major}\.{minor}\b", body["postgresql"]), (number, body["postgresql"])
    assert re.match(r"^3\.\d+", body["postgis"])
    # The schema the code's migrations lead to, i.e. the database is up to date.
    head = ScriptDirectory.from_config(
        alembic_config("postgresql://x@localhost/x")
    ).get_current_head()
    assert body["schema_revision"] == head


def test_reference_page_draws_every_commune_with_its_name(
    client: TestClient, connection: Connection
) -> None:
    response = client.get("/reference")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="fr">' in html
    assert "<title>Communes et EPCI — Lot</title>" in html
    # Folium embeds each GeoJSON layer as a JS object literal: count commune features.
    found = set(re.findall(r'"insee":\s*"(46\d{3})"', html))
    expected = {
        r.insee
        for r in connection.execute(text("SELECT insee FROM commune WHERE territory_code='46'"))
    }
    assert found == expected
    for name in ("Figeac", "Cahors", "Gourdon"):
        assert f'"nom": "{name}"' in html
    assert "Grand Cahors" in html
    assert "cdn.jsdelivr.net" not in html  # Leaflet served by the app


def test_public_page_is_light_and_uses_vector_tiles(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "<title>Plus de débit quand ? — Lot</title>" in html and '<html lang="fr">' in html
    assert "/tiles/prises/{z}/{x}/{y}.pbf" in html and "/tiles/zones/{z}/{x}/{y}.pbf" in html
    assert 'id="adresse"' in html and 'aria-live="polite"' in html
    assert len(response.content) < 1_000_000
