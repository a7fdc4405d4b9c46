"""Named polygon layers (the regional natural park `pnr`): GeoJSON in WGS84, GeoPackage and
shapefile in Lambert-93, reprojected to Lambert-93; a new file replaces the layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from pyproj import Transformer
from shapely import wkb
from shapely.geometry import Polygon, shape
from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError, InvalidParameterError
from geo_service.ingest.couche import import_couche_conn
from tests.conftest import FIXTURES
from tests.fixtures.couches.make_fixture import ZONES, write_gpkg, write_shapefile_zip

PARK = FIXTURES / "couches" / "pnr_causses_du_quercy.geojson"
LAYER = (
    "SELECT feature_no, libelle, attributs, ST_AsBinary(geom) AS g, ST_SRID(geom) AS srid"
    " FROM named_layer WHERE territory_code = '46' AND nom = :n ORDER BY feature_no"
)


def test_geojson_in_wgs84_is_reprojected_to_lambert93(connection: Connection) -> None:
    result = import_couche_conn(connection, "pnr", PARK, territory="46", user="t")
    assert result.status == "OK"
    [row] = connection.execute(text(LAYER), {"n": "pnr"}).all()
    assert (row.libelle, row.srid) == ("Causses du Quercy", 2154)
    assert row.attributs == {
        "id_mnhn": "FR8000017",
        "nom_site": "Causses du Quercy",
        "surface_ha": 185000,
    }
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True).transform
    feature = json.loads(PARK.read_text())["features"][0]
    expected = shapely.transform(shape(feature["geometry"]), to_l93, interleaved=False)
    stored = wkb.loads(bytes(row.g))
    assert stored.geom_type == "MultiPolygon"
    assert stored.symmetric_difference(expected).area < 1.0  # m², of ~250 km²
    assert stored.area == pytest.approx(expected.area, rel=1e-6)


def test_geopackage_replaces_the_previous_version(connection: Connection, tmp_path: Path) -> None:
    import_couche_conn(connection, "zones", PARK, territory="46", user="t")
    gpkg = write_gpkg(tmp_path / "zones.gpkg")
    result = import_couche_conn(connection, "zones", gpkg, territory="46", user="t")
    rows = connection.execute(text(LAYER), {"n": "zones"}).all()
    assert [(r.feature_no, r.libelle) for r in rows] == [
        (1, "Zone de Figeac"),
        (2, "Zone de Gramat"),
    ]
    for row, (_, polygon) in zip(rows, ZONES, strict=True):
        assert wkb.loads(bytes(row.g)).equals(polygon)
    assert import_couche_conn(connection, "zones", gpkg, territory="46").status == "DEJA_IMPORTE"
    change = connection.execute(
        text(
            "SELECT before->>'entites', after->>'entites', import_id FROM asset_change"
            " WHERE table_name = 'named_layer' AND object_key = '46/zones' ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert tuple(change) == ("1", "2", result.journal_id)
    # another layer of the territory is untouched
    assert connection.execute(text(LAYER), {"n": "pnr"}).all() == []


def test_zipped_shapefile(connection: Connection, tmp_path: Path) -> None:
    archive = write_shapefile_zip(tmp_path)
    assert import_couche_conn(connection, "zones", archive, territory="46").status == "OK"
    labels = [r.libelle for r in connection.execute(text(LAYER), {"n": "zones"})]
    assert labels == ["Zone de Figeac", "Zone de Gramat"]


def test_unsafe_name_is_refused(connection: Connection) -> None:
    for name in ("PNR", "pnr; DROP TABLE commune", "../pnr", "", "9pnr"):
        with pytest.raises(InvalidParameterError):
            import_couche_conn(connection, name, PARK, territory="46")


def test_layer_outside_the_territory_or_not_polygons_is_refused(
    connection: Connection, tmp_path: Path
) -> None:
    far = tmp_path / "ailleurs.geojson"
    square = Polygon([(5.0, 48.0), (5.1, 48.0), (5.1, 48.1), (5.0, 48.1)])
    far.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {}, "geometry": square.__geo_interface__}
                ],
            }
        )
    )
    with pytest.raises(ImportRejectedError, match="aucune entité ne touche le territoire 46"):
        import_couche_conn(connection, "pnr", far, territory="46")
    points = tmp_path / "points.geojson"
    points.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [1.6, 44.7]},
                    }
                ],
            }
        )
    )
    with pytest.raises(ImportRejectedError) as caught:
        import_couche_conn(connection, "pnr", points, territory="46")
    assert [(p["line"], p["value"], p["reason"]) for p in caught.value.problems] == [
        (1, "Point", "polygone attendu")
    ]
