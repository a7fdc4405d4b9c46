"""ANFR export read as published: positions, territory by geometry, labels from the reference
tables, technologies and service dates, re-import, newer exports with history and removals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.anfr import import_anfr_conn
from geo_service.ingest.anfr_reader import TABLES
from tests.fixtures.anfr.variants import EXPORT, as_published, lines_of, replace, variant

# The fixture's DMS, read by eye from SUP_SUPPORT.txt: (deg, min, sec, hemisphere) lat, lon.
DMS = {
    1001: ((44, 51, 0.4, "N"), (1, 53, 8.7, "E")),  # Saint-Céré
    1002: ((44, 36, 25.2, "N"), (2, 1, 33.5, "E")),  # Figeac
    1003: ((44, 54, 2.4, "N"), (2, 1, 54.0, "E")),  # Sousceyrac-en-Quercy, COM_CD_INSEE 15012
    2001: ((45, 2, 24.0, "N"), (1, 36, 0.0, "E")),  # Corrèze, though COM_CD_INSEE says 46309
    2002: ((44, 50, 16.0, "N"), (0, 34, 46.0, "W")),  # Bordeaux
    2003: ((20, 52, 48.0, "S"), (55, 26, 53.0, "E")),  # La Réunion
}
LOT_STATIONS = {"0462510001", "0462510002", "0461020001", "0463110001"}
_TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)


def _degrees(dms: tuple[int, int, float, str]) -> float:
    d, m, s, hemisphere = dms
    value = d + m / 60 + s / 3600
    return -value if hemisphere in "SW" else value


def _import(conn: Connection, path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return import_anfr_conn(conn, path, territory="46", user="test", **kwargs)  # type: ignore[arg-type]


def _lot(conn: Connection) -> shapely.Geometry:
    wkbs = conn.execute(
        text("SELECT ST_AsBinary(geom) FROM commune WHERE territory_code = '46'")
    ).scalars()
    return shapely.union_all([shapely.from_wkb(bytes(w)) for w in wkbs])


def test_positions_territory_and_labels(connection: Connection) -> None:
    result = _import(connection, EXPORT)
    assert result.status == "OK", result.problems
    stored = {
        r.sup_id: r
        for r in connection.execute(
            text(
                "SELECT sup_id, ST_X(geom) AS x, ST_Y(geom) AS y, nature, proprietaire,"
                " hauteur_m, adresse, insee FROM anfr_support"
            )
        )
    }
    lot = _lot(connection)
    inside = set()
    for sup_id, (lat, lon) in DMS.items():
        x, y = _TO_L93.transform(_degrees(lon), _degrees(lat))
        if lot.contains(shapely.Point(x, y)):
            inside.add(sup_id)
            assert abs(stored[sup_id].x - x) < 1 and abs(stored[sup_id].y - y) < 1
    assert inside == {1001, 1002, 1003}  # the fixture as meant: three in the Lot
    assert set(stored) == inside  # 2001 (in the Lot's box, INSEE of Souillac) is left out
    assert stored[1003].insee == "46311"  # the commune holding the point, not COM_CD_INSEE
    assert (stored[1001].nature, stored[1001].proprietaire) == ("Pylône autostable", "TDF")
    assert float(stored[1001].hauteur_m) == 32.5  # decimal comma
    assert stored[1001].adresse == "Lieu-dit Le Puy d’Auguste, Route de Saint-Céré"  # cp1252
    assert stored[1002].proprietaire == "Commune"
    stations = dict(
        connection.execute(text("SELECT sta_nm_anfr, exploitant FROM anfr_station")).all()
    )
    assert stations == {
        "0462510001": "ORANGE",
        "0462510002": "SFR",
        "0461020001": "FREE MOBILE",
        "0463110001": "BOUYGUES TELECOM",
    }
    links = connection.execute(text("SELECT sta_nm_anfr, sup_id FROM anfr_station_support"))
    assert {tuple(r) for r in links} == {
        ("0462510001", 1001),
        ("0462510002", 1001),  # one support, two stations
        ("0461020001", 1002),
        ("0463110001", 1003),
    }
    counts = result.counts
    assert (counts["stations"], counts["supports"], counts["emetteurs"]) == (4, 3, 9)
    assert (counts["stations_hors_territoire"], counts["supports_hors_territoire"]) == (3, 3)
    assert "laissés de côté hors du territoire : 3 stations" in result.message


def test_technologies_and_service_dates(connection: Connection) -> None:
    _import(connection, EXPORT)
    emitters = {
        r.emr_id: (r.technologie, r.date_service)
        for r in connection.execute(
            text("SELECT emr_id, technologie, date_service FROM anfr_emetteur")
        )
    }
    assert emitters[1] == ("2G", date(2008, 6, 15))
    assert emitters[2] == ("3G", date(2012, 2, 2))
    assert emitters[3] == ("4G", date(2016, 10, 20))
    assert emitters[4] == ("5G", None)  # 5G NR 3500, not in service yet
    assert emitters[5][0] == "AUTRE"  # PMR
    station = connection.execute(
        text(
            "SELECT date_en_service, date_implantation FROM anfr_station WHERE sta_nm_anfr = '0461020001'"
        )
    ).one()
    assert tuple(station) == (None, date(2023, 1, 10))  # a station not in service yet
    assert set(emitters) == set(range(1, 10))  # emitters of the outside stations left out


def test_labels_follow_the_reference_tables(connection: Connection, tmp_path: Path) -> None:
    _import(connection, EXPORT)
    renamed = variant(
        tmp_path,
        "20240229-export-etalab",
        {
            "SUP_PROPRIETAIRE.txt": replace(4, "8;TDF", "8;TDF SAS"),
            "SUP_EXPLOITANT.txt": replace(2, "23;ORANGE", "23;Orange France"),
            "SUP_NATURE.txt": replace(2, "Pylône autostable", "Pylône autoportant"),
        },
    )
    assert _import(connection, renamed).status == "OK"
    support = connection.execute(
        text("SELECT nature, proprietaire FROM anfr_support WHERE sup_id = 1001")
    ).one()
    assert tuple(support) == ("Pylône autoportant", "TDF SAS")
    operator = connection.execute(
        text("SELECT exploitant FROM anfr_station WHERE sta_nm_anfr = '0462510001'")
    ).scalar_one()
    assert operator == "Orange France"


def test_published_zips_and_folder_give_the_same_rows(
    connection: Connection, tmp_path: Path
) -> None:
    data = as_published(EXPORT, tmp_path)
    result = _import(connection, data)
    assert result.status == "OK", result.problems
    assert result.snapshot_date == date(2024, 1, 31)  # from the archive's name
    assert (result.counts["stations"], result.counts["emetteurs"]) == (4, 9)
    found = set(connection.execute(text("SELECT sta_nm_anfr FROM anfr_station")).scalars())
    assert found == LOT_STATIONS
    again = _import(connection, data)
    assert again.status == "DEJA_IMPORTE"


def test_data_zip_without_its_reference_tables_is_refused(
    tmp_path: Path, connection: Connection
) -> None:
    data = as_published(EXPORT, tmp_path)
    (tmp_path / "20240131-export-etalab-ref.zip").unlink()
    with pytest.raises(ImportRejectedError) as caught:
        _import(connection, data)
    assert "SUP_EXPLOITANT, SUP_PROPRIETAIRE, SUP_NATURE" in caught.value.message
    assert "-export-etalab-ref.zip" in caught.value.message


def test_columns_in_another_order_and_extra_columns(connection: Connection, tmp_path: Path) -> None:
    def shuffle(lines: list[str]) -> list[str]:
        rows = [line.split(";") for line in lines]
        order = [5, 0, 4, 3, 1, 2]  # DTE_EN_SERVICE first … and a new column at the end
        return [
            ";".join([*(r[i] for i in order), "X" if n else "NOUVELLE_COLONNE"])
            for n, r in enumerate(rows)
        ]

    export = variant(tmp_path, changes={"SUP_STATION.txt": shuffle})
    assert lines_of(export / "SUP_STATION.txt")[0].startswith("DTE_EN_SERVICE;STA_NM_ANFR")
    assert _import(connection, export).status == "OK"
    row = connection.execute(
        text(
            "SELECT exploitant, date_en_service FROM anfr_station WHERE sta_nm_anfr = '0462510001'"
        )
    ).one()
    assert tuple(row) == ("ORANGE", date(2008, 6, 15))


def test_newer_export_updates_keeps_history_and_removes(
    connection: Connection, tmp_path: Path
) -> None:
    first = _import(connection, EXPORT)
    drop_sfr = lambda lines: [li for li in lines if "0462510002" not in li]  # noqa: E731
    newer = variant(
        tmp_path,
        "20240229-export-etalab",
        {
            "SUP_STATION.txt": lambda lines: drop_sfr(
                replace(4, "10/01/2023;10/01/2023;", "10/01/2023;12/02/2024;12/02/2024")(lines)
            ),
            "SUP_EMETTEUR.txt": lambda lines: drop_sfr(
                replace(8, "0461020001;504;", "0461020001;504;12/02/2024")(lines)
            ),
            "SUP_SUPPORT.txt": drop_sfr,
        },
    )
    result = _import(connection, newer)
    assert result.status == "OK", result.problems
    assert (result.counts["stations_retirees"], result.counts["changements_service"]) == (1, 2)
    found = set(connection.execute(text("SELECT sta_nm_anfr FROM anfr_station")).scalars())
    assert found == LOT_STATIONS - {"0462510002"}
    assert (
        connection.execute(text("SELECT count(*) FROM anfr_emetteur WHERE emr_id = 6")).scalar_one()
        == 0
    )
    assert (
        connection.execute(
            text("SELECT count(*) FROM anfr_support WHERE sup_id = 1001")
        ).scalar_one()
        == 1
    )
    history = connection.execute(
        text(
            "SELECT object_key, valid_from, import_id, changed_by, before, after FROM asset_change"
            " WHERE table_name = 'anfr_station' AND import_id = :j ORDER BY object_key"
        ),
        {"j": result.journal_id},
    ).all()
    assert [h.object_key for h in history] == ["0461020001", "0462510002"]
    freed, gone = history
    assert freed.before["date_en_service"] is None
    assert freed.after["date_en_service"] == "2024-02-12"
    assert freed.after["technologies"] == {"4G": "2024-02-12"}
    assert (freed.valid_from, freed.changed_by) == (date(2024, 2, 29), "test")
    assert gone.after == {"retiree": True}
    creations = connection.execute(
        text(
            "SELECT count(*) FROM asset_change WHERE table_name = 'anfr_station' AND import_id = :j"
        ),
        {"j": first.journal_id},
    ).scalar_one()
    assert creations == 4  # the first export dated every station's service from nothing


def test_older_export_after_a_newer_one_is_refused(connection: Connection, tmp_path: Path) -> None:
    _import(connection, variant(tmp_path, "20240229-export-etalab"))
    with pytest.raises(ImportRejectedError) as caught:
        _import(connection, EXPORT)
    assert "antérieur au dernier importé" in caught.value.message


def test_column_lists_are_the_published_ones() -> None:
    for table, columns in TABLES.items():
        assert lines_of(EXPORT / f"{table}.txt")[0].split(";") == list(columns)


def test_new_deal_sites_are_relinked_in_the_same_import(connection: Connection) -> None:
    lat, lon = DMS[1001]
    x, y = _TO_L93.transform(_degrees(lon), _degrees(lat))
    connection.execute(
        text(
            "INSERT INTO mobile_site (code, nom, insee, programme, etat, operateurs, geom)"
            " VALUES ('ND-46251-01', 'Le Puy', '46251', 'NEW_DEAL', 'ARRETE', 'ORANGE',"
            " ST_SetSRID(ST_MakePoint(:x, :y), 2154))"
        ),
        {"x": x + 120, "y": y},
    )
    result = _import(connection, EXPORT)
    assert result.counts["sites_relies"] == 1
    link = connection.execute(
        text("SELECT sta_nm_anfr, methode, distance_m FROM mobile_site_station")
    ).one()
    assert (link.sta_nm_anfr, link.methode) == ("0462510001", "PROXIMITE")  # Orange, not SFR
    assert abs(link.distance_m - 120) < 1
