"""/tiles/{layer}/{z}/{x}/{y}.pbf: decoded tiles hold exactly the expected features.

Expected contents are computed independently: premises' Lambert-93 coordinates projected to Web
Mercator with pyproj, tile bounds with the XYZ formulas written below, counts from the inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Connection, text

from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.ipe import import_ipe_conn
from tests.ingest.ipe_files import write_ipe

WORLD = 2 * math.pi * 6_378_137.0
EXTENT, BUFFER = 4096, 64
TO_MERCATOR = Transformer.from_crs(2154, 3857, always_xy=True)
IPE_STATES = {
    "IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "2020-04-15"),
    "IMB/46102/T/0002": ("DEPLOYE", 4, "DEPLOYE", "2020-04-15"),
    "IMB/46102/T/0003": ("EN COURS DE DEPLOIEMENT", 3, "EN COURS DE DEPLOIEMENT", "2020-06-01"),
    "IMB/46102/T/0004": ("CIBLE", 2, "EN COURS DE DEPLOIEMENT", "2020-06-01"),
}
ETATS = ("DEPLOYE", "CIBLE", "SIGNE", "RACCORDABLE DEMANDE", "EN COURS DE DEPLOIEMENT")


@dataclass(frozen=True)
class Premise:
    identifiant: str
    etat: str
    logements: int
    pm: str
    x: float  # Lambert-93
    y: float
    removed: bool = False


def synthetic_grid() -> list[Premise]:
    """A grid of premises across Figeac (both PM zones, over several z14 tile edges)."""
    grid = []
    for i in range(15):
        for j in range(9):
            x, y = 620_100 + i * 320.0 + j * 7.5, 6_388_200 + j * 480.0 + i * 3.25
            n = i * 9 + j
            grid.append(
                Premise(
                    f"IMB/46102/G/{n:04d}",
                    ETATS[n % len(ETATS)],
                    1 + n % 4,
                    "TST01" if x < 622_700 else "TST02",
                    x,
                    y,
                    removed=n % 17 == 5,
                )
            )
    return grid


@pytest.fixture()
def premises(connection: Connection, tmp_path: Path, gracethd_gpkg: Path) -> list[Premise]:
    """The Figeac test network: GraceTHD zones, an IPE snapshot, and the grid (inserted as rows)."""
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    ipe = write_ipe(tmp_path / "IPE_TEST_46_20200630.csv", IPE_STATES)
    import_ipe_conn(connection, ipe, territory="46", user="test")
    grid = synthetic_grid()
    connection.execute(
        text(
            "INSERT INTO premise (identifiant_immeuble, insee, logements, etat, pm_reference, "
            "amii, removed_on, geom) VALUES (:i, '46102', :l, :e, :pm, false, :r, "
            "ST_SetSRID(ST_MakePoint(:x, :y), 2154))"
        ),
        [
            {
                "i": p.identifiant,
                "l": p.logements,
                "e": p.etat,
                "pm": p.pm,
                "r": date(2021, 1, 1) if p.removed else None,
                "x": p.x,
                "y": p.y,
            }
            for p in grid
        ],
    )
    rows = connection.execute(
        text(
            "SELECT identifiant_immeuble, etat, logements, pm_reference, ST_X(geom), ST_Y(geom), "
            "removed_on IS NOT NULL FROM premise WHERE identifiant_immeuble LIKE 'IMB/46102/T/%'"
        )
    ).all()
    assert len(rows) == 4
    return [Premise(*row) for row in rows] + grid


def tile_of(mx: float, my: float, z: int) -> tuple[int, int]:
    size = WORLD / 2**z
    return int((mx + WORLD / 2) // size), int((WORLD / 2 - my) // size)


def pixel(mx: float, my: float, z: int, x: int, y: int) -> tuple[float, float]:
    """Position in the tile's 4096 grid (origin top-left, y down)."""
    size = WORLD / 2**z
    left, top = -WORLD / 2 + x * size, WORLD / 2 - y * size
    return (mx - left) / size * EXTENT, (top - my) / size * EXTENT


def inside(value: float, margin: float = 0.0) -> bool:
    return -BUFFER + margin <= value <= EXTENT + BUFFER - margin


def decode(content: bytes) -> dict:
    return mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})


def get_tile(client: TestClient, layer: str, z: int, x: int, y: int) -> dict:
    response = client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return decode(response.content)


def test_z14_tile_holds_exactly_the_premises_inside_it(
    client: TestClient, premises: list[Premise]
) -> None:
    z = 14
    first = next(p for p in premises if p.identifiant == "IMB/46102/T/0001")
    tx, ty = tile_of(*TO_MERCATOR.transform(first.x, first.y), z)
    expected, doubtful = {}, set()
    for p in premises:
        px, py = pixel(*TO_MERCATOR.transform(p.x, p.y), z, tx, ty)
        if p.removed:
            continue
        if inside(px, 1) and inside(py, 1):
            expected[p.identifiant] = (p, px, py)
        elif inside(px, -1) and inside(py, -1):
            doubtful.add(p.identifiant)  # within a pixel of the buffer's edge
    assert 20 < len(expected) < len(premises) - 20  # a real partition, not all or nothing

    features = get_tile(client, "prises", z, tx, ty)["prises"]["features"]
    got = {f["properties"]["identifiant"]: f for f in features}
    assert set(expected) <= set(got) <= set(expected) | doubtful
    for ident, (p, px, py) in expected.items():
        feature = got[ident]
        assert feature["properties"] == {
            "identifiant": p.identifiant,
            "etat": p.etat,
            "logements": p.logements,
            "pm": p.pm,
            "insee": "46102",
            "amii": False,
        }
        gx, gy = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Point"
        assert abs(gx - px) <= 1 and abs(gy - py) <= 1


def test_every_premise_appears_in_the_tile_that_contains_it(
    client: TestClient, premises: list[Premise]
) -> None:
    z, seen = 14, set()
    tiles = {tile_of(*TO_MERCATOR.transform(p.x, p.y), z) for p in premises}
    for tx, ty in tiles:
        layer = get_tile(client, "prises", z, tx, ty).get("prises", {"features": []})
        seen |= {f["properties"]["identifiant"] for f in layer["features"]}
    assert seen == {p.identifiant for p in premises if not p.removed}


def test_zone_tile_carries_the_current_share_of_raccordables(
    client: TestClient, premises: list[Premise]
) -> None:
    z = 11
    tx, ty = tile_of(*TO_MERCATOR.transform(622_700, 6_390_200), z)
    zones = get_tile(client, "zones", z, tx, ty)["zones"]["features"]
    props = {f["properties"]["reference"]: f["properties"] for f in zones}
    assert set(props) == {"TST01", "TST02"}
    for ref, zone in props.items():
        mine = [p for p in premises if p.pm == ref and not p.removed]
        logements = sum(p.logements for p in mine)
        raccordables = sum(p.logements for p in mine if p.etat == "DEPLOYE")
        assert (zone["logements"], zone["raccordables"]) == (logements, raccordables)
        assert zone["taux_raccordables"] == pytest.approx(100 * raccordables / logements, abs=0.05)
        assert zone["nro"] == "NRO46102"
    assert {f["geometry"]["type"] for f in zones} <= {"Polygon", "MultiPolygon"}


def test_communes_layer_names_the_communes(client: TestClient, premises: list[Premise]) -> None:
    tx, ty = tile_of(*TO_MERCATOR.transform(622_700, 6_390_200), 12)
    communes = get_tile(client, "communes", 12, tx, ty)["communes"]["features"]
    names = {f["properties"]["insee"]: f["properties"]["nom"] for f in communes}
    assert names["46102"] == "Figeac"
    assert all(set(f["properties"]) == {"insee", "nom"} for f in communes)


def test_low_zoom_aggregates_premises_per_commune(
    client: TestClient, connection: Connection, premises: list[Premise]
) -> None:
    z = 8
    minx, miny, maxx, maxy = connection.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(ST_Transform(geom, 3857)) AS e FROM territory WHERE code = '46') t"
        )
    ).one()
    (x0, y0), (x1, y1) = tile_of(minx, maxy, z), tile_of(maxx, miny, z)
    by_commune: dict[str, dict] = {}
    for tx in range(x0, x1 + 1):
        for ty in range(y0, y1 + 1):
            tile = get_tile(client, "prises", z, tx, ty)
            for feature in tile.get("prises", {"features": []})["features"]:
                props = feature["properties"]
                assert "identifiant" not in props
                assert by_commune.setdefault(props["insee"], props) == props  # buffer duplicates
    live = [p for p in premises if not p.removed]
    assert set(by_commune) == {"46102"}
    assert by_commune["46102"]["nom"] == "Figeac"
    assert sum(c["immeubles"] for c in by_commune.values()) == len(live)
    assert sum(c["logements"] for c in by_commune.values()) == sum(p.logements for p in live)
    assert sum(c["raccordables"] for c in by_commune.values()) == sum(
        p.logements for p in live if p.etat == "DEPLOYE"
    )


def test_tile_outside_the_territory_is_empty(client: TestClient, premises: list[Premise]) -> None:
    tx, ty = tile_of(*TO_MERCATOR.transform(652_000, 6_862_000), 14)  # Paris
    for layer in ("prises", "zones", "communes"):
        response = client.get(f"/tiles/{layer}/14/{tx}/{ty}.pbf")
        assert response.status_code == 200
        assert response.content == b""
        assert decode(response.content) == {}


@pytest.mark.parametrize(
    "path",
    ["23/0/0", "-1/0/0", "3/8/0", "3/0/8", "3/-1/2", "14/abc/3", "0/0/1"],
)
def test_out_of_range_tiles_are_refused_in_french(client: TestClient, path: str) -> None:
    response = client.get(f"/tiles/prises/{path}.pbf")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Tuile invalide")


@pytest.mark.parametrize("layer", ["premise", "prises;DROP TABLE premise", "PRISES"])
def test_unknown_layer_is_404(client: TestClient, layer: str) -> None:
    response = client.get(f"/tiles/{layer}/0/0/0.pbf")
    assert response.status_code == 404
    assert "Couche de tuiles inconnue" in response.json()["detail"]


def test_etag_and_if_none_match(client: TestClient, premises: list[Premise]) -> None:
    tx, ty = tile_of(*TO_MERCATOR.transform(621_500, 6_390_100), 14)
    url = f"/tiles/prises/14/{tx}/{ty}.pbf"
    first, second = client.get(url), client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag == second.headers["etag"]
    assert first.content and first.content == second.content
    assert first.headers["cache-control"].startswith("public, max-age=")

    cached = client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == etag
    several = client.get(url, headers={"If-None-Match": f'"autre", W/{etag}'})
    assert several.status_code == 304
    stale = client.get(url, headers={"If-None-Match": '"perime"'})
    assert stale.status_code == 200 and stale.content == first.content
    other = client.get(f"/tiles/prises/14/{tx + 1}/{ty}.pbf")
    assert other.headers["etag"] != etag


def test_prises_switch_from_communes_to_buildings_at_zoom_12(
    client: TestClient, premises: list[Premise]
) -> None:
    mx, my = TO_MERCATOR.transform(621_500, 6_390_100)
    at_11 = get_tile(client, "prises", 11, *tile_of(mx, my, 11))["prises"]["features"]
    at_12 = get_tile(client, "prises", 12, *tile_of(mx, my, 12))["prises"]["features"]
    assert [set(f["properties"]) for f in at_11] == [
        {"insee", "nom", "amii", "immeubles", "logements", "raccordables"}
    ]
    assert at_12 and all("identifiant" in f["properties"] for f in at_12)


def test_zones_as_of_a_date_follow_the_history(demo_client) -> None:  # type: ignore[no-untyped-def]
    """The replay tiles give each zone's rate on that date (checked against the API)."""
    import mapbox_vector_tile

    z, x, y = 9, 257, 185
    early = mapbox_vector_tile.decode(
        demo_client.get(f"/tiles/zones/{z}/{x}/{y}.pbf", params={"as_of": "2019-12-31"}).content
    )
    late = mapbox_vector_tile.decode(demo_client.get(f"/tiles/zones/{z}/{x}/{y}.pbf").content)
    rates = {
        f["properties"]["reference"]: f["properties"]["taux_raccordables"]
        for f in early["zones"]["features"]
    }
    expected = {
        r["code"]: r["taux"]
        for r in demo_client.get(
            "/api/v1/stats/raccordables", params={"level": "pm", "as_of": "2019-12-31"}
        ).json()
    }
    rip = {ref: rate for ref, rate in rates.items() if ref in expected}  # AMII zones apart
    assert rip and all(abs(rip[ref] - expected[ref]) < 0.06 for ref in rip)
    assert sum(rates.values()) < sum(
        f["properties"]["taux_raccordables"] or 0 for f in late["zones"]["features"]
    )
