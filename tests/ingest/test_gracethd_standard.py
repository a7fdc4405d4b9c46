"""GraceTHD deliverables written to the standard (GraceTHD-MCD 2.0.x, and the 3.x column set):
value lists as codes or labels, sites located by their node, the deliverable's date, and the
README's order (GraceTHD dated today, then older IPE snapshots)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import MultiPolygon, Point
from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.ipe import import_ipe_conn
from tests.fixtures.gracethd.make_fixture import EAST, WEST
from tests.ingest.ipe_files import write_ipe

NODES = {
    "ND-NRO": Point(622_700, 6_390_200),
    "ND-PM1": Point(621_500, 6_390_000),
    "ND-PM2": Point(623_800, 6_390_000),
    "ND-SE1": Point(623_000, 6_391_000),
    "ND-SE2": Point(622_720, 6_390_220),
    "ND-SE3": Point(622_000, 6_389_000),
}
CODES = {
    "zs_etatpm": ["DP", "EC"],
    "zn_etat": "DP",
    "st_typelog": ["NRO", "SRO", "SRO"],
    "se_type": ["TEL", "WIFI", "FH"],
}
LABELS = {
    "zs_etatpm": ["Déployé", "EN COURS DE DEPLOIEMENT"],
    "zn_etat": "DEPLOYE",
    "st_typelog": [
        "NŒUD RACCORDEMENT OPTIQUE",
        "Sous-répartiteur optique",
        "SOUS-REPARTITEUR OPTIQUE",
    ],
    "se_type": ["RADIO TELEPHONIE", "WIFI", "FAISCEAU HERTZIEN"],
}


def write_standard(target: Path, values: dict[str, object], *, version: str = "2.0") -> Path:
    """A deliverable laid out as GraceTHD-MCD: zones with geometry, sites and emission sites as
    attribute tables pointing at t_noeud (3.x: t_site, timestamps, CLIENT / RESEAU sites)."""
    target.unlink(missing_ok=True)
    v3 = version.startswith("3")
    gpd.GeoDataFrame({"nd_code": list(NODES)}, geometry=list(NODES.values()), crs=2154).to_file(
        target, layer="t_noeud", driver="GPKG"
    )
    gpd.GeoDataFrame(
        {
            "zn_code": ["ZN46102"],
            "zn_nd_code": ["ND-NRO"],
            "zn_nroref": ["NRO46102"],
            "zn_etat": [values["zn_etat"]],
        },
        geometry=[MultiPolygon([WEST, EAST])],
        crs=2154,
    ).to_file(target, layer="t_znro", driver="GPKG")
    gpd.GeoDataFrame(
        {
            "zs_code": ["ZS-TST01", "ZS-TST02"],
            "zs_nd_code": ["ND-PM1", "ND-PM2"],
            "zs_zn_code": ["ZN46102", "ZN46102"],
            "zs_refpm": ["TST01", "TST02"],
            "zs_etatpm": values["zs_etatpm"],
            "zs_nblogmt": [3, 2],
            "zs_dateins": ["2019-02-01T00:00:00" if v3 else "2019-02-01", ""],
            "zs_datcomr": ["2019-05-01", "2022-03-31T00:00:00" if v3 else "2022-03-31"],
        },
        geometry=[MultiPolygon([WEST]), MultiPolygon([EAST])],
        crs=2154,
    ).to_file(target, layer="t_zsro", driver="GPKG")
    sites = pd.DataFrame(
        {
            "st_code": ["ST00001", "ST00002", "ST00003"],
            "st_nd_code": ["ND-NRO", "ND-PM1", "ND-PM2"],
            "st_nom": ["NRO de Figeac", "Armoire TST01", "Armoire TST02"],
            "st_statut": ["REC", "REC", "REC"],
            "st_typephy": ["BAT", "ADR", "ADR"],
            "st_typelog": ["RESEAU"] * 3 if v3 else values["st_typelog"],
            "st_avct": ["E", "E", "E"],
            "st_dateins": ["2019-01-15", "", ""],
        }
    )
    pyogrio.write_dataframe(sites, target, layer="t_site" if v3 else "t_sitetech", driver="GPKG")
    emission = pd.DataFrame(
        {
            "se_code": ["SE00001", "SE00002", "SE00003"],
            "se_nd_code": ["ND-SE1", "ND-SE2", "ND-SE3"],
            "se_anfr": ["0461234", "", ""],
            "se_statut": ["REC", "REC", "REC"],
            "se_etat": ["OK", "OK", "OK"],
            "se_type": values["se_type"],
        }
    )
    pyogrio.write_dataframe(emission, target, layer="t_siteemission", driver="GPKG")
    return target


def _network(conn: Connection) -> dict[str, object]:
    pms = conn.execute(
        text(
            "SELECT reference, etat, nro_code, date_installation, nb_logements_prevus, "
            "ST_AsText(geom) AS point FROM pm ORDER BY reference"
        )
    ).all()
    nro = conn.execute(
        text("SELECT code, nom, date_installation, ST_AsText(geom) AS point FROM nro")
    ).all()
    mobiles = conn.execute(text("SELECT code, insee, anfr, ST_AsText(geom) FROM mobile_site")).all()
    bornes = conn.execute(text("SELECT code, ST_AsText(geom) FROM wifi_borne")).all()
    return {
        "pm": [tuple(r) for r in pms],
        "nro": [tuple(r) for r in nro],
        "mobile": [tuple(r) for r in mobiles],
        "bornes": [tuple(r) for r in bornes],
    }


EXPECTED = {
    "pm": [
        ("TST01", "DEPLOYE", "NRO46102", date(2019, 2, 1), 3, "POINT(621500 6390000)"),
        ("TST02", "EN COURS DE DEPLOIEMENT", "NRO46102", None, 2, "POINT(623800 6390000)"),
    ],
    "nro": [("NRO46102", "NRO de Figeac", date(2019, 1, 15), "POINT(622700 6390200)")],
    "mobile": [("SE00001", "46102", "0461234", "POINT(623000 6391000)")],
    "bornes": [("SE00002", "POINT(622720 6390220)")],
}


def test_a_deliverable_with_the_standards_codes_imports(
    connection: Connection, tmp_path: Path
) -> None:
    path = write_standard(tmp_path / "livrable_gracethd_46_20240630.gpkg", CODES)
    result = import_gracethd_conn(connection, path, territory="46", user="test")
    assert (result.status, result.snapshot_date) == ("OK", date(2024, 6, 30))
    assert _network(connection) == EXPECTED
    # the FH (faisceau hertzien) emission site is read but is neither a mobile site nor a borne
    assert result.counts["sites_mobiles"] == 1 and result.counts["bornes_wifi"] == 1


def test_labels_are_still_accepted_whatever_their_accents_and_case(
    connection: Connection, tmp_path: Path
) -> None:
    path = write_standard(tmp_path / "livrable.gpkg", LABELS)
    import_gracethd_conn(
        connection, path, territory="46", snapshot_date=date(2024, 6, 30), user="test"
    )
    assert _network(connection) == EXPECTED


def test_the_3x_column_set_locates_pm_and_nro_by_their_zones_nodes(
    connection: Connection, tmp_path: Path
) -> None:
    path = write_standard(tmp_path / "livrable_v3_20240630.gpkg", CODES, version="3.1")
    result = import_gracethd_conn(connection, path, territory="46", user="test")
    assert result.status == "OK" and "sites_pm" not in result.counts  # RESEAU sites: no PM
    network = _network(connection)
    assert network["pm"] == EXPECTED["pm"]  # timestamps read as dates, points from zs_nd_code
    assert [(n[0], n[3]) for n in network["nro"]] == [("NRO46102", "POINT(622700 6390200)")]


def test_a_folder_of_shapefiles_and_csv_tables_imports_like_the_geopackage(
    connection: Connection, tmp_path: Path
) -> None:
    gpkg = write_standard(tmp_path / "livrable.gpkg", CODES)
    folder = tmp_path / "livraison_20240630"
    folder.mkdir()
    for layer, geometry in pyogrio.list_layers(gpkg):
        frame = pyogrio.read_dataframe(gpkg, layer=layer)
        if geometry is None:  # GraceTHD's shpcsv layout: attribute tables as `;` CSV
            frame.to_csv(folder / f"{layer}.csv", sep=";", index=False)
        else:
            frame.to_file(folder / f"{layer}.shp")
    import_gracethd_conn(connection, folder, territory="46", user="test")
    assert _network(connection) == EXPECTED


def test_a_code_outside_the_list_is_refused_with_its_place_and_reason(
    connection: Connection, tmp_path: Path
) -> None:
    values = {**CODES, "zs_etatpm": ["DP", "XX"]}
    path = write_standard(tmp_path / "livrable_20240630.gpkg", values)
    with pytest.raises(ImportRejectedError) as caught:
        import_gracethd_conn(connection, path, territory="46", user="test")
    assert caught.value.problems == [
        {
            "file": "livrable_20240630.gpkg",
            "layer": "t_zsro",
            "line": 2,
            "column": "t_zsro.zs_etatpm",
            "value": "XX",
            "reason": "valeur absente de la liste GraceTHD l_sro_etat (codes PL, EC, DP, AB, "
            "ou leurs libellés)",
        }
    ]
    assert "rien n'a été importé" in caught.value.message
    assert connection.execute(text("SELECT count(*) FROM pm")).scalar_one() == 0


def test_a_site_without_geometry_or_node_is_refused(connection: Connection, tmp_path: Path) -> None:
    path = write_standard(tmp_path / "livrable_20240630.gpkg", CODES)
    sites = pyogrio.read_dataframe(path, layer="t_sitetech")
    sites.loc[2, "st_nd_code"] = "ND-ABSENT"
    pyogrio.write_dataframe(sites, path, layer="t_sitetech", driver="GPKG")
    with pytest.raises(ImportRejectedError) as caught:
        import_gracethd_conn(connection, path, territory="46", user="test")
    assert [(p["layer"], p["line"], p["column"]) for p in caught.value.problems] == [
        ("t_sitetech", 3, "t_sitetech.geometry")
    ]
    assert "st_nd_code dans t_noeud" in caught.value.problems[0]["reason"]


def test_without_a_date_the_deliverable_is_refused_asking_for_date(
    connection: Connection, tmp_path: Path
) -> None:
    path = write_standard(tmp_path / "livrable.gpkg", CODES)
    with pytest.raises(ImportRejectedError, match="--date AAAA-MM-JJ") as caught:
        import_gracethd_conn(connection, path, territory="46", user="test")
    assert caught.value.problems[0]["file"] == "livrable.gpkg"
    assert connection.execute(text("SELECT count(*) FROM pm")).scalar_one() == 0


def test_readme_order_gracethd_of_today_then_older_ipe_snapshots(
    connection: Connection, tmp_path: Path
) -> None:
    today = date.today()
    path = write_standard(tmp_path / "livrable.gpkg", CODES)
    import_gracethd_conn(connection, path, territory="46", snapshot_date=today, user="test")
    first = write_ipe(
        tmp_path / "IPE_TEST_46_20200331.csv",
        {
            "IMB/46102/T/0001": ("CIBLE", 1, "PLANIFIE", ""),
            "IMB/46102/T/0003": ("CIBLE", 1, "PLANIFIE", ""),
        },
    )
    second = write_ipe(
        tmp_path / "IPE_TEST_46_20200630.csv",
        {
            "IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "2020-04-15"),
            "IMB/46102/T/0003": ("CIBLE", 1, "PLANIFIE", ""),
        },
    )
    assert import_ipe_conn(connection, first, territory="46", user="t").status == "OK"
    assert import_ipe_conn(connection, second, territory="46", user="t").status == "OK"
    periods = connection.execute(
        text(
            "SELECT pm_reference, etat, valid_from, valid_to FROM pm_history "
            "ORDER BY pm_reference, valid_from"
        )
    ).all()
    assert [tuple(p) for p in periods] == [
        ("TST01", "PLANIFIE", date(2020, 3, 31), date(2020, 6, 30)),
        ("TST01", "DEPLOYE", date(2020, 6, 30), today),
        ("TST01", "DEPLOYE", today, None),
        ("TST02", "PLANIFIE", date(2020, 3, 31), today),
        ("TST02", "EN COURS DE DEPLOIEMENT", today, None),
    ]
    # the current state is the delivery's (the latest date), the IPE's the past
    assert (
        connection.execute(text("SELECT etat FROM pm WHERE reference = 'TST02'")).scalar_one()
        == "EN COURS DE DEPLOIEMENT"
    )
    # the IPE's own order is still enforced
    with pytest.raises(ImportRejectedError, match="antérieur"):
        import_ipe_conn(
            connection,
            write_ipe(
                tmp_path / "IPE_TEST_46_20200415.csv",
                {"IMB/46102/T/0001": ("CIBLE", 1, "PLANIFIE", "")},
            ),
            territory="46",
        )
