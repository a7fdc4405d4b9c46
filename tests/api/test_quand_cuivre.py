"""Through the public HTTP API: an address present only in the BAN is suggested and answered;
« quand ? » shows when copper closes at an address whose building is in the calendar."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import Point
from sqlalchemy import Connection

from geo_service.ingest.ban import import_ban_conn
from geo_service.ingest.fermeture_cuivre import import_fermeture_cuivre_conn
from tests.conftest import FIXTURES
from tests.ingest.ipe_files import BUILDINGS
from tests.ingest.test_ban import network  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("network")
TO_WGS84 = Transformer.from_crs(2154, 4326, always_xy=True)
BAN_ONLY = (621_650.0, 6_390_150.0)  # 5 Rue de l'Église, Figeac: in the BAN only
PERSONAL = {"contact", "nom_abonne", "telephone", "email", "courriel"}


def _load(connection: Connection) -> None:
    import_ban_conn(connection, FIXTURES / "ban" / "adresses-46.csv.gz", territory="46", user="t")
    import_fermeture_cuivre_conn(
        connection, FIXTURES / "cuivre" / "base_imb_fc_46_iso.csv", territory="46", user="t"
    )


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value)) if value else set()
    return set()


def test_an_address_only_in_the_ban_is_suggested(
    client: TestClient,
    connection: Connection,
) -> None:
    _load(connection)
    response = client.get("/api/v1/adresses", params={"q": "7 bis chemin des ecoliers figeac"})
    assert response.status_code == 200
    best = response.json()[0]
    assert best["adresse"] == "7 bis Chemin des Écoliers, Figeac"
    lon, lat = TO_WGS84.transform(622_650.0, 6_390_700.0)
    assert (round(best["lon"], 6), round(best["lat"], 6)) == (round(lon, 6), round(lat, 6))


def test_an_address_in_both_files_is_suggested_once(
    client: TestClient,
    connection: Connection,
) -> None:
    _load(connection)
    items = client.get("/api/v1/adresses", params={"q": "rue de l'eglise figeac"}).json()
    labels = [i["adresse"] for i in items]
    assert labels.count("1 Rue de l'Église, Figeac") == 1
    assert labels.count("3 Rue de l'Église, Figeac") == 1
    assert "5 Rue de l'Église, Figeac" in labels
    assert (
        client.get("/api/v1/adresses", params={"q": "5 rue de l eglise"}).json()[0]["adresse"]
        == "5 Rue de l'Église, Figeac"
    )


def test_quand_answers_at_an_address_only_in_the_ban(
    client: TestClient,
    connection: Connection,
) -> None:
    _load(connection)
    item = client.get("/api/v1/adresses", params={"q": "5 rue de l'eglise figeac"}).json()[0]
    # the public page asks by the suggestion's point
    answer = client.get("/api/v1/quand", params={"lat": item["lat"], "lon": item["lon"]}).json()
    assert answer["adresse"] == "5 Rue de l'Église"
    assert answer["immeuble"] is None and answer["local_connu"] is False
    nearest = min(
        BUILDINGS.items(), key=lambda kv: Point(kv[1][2], kv[1][3]).distance(Point(*BAN_ONLY))
    )
    distance = Point(nearest[1][2], nearest[1][3]).distance(Point(*BAN_ONLY))
    assert nearest[0] == "IMB/46102/T/0001"
    assert abs(answer["distance_m"] - distance) < 0.5
    assert answer["reponse"].startswith(
        f"Pas de local connu de l'opérateur à cette adresse. Au local connu le plus proche "
        f"(à {round(distance)} m) : Raccordable à la fibre depuis le"
    )
    assert "signalez-la au syndicat" in answer["reponse"]
    # no building of its own: the commune's copper calendar
    assert answer["cuivre"]["niveau"] == "commune"
    by_text = client.get("/api/v1/quand", params={"adresse": "5 rue de l'eglise figeac"}).json()
    assert by_text["adresse"] == "5 Rue de l'Église" and by_text["immeuble"] is None
    far = client.get("/api/v1/quand", params={"adresse": "7 bis chemin des ecoliers"}).json()
    assert far["statut"] == "NON_COUVERT" and far["adresse"] == "7 bis Chemin des Écoliers"
    assert not _keys(answer) & PERSONAL


def test_quand_shows_when_copper_closes_at_the_address(
    client: TestClient,
    connection: Connection,
) -> None:
    _load(connection)
    answer = client.get("/api/v1/quand", params={"adresse": "1 rue de l'eglise figeac"}).json()
    assert answer["immeuble"] == "IMB/46102/T/0001"
    copper = answer["cuivre"]
    assert copper["niveau"] == "adresse" and copper["lot"] == "LOT2"
    assert copper["fermeture_commerciale"] == "2025-06-15"
    assert copper["fermeture_technique"] == "2026-11-30"
    assert "30 novembre 2026" in copper["reponse"]
    assert answer["statut"] == "RACCORDABLE"  # next to the fibre state
    assert not _keys(answer) & PERSONAL
