"""The second cache level, shared by the server's processes in PostgreSQL (`page_cache`): a page
rendered by one process is served by another without computing it, a write moves every
process on to a new version (older rows purged), pages with non-public lists never get there,
and `geo-service cache warm` fills it with every page the routes would otherwise render."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from typer.testing import CliRunner

from geo_service.analysis.raccordables import raccordables_json
from geo_service.api.deps import get_session
from geo_service.api.warm import expected_keys, warm
from geo_service.cache import data_version, version_order
from geo_service.cli import app as cli_app
from geo_service.main import create_app
from geo_service.settings import Settings
from tests.conftest import make_user

FIGEAC = "46102"


def _rows(engine: Engine) -> list[tuple[str, str, str, bytes]]:
    with engine.connect() as conn:
        return [
            (r.kind, r.key, r.data_version, bytes(r.body))
            for r in conn.execute(text("SELECT kind, key, data_version, body FROM page_cache"))
        ]


@pytest.fixture()
def empty_shared_cache(demo_engine: Engine) -> Iterator[Engine]:
    """page_cache is written in transactions of its own (committed): empty before and after."""
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM page_cache"))
    yield demo_engine
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM page_cache"))


@pytest.fixture()
def other_worker(demo_url: str, demo_client: TestClient) -> Iterator[TestClient]:
    """A second app instance (another worker process: its own empty memory cache) on the same
    database, in the same test transaction (the same session as demo_client)."""
    app = create_app(Settings(database_url=demo_url, departement="46"))
    app.dependency_overrides[get_session] = demo_client.app.dependency_overrides[get_session]  # type: ignore[attr-defined]
    with TestClient(app) as client:
        yield client


def test_a_page_rendered_by_one_worker_is_served_by_another_from_the_database(
    empty_shared_cache: Engine,
    demo_client: TestClient,
    other_worker: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = demo_client.get(f"/communes/{FIGEAC}")
    assert first.status_code == 200
    stored = [r for r in _rows(empty_shared_cache) if r[0] == "page-commune"]
    assert [(kind, key) for kind, key, _, _ in stored] == [
        ("page-commune", f"46:{FIGEAC}:OpenStreetMap")
    ]
    assert stored[0][3] == first.content

    def no_render(*args: object, **kwargs: object) -> str:
        raise AssertionError("the page should come from the shared cache")

    monkeypatch.setattr("geo_service.api.routes.elus.unit_html", no_render)
    second = other_worker.get(f"/communes/{FIGEAC}")
    assert second.status_code == 200 and second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    cache = other_worker.app.state.response_cache  # type: ignore[attr-defined]
    assert (cache.shared_hits, cache.renders) == (1, 0)
    # then from its own memory, and a 304 for a client that has it
    assert other_worker.get(f"/communes/{FIGEAC}").content == first.content
    assert cache.hits == 1
    again = other_worker.get(
        f"/communes/{FIGEAC}", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_a_worker_that_starts_serves_the_shared_pages_from_its_memory(
    empty_shared_cache: Engine,
    demo_client: TestClient,
    demo_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker started after a page was rendered copies it into memory at start-up: its first
    visit neither renders it nor reads it from the shared table, and the pages are the same."""
    first = demo_client.get(f"/communes/{FIGEAC}")
    assert first.status_code == 200
    late = create_app(Settings(database_url=demo_url, departement="46"))
    late.dependency_overrides[get_session] = demo_client.app.dependency_overrides[get_session]  # type: ignore[attr-defined]

    def no_render(*args: object, **kwargs: object) -> str:
        raise AssertionError("the page should come from the memory filled at start-up")

    monkeypatch.setattr("geo_service.api.routes.elus.unit_html", no_render)
    with TestClient(late) as client:
        cache = late.state.response_cache
        assert cache.size >= len(first.content)
        second = client.get(f"/communes/{FIGEAC}")
        assert second.status_code == 200 and second.content == first.content
        assert (cache.hits, cache.shared_hits, cache.renders) == (1, 0, 0)


def test_a_write_moves_every_worker_on_and_purges_the_older_version(
    empty_shared_cache: Engine,
    demo_client: TestClient,
    other_worker: TestClient,
    demo_conn: Connection,
) -> None:
    before = demo_client.get(f"/communes/{FIGEAC}")
    old_version = data_version(demo_conn)
    assert {r[2] for r in _rows(empty_shared_cache)} == {old_version}

    tech = make_user(demo_conn, "agent", "technicien")
    reference = demo_conn.execute(
        text("SELECT reference FROM pm WHERE territory_code = '46' ORDER BY reference LIMIT 1")
    ).scalar_one()
    etag = demo_client.get(f"/api/v1/pm/{reference}").headers["etag"]
    edited = demo_client.patch(
        f"/api/v1/pm/{reference}", json={"doe_etat": "DEPOSE"}, headers={**tech, "If-Match": etag}
    )
    assert edited.status_code == 200, edited.text
    new_version = data_version(demo_conn)
    assert version_order(new_version) > version_order(old_version)  # type: ignore[operator]

    after = other_worker.get(
        f"/communes/{FIGEAC}", headers={"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert other_worker.app.state.response_cache.renders == 1  # type: ignore[attr-defined]
    # the older version is gone from the shared table, the new page is there
    assert {(r[0], r[2]) for r in _rows(empty_shared_cache)} == {("page-commune", new_version)}
    # the first worker, whose memory holds the old version, follows the new one too
    assert demo_client.get(f"/communes/{FIGEAC}").headers["etag"] == after.headers["etag"]


def test_pages_with_non_public_lists_never_reach_the_shared_cache(
    empty_shared_cache: Engine, demo_client: TestClient, demo_conn: Connection
) -> None:
    elu = make_user(demo_conn, "maire", "elu", commune=FIGEAC)
    private = demo_client.get(f"/communes/{FIGEAC}", headers=elu)
    assert private.status_code == 200 and "Listes non publiques" in private.text
    assert _rows(empty_shared_cache) == []
    public = demo_client.get(f"/communes/{FIGEAC}")
    assert "Listes non publiques" not in public.text
    assert all(b"Listes non publiques" not in body for *_, body in _rows(empty_shared_cache))
    # the technical map (staff only) is kept, but only its route serves it, behind its check
    assert demo_client.get("/technique", headers={"Accept": "application/json"}).status_code == 401


def test_warm_fills_every_commune_page_and_the_routes_then_render_nothing(
    empty_shared_cache: Engine,
    demo_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(database_url=demo_url, departement="46")
    kinds = {"page-commune", "page-epci", "page-index", "page-public"}
    # élu pages as the warm-up renders them, but cheap (one real page is rendered by the test
    # above and by tests/api/test_caching.py): what is checked here is that every page is
    # stored, under the key its route looks up
    monkeypatch.setattr(
        "geo_service.api.warm.unit_html",
        lambda conn, territory, unit, tiles: f"<html>{unit.level} {unit.code} {tiles}</html>",
    )
    report = warm(empty_shared_cache, settings, kinds=kinds)
    assert not report.interrupted and report.already == 0
    rows = _rows(empty_shared_cache)
    assert {r[2] for r in rows} == {report.version}
    with empty_shared_cache.connect() as conn:
        communes = set(
            conn.execute(text("SELECT insee FROM commune WHERE territory_code = '46'")).scalars()
        )
        epcis = set(
            conn.execute(text("SELECT siren FROM epci WHERE territory_code = '46'")).scalars()
        )
    assert len(communes) == 312
    assert {key.split(":")[1] for kind, key, *_ in rows if kind == "page-commune"} == communes
    assert {key.split(":")[1] for kind, key, *_ in rows if kind == "page-epci"} == epcis
    assert report.rendered == {
        "page-commune": 312,
        "page-epci": len(epcis),
        "page-index": 1,
        "page-public": 1,
    }
    assert {(kind, key) for kind, key, *_ in rows} == expected_keys(
        empty_shared_cache, settings, kinds
    )

    # a fresh worker serves them from the table (copied into its memory at start-up), rendering
    # nothing
    monkeypatch.setattr(
        "geo_service.api.routes.elus.unit_html",
        lambda *a, **k: (_ for _ in ()).throw(AssertionError("rendered")),
    )
    with TestClient(create_app(settings)) as fresh:
        for path, body in (
            (f"/communes/{FIGEAC}", f"<html>commune {FIGEAC} OpenStreetMap</html>"),
            ("/communes/46042", "<html>commune 46042 OpenStreetMap</html>"),
            (f"/epci/{min(epcis)}", f"<html>epci {min(epcis)} OpenStreetMap</html>"),
        ):
            answer = fresh.get(path)
            assert answer.status_code == 200 and answer.text == body, path
        assert fresh.get("/communes").status_code == 200 and fresh.get("/").status_code == 200
        cache = fresh.app.state.response_cache  # type: ignore[attr-defined]
        assert (cache.hits, cache.shared_hits, cache.renders) == (5, 0, 0)

    # a second warm-up finds everything there
    assert warm(empty_shared_cache, settings, kinds=kinds).total == 0


def test_warm_answers_the_raccordables_api_before_anyone_asks(
    empty_shared_cache: Engine, demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every level at once, then each alone, as GET /api/v1/stats/raccordables answers them
    (a national territory's 51 000 units take ~0.2 s to build: not at a reader's expense)."""
    settings = Settings(database_url=demo_url, departement="46")
    report = warm(empty_shared_cache, settings, kinds={"raccordables"})
    levels = ["pm", "nro", "commune", "epci", "departement"]  # one département: no member level
    assert report.rendered == {"raccordables": 1 + len(levels)}
    with empty_shared_cache.connect() as conn:
        expected = {
            level: json.loads(
                raccordables_json(
                    conn, territory="46", levels=None if level == "tous" else (level,)
                )
            )
            for level in ["tous", *levels]
        }
    assert len(expected["tous"]) == sum(len(expected[level]) for level in levels)
    monkeypatch.setattr(
        "geo_service.api.routes.stats.raccordables_json",
        lambda *a, **k: (_ for _ in ()).throw(AssertionError("computed")),
    )
    with TestClient(create_app(settings)) as fresh:
        for level, rows in expected.items():
            answer = fresh.get("/api/v1/stats/raccordables", params={"level": level})
            assert answer.status_code == 200 and answer.json() == rows, level
        default = fresh.get("/api/v1/stats/raccordables")  # the route's default level
        assert default.json() == expected["departement"]
        cache = fresh.app.state.response_cache  # type: ignore[attr-defined]
        assert cache.renders == 0


def test_cache_warm_command(
    empty_shared_cache: Engine, demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.setenv("GEO_SERVICE_DEPARTEMENT", "46")
    runner = CliRunner()
    result = runner.invoke(cli_app, ["cache", "warm", "--quoi", "page-index"])
    assert result.exit_code == 0, result.output
    assert "calculés : 1 (1 index des communes)" in " ".join(result.output.split())
    assert [r[0] for r in _rows(empty_shared_cache)] == ["page-index"]
    refused = runner.invoke(cli_app, ["cache", "warm", "--quoi", "pages"])
    assert refused.exit_code == 1 and "Contenu inconnu : pages" in " ".join(refused.output.split())
    cleared = runner.invoke(cli_app, ["cache", "clear"])
    assert cleared.exit_code == 0 and "contenus supprimés : 1" in cleared.output
    assert _rows(empty_shared_cache) == []
