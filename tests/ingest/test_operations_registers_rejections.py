"""Malformed register files are refused whole, with the file, line, column, value and reason in
French, and leave the database byte-identical (the refusal itself is journalled)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo_service.db.session import make_engine
from geo_service.errors import ImportRejectedError
from geo_service.ingest.abonnes import import_abonnes
from geo_service.ingest.controles_pm import import_controles_pm
from geo_service.ingest.echanges_frontaliers import import_echanges_frontaliers
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.incidents import import_incidents
from tests.conftest import FIXTURES, create_scratch_database, data_checksums, drop_database

INVALID = FIXTURES / "operations" / "invalides"
IMPORTERS = {
    "incidents": import_incidents,
    "controles": import_controles_pm,
    "abonnes": import_abonnes,
    "echanges": import_echanges_frontaliers,
}
JOURNAL = "SELECT count(*) FILTER (WHERE status = 'REJETE'), count(*) FROM import_journal"
# file → the problems expected: (line, column, value, reason)
CASES = {
    "incidents_utf16.csv": [
        (0, None, None, "fichier encodé en UTF-16 : enregistrez-le en UTF-8 ou en Latin-1")
    ],
    "incidents_colonne_absente.csv": [(1, "ouverture", None, "colonne obligatoire absente")],
    "incidents_dates_illisibles.csv": [
        (3, "ouverture", "12/13/2023 09:15", "date ou heure inexistante"),
        (
            4,
            "ouverture",
            "3 février 2023",
            "horodatage illisible (attendu AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM)",
        ),
    ],
    "incidents_pm_inconnu.csv": [(4, "pm", "ZZZ99", "PM inconnu du territoire")],
    "incidents_commune_inconnue.csv": [
        (3, "code_insee", "12202", "commune inconnue du territoire")
    ],
    "incidents_doublon.csv": [(4, "reference", "INC-2023-001", "doublon (déjà ligne 2)")],
    "incidents_retablissement_avant.csv": [
        (
            3,
            "retablissement",
            "2023-02-01T08:00:00+01:00",
            "rétablissement antérieur à l'ouverture",
        )
    ],
    "controles_pm_doublon.csv": [(4, "pm", "TST01", "doublon (déjà ligne 2)")],
    "abonnes_invalide.csv": [
        (3, "code_insee", "46999", "commune inconnue du territoire"),
        (4, "abonnes", "deux", "nombre entier positif attendu"),
    ],
    "echanges_lien_incoherent.csv": [
        (
            3,
            "lien",
            "PB27650-PB27668",
            "lien décrit autrement ligne 2 (longueur, mode ou statut)",
        )
    ],
}


@pytest.fixture(scope="module")
def loaded(gracethd_gpkg: Path) -> Iterator[Engine]:
    """A committed database with PM TST01/TST02 and one accepted file of each register."""
    url = create_scratch_database("opsrejects")
    engine = make_engine(url)
    import_gracethd(engine, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1))
    valid = FIXTURES / "operations"
    import_incidents(engine, valid / "incidents.csv", territory="46")
    import_controles_pm(engine, valid / "controles_pm.csv", territory="46")
    import_abonnes(engine, valid / "abonnes.csv", territory="46")
    import_echanges_frontaliers(engine, valid / "echanges_frontaliers.csv", territory="46")
    yield engine
    engine.dispose()
    drop_database(url)


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_register_is_refused_and_changes_nothing(loaded: Engine, name: str) -> None:
    path = INVALID / name
    importer = IMPORTERS[name.split("_")[0]]
    with loaded.connect() as conn:
        before = data_checksums(conn)
        rejected_before, journalled_before = conn.execute(text(JOURNAL)).one()
    with pytest.raises(ImportRejectedError) as caught:
        importer(loaded, path, territory="46")
    found = [(p["line"], p["column"], p["value"], p["reason"]) for p in caught.value.problems]
    assert found == CASES[name]
    assert all(p["file"] == name for p in caught.value.problems)
    with loaded.connect() as conn:
        assert data_checksums(conn) == before
        rejected, journalled = conn.execute(text(JOURNAL)).one()
    assert (rejected, journalled) == (rejected_before + 1, journalled_before + 1)


def test_line_problems_are_counted_in_the_message(loaded: Engine) -> None:
    with pytest.raises(ImportRejectedError) as caught:
        import_abonnes(loaded, INVALID / "abonnes_invalide.csv", territory="46")
    assert caught.value.message == (
        "abonnes_invalide.csv refusé : 2 problème(s) ; rien n'a été importé."
    )
