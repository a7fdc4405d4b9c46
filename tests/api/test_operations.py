"""/api/v1/exploitation: public aggregated figures for everyone, the registers' lists for staff
only (401 anonymous, 403 to an élu)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from geo_service.ingest.abonnes import ABONNES
from geo_service.ingest.controles_pm import CONTROLES_PM
from geo_service.ingest.echanges_frontaliers import ECHANGES_FRONTALIERS
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.incidents import INCIDENTS
from geo_service.ingest.operations_common import import_register_conn
from tests.conftest import FIXTURES, make_user

OPERATIONS = FIXTURES / "operations"
STAFF_ONLY = [
    "/api/v1/exploitation/incidents",
    "/api/v1/exploitation/controles",
    "/api/v1/exploitation/echanges-frontaliers/immeubles",
]


@pytest.fixture()
def registers(connection: Connection, gracethd_gpkg: Path) -> Connection:
    import_gracethd_conn(connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1))
    for register, name in (
        (INCIDENTS, "incidents.csv"),
        (CONTROLES_PM, "controles_pm.csv"),
        (ABONNES, "abonnes.csv"),
        (ECHANGES_FRONTALIERS, "echanges_frontaliers.csv"),
    ):
        import_register_conn(connection, register, OPERATIONS / name, territory="46")
    return connection


@pytest.mark.parametrize("url", STAFF_ONLY)
def test_lists_are_for_staff_only(
    client: TestClient, registers: Connection, tech_headers: dict[str, str], url: str
) -> None:
    anonymous = client.get(url)
    assert anonymous.status_code == 401
    assert "Authentification requise" in anonymous.json()["detail"]
    elu = make_user(registers, "maire", "elu", commune="46102")
    refused = client.get(url, headers=elu)
    assert refused.status_code == 403
    assert "réservé" in refused.json()["detail"]
    assert client.get(url, headers=tech_headers).status_code == 200


def test_staff_read_the_incidents_with_paris_times(
    client: TestClient, registers: Connection, tech_headers: dict[str, str]
) -> None:
    listed = client.get(
        "/api/v1/exploitation/incidents", params={"annee": 2023}, headers=tech_headers
    ).json()
    first = next(i for i in listed if i["reference"] == "INC-2023-001")
    assert first["ouverture"] == "2023-01-10T08:00:00+01:00"
    assert {i["perimetre"] for i in listed} == {"46"}  # the DSP's are asked for apart
    dsp = client.get(
        "/api/v1/exploitation/incidents", params={"perimetre": "dsp"}, headers=tech_headers
    ).json()
    assert [i["reference"] for i in dsp] == ["INC-2023-006"]


def test_public_figures_name_their_perimeter(client: TestClient, registers: Connection) -> None:
    delays = client.get("/api/v1/exploitation/incidents/delais", params={"annee": 2023}).json()
    assert delays["perimetre"] == "46" and delays["engagements"] == "hypothèse"
    assert delays["lignes"][0]["incidents"] == 5
    assert "estimation" not in delays
    dsp = client.get(
        "/api/v1/exploitation/controles/avancement",
        params={"campagne": 2023, "perimetre": "dsp", "estimation_territoire": "true"},
    ).json()
    assert (dsp["controles"], dsp["objectif"]) == (3, 1308)
    assert dsp["estimation"]["estimation"] is True
    assert dsp["estimation"]["estimation_territoire"] == pytest.approx(3 * 412 / 1308, abs=0.05)
    take_up = client.get("/api/v1/exploitation/abonnes", params={"au": "2022-06-30"}).json()
    assert take_up["date_releve"] == "2022-03-31"
    assert [(x["code"], x["abonnes"]) for x in take_up["lignes"]] == [("46102", 2)]
    borders = client.get("/api/v1/exploitation/echanges-frontaliers").json()
    assert borders["immeubles_servis_par_voisins"] == 2
    assert "adresse" not in str(borders)  # counts only


def test_bad_parameters_are_refused_in_french(client: TestClient, registers: Connection) -> None:
    answer = client.get("/api/v1/exploitation/incidents/delais", params={"perimetre": "12"})
    assert answer.status_code == 400
    assert answer.json()["detail"] == "Périmètre inconnu : 12 (attendu : dsp ou 46)."
