"""The `geo-service` command line speaks French and loads the reference geography."""

from __future__ import annotations

from typer.testing import CliRunner

from geo_service.cli import app

runner = CliRunner()


def test_help_is_in_french() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "suivi du très haut débit" in result.output
    for command in ("db", "reference", "serve"):
        assert command in result.output


def test_reference_load_is_idempotent_from_the_cli(settings, lot_loaded, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", settings.libpq_url)
    result = runner.invoke(app, ["reference", "load", "--departement", "46"])
    assert result.exit_code == 0, result.output
    assert "312 communes" in result.output
    assert "0 lignes modifiées" in result.output


def test_unknown_departement_exits_non_zero_with_a_french_message(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", settings.libpq_url)
    result = runner.invoke(app, ["reference", "load", "--departement", "999"])
    assert result.exit_code == 1
    assert "Département inconnu" in result.output
