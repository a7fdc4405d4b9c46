"""Pooled connections: pinged at checkout — for the hot read routes only after idleness (no
round trip per request under load) —, a dead one replaced at checkout, and a connection killed
between two close uses costs the hot read routes no failed request."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, text

from geo_service.db.session import PING_AFTER_IDLE_S, hot_reads, make_engine
from geo_service.main import create_app
from geo_service.settings import Settings
from tests.api.test_robustness import serve_in_thread


@pytest.fixture()
def counted_engine(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Engine, list[int]]]:
    engine = make_engine(database_url)
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counting(dbapi_connection) -> bool:  # type: ignore[no-untyped-def]
        pings.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    yield engine, pings
    engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(database_url: str, pid: int) -> None:
    other = make_engine(database_url, pooled=False)
    with other.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    other.dispose()
    for _ in range(50):  # the backend is gone once it no longer shows
        with other.connect() as conn:
            if not conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).scalar_one():
                return
        time.sleep(0.05)


def test_a_hot_read_connection_in_constant_use_is_not_pinged(
    counted_engine: tuple[Engine, list[int]],
) -> None:
    engine, pings = counted_engine
    first = _backend_pid(engine)  # opened: no ping
    with hot_reads():
        pids = {_backend_pid(engine) for _ in range(20)}
        assert pids == {first}  # the same pooled connection each time
        assert pings == []
        time.sleep(PING_AFTER_IDLE_S + 0.1)
        assert _backend_pid(engine) == first
        assert pings == [1]  # idle long enough: pinged once before reuse
    for _ in range(3):  # any other use: pinged at every checkout, as before
        _backend_pid(engine)
    assert pings == [1] * 4


def test_a_dead_idle_connection_is_replaced_at_checkout(
    counted_engine: tuple[Engine, list[int]], database_url: str
) -> None:
    engine, pings = counted_engine
    first = _backend_pid(engine)
    _terminate(database_url, first)
    second = _backend_pid(engine)  # no error: the ping found it dead, a new one was opened
    assert second != first
    assert pings == [1]


def test_the_hot_reads_survive_a_connection_killed_between_two_requests(
    database_url: str, lot_loaded: str
) -> None:
    """Every pooled connection of the live app killed right after a request: the next
    requests (within the idle delay: no ping) still answer 200, run again on new ones."""
    killer = make_engine(database_url, pooled=False)
    backends = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    with killer.connect() as conn:
        others = set(conn.execute(backends).scalars())  # the test session's own, kept alive
    app = create_app(Settings(database_url=database_url, departement="46"))
    for base in serve_in_thread(app):
        with httpx.Client(base_url=base, timeout=20) as http:
            for _ in range(3):
                response = http.get("/api/v1/quand", params={"lat": 44.6, "lon": 1.9})
                assert response.status_code == 200
            with killer.connect() as conn:
                apps = set(conn.execute(backends).scalars()) - others
                for pid in apps:
                    conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            assert apps
            statuses = [
                http.get("/api/v1/quand", params={"lat": 44.6, "lon": 1.9}).status_code
                for _ in range(5)
            ]
            assert statuses == [200] * 5
    killer.dispose()


def test_the_hot_reads_keep_their_prepared_generic_plans_across_requests(
    database_url: str, lot_loaded: str
) -> None:
    """A read route's statements are prepared once per connection and then run on their
    generic plan: the request's transaction ends without ROLLBACK (which makes psycopg forget
    them), so the 10th « quand ? » is neither parsed nor planned again."""
    app = create_app(Settings(database_url=database_url, departement="46"))
    for base in serve_in_thread(app):
        with httpx.Client(base_url=base, timeout=20) as http:
            for i in range(10):  # one at a time: one pooled connection serves them all
                point = {"lat": 44.6 + i / 1000, "lon": 1.9}
                assert http.get("/api/v1/quand", params=point).status_code == 200
        with app.state.engine.connect() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_generic_plan"
            runs = conn.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE '%WITH here AS%'"
                )
            ).one()
    generic, custom = runs
    assert custom == 0
    assert generic >= 10 - 5  # prepared at its 5th run (psycopg's threshold), then reused
