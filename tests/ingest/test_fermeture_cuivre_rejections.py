"""A malformed copper calendar is refused in French (file, line, column, value, reason) and
leaves the database byte-identical; `--skip-invalid` keeps the valid buildings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo_service.db.session import make_engine
from geo_service.errors import ImportRejectedError
from geo_service.ingest.fermeture_cuivre import import_fermeture_cuivre
from tests.conftest import FIXTURES, create_scratch_database, data_checksums, drop_database

CUIVRE = FIXTURES / "cuivre"
INVALID = CUIVRE / "invalides"
JOURNAL = (
    "SELECT count(*) FILTER (WHERE status = 'REJETE' AND kind = 'fermeture-cuivre'), count(*)"
    " FROM import_journal"
)


@pytest.fixture(scope="module")
def engine_with_calendar() -> Iterator[Engine]:
    """A database holding the Lot and one copper calendar (committed)."""
    url = create_scratch_database("cuivre")
    engine = make_engine(url)
    import_fermeture_cuivre(engine, CUIVRE / "base_imb_fc_46_iso.csv", territory="46", user="t")
    yield engine
    engine.dispose()
    drop_database(url)


def _refused(engine: Engine, path: Path) -> ImportRejectedError:
    with engine.connect() as conn:
        before = data_checksums(conn)
        rejected, total = conn.execute(text(JOURNAL)).one()
    with pytest.raises(ImportRejectedError) as caught:
        import_fermeture_cuivre(engine, path, territory="46", user="t")
    with engine.connect() as conn:
        assert data_checksums(conn) == before
        assert tuple(conn.execute(text(JOURNAL)).one()) == (rejected + 1, total + 1)
    return caught.value


def test_bad_lines_are_named(engine_with_calendar: Engine) -> None:
    error = _refused(engine_with_calendar, INVALID / "base_imb_fc_46_lignes.csv")
    assert error.message == (
        "base_imb_fc_46_lignes.csv refusé : 3 problème(s) ; rien n'a été importé."
    )
    assert [
        (p["file"], p["line"], p["column"], p["value"], p["reason"]) for p in error.problems
    ] == [
        (
            "base_imb_fc_46_lignes.csv",
            3,
            "fermeture_technique",
            "2026-02-30",
            "date illisible (format de la colonne : AAAA-MM-JJ)",
        ),
        (
            "base_imb_fc_46_lignes.csv",
            4,
            "annee_ft",
            "deux mille vingt-six",
            "année illisible (attendu AAAA)",
        ),
        (
            "base_imb_fc_46_lignes.csv",
            5,
            "immeuble_id",
            "IMB/46102/T/0001",
            "immeuble en double (déjà ligne 2)",
        ),
    ]


def test_an_unknown_date_format_is_refused_with_samples(engine_with_calendar: Engine) -> None:
    error = _refused(engine_with_calendar, INVALID / "base_imb_fc_46_format_inconnu.csv")
    assert error.message == (
        "base_imb_fc_46_format_inconnu.csv : format de date inconnu dans la colonne"
        " « fermeture_technique » : « 30.11.26 », « 30.11.27 », « 30.11.25 »"
        " (formats reconnus : AAAA-MM-JJ, AAAA-MM-JJThh:mm:ss, JJ/MM/AAAA, MM/JJ/AAAA,"
        " AAAAMMJJ, AAAA/MM/JJ)"
    )
    assert [(p["column"], p["value"]) for p in error.problems] == [
        ("fermeture_technique", "30.11.26")
    ]


def test_a_missing_column_is_named(engine_with_calendar: Engine) -> None:
    error = _refused(engine_with_calendar, INVALID / "base_imb_fc_46_sans_lot.csv")
    assert error.message == "base_imb_fc_46_sans_lot.csv : colonnes absentes : num_lot_fz."
    assert [(p["line"], p["column"]) for p in error.problems] == [(1, "num_lot_fz")]


def test_skip_invalid_keeps_the_valid_buildings(engine_with_calendar: Engine) -> None:
    """(Last of the module: it replaces the module's calendar.)"""
    result = import_fermeture_cuivre(
        engine_with_calendar,
        INVALID / "base_imb_fc_46_lignes.csv",
        territory="46",
        user="t",
        skip_invalid=True,
    )
    assert result.status == "PARTIEL"
    assert (result.counts["immeubles"], result.counts["rejetees"]) == (2, 3)
    with engine_with_calendar.connect() as conn:
        kept = (
            conn.execute(text("SELECT immeuble_id FROM fermeture_cuivre ORDER BY 1"))
            .scalars()
            .all()
        )
        journal = conn.execute(
            text("SELECT status, errors FROM import_journal WHERE id = :j"),
            {"j": result.journal_id},
        ).one()
    assert kept == ["IMB/46102/T/0001", "IMB/46251/X/0007"]
    assert journal.status == "PARTIEL"
    assert [e["line"] for e in journal.errors] == [3, 4, 5]
