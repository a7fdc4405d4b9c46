"""CLI, API and Python give identical numbers for the same question."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from typer.testing import CliRunner

from geo_service.analysis.raccordables import raccordables
from geo_service.cli import app

runner = CliRunner()


@pytest.mark.parametrize("level", ["epci", "departement"])
def test_raccordables_cli_api_python_agree(
    demo_url: str,
    demo_client: TestClient,
    demo_conn: Connection,
    monkeypatch: pytest.MonkeyPatch,
    level: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", demo_url)
    day = "2021-12-31"
    python = raccordables(demo_conn, territory="46", as_of=date.fromisoformat(day), levels=(level,))  # type: ignore[arg-type]
    api = demo_client.get(
        "/api/v1/stats/raccordables", params={"level": level, "as_of": day}
    ).json()
    result = runner.invoke(
        app, ["stats", "raccordables", "--level", level, "--as-of", day, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    assert python == api == cli
    csv_result = runner.invoke(
        app, ["stats", "raccordables", "--level", level, "--as-of", day, "--format", "csv"]
    )
    lines = csv_result.stdout.strip().splitlines()
    assert len(lines) == len(python) + 1 and "raccordables" in lines[0]
