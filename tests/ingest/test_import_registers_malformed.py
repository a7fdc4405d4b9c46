"""Malformed registers and WiFi statistics (wrong encoding, missing column, bad coordinates,
unknown commune or borne, duplicate code) are refused with line-level French problems, and the
database stays byte-identical (only the journal records the refusal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo_service.db.session import make_engine
from geo_service.errors import ImportRejectedError
from geo_service.ingest.journal import ImportResult
from geo_service.ingest.registers import import_register
from geo_service.ingest.wifi_stats import import_wifi_stats
from tests.conftest import FIXTURES, create_scratch_database, data_checksums, drop_database

REGISTRES = FIXTURES / "registres"
VALID = {
    "sites": "sites_mobiles_complet.csv",
    "bornes": "bornes_wifi_complet.csv",
    "med": "sites_med_complet.csv",
    "wifi-stats": "wifi_stats_20240630.csv",
}


def _importer(kind: str) -> Callable[[Engine, Path], ImportResult]:
    if kind == "wifi-stats":
        return lambda engine, path: import_wifi_stats(engine, path, territory="46", user="t")
    return lambda engine, path: import_register(engine, kind, path, territory="46", user="t")


@pytest.fixture(scope="module")
def loaded() -> Iterator[Engine]:
    """A database holding the three registers and a month of WiFi statistics (committed)."""
    url = create_scratch_database("registres")
    engine = make_engine(url)
    for kind, name in VALID.items():
        assert _importer(kind)(engine, REGISTRES / name).status == "OK"
    yield engine
    engine.dispose()
    drop_database(url)


def _utf16(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}_utf16.csv"
    path.write_bytes((REGISTRES / VALID[kind]).read_text(encoding="utf-8").encode("utf-16"))
    return path


def _bad_bom(tmp_path: Path, kind: str) -> Path:
    """Marked UTF-8 by its BOM, but holding a Latin-1 byte (é = 0xE9) on line 2."""
    path = tmp_path / f"{kind}_bom.csv"
    lines = (REGISTRES / VALID[kind]).read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b";", b"\xe9;", 1)
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines))
    return path


FILE_CASES = [
    (kind, maker, line, reason)
    for kind in VALID
    for maker, line, reason in (
        (_utf16, 0, "fichier encodé en UTF-16 : enregistrez-le en UTF-8 ou en Latin-1"),
        (_bad_bom, 2, "fichier marqué UTF-8 (BOM) mais contenant des octets invalides en UTF-8"),
    )
]
COLUMN_CASES = [
    ("sites", "sites_mobiles_sans_colonne.csv", "programme"),
    ("bornes", "bornes_wifi_sans_colonne.csv", "longitude"),
    ("med", "sites_med_sans_colonne.csv", "nom"),
    ("wifi-stats", "wifi_stats_sans_colonne_20240630.csv", "utilisateurs"),
]
# (kind, file, line, column, reason): bad coordinates, unknown commune / borne, duplicate code
LINE_CASES = [
    (
        "sites",
        "sites_mobiles_lignes_invalides_20220101.csv",
        3,
        "longitude",
        "coordonnées illisibles",
    ),
    (
        "sites",
        "sites_mobiles_lignes_invalides_20220101.csv",
        2,
        "code_insee",
        "commune inconnue du territoire",
    ),
    (
        "sites",
        "sites_mobiles_lignes_invalides_20220101.csv",
        5,
        "code",
        "code en double (déjà ligne 4)",
    ),
    (
        "bornes",
        "bornes_wifi_lignes_invalides_20240101.csv",
        2,
        "longitude",
        "coordonnées illisibles",
    ),
    (
        "bornes",
        "bornes_wifi_lignes_invalides_20240101.csv",
        3,
        "code_insee",
        "commune inconnue du territoire",
    ),
    (
        "bornes",
        "bornes_wifi_lignes_invalides_20240101.csv",
        5,
        "code",
        "code en double (déjà ligne 4)",
    ),
    ("med", "sites_med_lignes_invalides_20190101.csv", 2, "longitude", "coordonnées illisibles"),
    (
        "med",
        "sites_med_lignes_invalides_20190101.csv",
        3,
        "code_insee",
        "commune inconnue du territoire",
    ),
    ("med", "sites_med_lignes_invalides_20190101.csv", 5, "code", "code en double (déjà ligne 4)"),
    (
        "wifi-stats",
        "wifi_stats_invalide_20240630.csv",
        2,
        "borne",
        "borne inconnue du territoire (importez d'abord le registre)",
    ),
    ("wifi-stats", "wifi_stats_invalide_20240630.csv", 3, "mois", "mois inexistant"),
    ("wifi-stats", "wifi_stats_invalide_20240630.csv", 5, "sessions", "sessions négatif"),
    (
        "wifi-stats",
        "wifi_stats_invalide_20240630.csv",
        7,
        "mois",
        "borne et mois en double (déjà ligne 6)",
    ),
]
JOURNAL = "SELECT count(*) FILTER (WHERE status = 'REJETE'), count(*) FROM import_journal"


def _refused(engine: Engine, kind: str, path: Path) -> ImportRejectedError:
    with engine.connect() as conn:
        before = data_checksums(conn)
        rejected_before, total_before = conn.execute(text(JOURNAL)).one()
    with pytest.raises(ImportRejectedError) as caught:
        _importer(kind)(engine, path)
    with engine.connect() as conn:
        assert data_checksums(conn) == before
        assert tuple(conn.execute(text(JOURNAL)).one()) == (rejected_before + 1, total_before + 1)
    return caught.value


@pytest.mark.parametrize(("kind", "maker", "line", "reason"), FILE_CASES)
def test_a_wrongly_encoded_file_is_refused_whole(
    loaded: Engine,
    tmp_path: Path,
    kind: str,
    maker: Callable[[Path, str], Path],
    line: int,
    reason: str,
) -> None:
    path = maker(tmp_path, kind)
    error = _refused(loaded, kind, path)
    assert error.message == (
        f"{path.name}, ligne {line} : {reason}" if line else f"{path.name} : {reason}"
    )
    assert [(p["line"], p["reason"]) for p in error.problems] == [(line, reason)]


@pytest.mark.parametrize(("kind", "name", "column"), COLUMN_CASES)
def test_a_missing_column_is_named(loaded: Engine, kind: str, name: str, column: str) -> None:
    error = _refused(loaded, kind, REGISTRES / name)
    assert error.message == f"{name} : colonnes absentes : {column}."
    assert [(p["line"], p["column"], p["reason"]) for p in error.problems] == [
        (1, column, "colonne obligatoire absente")
    ]


@pytest.mark.parametrize(("kind", "name", "line", "column", "reason"), LINE_CASES)
def test_a_bad_line_is_named_with_its_column_and_reason(
    loaded: Engine, kind: str, name: str, line: int, column: str, reason: str
) -> None:
    error = _refused(loaded, kind, REGISTRES / name)
    assert (name, line, column, reason) in [
        (p["file"], p["line"], p["column"], p["reason"]) for p in error.problems
    ]
    assert error.message.startswith(f"{name} refusé : ")
    assert error.message.endswith(" problème(s) ; rien n'a été importé.")
