"""CORS: a static export on another host may call the public API, only from configured origins
and never with cookies."""

from __future__ import annotations


def test_cors_only_for_configured_origins(settings) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from geo_service.main import create_app

    site = "https://fibre.exemple.fr"
    closed = create_app(settings)
    opened = create_app(settings.model_copy(update={"cors_origins": site}))
    with TestClient(closed) as a, TestClient(opened) as b:
        headers = {"Origin": site}
        assert "access-control-allow-origin" not in a.get("/healthz", headers=headers).headers
        answer = b.get("/healthz", headers=headers)
        assert answer.headers["access-control-allow-origin"] == site
        assert "access-control-allow-credentials" not in answer.headers
        other = b.get("/healthz", headers={"Origin": "https://ailleurs.example"})
        assert "access-control-allow-origin" not in other.headers
