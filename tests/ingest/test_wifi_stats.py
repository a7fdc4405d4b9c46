"""`import wifi-stats`: the operator portal's monthly statistics, upserted with history."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.registers import import_register_conn
from geo_service.ingest.wifi_stats import import_wifi_stats_conn, parse_month
from tests.conftest import FIXTURES

REGISTRES = FIXTURES / "registres"


@pytest.fixture()
def bornes(connection: Connection) -> Connection:
    result = import_register_conn(
        connection, "bornes", REGISTRES / "bornes_wifi_complet.csv", territory="46", user="t"
    )
    assert result.status == "OK"
    return connection


def _usage(conn: Connection) -> dict[tuple[str, str], tuple[int, int]]:
    rows = conn.execute(text("SELECT borne_code, mois, sessions, utilisateurs FROM wifi_usage"))
    return {(r[0], r[1].strftime("%Y-%m")): (r[2], r[3]) for r in rows}


def test_months_are_loaded_and_a_corrected_month_keeps_its_history(bornes: Connection) -> None:
    first = import_wifi_stats_conn(
        bornes, REGISTRES / "wifi_stats_20240630.csv", territory="46", user="portail"
    )
    assert (first.status, first.counts["crees"], first.snapshot_date) == (
        "OK",
        5,
        date(2024, 6, 30),
    )
    # the next export: ',' separated, MM/AAAA months, a comment column, June corrected
    second = import_wifi_stats_conn(
        bornes, REGISTRES / "wifi_stats_virgule_20240731.csv", territory="46", user="portail"
    )
    assert (second.counts["crees"], second.counts["modifies"], second.counts["inchanges"]) == (
        1,
        1,
        1,
    )
    assert _usage(bornes) == {
        ("WIFI-46102-A", "2024-04"): (1200, 310),
        ("WIFI-46102-A", "2024-05"): (1350, 342),
        ("WIFI-46102-A", "2024-06"): (1550, 410),
        ("WIFI-46102-A", "2024-07"): (1700, 450),
        ("WIFI-46102-B", "2024-04"): (200, 80),
        ("WIFI-46102-B", "2024-05"): (180, 75),
    }
    change = bornes.execute(
        text(
            "SELECT before, after, import_id, valid_from, changed_by FROM asset_change"
            " WHERE table_name = 'wifi_usage' AND object_key = 'WIFI-46102-A/2024-06'"
            " ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert change.before == {"sessions": 1500, "utilisateurs": 400}
    assert change.after == {"sessions": 1550, "utilisateurs": 410}
    assert (change.import_id, change.valid_from, change.changed_by) == (
        second.journal_id,
        date(2024, 7, 31),
        "portail",
    )
    kind = bornes.execute(
        text("SELECT kind FROM import_journal WHERE id = :j"), {"j": second.journal_id}
    ).scalar_one()
    assert kind == "wifi-stats"


def test_reimport_changes_nothing(bornes: Connection, tmp_path: Path) -> None:
    source = REGISTRES / "wifi_stats_20240630.csv"
    import_wifi_stats_conn(bornes, source, territory="46")
    assert import_wifi_stats_conn(bornes, source, territory="46").status == "DEJA_IMPORTE"
    packed = tmp_path / "wifi_stats_20240630.csv.gz"  # same lines, another file (compressed)
    packed.write_bytes(gzip.compress(source.read_bytes()))
    again = import_wifi_stats_conn(bornes, packed, territory="46")
    assert (again.counts["crees"], again.counts["modifies"], again.counts["inchanges"]) == (0, 0, 5)
    changes = bornes.execute(
        text("SELECT count(*) FROM asset_change WHERE table_name = 'wifi_usage'")
    ).scalar_one()
    assert changes == 5


def test_bad_lines_are_french_problems_and_skip_invalid_keeps_the_good_ones(
    bornes: Connection,
) -> None:
    path = REGISTRES / "wifi_stats_invalide_20240630.csv"
    with pytest.raises(ImportRejectedError) as caught:
        import_wifi_stats_conn(bornes, path, territory="46")
    found = {(p["line"], p["column"], p["value"], p["reason"]) for p in caught.value.problems}
    assert found == {
        (
            2,
            "borne",
            "WIFI-46999-Q",
            "borne inconnue du territoire (importez d'abord le registre)",
        ),
        (3, "mois", "2024-13", "mois inexistant"),
        (4, "mois", "juin 2024", "mois illisible (attendu AAAA-MM ou MM/AAAA)"),
        (5, "sessions", "-5", "sessions négatif"),
        (7, "mois", "2024-05", "borne et mois en double (déjà ligne 6)"),
        (8, "mois", "2024-08", "mois à venir (après la date du fichier)"),
        (9, "utilisateurs", "20", "plus d'utilisateurs distincts que de sessions"),
    }
    assert _usage(bornes) == {}
    result = import_wifi_stats_conn(bornes, path, territory="46", skip_invalid=True)
    assert (result.status, result.counts["crees"], result.counts["rejetees"]) == ("PARTIEL", 1, 7)
    assert _usage(bornes) == {("WIFI-46102-A", "2024-05"): (100, 20)}


def test_bornes_of_another_territory_are_unknown(bornes: Connection, tmp_path: Path) -> None:
    path = tmp_path / "wifi_stats_20240630.csv"
    path.write_text("borne;mois;sessions;utilisateurs\nWIFI-46102-A;2024-04;10;5\n")
    with pytest.raises(ImportRejectedError) as caught:
        import_wifi_stats_conn(bornes, path, territory="66")
    assert [(p["line"], p["reason"]) for p in caught.value.problems] == [
        (2, "borne inconnue du territoire (importez d'abord le registre)")
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2024-03", date(2024, 3, 1)), ("03/2024", date(2024, 3, 1)), (" 3/2024 ", date(2024, 3, 1))],
)
def test_months_read_in_both_spellings(value: str, expected: date) -> None:
    assert parse_month(value) == expected
