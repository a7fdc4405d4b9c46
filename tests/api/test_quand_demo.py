"""« Quand ? » on the demo Lot: each kind of answer, by point and by (misspelt) address."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

PICK = """
SELECT p.identifiant_immeuble, concat_ws(' ', p.numero, p.type_voie, p.nom_voie) AS voie,
       p.commune_nom, ST_Y(ST_Transform(p.geom, 4326)) AS lat, ST_X(ST_Transform(p.geom, 4326)) AS lon
FROM premise p WHERE p.removed_on IS NULL AND p.etat = :etat AND p.amii = :amii
  AND NOT EXISTS (SELECT 1 FROM premise o WHERE o.id <> p.id AND ST_DWithin(o.geom, p.geom, 30))
ORDER BY p.identifiant_immeuble LIMIT 1
"""


def pick(conn: Connection, etat: str, amii: bool = False):  # type: ignore[no-untyped-def]
    return conn.execute(text(PICK), {"etat": etat, "amii": amii}).one()


@pytest.mark.parametrize(
    ("etat", "amii", "statut", "words"),
    [
        ("DEPLOYE", False, "RACCORDABLE", "Raccordable à la fibre depuis le"),
        ("EN COURS DE DEPLOIEMENT", False, "EN_COURS", "Travaux en cours"),
        ("RACCORDABLE DEMANDE", False, "A_LA_DEMANDE", "Raccordable à la demande"),
        ("DEPLOYE", True, "AMII", "Zone AMII"),
    ],
)
def test_answer_for_a_point(
    demo_client: TestClient, demo_conn: Connection, etat: str, amii: bool, statut: str, words: str
) -> None:
    premise = pick(demo_conn, etat, amii)
    response = demo_client.get("/api/v1/quand", params={"lat": premise.lat, "lon": premise.lon})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["statut"] == statut
    assert words in body["reponse"]
    assert body["immeuble"] == premise.identifiant_immeuble
    assert body["commune"]["nom"] == premise.commune_nom
    assert set(body["a_proximite"]) == {"med", "wifi", "mobile"}
    assert body["a_proximite"]["wifi"]["distance_m"] >= 0
    # No personal data: only the building, the address and network facts.
    assert not {"nom", "prenom", "email", "telephone", "contact"} & set(body)


def test_in_progress_gives_the_planned_quarter(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    premise = pick(demo_conn, "EN COURS DE DEPLOIEMENT")
    body = demo_client.get("/api/v1/quand", params={"lat": premise.lat, "lon": premise.lon}).json()
    planned = demo_conn.execute(
        text(
            "SELECT pm.date_prevue FROM pm JOIN premise p ON p.pm_reference = pm.reference WHERE p.identifiant_immeuble = :i"
        ),
        {"i": premise.identifiant_immeuble},
    ).scalar_one()
    assert planned is not None  # every demo zone has a planned date
    q = (planned.month - 1) // 3 + 1
    expected = f"{'1er' if q == 1 else f'{q}e'} trimestre {planned.year}"
    assert body["statut"] == "EN_COURS"
    assert body["trimestre_prevu"] == expected
    assert f"La zone est prévue pour le {expected}." in body["reponse"]


def test_a_point_outside_the_territory_is_a_clear_404(demo_client: TestClient) -> None:
    response = demo_client.get("/api/v1/quand", params={"lat": 48.8566, "lon": 2.3522})
    assert response.status_code == 404
    assert response.json()["detail"] == "Ce point est hors du territoire couvert par ce service."


def test_a_misspelt_address_finds_the_premise(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    premise = pick(demo_conn, "DEPLOYE")
    typed = f"{premise.voie} {premise.commune_nom}".upper().replace("E", "é", 1)
    typed = typed[:-2] + typed[-1]  # drop a letter: a typo
    body = demo_client.get("/api/v1/quand", params={"adresse": typed}).json()
    assert body["immeuble"] == premise.identifiant_immeuble, (typed, body.get("adresse"))
    assert body["statut"] == "RACCORDABLE"


def test_unknown_address_and_missing_parameters(demo_client: TestClient) -> None:
    assert demo_client.get("/api/v1/quand", params={"adresse": "zzqqxxw yyvvkk"}).status_code == 404
    response = demo_client.get("/api/v1/quand")
    assert response.status_code == 400 and "adresse" in response.json()["detail"]
