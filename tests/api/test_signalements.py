"""Citizens' reports: anonymous and bounded on the way in; read and followed up only by staff
(or read by the élu of the commune); the public sees counts per commune, never a contact."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.conftest import make_user

FIGEAC = {"lat": 44.6119, "lon": 2.0207}


def _report(client: TestClient, **extra: object) -> dict:
    body = {
        "adresse": "Lieu-dit Le Bout du Monde, Figeac",
        "contact": "jeanne@example.org",
        "description": "Mon voisin a la fibre, pas moi.",
        **FIGEAC,
        **extra,
    }
    response = client.post("/api/v1/signalements", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_report_is_anonymous_and_returns_nothing_it_was_told(client: TestClient) -> None:
    body = _report(client)
    assert body["insee"] == "46102" and body["statut"] == "NOUVEAU"
    assert set(body) == {"id", "insee", "statut", "message"}


def test_listing_needs_an_account_and_never_shows_the_contact(
    client: TestClient, tech_headers: dict[str, str]
) -> None:
    created = _report(client)
    assert client.get("/api/v1/signalements").status_code == 401
    assert client.get(f"/api/v1/signalements/{created['id']}").status_code == 401
    listed = client.get("/api/v1/signalements", headers=tech_headers)
    assert [r["id"] for r in listed.json()] == [created["id"]]
    assert "jeanne@example.org" not in listed.text
    one = client.get(f"/api/v1/signalements/{created['id']}", headers=tech_headers)
    assert one.headers["ETag"] == '"1"' and "jeanne@example.org" not in one.text


def test_public_counts_per_commune_hold_no_text_of_the_report(client: TestClient) -> None:
    _report(client)
    _report(client, adresse="2 rue de la Gare, Figeac")
    response = client.get("/api/v1/signalements/comptes")
    assert response.status_code == 200
    rows = response.json()
    assert rows == [{"insee": "46102", "nom": "Figeac", "signalements": 2, "ouverts": 2, "clos": 0}]
    for secret in ("jeanne", "Bout du Monde", "voisin", "rue de la Gare"):
        assert secret not in response.text


def test_staff_follow_up_is_versioned_and_logged(
    client: TestClient, connection: Connection, tech_headers: dict[str, str]
) -> None:
    created = _report(client)
    url = f"/api/v1/signalements/{created['id']}"
    changed = client.patch(
        url,
        json={"statut": "EN_COURS", "assigned_to": "tech", "utilisateur": "quelqu-un-d-autre"},
        headers={**tech_headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["statut"] == "EN_COURS" and changed.headers["ETag"] == '"2"'
    history = connection.execute(
        text(
            "SELECT changed_by, after->>'statut' FROM asset_change WHERE table_name = 'signalement'"
        )
    ).all()
    assert [tuple(h) for h in history] == [("tech", "EN_COURS")]
    closed = client.patch(
        url,
        json={"statut": "RESOLU", "reponse": "Raccordement prévu."},
        headers={**tech_headers, "If-Match": '"2"'},
    )
    assert closed.json()["closed_at"] is not None
    bad = client.patch(url, json={"statut": "FINI"}, headers={**tech_headers, "If-Match": '"3"'})
    assert bad.status_code == 422 and "statut" in bad.json()["champs"]
    missing = client.patch(
        "/api/v1/signalements/999999",
        json={"statut": "RESOLU"},
        headers={**tech_headers, "If-Match": '"1"'},
    )
    assert missing.status_code == 404


def test_elu_reads_the_reports_of_their_commune_only(
    client: TestClient, connection: Connection
) -> None:
    figeac = _report(client)
    cahors = _report(client, adresse="3 quai Cavaignac, Cahors", lat=44.4475, lon=1.4419)
    assert cahors["insee"] == "46042"
    elu = make_user(connection, "maire-figeac", "elu", commune="46102")
    listed = client.get("/api/v1/signalements", headers=elu)
    assert [r["id"] for r in listed.json()] == [figeac["id"]]
    assert client.get(f"/api/v1/signalements/{cahors['id']}", headers=elu).status_code == 403
    change = client.patch(
        f"/api/v1/signalements/{figeac['id']}",
        json={"statut": "EN_COURS"},
        headers={**elu, "If-Match": '"1"'},
    )
    assert change.status_code == 403


def test_reports_are_bounded(client: TestClient, connection: Connection) -> None:
    before = connection.execute(text("SELECT count(*) FROM signalement")).scalar_one()
    hostile = [
        {"adresse": "x" * 5000},
        {"adresse": "1 rue de la Paix", "lat": 1000, "lon": 2.0},
        {"adresse": "1 rue de la Paix", "contact": "c" * 1000},
        {"adresse": "1 rue de la\x00 Paix"},
        {"adresse": "1 rue de la Paix", "description": "d" * 2_000_001},
        {"adresse": "1 rue de la Paix", "lat": "NaN", "lon": 2.0},
        {"adresse": "1 rue"},
    ]
    for body in hostile:
        response = client.post("/api/v1/signalements", json=body)
        assert 400 <= response.status_code < 500, (body.keys(), response.status_code)
        assert response.json()["detail"]
    assert connection.execute(text("SELECT count(*) FROM signalement")).scalar_one() == before


def test_reports_are_rate_limited_per_client(client: TestClient) -> None:
    statuses = [
        client.post(
            "/api/v1/signalements", json={"adresse": f"{i} rue des Tests, Figeac"}
        ).status_code
        for i in range(7)
    ]
    assert statuses[:5] == [201] * 5
    assert statuses[5:] == [429, 429]
