"""A territory whose reference geography is loaded but no operator file yet: its public pages
answer (no premises is a state, not an error)."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_commune_and_epci_pages_of_a_territory_without_premises(client: TestClient) -> None:
    commune = client.get("/communes/46102")
    assert commune.status_code == 200, commune.text[:300]
    assert "Figeac" in commune.text
    epci = client.get("/communes")
    assert epci.status_code == 200
    quand = client.get("/api/v1/quand", params={"lat": 44.6086, "lon": 2.0317})
    assert quand.status_code == 200, quand.text[:300]
    assert quand.json()["statut"] == "NON_COUVERT"
