"""Under more concurrent requests than the pool holds, every request is answered (200 or a
French 503, never a hang or a 500); security headers on every kind of response."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo_service.api.deps import ConnectionDep
from geo_service.db.session import MAX_OVERFLOW, POOL_SIZE
from geo_service.main import create_app
from geo_service.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """A live uvicorn server on 127.0.0.1 (its own engine and pool, as in production)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.1)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture()
def slow_url(settings: Settings, lot_loaded: str) -> Iterator[str]:
    """The app with one extra route holding its connection for 1.5 s, like a slow query."""
    app = create_app(settings)

    @app.get("/test-lent")
    def slow(conn: ConnectionDep) -> dict[str, int]:
        return {"ok": conn.execute(text("SELECT 1 FROM pg_sleep(1.5)")).scalar_one()}

    yield from serve_in_thread(app)


def test_more_requests_than_the_pool_holds_are_all_answered(slow_url: str) -> None:
    capacity = POOL_SIZE + MAX_OVERFLOW
    count = 7 * capacity  # 140 at once, 40 AnyIO threads, 20 connections

    def call(i: int) -> tuple[int, str]:
        path = "/test-lent" if i % 4 else "/healthz"
        try:
            r = httpx.get(slow_url + path, timeout=30)
        except httpx.HTTPError as exc:
            return (0, repr(exc))
        return (r.status_code, r.text)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        answers = list(pool.map(call, range(count)))
    elapsed = time.perf_counter() - start
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[200] >= capacity  # the pool served at full width
    assert statuses[503] > 0  # and refused, with a reason, what it could not serve in time
    busy = next(body for status, body in answers if status == 503)
    assert "réessayez dans un instant" in busy
    # liveness, not speed: a pool deadlock leaves the clients waiting for their 30 s timeouts
    assert elapsed < 90
    # the server is still alive afterwards (the burst killed it for good)
    assert httpx.get(slow_url + "/healthz", timeout=10).status_code == 200
    assert httpx.get(slow_url + "/test-lent", timeout=10).status_code == 200


# --- security headers ----------------------------------------------------------------------


def _check_headers(response: httpx.Response, tiles_host: str = "tile.openstreetmap.org") -> None:
    h = response.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "strict-origin-when-cross-origin"
    assert h["x-frame-options"] == "DENY"
    policy = dict(
        (part.split(" ", 1) + [""])[:2] for part in h["content-security-policy"].split("; ")
    )
    assert policy["default-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert tiles_host in policy["img-src"] and "data:" in policy["img-src"]
    assert "http" not in policy["script-src"] and "http" not in policy["style-src"]


def test_security_headers_on_pages_api_and_tiles(demo_client: TestClient) -> None:
    for path in (
        "/",
        "/communes/46102",
        "/api/v1/quand?lat=44.6085&lon=2.0317",
        "/tiles/zones/8/129/93.pbf",
        "/healthz",
        "/route-inexistante",
    ):
        response = demo_client.get(path)
        assert response.status_code in (200, 204, 404), (path, response.status_code)
        _check_headers(response)


def test_security_headers_follow_the_base_map(settings: Settings, lot_loaded: str) -> None:
    for base, host in (
        ("PlanIGN", "https://data.geopf.fr"),
        ("https://{s}.tiles.example.org/carte/{z}/{x}/{y}.png", "https://*.tiles.example.org"),
    ):
        app = create_app(settings.model_copy(update={"base_tiles": base}))
        with TestClient(app) as client:
            response = client.get("/healthz")
        policy = response.headers["content-security-policy"]
        assert f"img-src 'self' data: blob: {host};" in policy
        assert "openstreetmap" not in policy


# --- geo-service serve: workers and a bounded shutdown -------------------------------------


def test_sigterm_stops_the_served_workers_within_the_grace_period(
    database_url: str, lot_loaded: str
) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    port = free_port()
    grace = 3
    geo = Path(sys.executable).with_name("geo-service")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GEO_SERVICE_SECRET_KEY": "x" * 48,
        "GEO_SERVICE_PRECHAUFFAGE": "0",  # no background warm-up competing with the test
    }
    process = subprocess.Popen(
        [str(geo), "serve", "--port", str(port), "--workers", "2"]
        + ["--graceful-timeout", str(grace)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("le serveur n'a pas démarré")
        # a request in progress that will never finish: its body never comes
        stuck = socket.create_connection(("127.0.0.1", port))
        stuck.sendall(
            b"POST /api/v1/signalements HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        time.sleep(0.5)
        start = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=grace + 15)
        elapsed = time.perf_counter() - start
        stuck.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # the request in progress was given its grace period, then cut: the end is bounded
    assert grace - 0.5 <= elapsed < grace + 8, elapsed
    logs = process.stderr.read() if process.stderr else ""
    assert "Started parent process" in logs or "Uvicorn running" in logs
