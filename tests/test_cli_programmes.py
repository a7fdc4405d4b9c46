"""`geo-service mobile|wifi|med` on the demo Lot: lists with filters in each format, one object
with its history, indicators; French errors with exit code 1."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import Connection, text
from typer.testing import CliRunner

from geo_service.cli import app

runner = CliRunner()


@pytest.fixture()
def demo_env(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.setenv("GEO_SERVICE_DEPARTEMENT", "46")


def test_late_mobile_sites_as_csv_match_sql(demo_env: None, demo_conn: Connection) -> None:
    expected = {
        r[0]
        for r in demo_conn.execute(
            text(
                "SELECT s.code FROM mobile_site s"
                " WHERE s.date_arrete + interval '24 months' < DATE '2024-12-31'"
                " AND (s.date_mise_en_service IS NULL OR s.date_mise_en_service > DATE '2024-12-31')"
                " AND (s.date_abandon IS NULL OR s.date_abandon > DATE '2024-12-31')"
            )
        )
    }
    result = runner.invoke(
        app, ["mobile", "liste", "--en-retard", "--as-of", "2024-12-31", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output), delimiter=";"))
    assert {r["code"] for r in rows} == expected and expected
    assert all(int(r["mois_retard"]) >= 0 for r in rows)


def test_one_borne_and_the_med_indicators_as_json(demo_env: None, demo_conn: Connection) -> None:
    code = demo_conn.execute(text("SELECT min(code) FROM wifi_borne")).scalar_one()
    one = runner.invoke(app, ["wifi", "fiche", code])
    assert one.exit_code == 0, one.output
    assert json.loads(one.output)["code"] == code
    opened = demo_conn.execute(
        text(
            "SELECT count(*) FROM med_site m JOIN commune c ON c.insee = m.insee"
            " WHERE c.territory_code = '46' AND m.date_ouverture <= DATE '2018-12-31'"
        )
    ).scalar_one()
    figures = runner.invoke(
        app, ["med", "indicateurs", "--as-of", "2018-12-31", "--format", "json"]
    )
    assert figures.exit_code == 0, figures.output
    assert json.loads(figures.output)["ouverts"] == opened
    table = runner.invoke(app, ["wifi", "indicateurs", "--format", "table"])
    assert table.exit_code == 0 and "bornes en service" in table.output


def test_errors_are_french_and_exit_1(demo_env: None) -> None:
    unknown = runner.invoke(app, ["med", "fiche", "PAS-UN-CODE"])
    assert unknown.exit_code == 1 and "inconnu" in unknown.output
    level = runner.invoke(app, ["mobile", "indicateurs", "--level", "region"])
    assert level.exit_code == 1 and "Niveau" in level.output
    wrong = runner.invoke(app, ["wifi", "liste", "--en-retard"])
    assert wrong.exit_code != 0 and "mobile" in wrong.output
