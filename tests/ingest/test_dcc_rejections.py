"""Malformed ARCEP files (DCC sites, "Mon réseau mobile" sites) are refused with line-level
French messages, journalled, and leave the database byte-identical."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geo_service.cli import app
from geo_service.db.session import make_engine
from geo_service.errors import ImportRejectedError
from geo_service.ingest.arcep_sites import import_arcep_sites
from geo_service.ingest.dcc import import_dcc
from tests.conftest import FIXTURES, create_scratch_database, data_checksums, drop_database

DCC = FIXTURES / "arcep" / "2022_T2_dcc_Metropole_sites.csv"
SITES = FIXTURES / "arcep" / "2022_T4_sites_Metropole.csv"
JOURNAL = "SELECT count(*) FILTER (WHERE status = 'REJETE'), count(*) FROM import_journal"


@pytest.fixture(scope="module")
def scratch_url() -> Iterator[str]:
    url = create_scratch_database("dcc_rejects")
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
def loaded(scratch_url: str) -> Iterator[Engine]:
    """A database holding the DCC sites of the fixture (committed)."""
    engine = make_engine(scratch_url)
    assert import_dcc(engine, DCC, territory="46", user="tests").status == "OK"
    yield engine
    engine.dispose()


def _variant(
    tmp_path: Path, source: Path, name: str, change: Callable[[str], str], encoding: str = "utf-8"
) -> Path:
    path = tmp_path / name
    path.write_bytes(change(source.read_text(encoding="utf-8-sig")).encode(encoding))
    return path


def _refused(engine: Engine, importer: Callable[..., object], path: Path) -> list[dict]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        before = data_checksums(conn)
        rejected, total = conn.execute(text(JOURNAL)).one()
    with pytest.raises(ImportRejectedError) as caught:
        importer(engine, path, territory="46", user="tests")
    with engine.connect() as conn:
        assert data_checksums(conn) == before
        assert tuple(conn.execute(text(JOURNAL)).one()) == (rejected + 1, total + 1)
    return caught.value.problems


def _drop_column(content: str, column: str) -> str:
    rows = [line.split(";") for line in content.splitlines()]
    k = rows[0].index(column)
    return "\n".join(";".join(r[:k] + r[k + 1 :]) for r in rows) + "\n"


DCC_CASES = [
    (
        "2022_T2_dcc_latin1.csv",
        lambda c: c.replace("LE BASTIT", "LE BASTIT É"),
        "latin-1",
        [
            (
                2,
                None,
                "encodage non UTF-8 (ARCEP publie ses fichiers en UTF-8) : réenregistrez le fichier en UTF-8",
            )
        ],
    ),
    (
        "2022_T2_dcc_sans_colonne.csv",
        lambda c: _drop_column(c, "20815"),
        "utf-8",
        [(1, "20815", "colonne obligatoire absente")],
    ),
    (
        "2022_T2_dcc_coordonnees.csv",
        lambda c: c.replace("594903;6401958", "1.6745;44.7092").replace(
            "590684;6404168", "590684;"
        ),
        "utf-8",
        [
            (
                2,
                "x_lambert_93",
                "coordonnées hors de la France métropolitaine (Lambert-93 attendu)",
            ),
            (3, "x_lambert_93", "coordonnées absentes"),
        ],
    ),
    (
        "2022_T2_dcc_double.csv",
        lambda c: c.replace("2020-1;2020-01-20;106;", "2020-1;2020-01-20;101;"),
        "utf-8",
        [(7, "numero_site", "numero_site en double (déjà ligne 2)")],
    ),
    (
        "2022_T2_dcc_drapeaux.csv",
        lambda c: c.replace("594903;6401958;1;1;1;1;20801", "594903;6401958;1;oui;1;1;20899"),
        "utf-8",
        [
            (2, "20810", "indicateur 0/1 attendu"),
            (2, "op_leader", "opérateur inconnu (MCC-MNC attendu : 20801, 20810, 20815, 20820)"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "encoding", "expected"), DCC_CASES, ids=[c[0] for c in DCC_CASES]
)
def test_malformed_dcc_file_changes_nothing(
    loaded: Engine,
    tmp_path: Path,
    name: str,
    change: Callable[[str], str],
    encoding: str,
    expected: list[tuple[int, str | None, str]],
) -> None:
    problems = _refused(loaded, import_dcc, _variant(tmp_path, DCC, name, change, encoding))
    assert [(p["line"], p["column"], p["reason"]) for p in problems] == expected
    assert all(p["file"] == name for p in problems)


def test_malformed_dcc_message_names_file_and_count(loaded: Engine, tmp_path: Path) -> None:
    path = _variant(tmp_path, DCC, "2022_T2_dcc_x.csv", lambda c: c.replace("594903;", "5949x3;"))
    with pytest.raises(ImportRejectedError) as caught:
        import_dcc(loaded, path, territory="46")
    assert (
        caught.value.message == "2022_T2_dcc_x.csv refusé : 1 problème(s) ; rien n'a été importé."
    )
    [found] = caught.value.problems
    assert (found["line"], found["value"], found["reason"]) == (
        2,
        "5949x3 6401958",
        "coordonnées illisibles",
    )


SITES_CASES = [
    (
        "2022_T4_sites_double.csv",
        lambda c: c.replace("0461000031", "0461000001"),
        [(6, "id_station_anfr", "id_station_anfr en double (déjà ligne 2)")],
    ),
    (
        "2022_T4_sites_sans_colonne.csv",
        lambda c: _drop_column(c, "site_DCC"),
        [(1, "site_DCC", "colonne obligatoire absente")],
    ),
    (
        "2022_T4_sites_coordonnees.csv",
        lambda c: c.replace("595023;6402008", "595023;abc"),
        [(2, "x", "coordonnées illisibles")],
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "expected"), SITES_CASES, ids=[c[0] for c in SITES_CASES]
)
def test_malformed_arcep_sites_file_changes_nothing(
    loaded: Engine,
    tmp_path: Path,
    name: str,
    change: Callable[[str], str],
    expected: list[tuple[int, str | None, str]],
) -> None:
    problems = _refused(loaded, import_arcep_sites, _variant(tmp_path, SITES, name, change))
    assert [(p["line"], p["column"], p["reason"]) for p in problems] == expected


def test_arcep_sites_reimport_changes_nothing(loaded: Engine) -> None:
    first = import_arcep_sites(loaded, SITES, territory="46", user="tests")
    assert first.status == "OK"
    with loaded.connect() as conn:
        before = data_checksums(conn)
    assert import_arcep_sites(loaded, SITES, territory="46").status == "DEJA_IMPORTE"
    with loaded.connect() as conn:
        assert data_checksums(conn) == before


def test_the_commands_speak_french(
    loaded: Engine, scratch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    runner = CliRunner()
    bad = _variant(tmp_path, DCC, "2022_T2_dcc_sans.csv", lambda c: _drop_column(c, "op_leader"))
    refused = runner.invoke(app, ["import", "dcc", str(bad), "--departement", "46"])
    assert refused.exit_code == 1
    assert "colonne(s) absente(s) : op_leader" in " ".join(refused.output.split())
    park = FIXTURES / "couches" / "pnr_causses_du_quercy.geojson"
    loaded_park = runner.invoke(app, ["import", "couche", "pnr", str(park), "-d", "46"])
    assert loaded_park.exit_code == 0, loaded_park.output
    assert "Couche « pnr » chargée" in loaded_park.output
    again = runner.invoke(app, ["import", "dcc", str(DCC), "-d", "46"])
    assert (again.exit_code, "déjà importé" in again.output) == (0, True)
