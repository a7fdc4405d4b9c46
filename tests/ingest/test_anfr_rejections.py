"""A malformed ANFR export is refused line by line in French and leaves the database exactly as
it was; --skip-invalid imports the rest and journals the refused lines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geo_service.db.session import make_engine
from geo_service.errors import ImportRejectedError
from geo_service.ingest.anfr import import_anfr
from tests.conftest import create_scratch_database, data_checksums, drop_database
from tests.fixtures.anfr.variants import EXPORT, replace, variant

DAY = "20240229-export-etalab"
Change = Callable[[list[str]], list[str]]


def _utf8_line(path: Path) -> None:
    """Line 3 of SUP_SUPPORT saved again in UTF-8 inside a cp1252 file."""
    lines = path.read_bytes().split(b"\r\n")
    lines[2] = lines[2].decode("cp1252").encode("utf-8")
    path.write_bytes(b"\r\n".join(lines))


def _undefined_byte(path: Path) -> None:
    """0x81, a byte Windows-1252 leaves undefined, on line 4 of SUP_SUPPORT."""
    path.write_bytes(path.read_bytes().replace(b"Combe Fage", b"Combe F\x81ge"))


def _drop_column(name: str) -> Change:
    def change(lines: list[str]) -> list[str]:
        at = lines[0].split(";").index(name)
        return [";".join(c for i, c in enumerate(li.split(";")) if i != at) for li in lines]

    return change


# (case, table, change of its lines, expected (file table, line, column, reason))
ROW_CASES: list[tuple[str, str, Change, tuple[str, int, str | None, str]]] = [
    (
        "hemisphere",
        "SUP_SUPPORT.txt",
        replace(4, ";E;18;", ";X;18;"),
        ("SUP_SUPPORT.txt", 4, "COR_CD_EW_LON", "hémisphère inconnu (attendu E ou W)"),
    ),
    (
        "minutes",
        "SUP_SUPPORT.txt",
        replace(2, "44;51;0,4;N", "44;75;0,4;N"),
        ("SUP_SUPPORT.txt", 2, "COR_NB_MN_LAT", "coordonnée hors limites (0 à 60)"),
    ),
    (
        "degrees",
        "SUP_SUPPORT.txt",
        replace(4, ";2;1;33,5;E;", ";2°;1;33,5;E;"),
        ("SUP_SUPPORT.txt", 4, "COR_NB_DG_LON", "coordonnée illisible (nombre attendu)"),
    ),
    (
        "date",
        "SUP_STATION.txt",
        replace(2, "15/06/2008", "31/02/2008"),
        ("SUP_STATION.txt", 2, "DTE_EN_SERVICE", "date illisible (attendu JJ/MM/AAAA)"),
    ),
    (
        "operator",
        "SUP_STATION.txt",
        replace(3, "0462510002;137;", "0462510002;999;"),
        ("SUP_STATION.txt", 3, "ADM_ID", "code inconnu de la table SUP_EXPLOITANT"),
    ),
    (
        "duplicate-emitter",
        "SUP_EMETTEUR.txt",
        lambda lines: [*lines, "3;LTE 2600;0462510001;502;01/01/2020"],
        ("SUP_EMETTEUR.txt", 14, "EMR_ID", "doublon de la ligne 4"),
    ),
    (
        "duplicate-station",
        "SUP_STATION.txt",
        lambda lines: [*lines, "0461020001;240;1204599;10/01/2023;10/01/2023;"],
        ("SUP_STATION.txt", 9, "STA_NM_ANFR", "doublon de la ligne 4"),
    ),
    (
        "fields",
        "SUP_EMETTEUR.txt",
        replace(3, ";0462510001;501;", ";0462510001;"),
        ("SUP_EMETTEUR.txt", 3, None, "nombre de champs incorrect : 4 au lieu de 5"),
    ),
]
BYTE_CASES = [
    (
        "utf8-line",
        _utf8_line,
        "SUP_SUPPORT.txt",
        3,
        "encodage incohérent : ligne en UTF-8 dans un fichier en Windows-1252 (cp1252)",
    ),
    (
        "undefined-byte",
        _undefined_byte,
        "SUP_SUPPORT.txt",
        4,
        "encodage incorrect : octets invalides en Windows-1252 (cp1252)",
    ),
]


@pytest.fixture(scope="module")
def loaded() -> Iterator[Engine]:
    """A database holding the fixture export (committed)."""
    url = create_scratch_database("anfr")
    engine = make_engine(url)
    assert import_anfr(engine, EXPORT, territory="46", user="test").status == "OK"
    yield engine
    engine.dispose()
    drop_database(url)


JOURNAL = "SELECT count(*) FILTER (WHERE status = 'REJETE'), count(*) FROM import_journal"


def _refused(engine: Engine, export: Path) -> ImportRejectedError:
    with engine.connect() as conn:
        before = data_checksums(conn)
        rejected_before, total_before = conn.execute(text(JOURNAL)).one()
    with pytest.raises(ImportRejectedError) as caught:
        import_anfr(engine, export, territory="46", user="test")
    with engine.connect() as conn:
        assert data_checksums(conn) == before
        rejected, total = conn.execute(text(JOURNAL)).one()
    assert (rejected, total) == (rejected_before + 1, total_before + 1)
    return caught.value


@pytest.mark.parametrize(
    ("table", "change", "expected"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES]
)
def test_bad_line_is_refused_with_its_place(
    loaded: Engine, tmp_path: Path, table: str, change: Change, expected: tuple
) -> None:
    error = _refused(loaded, variant(tmp_path, DAY, {table: change}))
    file, line, column, reason = expected
    found = [
        (p["file"].rsplit("/", 1)[-1], p["line"], p["column"], p["reason"]) for p in error.problems
    ]
    assert found == [(file, line, column, reason)]
    assert error.message == f"{DAY} refusé : 1 problème(s) ; rien n'a été importé."


@pytest.mark.parametrize(
    ("damage", "file", "line", "reason"),
    [c[1:] for c in BYTE_CASES],
    ids=[c[0] for c in BYTE_CASES],
)
def test_wrong_encoding_is_refused_with_its_line(
    loaded: Engine,
    tmp_path: Path,
    damage: Callable[[Path], None],
    file: str,
    line: int,
    reason: str,
) -> None:
    export = variant(tmp_path, DAY)
    damage(export / file)
    error = _refused(loaded, export)
    assert [(p["file"], p["line"], p["reason"]) for p in error.problems] == [
        (f"{DAY}/{file}", line, reason)
    ]


def test_missing_column_is_refused(loaded: Engine, tmp_path: Path) -> None:
    export = variant(tmp_path, DAY, {"SUP_SUPPORT.txt": _drop_column("COR_CD_EW_LON")})
    error = _refused(loaded, export)
    assert error.message == (
        f"{DAY}/SUP_SUPPORT.txt, ligne 1 : colonne(s) obligatoire(s) absente(s) : COR_CD_EW_LON."
    )
    assert error.problems[0]["column"] == "COR_CD_EW_LON"


def test_utf16_table_is_refused(loaded: Engine, tmp_path: Path) -> None:
    export = variant(tmp_path, DAY)
    table = export / "SUP_STATION.txt"
    table.write_bytes(table.read_bytes().decode("cp1252").encode("utf-16"))
    error = _refused(loaded, export)
    assert "UTF-16" in error.message and "SUP_STATION.txt" in error.message


def test_bad_line_outside_the_territory_is_not_ours(loaded: Engine, tmp_path: Path) -> None:
    """A support of Bordeaux with a broken hemisphere: counted, not refused."""
    export = variant(tmp_path, DAY, {"SUP_SUPPORT.txt": replace(7, ";W;25;", ";Q;25;")})
    result = import_anfr(loaded, export, territory="46", user="test")
    assert result.status == "OK", result.problems
    assert result.counts["supports_non_localises"] == 1


def test_skip_invalid_imports_the_rest_and_journals(tmp_path: Path) -> None:
    url = create_scratch_database("anfr_skip")
    engine = make_engine(url)
    try:
        export = variant(tmp_path, DAY, {"SUP_SUPPORT.txt": replace(4, ";E;18;", ";X;18;")})
        result = import_anfr(engine, export, territory="46", user="test", skip_invalid=True)
        assert result.status == "PARTIEL"
        assert [(p["line"], p["column"]) for p in result.problems] == [(4, "COR_CD_EW_LON")]
        with engine.connect() as conn:
            stations = set(conn.execute(text("SELECT sta_nm_anfr FROM anfr_station")).scalars())
            journal = conn.execute(
                text("SELECT status, errors FROM import_journal WHERE id = :j"),
                {"j": result.journal_id},
            ).one()
        assert stations == {"0462510001", "0462510002", "0463110001"}  # Figeac's left out
        assert journal.status == "PARTIEL"
        assert journal.errors[0]["reason"] == "hémisphère inconnu (attendu E ou W)"
    finally:
        engine.dispose()
        drop_database(url)


def test_cli_prints_the_french_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from geo_service.cli import app

    url = create_scratch_database("anfr_cli")
    try:
        monkeypatch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(
            app, ["import", "anfr", str(EXPORT), "--departement", "46", "--utilisateur", "alice"]
        )
        assert result.exit_code == 0, result.output
        output = " ".join(result.output.split())  # Rich wraps long lines
        assert "4 stations, 3 supports, 9 émetteurs dans le territoire" in output
        assert "laissés de côté hors du territoire : 3 stations" in output
        bad = variant(tmp_path, DAY, {"SUP_STATION.txt": replace(2, "15/06/2008", "15/13/2008")})
        refused = CliRunner().invoke(app, ["import", "anfr", str(bad), "--departement", "46"])
        assert refused.exit_code == 1
        assert "refusé : 1 problème(s)" in " ".join(refused.output.split())
    finally:
        drop_database(url)
