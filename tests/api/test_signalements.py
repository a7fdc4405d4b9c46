"""Citizens' reports: recorded with their commune, listed without the reporter's contact,
followed up with history."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text


def test_report_lifecycle_keeps_the_contact_private(
    client: TestClient, connection: Connection
) -> None:
    created = client.post(
        "/api/v1/signalements",
        json={
            "adresse": "Lieu-dit Le Bout du Monde, Figeac",
            "contact": "jeanne@example.org",
            "lat": 44.6119,
            "lon": 2.0207,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["insee"] == "46102" and body["statut"] == "NOUVEAU"
    assert "contact" not in body
    listed = client.get("/api/v1/signalements").json()
    assert [r["id"] for r in listed] == [body["id"]]
    assert "jeanne@example.org" not in client.get("/api/v1/signalements").text
    changed = client.patch(
        f"/api/v1/signalements/{body['id']}", json={"statut": "EN_COURS", "utilisateur": "tech"}
    )
    assert changed.json()["statut"] == "EN_COURS"
    history = connection.execute(
        text(
            "SELECT changed_by, after->>'statut' FROM asset_change WHERE table_name = 'signalement'"
        )
    ).all()
    assert [tuple(h) for h in history] == [("tech", "EN_COURS")]
    bad = client.patch(
        f"/api/v1/signalements/{body['id']}", json={"statut": "FINI", "utilisateur": "tech"}
    )
    assert bad.status_code == 400 and "Statut inconnu" in bad.json()["detail"]
    assert (
        client.patch(
            "/api/v1/signalements/999999", json={"statut": "RESOLU", "utilisateur": "t"}
        ).status_code
        == 404
    )
