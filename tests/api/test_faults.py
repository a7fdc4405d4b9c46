"""Faults users may meet: an unexpected exception (500 with a reference, no stack trace), an
exhausted pool or an unreachable database (French 503), a PostgreSQL restart (503 while it is
down, then the app recovers by itself), an import blocked by another session's lock (French
error naming the blocker, within the lock timeout)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc

from geo_service.api.errors_http import BUSY, DATABASE_DOWN
from geo_service.db import cluster
from geo_service.db.migrate import upgrade
from geo_service.db.session import make_engine
from geo_service.ingest import journal
from geo_service.ingest.registers import import_register
from geo_service.main import create_app
from geo_service.settings import Settings
from tests.api.test_robustness import serve_in_thread
from tests.conftest import FIXTURES, create_scratch_database, drop_database


@pytest.fixture()
def faulty_client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)

    @app.get("/test-panne")
    def broken() -> None:
        raise RuntimeError("secret interne: /etc/mot-de-passe")

    @app.get("/test-pool")
    def pool_exhausted() -> None:
        raise sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached")

    @app.get("/test-base")
    def database_down() -> None:
        orig = psycopg.OperationalError("connection refused")
        raise sa_exc.OperationalError("SELECT 1", {}, orig)

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_an_unexpected_exception_is_a_500_with_a_reference_only(
    faulty_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="geo_service.api.errors_http"):
        response = faulty_client.get("/test-panne", headers={"X-Request-ID": "ref-panne-0001"})
    assert response.status_code == 500
    assert response.json() == {
        "detail": "Erreur interne du serveur, réessayez plus tard (référence ref-panne-0001)."
    }
    assert "secret" not in response.text and "Traceback" not in response.text
    assert response.headers["x-request-id"] == "ref-panne-0001"
    assert response.headers["x-content-type-options"] == "nosniff"
    logged = [r for r in caplog.records if "ref-panne-0001" in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the stack stays in the server's log


def test_pool_exhaustion_and_database_errors_are_french_503s(faulty_client: TestClient) -> None:
    busy = faulty_client.get("/test-pool")
    assert busy.status_code == 503 and busy.json() == {"detail": BUSY}
    assert busy.headers["retry-after"]
    down = faulty_client.get("/test-base")
    assert down.status_code == 503 and down.json() == {"detail": DATABASE_DOWN}
    assert "x-request-id" in down.headers


# --- a PostgreSQL restart under a live app -------------------------------------------------


@pytest.fixture()
def own_cluster() -> Iterator[tuple[Settings, str]]:
    """A throw-away cluster (own PGDATA under /var/tmp, a free port): the shared one is never
    touched."""
    # A throw-away cluster needs the distribution's PostgreSQL binaries on this machine; with
    # DATABASE_URL pointing at another host they may truly be absent. `make test` installs them
    # as root, so CI and our machines always run this test.
    if not cluster.server_majors() or not cluster.postgis_majors():
        pytest.skip("PostgreSQL/PostGIS (Debian layout) not installed")
    folder = Path(tempfile.mkdtemp(prefix="geo-service-test-pannes-", dir="/var/tmp"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = cluster.free_port(56300)
    assert port is not None
    local = Settings(database_url=None, pgdata=folder / "pgdata", pg_port=port)  # type: ignore[call-arg]
    try:
        url = cluster.up(local, rapide_tests=True)
        upgrade(url)
        yield local, url
    finally:
        cluster.down(local)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_app_answers_503_while_postgresql_is_down_and_recovers(
    own_cluster: tuple[Settings, str],
) -> None:
    local, url = own_cluster
    app = create_app(Settings(database_url=url, departement="46"))
    for base in serve_in_thread(app):
        with httpx.Client(base_url=base, timeout=20) as http:
            assert all(http.get("/healthz").status_code == 200 for _ in range(30))

            # a restart between requests: the pooled connections are dead, none is handed out
            cluster.down(local)
            cluster.up(local, rapide_tests=True)
            statuses = [http.get("/healthz").status_code for _ in range(30)]
            assert statuses == [200] * 30

            cluster.down(local)
            start = time.perf_counter()
            for path in ("/healthz", "/api/v1/quand?lat=44.6&lon=1.9", "/"):
                response = http.get(path, headers={"Accept": "application/json"})
                assert response.status_code == 503, (path, response.text)
                assert response.json() == {"detail": DATABASE_DOWN}
            assert time.perf_counter() - start < 20

            cluster.up(local, rapide_tests=True)
            assert http.get("/healthz").status_code == 200  # by itself, no restart of the app


# --- an import behind another session's lock ------------------------------------------------


def test_an_import_blocked_by_a_lock_fails_in_time_naming_the_blocker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(journal, "LOCK_TIMEOUT_S", 2.0)
    monkeypatch.delenv("GEO_SERVICE_IMPORT_LOCK_TIMEOUT_S", raising=False)
    url = create_scratch_database("verrou")
    engine = make_engine(url)
    try:
        with psycopg.connect(url, application_name="bench-qui-bloque") as holder:
            holder.execute("LOCK TABLE import_journal IN ACCESS EXCLUSIVE MODE")
            pid = holder.info.backend_pid
            start = time.perf_counter()
            with pytest.raises(journal.ImportLockedError) as caught:
                import_register(
                    engine, "sites", FIXTURES / "registres" / "sites_mobiles.csv", territory="46"
                )
            elapsed = time.perf_counter() - start
            holder.rollback()
        message = caught.value.message
        assert message.startswith(
            "Import de sites_mobiles.csv interrompu : verrous non obtenus en 2 s"
        )
        assert (
            f"pid {pid} (application « bench-qui-bloque », transaction ouverte et inactive"
            in message
        )
        assert "import_journal" in message and "LOCK TABLE import_journal" in message
        assert f"pg_terminate_backend({pid})" in message
        assert caught.value.status_code == 503
        assert elapsed < 10
        # once the lock is gone, the same import goes through
        result = import_register(
            engine, "sites", FIXTURES / "registres" / "sites_mobiles.csv", territory="46"
        )
        assert result.status == "OK"
    finally:
        engine.dispose()
        drop_database(url)
