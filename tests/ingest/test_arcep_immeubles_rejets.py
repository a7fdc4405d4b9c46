"""Malformed ARCEP files are refused with line-level French reasons; the database stays
byte-identical; --skip-invalid imports the valid lines and journals the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo_service.db.session import make_engine
from geo_service.errors import ImportRejectedError
from geo_service.ingest.arcep_immeubles import import_arcep_immeubles
from tests.conftest import create_scratch_database, data_checksums, drop_database

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arcep_immeubles"
INVALID = FIXTURES / "invalides"
PREFIX = "carte_fibre_immeubles_2024_T2_"
# file, line, column, value, reason (line 1 = the header; 0 = the whole file)
LINE_PROBLEMS = [
    (
        "etat_inconnu.csv",
        4,
        "imb_etat",
        "raccorde",
        "état d'immeuble inconnu (valeurs admises : cible, signe, en cours de deploiement, "
        "deploye, abandonne, raccordable demande)",
    ),
    ("coordonnee_illisible.csv", 5, "y", None, "coordonnée illisible"),
    (
        "coordonnees_lambert93.csv",
        6,
        "x",
        "x=621700.00 y=6390400.00",
        "coordonnées hors WGS84 (x = longitude et y = latitude en degrés attendues) : elles "
        "ressemblent à des mètres (Lambert-93 ?)",
    ),
    (
        "hors_territoire.csv",
        2,
        "x",
        "x=2.5734 y=44.3506",
        "point hors du territoire (à plus de 1 000 m de ses communes ; x = longitude, "
        "y = latitude en WGS84)",
    ),
    (
        "identifiant_double.csv",
        18,
        "imb_id",
        "IMB/46102/T/0103",
        "identifiant d'immeuble en double (déjà ligne 5)",
    ),
    ("nombre_de_champs.csv", 7, None, None, "nombre de champs incorrect : 22 au lieu de 21"),
    (
        "encodage_utf8.csv",
        4,
        None,
        None,
        "encodage : ligne en UTF-8 dans un fichier en cp1252 (accents mal lus)",
    ),
    (
        "encodage_octet_invalide.csv",
        7,
        None,
        None,
        "encodage : octet 0x81 invalide en cp1252 (fichier publié en cp1252 : ne le "
        "réenregistrez pas dans un autre encodage)",
    ),
]
FILE_PROBLEMS = [
    ("colonne_manquante.csv", 1, "imb_etat", "colonne obligatoire absente"),
    ("separateur_point_virgule.csv", 1, None, "séparateur attendu « , », trouvé « ; »"),
    ("vide.csv", 0, None, "fichier vide"),
]
JOURNAL = "SELECT count(*) FILTER (WHERE status = 'REJETE'), count(*) FROM import_journal"


@pytest.fixture(scope="module")
def loaded() -> Iterator[Engine]:
    """A database holding one ARCEP quarter already (committed)."""
    url = create_scratch_database("arcep_rejets")
    engine = make_engine(url)
    import_arcep_immeubles(engine, FIXTURES / "2024t2-immeuble.zip", territory="46", user="t")
    yield engine
    engine.dispose()
    drop_database(url)


def refused(engine: Engine, path: Path) -> ImportRejectedError:
    with engine.connect() as conn:
        before = data_checksums(conn)
        rejected_before, total_before = conn.execute(text(JOURNAL)).one()
    with pytest.raises(ImportRejectedError) as caught:
        import_arcep_immeubles(engine, path, territory="46", user="t")
    with engine.connect() as conn:
        assert data_checksums(conn) == before  # byte-identical
        rejected, total = conn.execute(text(JOURNAL)).one()
    assert (rejected, total) == (rejected_before + 1, total_before + 1)
    return caught.value


@pytest.mark.parametrize(
    ("name", "line", "column", "value", "reason"), LINE_PROBLEMS, ids=[c[0] for c in LINE_PROBLEMS]
)
def test_line_problem_refuses_the_file(
    loaded: Engine, name: str, line: int, column: str | None, value: str | None, reason: str
) -> None:
    error = refused(loaded, INVALID / f"{PREFIX}{name}")
    file = f"{PREFIX}{name}"
    assert error.message == f"{file} refusé : 1 problème(s) ; rien n'a été importé."
    assert len(error.problems) == 1
    found = error.problems[0]
    assert (found["file"], found["line"], found["column"], found["reason"]) == (
        file,
        line,
        column,
        reason,
    )
    if value is not None:
        assert found["value"] == value
    else:
        assert found["value"]  # the line's text or the cell, to find it


@pytest.mark.parametrize(
    ("name", "line", "column", "reason"), FILE_PROBLEMS, ids=[c[0] for c in FILE_PROBLEMS]
)
def test_file_problem_refuses_the_file(
    loaded: Engine, name: str, line: int, column: str | None, reason: str
) -> None:
    error = refused(loaded, INVALID / f"{PREFIX}{name}")
    assert [(p["line"], p["column"], p["reason"]) for p in error.problems] == [
        (line, column, reason)
    ]
    where = f"{PREFIX}{name}, ligne {line}" if line else f"{PREFIX}{name}"
    assert error.message.startswith(f"{where} : ")


def test_file_without_quarter_is_refused_unchanged(loaded: Engine) -> None:
    error = refused(loaded, INVALID / "sans_trimestre.csv")
    assert error.problems[0]["reason"].startswith("date de l'état inconnue")


def test_skip_invalid_imports_the_valid_lines_and_journals_the_others(loaded: Engine) -> None:
    path = INVALID / f"{PREFIX}etat_inconnu.csv"
    result = import_arcep_immeubles(loaded, path, territory="46", user="t", skip_invalid=True)
    assert result.status == "PARTIEL"
    assert [(p["line"], p["column"]) for p in result.problems] == [(4, "imb_etat")]
    with loaded.connect() as conn:
        entry = conn.execute(
            text("SELECT status, errors, counts FROM import_journal WHERE id = :j"),
            {"j": result.journal_id},
        ).one()
        ids = set(
            conn.execute(
                text("SELECT imb_id FROM arcep_immeuble WHERE date_etat = '2024-06-30'")
            ).scalars()
        )
    assert entry.status == "PARTIEL"
    assert entry.errors[0]["line"] == 4 and entry.errors[0]["value"] == "raccorde"
    assert entry.counts["rejetees"] == 1
    # a partial file retires nothing: the rejected building keeps its earlier row
    assert "IMB/46102/T/0102" in ids and len(ids) == 13
