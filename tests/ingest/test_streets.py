"""The street table of the address search follows the IPE imports: a street that appears in a
later snapshot becomes searchable, a removed premise is no longer proposed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo_service.analysis.quand import search_addresses
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.ipe import import_ipe_conn
from geo_service.ingest.streets import refresh_streets
from tests.ingest.ipe_files import HEADER

# identifiant → (numero, complement, type, nom, x, y, PM): Figeac, zones TST01 / TST02.
BUILDINGS = {
    "IMB/46102/S/0001": ("1", "", "Rue", "de l'Église", 621_500, 6_390_100, "TST01"),
    "IMB/46102/S/0002": ("3", "", "Rue", "de l'Église", 621_800, 6_390_300, "TST01"),
    "IMB/46102/S/0003": ("12", "", "", "Route de Capdenac", 623_500, 6_390_500, "TST02"),
    "IMB/46102/S/0004": ("14", "", "", "Route de Capdenac", 623_800, 6_390_200, "TST02"),
    "IMB/46102/S/0005": ("7", "bis", "Rue", "des Tanneurs", 621_600, 6_390_200, "TST01"),
}


def write_snapshot(path: Path, idents: list[str]) -> Path:
    lines = [HEADER]
    for ident in idents:
        numero, complement, type_voie, nom, x, y, pm = BUILDINGS[ident]
        lines.append(
            f"{ident};46102_{ident[-4:]};46102;46100;Figeac;{numero};{complement};{type_voie};"
            f"{nom};;{x};{y};L93;1;CIBLE;{pm};PLANIFIE;;TEST"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def streets(conn: Connection) -> set[tuple[str | None, str | None, str | None]]:
    rows = conn.execute(text("SELECT type_voie, nom_voie, commune_nom FROM address_street"))
    return {tuple(r) for r in rows}  # type: ignore[misc]


@pytest.fixture()
def network(connection: Connection, gracethd_gpkg: Path) -> Connection:
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    return connection


def test_a_new_street_of_a_later_import_becomes_searchable(
    network: Connection, tmp_path: Path
) -> None:
    first = ["IMB/46102/S/0001", "IMB/46102/S/0002", "IMB/46102/S/0003", "IMB/46102/S/0004"]
    import_ipe_conn(
        network, write_snapshot(tmp_path / "IPE_TEST_46_20200331.csv", first), territory="46"
    )
    assert streets(network) == {
        ("Rue", "de l'Église", "Figeac"),
        (None, "Route de Capdenac", "Figeac"),
    }
    assert refresh_streets(network) == 0  # nothing new: nothing written
    before = search_addresses(network, "7 bis rue des tanneurs figeac", territory="46")
    assert all("Tanneurs" not in r["adresse"] for r in before)

    # The next snapshot brings a building on a new street and drops number 14.
    second = [*first[:3], "IMB/46102/S/0005"]
    import_ipe_conn(
        network, write_snapshot(tmp_path / "IPE_TEST_46_20200630.csv", second), territory="46"
    )
    assert ("Rue", "des Tanneurs", "Figeac") in streets(network)
    found = search_addresses(network, "7b rue des taneur figeac", territory="46")
    assert found[0]["adresse"] == "7 bis Rue des Tanneurs, Figeac"
    # The removed premise's street stays searchable, the premise itself is no longer proposed.
    capdenac = search_addresses(network, "14 route de capdenac figeac", territory="46")
    assert capdenac[0]["adresse"] == "12 Route de Capdenac, Figeac"
    assert all(not r["adresse"].startswith("14 ") for r in capdenac)


def test_the_streets_are_those_of_the_premises(network: Connection, tmp_path: Path) -> None:
    """Independent check: the table holds exactly the distinct streets written in the files."""
    import_ipe_conn(
        network,
        write_snapshot(tmp_path / "IPE_TEST_46_20200331.csv", list(BUILDINGS)),
        territory="46",
    )
    expected = {(t or None, nom, "Figeac") for _n, _c, t, nom, *_ in BUILDINGS.values()}
    assert streets(network) == expected
    search_text = network.execute(
        text("SELECT search_text FROM address_street WHERE nom_voie = 'de l''Église'")
    ).scalar_one()
    assert search_text == "rue de l'eglise figeac"


def test_refresh_for_one_import_looks_at_its_staged_lines_only(
    network: Connection, tmp_path: Path
) -> None:
    first = ["IMB/46102/S/0001", "IMB/46102/S/0003"]
    import_ipe_conn(
        network, write_snapshot(tmp_path / "IPE_TEST_46_20200331.csv", first), territory="46"
    )
    import_ipe_conn(  # the two first lines are unchanged: only the third one is staged
        network,
        write_snapshot(tmp_path / "IPE_TEST_46_20200630.csv", [*first, "IMB/46102/S/0005"]),
        territory="46",
    )
    everything = streets(network)
    network.execute(text("DELETE FROM address_street"))
    assert refresh_streets(network, staged=True) == 1
    assert streets(network) == {("Rue", "des Tanneurs", "Figeac")}
    assert refresh_streets(network) == len(everything) - 1
    assert streets(network) == everything
