"""`geo-service serve` keeps the shared cache warm by itself: a background thread in each
worker, one of them at a time (advisory lock), after start-up and after each change of the data
version; the app used elsewhere (tests, exports) starts none."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo_service.api import warmer
from geo_service.db.session import make_engine
from geo_service.main import create_app
from geo_service.settings import Settings


def _warming_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "prechauffage" and t.is_alive()]


def test_the_server_warms_in_the_background_and_stops_with_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def fake_warm(engine: Engine, _settings: Settings) -> bool:
        calls.append(str(engine.url.database))
        return True

    monkeypatch.setattr(warmer, "warm_once", fake_warm)
    before = len(_warming_threads())
    with TestClient(create_app(settings)):
        assert len(_warming_threads()) == before  # not asked for: nothing starts
    with TestClient(create_app(settings.model_copy(update={"prechauffage": True}))):
        deadline = time.monotonic() + 15
        while not calls and time.monotonic() < deadline:
            time.sleep(0.2)
        assert calls == [make_name(settings)]
    deadline = time.monotonic() + 5
    while len(_warming_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_warming_threads()) == before


def make_name(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    from geo_service.settings import to_sqlalchemy_url

    return str(make_url(to_sqlalchemy_url(settings.libpq_url)).database)


def test_only_one_process_warms_at_a_time(engine: Engine, settings: Settings) -> None:
    with engine.connect() as other_worker:
        assert other_worker.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": warmer.LOCK_KEY}
        ).scalar()
        try:
            assert warmer.warm_once(engine, settings) is False  # the other one is at it
        finally:
            other_worker.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": warmer.LOCK_KEY})


def test_the_server_opens_its_connections_and_runs_the_hot_reads_before_serving(
    demo_url: str,
) -> None:
    """With the warm-up on (`geo-service serve`), a worker starts with its request connections
    open and the territory's street index built: the first burst meets no backend's first
    « quand ? » (PROJ, catalog caches) and no index to build."""
    from geo_service.analysis import street_index

    street_index.forget()
    settings = Settings(database_url=demo_url, departement="46", prechauffage=True)
    app = create_app(settings)
    with TestClient(app) as client:
        pool = app.state.engine.pool
        assert pool.checkedin() == settings.requetes_simultanees
        assert [key[1] for key in street_index._indexes] == ["46"]
        assert client.get("/api/v1/quand", params={"lat": 44.6, "lon": 1.9}).status_code == 200
        assert pool.checkedin() == settings.requetes_simultanees  # no connection opened for it
    street_index.forget()


def test_for_a_territory_without_premises_the_warm_up_only_opens_the_connections(
    settings: Settings,
) -> None:
    empty = settings.model_copy(update={"departement": "976"})
    engine = make_engine(empty)
    warmer.warm_connections(engine, empty, 3)
    assert engine.pool.checkedin() == 3
    engine.dispose()
