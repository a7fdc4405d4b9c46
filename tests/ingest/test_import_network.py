"""GraceTHD and IPE imports into PostGIS: zones, premises, history and "as of" answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo_service.analysis.raccordables import raccordables
from geo_service.errors import ImportRejectedError
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.ipe import import_ipe_conn
from tests.ingest.ipe_files import write_ipe


@pytest.fixture()
def network(connection: Connection, gracethd_gpkg: Path) -> Connection:
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    return connection


def state_of(conn: Connection, ident: str, day: date) -> str | None:
    return conn.execute(
        text(
            "SELECT CASE WHEN h.removed THEN 'RETIRE' ELSE h.etat END FROM premise_history h "
            "JOIN premise p ON p.id = h.premise_id WHERE p.identifiant_immeuble = :i "
            "AND h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d)"
        ),
        {"i": ident, "d": day},
    ).scalar_one_or_none()


def test_gracethd_creates_nro_pm_zones_and_emission_sites(network: Connection) -> None:
    pms = network.execute(
        text(
            "SELECT reference, nro_code, etat, date_prevue, ST_Area(zone) AS area FROM pm ORDER BY 1"
        )
    ).all()
    assert [(p.reference, p.nro_code, p.etat) for p in pms] == [
        ("TST01", "NRO46102", "PLANIFIE"),
        ("TST02", "NRO46102", "PLANIFIE"),
    ]
    assert pms[0].date_prevue == date(2021, 6, 30)
    assert pms[0].area == pytest.approx(2_700 * 4_500)
    nro = network.execute(text("SELECT nom, date_installation, ST_Area(zone) AS a FROM nro")).one()
    assert nro.nom == "NRO de Figeac" and nro.date_installation == date(2019, 1, 15)
    assert nro.a == pytest.approx(5_000 * 4_500)
    assert network.execute(text("SELECT insee, programme FROM mobile_site")).all() == [
        ("46102", "AUTRE")
    ]
    assert network.execute(text("SELECT count(*) FROM wifi_borne")).scalar_one() == 1


def test_reimporting_the_same_gracethd_changes_nothing(
    network: Connection, gracethd_gpkg: Path
) -> None:
    result = import_gracethd_conn(network, gracethd_gpkg, territory="46", user="test")
    assert result.status == "DEJA_IMPORTE"


def test_snapshots_build_a_history_answering_as_of(network: Connection, tmp_path: Path) -> None:
    first = write_ipe(
        tmp_path / "IPE_TEST_46_20200331.csv",
        {
            "IMB/46102/T/0001": ("CIBLE", 1, "PLANIFIE", ""),
            "IMB/46102/T/0002": ("CIBLE", 4, "PLANIFIE", ""),
            "IMB/46102/T/0003": ("CIBLE", 1, "PLANIFIE", ""),
            "IMB/46102/T/0004": ("CIBLE", 1, "PLANIFIE", ""),
        },
    )
    second = write_ipe(
        tmp_path / "IPE_TEST_46_20200630.csv",
        {
            "IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "2020-04-15"),
            "IMB/46102/T/0002": ("DEPLOYE", 4, "DEPLOYE", "2020-04-15"),
            "IMB/46102/T/0003": (
                "EN COURS DE DEPLOIEMENT",
                1,
                "EN COURS DE DEPLOIEMENT",
                "2020-06-01",
            ),
        },
    )
    r1 = import_ipe_conn(network, first, territory="46", user="alice")
    r2 = import_ipe_conn(network, second, territory="46", user="bob")
    assert (r1.status, r1.snapshot_date, r1.counts["changements_etat"]) == (
        "OK",
        date(2020, 3, 31),
        4,
    )
    assert (r2.counts["changements_etat"], r2.counts["retires"]) == (3, 1)

    assert state_of(network, "IMB/46102/T/0001", date(2020, 5, 1)) == "CIBLE"
    assert state_of(network, "IMB/46102/T/0001", date(2020, 7, 1)) == "DEPLOYE"
    assert state_of(network, "IMB/46102/T/0004", date(2020, 7, 1)) == "RETIRE"
    assert state_of(network, "IMB/46102/T/0004", date(2020, 1, 1)) is None
    # Who and from which import: every period names its import and its author.
    who = network.execute(
        text(
            "SELECT DISTINCT h.changed_by, j.file_name FROM premise_history h "
            "JOIN import_journal j ON j.id = h.import_id WHERE h.valid_from = '2020-06-30'"
        )
    ).all()
    assert who == [("bob", "IPE_TEST_46_20200630.csv")]
    # The removed premise is kept, flagged, not deleted.
    assert network.execute(
        text("SELECT removed_on FROM premise WHERE identifiant_immeuble = 'IMB/46102/T/0004'")
    ).scalar_one() == date(2020, 6, 30)

    before = {
        r["code"]: r
        for r in raccordables(network, territory="46", as_of=date(2020, 5, 1), levels=("pm",))
    }
    after = {
        r["code"]: r
        for r in raccordables(network, territory="46", as_of=date(2020, 7, 1), levels=("pm",))
    }
    assert (before["TST01"]["raccordables"], before["TST01"]["logements"]) == (0, 5)
    assert (after["TST01"]["raccordables"], after["TST01"]["taux"]) == (5, 100.0)
    assert (after["TST02"]["en_cours"], after["TST02"]["logements"]) == (1, 1)
    pm_states = (
        network.execute(
            text("SELECT etat FROM pm_history WHERE pm_reference = 'TST01' ORDER BY valid_from")
        )
        .scalars()
        .all()
    )
    assert pm_states == ["PLANIFIE", "DEPLOYE"]


def test_same_file_twice_changes_nothing(network: Connection, tmp_path: Path) -> None:
    path = write_ipe(
        tmp_path / "IPE_TEST_46_20200331.csv", {"IMB/46102/T/0001": ("CIBLE", 1, "PLANIFIE", "")}
    )
    import_ipe_conn(network, path, territory="46", user="t")
    count = network.execute(text("SELECT count(*) FROM premise_history")).scalar_one()
    again = import_ipe_conn(network, path, territory="46", user="t")
    assert again.status == "DEJA_IMPORTE"
    assert network.execute(text("SELECT count(*) FROM premise_history")).scalar_one() == count


def test_identical_content_in_a_new_snapshot_adds_no_history(
    network: Connection, tmp_path: Path
) -> None:
    states = {"IMB/46102/T/0001": ("CIBLE", 1, "PLANIFIE", "")}
    import_ipe_conn(
        network, write_ipe(tmp_path / "IPE_TEST_46_20200331.csv", states), territory="46"
    )
    result = import_ipe_conn(
        network, write_ipe(tmp_path / "IPE_TEST_46_20200630.csv", states), territory="46"
    )
    assert result.counts["changements_etat"] == 0
    assert network.execute(text("SELECT count(*) FROM premise_history")).scalar_one() == 1


def test_unknown_pm_reference_rejects_the_whole_file(network: Connection, tmp_path: Path) -> None:
    path = write_ipe(
        tmp_path / "IPE_TEST_46_20200331.csv", {"IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "")}
    )
    path.write_text(path.read_text().replace("TST01", "ZZZ99"))
    with pytest.raises(ImportRejectedError) as caught:
        import_ipe_conn(network, path, territory="46")
    assert caught.value.problems[0]["line"] == 2
    assert caught.value.problems[0]["column"] == "ReferencePM"
    assert "PM inconnue" in caught.value.problems[0]["reason"]


def test_older_snapshot_after_a_newer_one_is_refused(network: Connection, tmp_path: Path) -> None:
    states = {"IMB/46102/T/0001": ("CIBLE", 1, "PLANIFIE", "")}
    import_ipe_conn(
        network, write_ipe(tmp_path / "IPE_TEST_46_20200630.csv", states), territory="46"
    )
    with pytest.raises(ImportRejectedError, match="antérieur"):
        import_ipe_conn(
            network, write_ipe(tmp_path / "IPE_TEST_46_20200331.csv", states), territory="46"
        )


def test_skip_invalid_imports_valid_rows_and_journals_the_others(
    network: Connection, tmp_path: Path
) -> None:
    path = write_ipe(
        tmp_path / "IPE_TEST_46_20200331.csv",
        {
            "IMB/46102/T/0001": ("CIBLE", 1, "PLANIFIE", ""),
            "IMB/46102/T/0002": ("CIBLE", 2, "PLANIFIE", ""),
        },
    )
    path.write_text(path.read_text().replace(";2;CIBLE", ";2;INCONNU"))
    result = import_ipe_conn(network, path, territory="46", skip_invalid=True)
    assert result.status == "PARTIEL"
    assert [p["line"] for p in result.problems] == [3]
    journal = network.execute(
        text("SELECT status, errors FROM import_journal WHERE id = :i"), {"i": result.journal_id}
    ).one()
    assert journal.status == "PARTIEL" and journal.errors[0]["column"] == "EtatImmeuble"
    assert network.execute(text("SELECT count(*) FROM premise")).scalar_one() == 1


def test_a_folder_of_shapefiles_imports_like_the_geopackage(
    connection: Connection, tmp_path: Path, gracethd_gpkg: Path
) -> None:
    import geopandas as gpd
    import pyogrio

    folder = tmp_path / "livraison"
    folder.mkdir()
    for layer, _ in pyogrio.list_layers(gracethd_gpkg):
        gpd.read_file(gracethd_gpkg, layer=layer).to_file(folder / f"{layer}.shp")
    result = import_gracethd_conn(
        connection, folder, territory="46", snapshot_date=date(2019, 1, 1), user="t"
    )
    assert result.status == "OK"
    assert result.counts["pm"] == 2 and result.counts["nro"] == 1
    zones = connection.execute(
        text("SELECT reference, round(ST_Area(zone)) FROM pm ORDER BY 1")
    ).all()
    assert [(z[0], float(z[1])) for z in zones] == [
        ("TST01", 2_700 * 4_500.0),
        ("TST02", 2_300 * 4_500.0),
    ]
