"""OGC API - Features under /ogc: the documents of Part 1 Core, paging, bbox, datetime, and GDAL's
OAPIF driver reading the live service."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import uvicorn
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Connection

from geo_service.db.session import make_engine
from geo_service.ingest.gracethd import import_gracethd, import_gracethd_conn
from geo_service.ingest.ipe import import_ipe, import_ipe_conn
from geo_service.main import create_app
from geo_service.settings import Settings
from tests.browser.conftest import _free_port
from tests.conftest import create_scratch_database, drop_database
from tests.ingest.ipe_files import BUILDINGS, write_ipe

IPE_STATES = {
    "IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "2020-04-15"),
    "IMB/46102/T/0002": ("DEPLOYE", 4, "DEPLOYE", "2020-04-15"),
    "IMB/46102/T/0003": ("EN COURS DE DEPLOIEMENT", 3, "EN COURS DE DEPLOIEMENT", "2020-06-01"),
    "IMB/46102/T/0004": ("CIBLE", 2, "EN COURS DE DEPLOIEMENT", "2020-06-01"),
}
COLLECTION_IDS = [
    "zones",
    "communes",
    "epci",
    "locaux",
    "nro",
    "sites_mobiles",
    "bornes_wifi",
    "sites_med",
]
TO_WGS84 = Transformer.from_crs(2154, 4326, always_xy=True)


@pytest.fixture()
def network(connection: Connection, tmp_path: Path, gracethd_gpkg: Path) -> None:
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    ipe = write_ipe(tmp_path / "IPE_TEST_46_20200630.csv", IPE_STATES)
    import_ipe_conn(connection, ipe, territory="46", user="test")


def _all(client: TestClient, collection: str, **params: str | int) -> list[dict]:
    """Every feature, following the `next` links."""
    url: str | None = f"/ogc/collections/{collection}/items"
    features: list[dict] = []
    query: dict[str, str | int] | None = params
    while url:
        response = client.get(url, params=query)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/geo+json")
        body = response.json()
        features += body["features"]
        url = next((ln["href"] for ln in body["links"] if ln["rel"] == "next"), None)
        query = None
    return features


def test_landing_conformance_and_collections(client: TestClient) -> None:
    landing = client.get("/ogc").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conformance = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance
    body = client.get("/ogc/collections").json()
    assert [c["id"] for c in body["collections"]] == COLLECTION_IDS
    zones = client.get("/ogc/collections/zones").json()
    assert zones["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    west, south, east, north = zones["extent"]["spatial"]["bbox"][0]
    assert 0.9 < west < east < 2.3 and 44.1 < south < north < 45.1  # the Lot
    assert client.get("/ogc/collections/signalements").status_code == 404
    assert (
        client.get("/ogc/collections/signalements/items")
        .json()["detail"]
        .startswith("Collection inconnue")
    )


def test_zones_figures_as_of_datetime(client: TestClient, network: None) -> None:
    zones = {f["id"]: f["properties"] for f in _all(client, "zones")}
    # independent count from the IPE written above: buildings 1 and 2 (1 + 4 logements) are
    # DEPLOYE in TST01, none in TST02
    assert zones["TST01"]["logements"] == 5 and zones["TST01"]["raccordables"] == 5
    assert zones["TST02"]["logements"] == 5 and zones["TST02"]["raccordables"] == 0
    before = {f["id"]: f["properties"] for f in _all(client, "zones", datetime="2019-06-30")}
    assert before["TST01"]["raccordables"] == 0
    interval = _all(client, "zones", datetime="2019-01-01/2020-12-31T00:00:00Z")
    assert {f["id"]: f["properties"]["raccordables"] for f in interval}["TST01"] == 5
    bad = client.get("/ogc/collections/zones/items", params={"datetime": "hier"})
    assert bad.status_code == 400 and "datetime" in bad.json()["detail"]
    figeac = client.get("/ogc/collections/communes/items/46102").json()
    assert figeac["properties"]["nom"] == "Figeac"
    assert figeac["properties"]["raccordables"] == 5 and figeac["properties"]["logements"] == 10


def test_locaux_paging_bbox_and_public_fields(client: TestClient, network: None) -> None:
    first = client.get("/ogc/collections/locaux/items", params={"limit": 3}).json()
    assert first["numberMatched"] == 4 and first["numberReturned"] == 3
    assert any(link["rel"] == "next" for link in first["links"])
    everything = _all(client, "locaux", limit=3)
    assert [f["id"] for f in everything] == sorted(IPE_STATES)
    one = everything[0]
    assert set(one["properties"]) == {"identifiant", "etat", "logements", "insee", "commune"}
    lon, lat = TO_WGS84.transform(*BUILDINGS[one["id"]][2:4])
    assert one["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    # a bbox around the two western buildings only
    (x0, y0), (x1, y1) = (
        TO_WGS84.transform(621_400, 6_390_000),
        TO_WGS84.transform(621_900, 6_390_400),
    )
    west = _all(client, "locaux", bbox=f"{x0},{y0},{x1},{y1}")
    assert [f["id"] for f in west] == ["IMB/46102/T/0001", "IMB/46102/T/0002"]
    url = f"/ogc/collections/locaux/items/{quote('IMB/46102/T/0003', safe='')}"
    single = client.get(url)
    assert single.status_code == 200 and single.json()["properties"]["logements"] == 3
    assert client.get("/ogc/collections/locaux/items/inconnu").status_code == 404
    assert client.get("/ogc/collections/locaux/items", params={"bbox": "1,2,3"}).status_code == 400


@pytest.fixture(scope="module")
def live_ogc(gracethd_gpkg: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server on a small scratch database (the GraceTHD fixture and one IPE file)."""
    url = create_scratch_database("ogc")
    engine = make_engine(url)
    import_gracethd(engine, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="t")
    ipe = write_ipe(tmp_path_factory.mktemp("ogc") / "IPE_TEST_46_20200630.csv", IPE_STATES)
    import_ipe(engine, ipe, territory="46", user="t")
    engine.dispose()
    port = _free_port()
    app = create_app(Settings(database_url=url, departement="46"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    drop_database(url)


_GDAL_READ = """
import json, sys
import pyogrio
source, layers = sys.argv[1], sys.argv[2:]
out = {"drivers": "OAPIF" in pyogrio.list_drivers(),
       "layers": [str(name) for name, _ in pyogrio.list_layers(source)]}
for layer in layers:
    out[layer] = json.loads(pyogrio.read_dataframe(source, layer=layer).to_json(default=str))
print(json.dumps(out))
"""


def test_gdal_oapif_driver_reads_the_service(live_ogc: str) -> None:
    """GDAL in another process (pyogrio holds the GIL while GDAL waits on this server's thread)."""
    import httpx

    layers = ["zones", "locaux", "communes"]
    done = subprocess.run(
        [sys.executable, "-c", _GDAL_READ, f"OAPIF:{live_ogc}/ogc", *layers],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    gdal = json.loads(done.stdout)
    assert gdal["drivers"]
    assert gdal["layers"] == COLLECTION_IDS
    keys = {"zones": "reference", "locaux": "identifiant", "communes": "insee"}
    for layer in layers:
        body = httpx.get(f"{live_ogc}/ogc/collections/{layer}/items?limit=10000").json()
        read = {f["properties"][keys[layer]]: f["properties"] for f in gdal[layer]["features"]}
        assert len(read) == body["numberMatched"] == len(body["features"])
        for feature in body["features"]:
            props = read[feature["properties"][keys[layer]]]
            for name in ("logements", "raccordables", "etat", "nom", "taux"):
                if name in feature["properties"]:
                    assert props[name] == feature["properties"][name], (layer, name)
    zones = {f["properties"]["reference"]: f["properties"] for f in gdal["zones"]["features"]}
    assert zones["TST01"]["raccordables"] == 5
