"""`geo-service users …`: accounts and tokens from the server's command line (a scratch
database, since the commands commit)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from geo_service.cli import app
from geo_service.db.session import make_engine
from geo_service.main import create_app
from geo_service.settings import Settings
from tests.conftest import create_scratch_database, drop_database

runner = CliRunner()
PASSWORD = "un-long-mot-de-passe"


@pytest.fixture(scope="module")
def cli_db() -> Iterator[str]:
    url = create_scratch_database("cliusers")
    yield url
    drop_database(url)


def test_users_lifecycle(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", cli_db)
    monkeypatch.setenv("GEO_SERVICE_USER", "operateur")
    added = runner.invoke(app, ["users", "add", "Jean.Martin", "--role", "technicien"])
    assert added.exit_code == 0, added.output
    assert "jean.martin" in added.output
    refused = runner.invoke(app, ["users", "add", "maire", "--role", "elu"])
    assert refused.exit_code == 1 and "commune" in refused.output
    elu = runner.invoke(app, ["users", "add", "maire", "--role", "elu", "--commune", "46102"])
    assert elu.exit_code == 0, elu.output

    short = runner.invoke(app, ["users", "password", "jean.martin"], input="court\ncourt\n")
    assert short.exit_code == 1 and "trop court" in short.output
    mismatch = runner.invoke(
        app,
        ["users", "password", "jean.martin"],
        input=f"{PASSWORD}\nautre-chose-encore\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert mismatch.exit_code == 0, mismatch.output
    assert PASSWORD not in mismatch.output  # no echo

    issued = runner.invoke(app, ["users", "token", "jean.martin"])
    assert issued.exit_code == 0, issued.output
    token = re.search(r"gs_[A-Za-z0-9_-]{20,}", issued.output)
    assert token
    listed = runner.invoke(app, ["users", "list"])
    assert "jean.martin" in listed.output and "46102" in listed.output

    client = TestClient(create_app(Settings(database_url=cli_db, departement="46")))
    client.__enter__()
    headers = {"Authorization": f"Bearer {token.group(0)}"}
    assert client.get("/api/v1/signalements", headers=headers).status_code == 200
    engine = make_engine(cli_db)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_sha256 FROM api_token")).scalars().all()
        assert token.group(0) not in stored and len(stored) == 1
        who = conn.execute(
            text(
                "SELECT DISTINCT user_name, source FROM audit_log WHERE object_type = 'utilisateur'"
            )
        ).all()
        assert [tuple(w) for w in who] == [("operateur", "cli")]
    disabled = runner.invoke(app, ["users", "disable", "jean.martin"])
    assert disabled.exit_code == 0
    assert client.get("/api/v1/signalements", headers=headers).status_code == 401
    client.__exit__(None, None, None)
    engine.dispose()
