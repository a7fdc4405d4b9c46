"""Answers under load and outages: a bounded number of requests in flight (the pool can serve
them all, so a request never waits for ever for a connection), 503 with a French message when
the database is unreachable or the pool is exhausted, and a 500 carrying only the request id
(the stack trace goes to the server's log)."""

from __future__ import annotations

import json
import logging

import anyio
import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Receive, Scope, Send

from geo_service.api.middleware import security_headers
from geo_service.settings import Settings

log = logging.getLogger(__name__)

BUSY = "Le service est très sollicité : réessayez dans un instant."
DATABASE_DOWN = "Base de données indisponible, réessayez dans un instant."
RETRY_AFTER = "2"
UNLIMITED_PREFIXES = ("/static/",)  # files from disk: no database connection


def _request_id(request: Request | Scope) -> str:
    state = request.scope.get("state") if isinstance(request, Request) else request.get("state")
    return str((state or {}).get("request_id") or "-")


class ConcurrencyLimitMiddleware:
    """At most `limit` requests in the app at once (the pool's capacity, below AnyIO's 40 worker
    threads, so the threads that give connections back are never starved — FastAPI #3205); the
    others wait up to `wait` seconds, at most `max_waiting` of them, then get a 503."""

    def __init__(self, app: ASGIApp, *, limit: int, wait: float, max_waiting: int) -> None:
        self.app = app
        self.limit = limit
        self.wait = wait
        self.max_waiting = max_waiting
        self.waiting = 0
        self._slots: anyio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = anyio.Semaphore(self.limit)
        slots = self._slots
        if self.waiting >= self.max_waiting:
            await _refuse(scope, send, "file d'attente pleine")
            return
        acquired = False
        self.waiting += 1
        try:
            with anyio.move_on_after(self.wait):
                await slots.acquire()
                acquired = True
        finally:
            self.waiting -= 1
        if not acquired:
            await _refuse(scope, send, f"pas de place en {self.wait:g} s")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()


async def _refuse(scope: Scope, send: Send, why: str) -> None:
    log.warning(
        "503 %s %s (%s, requête %s)", scope["method"], scope["path"], why, _request_id(scope)
    )
    body = json.dumps({"detail": BUSY}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", RETRY_AFTER.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _unavailable(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": RETRY_AFTER})


def is_disconnect(exc: BaseException) -> bool:
    """The database cannot be reached or dropped the connection (not a bug in a query)."""
    if isinstance(exc, sa_exc.DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(
            exc, sa_exc.OperationalError | sa_exc.InterfaceError
        )
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def install(app: FastAPI, settings: Settings, *, limit: int) -> None:
    """Register the limiter (call before the other middlewares: it then runs inside them, so
    its 503 carries the request id and the security headers) and the exception handlers."""
    app.add_middleware(
        ConcurrencyLimitMiddleware, limit=limit, wait=5.0, max_waiting=max(100, 10 * limit)
    )
    headers = {k.decode(): v.decode() for k, v in security_headers(settings)}

    @app.exception_handler(sa_exc.TimeoutError)
    async def pool_exhausted(request: Request, exc: sa_exc.TimeoutError) -> Response:
        log.warning("503 pool de connexions épuisé (requête %s) : %s", _request_id(request), exc)
        return _unavailable(BUSY)

    async def database_error(request: Request, exc: Exception) -> Response:
        if not is_disconnect(exc):
            return await unexpected(request, exc)
        log.warning("503 base de données injoignable (requête %s) : %s", _request_id(request), exc)
        return _unavailable(DATABASE_DOWN)

    app.add_exception_handler(sa_exc.DBAPIError, database_error)
    app.add_exception_handler(psycopg.OperationalError, database_error)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Starlette's outermost middleware answers this one: add the headers the inner ones add
        rid = _request_id(request)
        log.error("500 %s %s (requête %s)", request.method, request.url.path, rid, exc_info=exc)
        return JSONResponse(
            {"detail": f"Erreur interne du serveur, réessayez plus tard (référence {rid})."},
            status_code=500,
            headers={**headers, "X-Request-ID": rid},
        )
