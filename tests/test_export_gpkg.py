"""GeoPackage export (GET /api/v1/export/donnees.gpkg and `geo-service export gpkg`): read back
with pyogrio, its layers, counts and values equal the OGC API's JSON."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyogrio
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from typer.testing import CliRunner

from geo_service.cli import app
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.ipe import import_ipe_conn
from geo_service.settings import Settings
from tests.api.test_ogc import COLLECTION_IDS, IPE_STATES
from tests.ingest.ipe_files import write_ipe

KEYS = {"zones": "reference", "communes": "insee", "epci": "siren", "locaux": "identifiant"}


def _api(client: TestClient, layer: str) -> dict:
    body = client.get(f"/ogc/collections/{layer}/items", params={"limit": 10_000}).json()
    assert body["numberReturned"] == body["numberMatched"]
    return body


def test_gpkg_download_equals_the_api(
    client: TestClient, connection: Connection, tmp_path: Path, gracethd_gpkg: Path
) -> None:
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    ipe = write_ipe(tmp_path / "IPE_TEST_46_20200630.csv", IPE_STATES)
    import_ipe_conn(connection, ipe, territory="46", user="test")

    response = client.get("/api/v1/export/donnees.gpkg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geopackage+sqlite3"
    assert 'filename="donnees_46.gpkg"' in response.headers["content-disposition"]
    path = tmp_path / "donnees.gpkg"
    path.write_bytes(response.content)

    assert [str(name) for name, _ in pyogrio.list_layers(path)] == COLLECTION_IDS
    for layer, key in KEYS.items():
        api = _api(client, layer)
        frame = pyogrio.read_dataframe(path, layer=layer)
        assert frame.crs.to_epsg() == 4326
        assert len(frame) == api["numberMatched"]
        rows = frame.set_index(key)
        for feature in api["features"]:
            row = rows.loc[feature["properties"][key]]
            for name, value in feature["properties"].items():
                if value is None or name == key:
                    continue
                got = row[name]
                got = got.isoformat()[:10] if hasattr(got, "isoformat") else got
                assert got == value, (layer, name)
            if feature["geometry"]["type"] == "Point":
                assert [row.geometry.x, row.geometry.y] == feature["geometry"]["coordinates"]
    zones = pyogrio.read_dataframe(path, layer="zones").set_index("reference")
    assert zones.loc["TST01", "raccordables"] == 5  # buildings 1 and 2 (1 + 4 logements)
    assert "adresse" not in pyogrio.read_dataframe(path, layer="locaux").columns
    assert "nom_voie" not in pyogrio.read_dataframe(path, layer="locaux").columns

    info = pyogrio.read_info(path, layer="locaux")
    assert info["layer_metadata"]["SOURCE"] == "IPE des opérateurs"
    assert info["layer_metadata"]["DATE"] == "2020-06-30"
    contents = pyogrio.read_dataframe(
        path,
        sql="SELECT table_name, description FROM gpkg_contents",
        # a GeoPackage file is an SQLite file: GDAL reads its metadata table (the data under
        # test came from the real PostGIS, nothing is mocked)
        sql_dialect="SQLITE",
        read_geometry=False,
    )
    descriptions = dict(zip(contents["table_name"], contents["description"], strict=True))
    assert "IPE des opérateurs (données du 2020-06-30)" in descriptions["locaux"]
    assert "GraceTHD (données du 2019-01-01)" in descriptions["nro"]
    assert "chiffres au" in descriptions["zones"]


def test_cli_writes_the_same_layers(
    client: TestClient, settings: Settings, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", settings.libpq_url)
    path = tmp_path / "sortie.gpkg"
    result = CliRunner().invoke(app, ["export", "gpkg", str(path), "--departement", "46"])
    assert result.exit_code == 0, result.output
    assert "8 couches écrites" in result.output
    assert [str(name) for name, _ in pyogrio.list_layers(path)] == COLLECTION_IDS
    # this database holds the reference geography only: communes and EPCI, empty networks
    for layer in ("communes", "epci", "locaux", "nro"):
        assert (
            len(pyogrio.read_dataframe(path, layer=layer)) == _api(client, layer)["numberMatched"]
        )
    bad = CliRunner().invoke(app, ["export", "gpkg", str(path), "--date", "hier"])
    assert bad.exit_code != 0 and "date invalide" in bad.output
