"""CLI, API and Python give identical numbers for the same question."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

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


@pytest.mark.parametrize("amii", [False, True])
def test_every_level_in_one_api_answer_is_python_s_records(
    demo_client: TestClient, demo_conn: Connection, amii: bool
) -> None:
    """`level=tous` sends the JSON PostgreSQL builds: the same records, keys and order as
    Python's, the rate rounded the same way, for every level at once."""
    day = "2022-06-30"
    python = raccordables(
        demo_conn, territory="46", as_of=date.fromisoformat(day), include_amii=amii
    )
    response = demo_client.get(
        "/api/v1/stats/raccordables", params={"level": "tous", "as_of": day, "amii": amii}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    api = response.json()
    assert api == python
    assert [list(row) for row in api] == [list(row) for row in python]
    levels = [row["level"] for row in api]
    assert {"pm", "nro", "commune", "epci", "departement"} <= set(levels)
    for row in api:
        expected = (
            float(round_half_up(100 * row["raccordables"], row["logements"]))
            if row["logements"]
            else 0.0
        )
        assert row["taux"] == expected, row
    two = demo_client.get(
        "/api/v1/stats/raccordables",
        params={"level": "departement,commune", "as_of": day, "amii": amii},
    ).json()
    assert two == [r for r in python if r["level"] == "commune"] + [
        r for r in python if r["level"] == "departement"
    ]


def round_half_up(numerator: int, denominator: int) -> Decimal:
    """A rate rounded to two decimals, half away from zero (1/32 gives 3.13)."""
    return (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def test_an_unknown_level_is_a_french_400(demo_client: TestClient) -> None:
    for level in ("region", "commune,canton", ""):
        response = demo_client.get("/api/v1/stats/raccordables", params={"level": level})
        assert response.status_code == 400, (level, response.text)
        assert "Niveau inconnu" in response.text
