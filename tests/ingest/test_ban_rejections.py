"""A malformed BAN file is refused line by line in French and leaves the database as it was;
`--skip-invalid` imports the valid lines and journals the others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo_service.db.session import make_engine
from geo_service.errors import ImportRejectedError
from geo_service.ingest.ban import import_ban
from tests.conftest import FIXTURES, create_scratch_database, data_checksums, drop_database

INVALID = FIXTURES / "ban" / "invalides"
JOURNAL = "SELECT count(*) FILTER (WHERE status = 'REJETE' AND kind = 'ban'), count(*) FROM import_journal"


@pytest.fixture(scope="module")
def engine_with_ban() -> Iterator[Engine]:
    """A database holding the Lot and one BAN import (committed)."""
    url = create_scratch_database("ban")
    engine = make_engine(url)
    import_ban(engine, FIXTURES / "ban" / "adresses-46.csv.gz", territory="46", user="t")
    yield engine
    engine.dispose()
    drop_database(url)


# file, [(line, column, value, reason)] — every problem of the file, in line order
LINE_CASES = {
    "adresses-46_coordonnees.csv": [
        (3, "x", "abc 6390300.00", "coordonnées x/y illisibles"),
        (4, "x", "652000.00 6862000.00", "coordonnées hors du territoire"),
        (
            5,
            "x",
            None,
            "x/y (Lambert-93) et lon/lat (WGS84) désignent deux points distants de plus de 50 m",
        ),
    ],
    "adresses-46_commune.csv": [
        (2, "code_insee", "75056", "commune inconnue du territoire"),
        (4, "id", "46102_0100_00003", "identifiant en double (déjà ligne 3)"),
    ],
}
FILE_CASES = {
    "adresses-46_sans_nom_voie.csv": (
        "adresses-46_sans_nom_voie.csv : colonnes absentes : nom_voie.",
        [(1, "nom_voie", "colonne obligatoire absente")],
    ),
    "adresses-46_latin1.csv": (
        "adresses-46_latin1.csv, ligne 2 : encodage incorrect : octet 0xC9 illisible en UTF-8 "
        "(la BAN est publiée en UTF-8 ; le fichier a sans doute été ré-enregistré en Latin-1)",
        [(2, None, "encodage incorrect : octet 0xC9 illisible en UTF-8 (la BAN est publiée en "
          "UTF-8 ; le fichier a sans doute été ré-enregistré en Latin-1)")],
    ),
}  # fmt: skip


def _refused(engine: Engine, path: Path) -> ImportRejectedError:
    with engine.connect() as conn:
        before = data_checksums(conn)
        rejected, total = conn.execute(text(JOURNAL)).one()
    with pytest.raises(ImportRejectedError) as caught:
        import_ban(engine, path, territory="46", user="t")
    with engine.connect() as conn:
        assert data_checksums(conn) == before  # byte-identical
        assert tuple(conn.execute(text(JOURNAL)).one()) == (rejected + 1, total + 1)
    return caught.value


@pytest.mark.parametrize("name", sorted(LINE_CASES))
def test_bad_lines_are_named_and_nothing_is_written(engine_with_ban: Engine, name: str) -> None:
    error = _refused(engine_with_ban, INVALID / name)
    expected = LINE_CASES[name]
    assert error.message == f"{name} refusé : {len(expected)} problème(s) ; rien n'a été importé."
    got = [(p["line"], p["column"], p["reason"]) for p in error.problems]
    assert got == [(line, column, reason) for line, column, _v, reason in expected]
    for p, (_l, _c, value, _r) in zip(error.problems, expected, strict=True):
        assert p["file"] == name
        if value is not None:
            assert p["value"] == value


@pytest.mark.parametrize("name", sorted(FILE_CASES))
def test_unreadable_files_are_refused_whole(engine_with_ban: Engine, name: str) -> None:
    error = _refused(engine_with_ban, INVALID / name)
    message, problems = FILE_CASES[name]
    assert error.message == message
    assert [(p["line"], p["column"], p["reason"]) for p in error.problems] == problems


def test_skip_invalid_imports_the_valid_lines_and_journals_the_others(
    engine_with_ban: Engine,
) -> None:
    """(Last of the module: it replaces the module's BAN.)"""
    result = import_ban(
        engine_with_ban, INVALID / "adresses-46_coordonnees.csv", territory="46", skip_invalid=True
    )
    assert result.status == "PARTIEL"
    assert (result.counts["adresses"], result.counts["rejetees"]) == (1, 3)
    with engine_with_ban.begin() as conn:
        errors = conn.execute(
            text("SELECT errors FROM import_journal WHERE id = :j"), {"j": result.journal_id}
        ).scalar_one()
        ids = conn.execute(text("SELECT id FROM reference_address")).scalars().all()
    assert [e["line"] for e in (errors if isinstance(errors, list) else json.loads(errors))] == [
        3,
        4,
        5,
    ]
    assert ids == ["46102_0100_00001"]
