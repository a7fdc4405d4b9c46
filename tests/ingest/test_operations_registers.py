"""The operating registers (incidents, PM controls, abonnés, border exchanges): loaded by header
names whatever the separator and encoding, scoped by territory and perimeter, with history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.abonnes import ABONNES
from geo_service.ingest.controles_pm import CONTROLES_PM
from geo_service.ingest.echanges_frontaliers import ECHANGES_FRONTALIERS
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.incidents import INCIDENTS
from geo_service.ingest.operations_common import import_register_conn
from tests.conftest import FIXTURES

OPERATIONS = FIXTURES / "operations"


@pytest.fixture()
def network(connection: Connection, gracethd_gpkg: Path) -> Connection:
    """PM TST01 and TST02 in Figeac (46102)."""
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    return connection


def incidents(conn: Connection) -> list[tuple[object, ...]]:
    return [
        tuple(r)
        for r in conn.execute(
            text(
                "SELECT reference, perimetre, pm_reference, insee, categorie, ouverture,"
                " retablissement, source FROM incident ORDER BY reference"
            )
        )
    ]


def test_incidents_load_with_paris_times_and_the_pm_commune(network: Connection) -> None:
    result = import_register_conn(
        network, INCIDENTS, OPERATIONS / "incidents.csv", territory="46", user="alice"
    )
    assert result.status == "OK", result.problems
    assert result.counts["crees"] == 6
    rows = {r[0]: r for r in incidents(network)}
    # local times are Paris time (UTC+1 in winter); an explicit offset is kept
    assert rows["INC-2023-001"][5] == datetime(2023, 1, 10, 7, 0, tzinfo=UTC)
    assert rows["INC-2023-002"][5] == datetime(2023, 1, 12, 8, 15, tzinfo=UTC)
    assert rows["INC-2023-004"][6] == datetime(2023, 2, 21, 0, 30, tzinfo=UTC)
    assert rows["INC-2023-005"][6] is None  # not restored yet
    # the commune of an incident given by its PM only is the PM's commune
    assert rows["INC-2023-001"][3] == "46102"
    assert [rows[k][7] for k in ("INC-2023-001", "INC-2023-002")] == ["DELEGATAIRE", "SIGNALEMENT"]
    # a DSP-wide incident may name another département's PM: kept, marked 'dsp'
    assert rows["INC-2023-006"][1:4] == ("dsp", "RDZ12", "12202")
    history = network.execute(
        text(
            "SELECT count(*), min(changed_by), min(import_id) FROM asset_change"
            " WHERE table_name = 'incident'"
        )
    ).one()
    assert tuple(history) == (6, "alice", result.journal_id)


def test_a_comma_separated_cp1252_export_reads_the_same(network: Connection) -> None:
    import_register_conn(network, INCIDENTS, OPERATIONS / "incidents.csv", territory="46")
    expected = incidents(network)
    causes = network.execute(text("SELECT cause FROM incident ORDER BY reference")).scalars().all()
    network.execute(text("DELETE FROM incident"))
    result = import_register_conn(
        network, INCIDENTS, OPERATIONS / "incidents_cp1252_virgule.csv", territory="46"
    )
    assert result.status == "OK", result.problems
    assert incidents(network) == expected
    assert (
        network.execute(text("SELECT cause FROM incident ORDER BY reference")).scalars().all()
        == causes
    )
    assert "Câble arraché" in causes


def test_reimport_changes_nothing_and_a_change_keeps_its_history(
    network: Connection, tmp_path: Path
) -> None:
    first = import_register_conn(network, INCIDENTS, OPERATIONS / "incidents.csv", territory="46")
    again = import_register_conn(network, INCIDENTS, OPERATIONS / "incidents.csv", territory="46")
    assert again.status == "DEJA_IMPORTE"
    copy = tmp_path / "incidents_copie.csv"
    copy.write_bytes((OPERATIONS / "incidents.csv").read_bytes() + b"\n")
    same = import_register_conn(network, INCIDENTS, copy, territory="46")
    assert (same.counts["crees"], same.counts["modifies"], same.counts["inchanges"]) == (0, 0, 6)
    restored = tmp_path / "incidents_20230302.csv"
    restored.write_text(
        (OPERATIONS / "incidents.csv")
        .read_text()
        .replace("2023-03-01 10:00;;", "2023-03-01 10:00;2023-03-02 09:00;")
    )
    later = import_register_conn(network, INCIDENTS, restored, territory="46", user="bob")
    assert (later.counts["crees"], later.counts["modifies"]) == (0, 1)
    change = network.execute(
        text(
            "SELECT before->>'retablissement' AS b, after->>'retablissement' AS a, changed_by,"
            " valid_from, import_id FROM asset_change WHERE object_key = '46/46/INC-2023-005'"
            " ORDER BY id"
        )
    ).all()
    assert len(change) == 2 and change[0].import_id == first.journal_id
    assert change[1].b is None and change[1].a.startswith("2023-03-02 09:00")
    assert (change[1].changed_by, change[1].valid_from, change[1].import_id) == (
        "bob",
        date(2023, 3, 2),
        later.journal_id,
    )


def test_controls_abonnes_and_border_exchanges_load(network: Connection) -> None:
    for register, name in (
        (CONTROLES_PM, "controles_pm.csv"),
        (ABONNES, "abonnes.csv"),
        (ECHANGES_FRONTALIERS, "echanges_frontaliers.csv"),
    ):
        result = import_register_conn(network, register, OPERATIONS / name, territory="46")
        assert result.status == "OK", result.problems
    controls = network.execute(
        text("SELECT perimetre, pm_reference, resultat FROM controle_pm ORDER BY 1, 2")
    ).all()
    assert [tuple(c) for c in controls] == [
        ("46", "TST01", "CONFORME"),
        ("46", "TST02", "NON CONFORME"),
        ("dsp", "MND48", "CONFORME"),
        ("dsp", "RDZ12", "RESERVES"),
        ("dsp", "TST01", "CONFORME"),
    ]
    abonnes = network.execute(
        text(
            "SELECT perimetre, date_releve, maille, code, abonnes, raccordables_declares, fai"
            " FROM abonnes_releve ORDER BY date_releve, perimetre, maille"
        )
    ).all()
    assert [tuple(a) for a in abonnes][:2] == [
        (
            "46",
            date(2021, 12, 31),
            "commune",
            "46102",
            1,
            None,
            ["Orange", "SFR", "Free", "Bouygues Telecom"],
        ),
        (
            "dsp",
            date(2021, 12, 31),
            "total",
            "",
            52000,
            230000,
            ["Orange", "SFR", "Free", "Bouygues Telecom"],
        ),
    ]
    links = network.execute(
        text(
            "SELECT sens, insee, lien, longueur_m, mode, statut_lien, date_cosignature"
            " FROM echange_frontalier ORDER BY identifiant_immeuble"
        )
    ).all()
    assert [tuple(x) for x in links] == [
        ("SERVI_PAR_DELEGATAIRE", "19001", None, None, "AERIEN", "EXISTANT", date(2022, 9, 15)),
        (
            "SERVI_PAR_VOISIN",
            "46197",
            "PB27650-PB27668",
            1100.0,
            "AERIEN",
            "A CREER",
            date(2022, 6, 15),
        ),
        (
            "SERVI_PAR_VOISIN",
            "46197",
            "PB27650-PB27668",
            1100.0,
            "AERIEN",
            "A CREER",
            date(2022, 6, 15),
        ),
        (
            "SERVI_PAR_DELEGATAIRE",
            "47001",
            None,
            320.5,
            "SOUTERRAIN",
            "EXISTANT",
            date(2022, 6, 15),
        ),
    ]


def test_skip_invalid_imports_the_valid_lines_and_journals_the_others(
    network: Connection,
) -> None:
    path = OPERATIONS / "invalides" / "incidents_pm_inconnu.csv"
    with pytest.raises(ImportRejectedError):
        import_register_conn(network, INCIDENTS, path, territory="46")
    result = import_register_conn(network, INCIDENTS, path, territory="46", skip_invalid=True)
    assert result.status == "PARTIEL"
    assert [(p["line"], p["column"], p["value"]) for p in result.problems] == [(4, "pm", "ZZZ99")]
    assert [r[0] for r in incidents(network)] == ["INC-2023-001", "INC-2023-002"]
    journal = network.execute(
        text("SELECT status, errors->0->>'reason' FROM import_journal WHERE id = :j"),
        {"j": result.journal_id},
    ).one()
    assert tuple(journal) == ("PARTIEL", "PM inconnu du territoire")


def test_another_territory_does_not_see_these_rows(network: Connection) -> None:
    import_register_conn(network, INCIDENTS, OPERATIONS / "incidents.csv", territory="46")
    # the same file for a territory that is not loaded is refused (its PM and communes unknown)
    with pytest.raises(ImportRejectedError) as caught:
        import_register_conn(network, INCIDENTS, OPERATIONS / "incidents.csv", territory="66")
    assert "non chargé" in caught.value.message
    assert (
        network.execute(
            text("SELECT count(*) FROM incident WHERE territory_code = '66'")
        ).scalar_one()
        == 0
    )
