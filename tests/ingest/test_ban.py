"""The BAN file as published becomes the territory's reference addresses (oubliés, search)."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date
from pathlib import Path

import pytest
from pyproj import Transformer
from shapely.geometry import Point
from sqlalchemy import Connection, text

from geo_service.analysis.oublies import missing_from_operator
from geo_service.ingest.ban import import_ban_conn
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.ipe import import_ipe_conn
from tests.conftest import FIXTURES
from tests.ingest.ipe_files import BUILDINGS, write_ipe

BAN = FIXTURES / "ban"
PUBLISHED = BAN / "adresses-46.csv.gz"
TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)
STATES = {
    "IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "2019-06-01"),
    "IMB/46102/T/0002": ("DEPLOYE", 2, "DEPLOYE", "2019-06-01"),
    "IMB/46102/T/0003": ("CIBLE", 2, "PLANIFIE", ""),
    "IMB/46102/T/0004": ("CIBLE", 1, "PLANIFIE", ""),
}


def published_rows() -> list[dict[str, str]]:
    """The fixture read as the publisher describes it (gzip, UTF-8, `;`), apart from the code."""
    with gzip.open(PUBLISHED, "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@pytest.fixture()
def network(connection: Connection, tmp_path: Path, gracethd_gpkg: Path) -> None:
    """Zones TST01/TST02 and the operator's four Figeac premises (rolled back after the test)."""
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    import_ipe_conn(
        connection, write_ipe(tmp_path / "IPE_TEST_46_20200630.csv", STATES), territory="46"
    )


def test_the_published_file_becomes_the_reference_addresses(
    connection: Connection, network: None
) -> None:
    result = import_ban_conn(connection, PUBLISHED, territory="46", user="alice")
    rows = published_rows()
    assert len(rows[0]) == 23
    assert result.status == "OK"
    assert result.counts["adresses"] == result.counts["crees"] == len(rows) == 6
    stored = {
        r.id: r
        for r in connection.execute(
            text(
                "SELECT id, numero, rep, nom_voie, insee, nom_commune, import_id, street_id,"
                " ST_X(geom) AS x, ST_Y(geom) AS y FROM reference_address"
            )
        )
    }
    assert set(stored) == {r["id"] for r in rows}
    for row in rows:
        got = stored[row["id"]]
        # the Lambert-93 point is where the WGS84 lon/lat of the same line say (within 1 m)
        x, y = TO_L93.transform(float(row["lon"]), float(row["lat"]))
        assert Point(got.x, got.y).distance(Point(x, y)) < 1.0
        assert (got.numero, got.rep or "", got.nom_voie, got.nom_commune) == (
            row["numero"],
            row["rep"],
            row["nom_voie"],
            row["nom_commune"],
        )
        assert got.import_id == result.journal_id
        assert got.street_id is not None
    assert stored["46102_0300_00007_bis"].nom_voie == "Chemin des Écoliers"
    journal = connection.execute(
        text("SELECT kind, status, territory_code FROM import_journal WHERE id = :j"),
        {"j": result.journal_id},
    ).one()
    assert tuple(journal) == ("ban", "OK", "46")
    # each address created is in the history, with who and which import
    history = connection.execute(
        text(
            "SELECT count(*), min(changed_by), min(import_id) FROM asset_change"
            " WHERE table_name = 'reference_address' AND before IS NULL"
        )
    ).one()
    assert tuple(history) == (6, "alice", result.journal_id)


def test_every_address_gets_a_street_of_the_search(connection: Connection, network: None) -> None:
    import_ban_conn(connection, PUBLISHED, territory="46", user="t")
    streets = connection.execute(
        text(
            "SELECT DISTINCT s.nom_voie, s.commune_nom, s.search_text FROM reference_address a"
            " JOIN address_street s ON s.id = a.street_id ORDER BY 1"
        )
    ).all()
    assert [(s.nom_voie, s.commune_nom) for s in streets] == [
        ("Chemin des Écoliers", "Figeac"),
        ("Route de Capdenac", "Figeac"),
        ("Rue de l'Église", "Figeac"),
    ]
    assert streets[0].search_text == "chemin des ecoliers figeac"


def test_the_oublies_use_the_ban_addresses(connection: Connection, network: None) -> None:
    import_ban_conn(connection, PUBLISHED, territory="46", user="t")
    missing = missing_from_operator(connection, territory="46")
    # independent: addresses with no premise of the same number and street nor within 5 m
    premises = {(n, v): Point(x, y) for n, v, x, y, _pm in BUILDINGS.values()}
    expected = set()
    for row in published_rows():
        x, y = TO_L93.transform(float(row["lon"]), float(row["lat"]))
        same = (row["numero"], row["nom_voie"]) in premises
        near = any(Point(x, y).distance(p) <= 5 for p in premises.values())
        if not same and not near:
            expected.add(row["id"])
    assert {m["id"] for m in missing} == expected == {"46102_0100_00005", "46102_0300_00007_bis"}


def test_the_same_file_again_changes_nothing(connection: Connection, network: None) -> None:
    from tests.conftest import data_checksums

    first = import_ban_conn(connection, PUBLISHED, territory="46", user="t")
    before = data_checksums(connection)
    again = import_ban_conn(connection, PUBLISHED, territory="46", user="t")
    assert again.status == "DEJA_IMPORTE"
    assert again.journal_id == first.journal_id
    assert data_checksums(connection) == before


def test_a_new_ban_replaces_the_previous_and_keeps_history(
    connection: Connection, network: None, tmp_path: Path
) -> None:
    first = import_ban_conn(connection, PUBLISHED, territory="46", user="alice")
    lines = (BAN / "adresses-46.csv").read_text(encoding="utf-8").splitlines()
    kept = [lines[0], *(ln.replace(";Route de Capdenac;", ";Route de Capdenac Haute;")
                        if ln.startswith("46102_0200_00012") else ln
                        for ln in lines[1:] if not ln.startswith("46102_0300"))]  # fmt: skip
    newer = tmp_path / "adresses-46-20260101.csv.gz"
    newer.write_bytes(gzip.compress("\n".join(kept).encode("utf-8") + b"\n"))
    result = import_ban_conn(connection, newer, territory="46", user="bob")
    assert (result.counts["crees"], result.counts["modifiees"], result.counts["supprimees"]) == (
        0,
        1,
        1,
    )
    assert result.snapshot_date == date(2026, 1, 1)
    ids = connection.execute(text("SELECT id FROM reference_address ORDER BY id")).scalars().all()
    assert "46102_0300_00007_bis" not in ids and len(ids) == 5
    changes = connection.execute(
        text(
            "SELECT object_key, before->>'nom_voie' AS b, after->>'nom_voie' AS a, changed_by,"
            " valid_from FROM asset_change WHERE table_name = 'reference_address'"
            " AND import_id = :j ORDER BY object_key"
        ),
        {"j": result.journal_id},
    ).all()
    assert [tuple(c) for c in changes] == [
        ("46102_0200_00012", "Route de Capdenac", "Route de Capdenac Haute", "bob", date(2026, 1, 1)),
        ("46102_0300_00007_bis", "Chemin des Écoliers", None, "bob", date(2026, 1, 1)),
    ]  # fmt: skip
    assert first.journal_id != result.journal_id


def test_the_bare_csv_reads_like_the_gzip(connection: Connection, network: None) -> None:
    """The same content plain or compressed gives the same addresses."""
    import_ban_conn(connection, BAN / "adresses-46.csv", territory="46", user="t")
    plain = connection.execute(
        text("SELECT id, nom_voie, ST_AsText(geom) FROM reference_address ORDER BY id")
    ).all()
    text_rows = list(
        csv.DictReader(io.StringIO((BAN / "adresses-46.csv").read_text("utf-8")), delimiter=";")
    )
    assert [p.id for p in plain] == sorted(r["id"] for r in text_rows)
    assert [r["id"] for r in published_rows()] == [r["id"] for r in text_rows]


def test_two_territories_keep_their_own_addresses_and_calendars(
    connection: Connection, network: None, tmp_path: Path
) -> None:
    """A BAN or a copper calendar of the Pyrénées-Orientales leaves the Lot's untouched, and
    neither territory's search sees the other's addresses."""
    from geo_service.analysis.cuivre import copper_by_commune
    from geo_service.analysis.quand import search_addresses
    from geo_service.ingest.fermeture_cuivre import import_fermeture_cuivre_conn
    from geo_service.reference.load import load_reference
    from geo_service.settings import Settings
    from tests.fixtures.ban.make_fixture import line
    from tests.fixtures.ban.make_fixture import text as ban_text

    load_reference(connection, "66", territory_dir=Settings().territory_dir("66"))
    import_ban_conn(connection, PUBLISHED, territory="46", user="t")
    import_fermeture_cuivre_conn(
        connection, FIXTURES / "cuivre" / "base_imb_fc_46_iso.csv", territory="46", user="t"
    )
    lot = connection.execute(text("SELECT count(*) FROM reference_address")).scalar_one()
    perpignan = tmp_path / "adresses-66.csv.gz"
    row = line(
        "66136_0500_00002", "2", "", "Rue de la Loge", 690_500.0, 6_175_000.0,
        code_insee="66136", nom_commune="Perpignan", code_postal="66000",
    )  # fmt: skip
    perpignan.write_bytes(gzip.compress(ban_text([row]).encode("utf-8")))
    result = import_ban_conn(connection, perpignan, territory="66", user="t")
    assert (result.counts["crees"], result.counts["supprimees"]) == (1, 0)
    calendar = tmp_path / "base_imb_fc_66.csv"
    calendar.write_text(
        "immeuble_id;num_lot_fz;fermeture_technique;fermeture_com_zone;fermeture_com_addr;"
        "elig_fo;annee_ft\nIMB/66136/X/0001;LOT1;2025-11-30;2025-01-31;;1;2025\n"
    )
    import_fermeture_cuivre_conn(connection, calendar, territory="66", user="t")
    assert connection.execute(text("SELECT count(*) FROM reference_address")).scalar_one() == (
        lot + 1
    )
    assert {r["insee"] for r in copper_by_commune(connection, "46")} == {"46102", "46251"}
    assert [r["insee"] for r in copper_by_commune(connection, "66")] == ["66136"]
    found_66 = search_addresses(connection, "2 rue de la loge perpignan", territory="66")
    assert found_66[0]["adresse"] == "2 Rue de la Loge, Perpignan"
    assert not search_addresses(connection, "2 rue de la loge perpignan", territory="46")
    assert all(
        "Figeac" not in m["adresse"]
        for m in search_addresses(connection, "5 rue de l'eglise figeac", territory="66")
    )
