"""`db backup` / `db restore`: a round trip gives identical tables in a new database without
touching the source; dumps from a newer schema, damaged dumps and non-empty targets are refused."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geo_service.cli import app
from geo_service.db import backup
from geo_service.db.migrate import alembic_config, upgrade
from geo_service.db.session import make_engine
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from geo_service.settings import Settings
from tests.conftest import (
    _libpq_to_url,
    _with_dbname,
    create_scratch_database,
    data_checksums,
    drop_database,
)
from tests.ingest.ipe_files import write_ipe

runner = CliRunner()
HEAD = ScriptDirectory.from_config(alembic_config("postgresql://x@localhost/x")).get_current_head()


def said(result) -> str:  # type: ignore[no-untyped-def]
    """The command's output as one line (rich wraps long messages)."""
    return " ".join(result.output.split())


def new_url(tag: str) -> str:
    """URL of a database that does not exist yet, on the tests' server."""
    name = f"geo_service_test_{tag}_{uuid.uuid4().hex[:8]}"
    return _libpq_to_url(_with_dbname(Settings().libpq_url, name))


def create_empty(url: str) -> str:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(_with_dbname(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def exists(url: str) -> bool:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(_with_dbname(url, "postgres")) as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        )


def checksums(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        sums = data_checksums(conn)
        sums["import_journal"] = conn.execute(
            text(
                "SELECT count(*) || ':' || md5(string_agg(file_name || status, '|' ORDER BY id)) FROM import_journal"
            )
        ).scalar_one()
        sums["sequences"] = str(
            conn.execute(text("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")).all()
        )
        sums["alembic_version"] = conn.execute(
            text("SELECT version_num FROM alembic_version")
        ).scalar_one()
    engine.dispose()
    return sums


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, gracethd_gpkg: Path) -> Iterator[str]:
    """A migrated database with the Lot's geography, a small network and two IPE snapshots."""
    url = create_scratch_database("backup_src")
    engine: Engine = make_engine(url)
    import_gracethd(engine, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1))
    folder = tmp_path_factory.mktemp("ipe")
    first = {
        "IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "2019-06-01"),
        "IMB/46102/T/0003": ("CIBLE", 2, "PLANIFIE", ""),
    }
    import_ipe(engine, write_ipe(folder / "IPE_TEST_46_20190630.csv", first), territory="46")
    second = {**first, "IMB/46102/T/0003": ("DEPLOYE", 2, "DEPLOYE", "2020-01-10")}
    import_ipe(engine, write_ipe(folder / "IPE_TEST_46_20200630.csv", second), territory="46")
    engine.dispose()
    yield url
    drop_database(url)


@pytest.fixture()
def targets() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for url in made:
        drop_database(url)


def test_round_trip_gives_identical_tables_in_a_new_database(
    source: str, tmp_path: Path, targets: list[str]
) -> None:
    before = checksums(source)
    assert int(before["premise"].split(":")[0]) >= 2 and int(before["commune"].split(":")[0]) > 300

    dump = tmp_path / "sauvegarde.dump"
    result = runner.invoke(app, ["db", "backup", str(dump), "--dsn", source])
    assert result.exit_code == 0, result.output
    assert "Sauvegarde de « geo_service_test_backup_src" in said(result)
    described = json.loads(backup.sidecar(dump).read_text())
    assert described["schema_revision"] == HEAD
    assert described["bytes"] == dump.stat().st_size

    target = new_url("restore")
    targets.append(target)
    result = runner.invoke(app, ["db", "restore", str(dump), "--dsn", target])
    assert result.exit_code == 0, result.output
    assert f"schéma {HEAD}" in said(result)
    assert checksums(target) == before
    assert checksums(source) == before  # the source is untouched

    # A second restore over the now-full target is refused, and changes nothing.
    result = runner.invoke(app, ["db", "restore", str(dump), "--dsn", target])
    assert result.exit_code == 1
    assert "n'est pas vide" in said(result)
    assert checksums(target) == before


def test_restore_into_an_existing_empty_database_by_name(
    source: str, tmp_path: Path, targets: list[str]
) -> None:
    dump, _info = backup.backup(source, tmp_path)  # a folder: dated name with the revision
    assert dump.parent == tmp_path and dump.name.endswith(f"_schema-{HEAD}.dump")
    target = create_empty(new_url("vide"))
    targets.append(target)
    name = psycopg.conninfo.conninfo_to_dict(target)["dbname"]
    result = runner.invoke(app, ["db", "restore", str(dump), "--base", name])
    assert result.exit_code == 0, result.output
    assert checksums(target) == checksums(source)


def test_a_backup_never_overwrites_a_file_unless_asked(source: str, tmp_path: Path) -> None:
    dump = tmp_path / "s.dump"
    dump.write_bytes(b"ancienne sauvegarde")
    result = runner.invoke(app, ["db", "backup", str(dump), "--dsn", source])
    assert result.exit_code == 1 and "existe déjà" in said(result)
    assert dump.read_bytes() == b"ancienne sauvegarde"
    result = runner.invoke(app, ["db", "backup", str(dump), "--dsn", source, "--ecraser"])
    assert result.exit_code == 0, result.output
    assert dump.read_bytes().startswith(b"PGDMP")
    assert not list(tmp_path.glob(".*partiel"))


def test_a_dump_from_a_newer_schema_is_refused(tmp_path: Path, targets: list[str]) -> None:
    future = create_empty(new_url("futur"))
    targets.append(future)
    with psycopg.connect(future, autocommit=True) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999_a_venir')")
    dump, info = backup.backup(future, tmp_path / "futur.dump")
    assert info.schema_revision == "9999_a_venir"
    target = new_url("refus")
    targets.append(target)
    result = runner.invoke(app, ["db", "restore", str(dump), "--dsn", target])
    assert result.exit_code == 1
    assert "schéma « 9999_a_venir », inconnu de cette version de geo_service" in said(result)
    assert "Mettez geo_service à jour" in said(result)
    assert not exists(target)
    # Without the sidecar, the revision is read in the dump itself: still refused.
    backup.sidecar(dump).unlink()
    with pytest.raises(backup.BackupError, match="9999_a_venir"):
        backup.restore(dump, target)
    assert not exists(target)


def test_an_older_dump_is_migrated_after_restore(tmp_path: Path, targets: list[str]) -> None:
    script = ScriptDirectory.from_config(alembic_config("postgresql://x@localhost/x"))
    older = script.get_revision(HEAD).down_revision
    assert isinstance(older, str)
    old = create_empty(new_url("ancien"))
    targets.append(old)
    upgrade(old, older)
    dump, info = backup.backup(old, tmp_path / "ancien.dump")
    assert info.schema_revision == older
    target = new_url("migre")
    targets.append(target)
    result = backup.restore(dump, target)
    assert (result.schema_revision, result.migrated_to) == (older, HEAD)
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    with psycopg.connect(old) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (older,)


def test_a_damaged_dump_is_refused(source: str, tmp_path: Path, targets: list[str]) -> None:
    dump, _info = backup.backup(source, tmp_path / "s.dump")
    dump.write_bytes(dump.read_bytes()[:-100])
    target = new_url("abime")
    targets.append(target)
    result = runner.invoke(app, ["db", "restore", str(dump), "--dsn", target])
    assert result.exit_code == 1
    assert "incomplet ou abîmé" in said(result)
    assert not exists(target)


def test_a_database_without_schema_is_not_backed_up(tmp_path: Path, targets: list[str]) -> None:
    bare = create_empty(new_url("nu"))
    targets.append(bare)
    with pytest.raises(backup.BackupError, match="pas de table alembic_version"):
        backup.backup(bare, tmp_path / "nu.dump")
    assert not (tmp_path / "nu.dump").exists()


def test_tools_of_the_server_major_or_the_nearest_newer(tmp_path: Path) -> None:
    for major in (14, 16, 17):
        (tmp_path / str(major) / "bin").mkdir(parents=True)
        (tmp_path / str(major) / "bin" / "pg_dump").touch()
    assert backup.tool("pg_dump", 16, tmp_path) == tmp_path / "16" / "bin" / "pg_dump"
    assert backup.tool("pg_dump", 15, tmp_path) == tmp_path / "16" / "bin" / "pg_dump"
    with pytest.raises(backup.BackupError, match="postgresql-client-18"):
        backup.tool("pg_dump", 18, tmp_path)
