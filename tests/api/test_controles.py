"""GET /api/v1/controles/arcep: staff only; the same categories as the analysis, JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from geo_service.ingest.arcep_immeubles import import_arcep_immeubles_conn
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.ipe import import_ipe_conn
from tests.analysis.test_controle_arcep import FIXTURES, expected
from tests.conftest import make_user

URL = "/api/v1/controles/arcep"


@pytest.fixture()
def loaded(connection: Connection, gracethd_gpkg: Path) -> Connection:
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="t"
    )
    for name in ("IPE_TEST_46_20240331.csv", "IPE_TEST_46_20240930.csv"):
        import_ipe_conn(connection, FIXTURES / "ipe" / name, territory="46", user="t")
    import_arcep_immeubles_conn(
        connection, FIXTURES / "2024t2-immeuble.zip", territory="46", user="t"
    )
    return connection


@pytest.mark.parametrize("path", [URL, f"{URL}.csv", f"{URL}?format=csv"])
def test_anonymous_is_refused(client: TestClient, loaded: Connection, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert "Authentification requise" in response.json()["detail"]


def test_elu_is_refused(client: TestClient, loaded: Connection) -> None:
    headers = make_user(loaded, "maire", "elu", commune="46102")
    response = client.get(URL, headers=headers)
    assert response.status_code == 403
    assert "technicien" in response.json()["detail"]


def test_technicien_gets_the_categories(
    client: TestClient, loaded: Connection, tech_headers: dict[str, str]
) -> None:
    response = client.get(URL, headers=tech_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["date_arcep"] == "2024-06-30"
    planted = expected(loaded)
    assert {(r["categorie"], r["imb_id"]) for r in body["lignes"]} == planted
    assert sum(body["par_categorie"].values()) == len(planted)
    assert {u["insee"] for u in body["par_commune"]} == {p[1].split("/")[1] for p in planted}
    only = client.get(URL, params={"commune": "46251"}, headers=tech_headers).json()
    assert [(r["categorie"], r["imb_id"]) for r in only["lignes"]] == [
        ("etat_different", "IMB/46251/T/0301")
    ]


@pytest.mark.parametrize("path", [f"{URL}.csv", f"{URL}?format=csv"])
def test_csv_one_line_per_building_and_category(
    client: TestClient, loaded: Connection, tech_headers: dict[str, str], path: str
) -> None:
    response = client.get(path, headers=tech_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "controle_arcep_46_20240630.csv" in response.headers["content-disposition"]
    content = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content), delimiter=";"))
    assert {(r["Code catégorie"], r["Identifiant immeuble"]) for r in rows} == expected(loaded)
    state = next(
        r
        for r in rows
        if r["Code catégorie"] == "etat_different" and "0102" in r["Identifiant immeuble"]
    )
    assert (state["État ARCEP"], state["État IPE"]) == ("deploye", "EN COURS DE DEPLOIEMENT")
    assert state["Commune"] == "Figeac"


def test_errors_are_french(
    client: TestClient, loaded: Connection, tech_headers: dict[str, str]
) -> None:
    early = client.get(URL, params={"date": "2020-01-01"}, headers=tech_headers)
    assert early.status_code == 404
    assert "Aucun état ARCEP au 01/01/2020" in early.json()["detail"]
    unknown = client.get(URL, params={"commune": "75056"}, headers=tech_headers)
    assert unknown.status_code == 400
    assert "inconnue du territoire" in unknown.json()["detail"]
    close = client.get(URL, params={"seuil": 50}, headers=tech_headers).json()
    assert ("position_ecart", "IMB/46102/T/0110") in {
        (r["categorie"], r["imb_id"]) for r in close["lignes"]
    }
