"""`geo-service import arcep-immeubles` then `geo-service controle arcep` on a committed database."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from geo_service.cli import app
from geo_service.db.session import make_engine
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from tests.analysis.test_controle_arcep import FIXTURES, expected
from tests.conftest import create_scratch_database, drop_database

runner = CliRunner()


@pytest.fixture(scope="module")
def database(gracethd_gpkg: Path) -> Iterator[tuple[str, Engine]]:
    url = create_scratch_database("arcep_cli")
    engine = make_engine(url)
    import_gracethd(engine, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1))
    for name in ("IPE_TEST_46_20240331.csv", "IPE_TEST_46_20240930.csv"):
        import_ipe(engine, FIXTURES / "ipe" / name, territory="46")
    yield url, engine
    engine.dispose()
    drop_database(url)


def test_import_then_cross_check_from_the_command_line(
    database: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, engine = database
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GEO_SERVICE_DEPARTEMENT", "46")
    zip_path = str(FIXTURES / "2024t2-immeuble.zip")
    imported = runner.invoke(app, ["import", "arcep-immeubles", zip_path])
    assert imported.exit_code == 0, imported.output
    assert "état ARCEP au 30/06/2024" in imported.output
    again = runner.invoke(app, ["import", "arcep-immeubles", zip_path])
    assert again.exit_code == 0 and "déjà importé" in again.output

    with engine.connect() as conn:
        planted = expected(conn)
    table = runner.invoke(app, ["controle", "arcep"])
    assert table.exit_code == 0, table.output
    assert "État ARCEP au 30/06/2024" in table.output
    assert "Absent du fichier ARCEP" in table.output

    as_json = runner.invoke(app, ["controle", "arcep", "--format", "json"])
    body = json.loads(as_json.stdout)
    assert {(r["categorie"], r["imb_id"]) for r in body["lignes"]} == planted

    target = tmp_path / "ecarts.csv"
    written = runner.invoke(app, ["controle", "arcep", "-f", "csv", "-o", str(target)])
    assert written.exit_code == 0, written.output
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8-sig")), delimiter=";"))
    assert {(r["Code catégorie"], r["Identifiant immeuble"]) for r in rows} == planted

    only = runner.invoke(app, ["controle", "arcep", "-f", "json", "--commune", "46251"])
    assert [r["imb_id"] for r in json.loads(only.stdout)["lignes"]] == ["IMB/46251/T/0301"]


def test_refused_file_exits_non_zero_in_french(
    database: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _engine = database
    monkeypatch.setenv("DATABASE_URL", url)
    path = FIXTURES / "invalides" / "carte_fibre_immeubles_2024_T2_etat_inconnu.csv"
    result = runner.invoke(app, ["import", "arcep-immeubles", str(path), "-d", "46"])
    assert result.exit_code == 1
    assert "rien n'a été importé" in result.output
    assert "imb_etat" in result.output and "raccorde" in result.output  # column and value
    early = runner.invoke(app, ["controle", "arcep", "--date", "2019-01-01", "-d", "46"])
    assert early.exit_code == 1
    assert "Aucun état ARCEP" in early.output
