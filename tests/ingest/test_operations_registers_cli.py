"""`geo-service import incidents|controles-pm|abonnes|echanges-frontaliers FICHIER`: French
messages, a non-zero exit on a refused file, nothing imported twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from geo_service.cli import app
from tests.conftest import FIXTURES, create_scratch_database, drop_database

OPERATIONS = FIXTURES / "operations"
runner = CliRunner()


@pytest.fixture(scope="module")
def scratch_url() -> Iterator[str]:
    """A committed database with the Lot's communes and no network (no PM)."""
    url = create_scratch_database("opscli")
    yield url
    drop_database(url)


def test_import_commands_report_in_french(
    scratch_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    path = str(OPERATIONS / "echanges_frontaliers.csv")
    done = runner.invoke(app, ["import", "echanges-frontaliers", path, "-d", "46"])
    assert done.exit_code == 0, done.output
    assert "echanges_frontaliers.csv importé : 4 créés, 0 modifiés, 0 inchangés, 0 rejetés." in (
        done.output
    )
    again = runner.invoke(app, ["import", "echanges-frontaliers", path, "-d", "46"])
    assert again.exit_code == 0 and "déjà importé" in again.output
    # without a network, the PM named by the controls are unknown: refused, line by line
    refused = runner.invoke(
        app, ["import", "controles-pm", str(OPERATIONS / "controles_pm.csv"), "-d", "46"]
    )
    assert refused.exit_code == 1
    assert "controles_pm.csv refusé : 2 problème(s) ; rien n'a été importé." in refused.output
    assert "PM inconnu du territoire" in refused.output
    partial = runner.invoke(
        app,
        [
            "import",
            "controles-pm",
            str(OPERATIONS / "controles_pm.csv"),
            "-d",
            "46",
            "--skip-invalid",
        ],
    )
    assert partial.exit_code == 0, partial.output
    assert "3 créés" in partial.output and "2 ligne(s) rejetée(s)" in partial.output
