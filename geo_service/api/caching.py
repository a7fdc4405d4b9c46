"""Serve heavy pages, series and tiles from the data-version cache, with ETag / 304 before any
computation; and a conditional-GET middleware giving every other GET an ETag from its body."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_service.analysis.tiles import etag_matches
from geo_service.cache import (
    ResponseCache,
    data_version,
    etag_for,
    purge_older,
    shared_get,
    shared_put,
)
from geo_service.db.replicas import ON_REPLICA
from geo_service.db.session import make_engine

log = logging.getLogger(__name__)

PAGE_CACHE_CONTROL = "public, no-cache"  # reuse only after revalidation (ETag → 304)
PRIVATE_CACHE_CONTROL = "private, no-store"


def cache_of(request: Request) -> ResponseCache:
    return request.app.state.response_cache  # type: ignore[no-any-return]


def is_shared(kind: str) -> bool:
    """Kept in the shared table too: everything but tiles (a tile renders in a few
    milliseconds, less than a round trip to store it is worth)."""
    return not kind.startswith("tile-")


def cached(
    request: Request,
    conn: Connection,
    *,
    kind: str,
    key: str,
    render: Callable[[], bytes | str],
    media_type: str,
    cache_control: str = PAGE_CACHE_CONTROL,
) -> Response:
    """The body of (kind, key) at the current data version: 304 when the client has it, from
    this worker's memory, else from the table shared by the workers, else rendered once and
    kept in both. Only bodies that are the same for every reader allowed on the route may come
    here (a page with non-public lists never does)."""
    version = data_version(conn)
    etag = etag_for(kind, key, version)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    store = cache_of(request)
    body = store.get(kind, key, version)
    if body is None:
        shared = is_shared(kind)
        # the shared table is unlogged: a replica has no rows of it (it is written on the primary)
        readable = shared and not conn.info.get(ON_REPLICA)
        body = shared_get(conn, kind, key, version) if readable else None
        if body is not None:
            store.shared_hits += 1
        else:
            rendered = render()
            body = rendered.encode() if isinstance(rendered, str) else rendered
            store.renders += 1
            if shared:
                share(cache_engine(request), store, (kind, key, version, body))
        store.put(kind, key, version, body)
    return Response(content=body, media_type=media_type, headers=headers)


def cache_engine(request: Request) -> Engine:
    """The engine writing to the shared table: a connection of its own per write (no pool), so
    that a request holding a pooled connection never waits for a second one."""
    engine: Engine | None = getattr(request.app.state, "cache_engine", None)
    if engine is None:
        engine = make_engine(
            request.app.state.settings, application_name="geo_service cache", pooled=False
        )
        request.app.state.cache_engine = engine
    return engine


def share(engine: Engine, store: ResponseCache, row: tuple[str, str, str, bytes]) -> None:
    """Write a rendered body to the shared table (purging older versions the first time this
    process meets a version); a failure only costs other workers a render."""
    version = row[2]
    try:
        shared_put(engine, [row])
        if store.purged_version != version:
            store.purged_version = version
            purge_older(engine, version)
    except sa_exc.SQLAlchemyError as exc:
        log.warning("cache partagé non écrit (%s %s) : %s", row[0], row[1], exc)


class ConditionalGetMiddleware:
    """GET answers 200 without an ETag get one (hash of the body); If-None-Match → 304."""

    MAX_BODY = 32 << 20

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope.get("headers") or [])
        if_none_match = request_headers.get(b"if-none-match", b"").decode("latin-1")
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False

        async def buffering_send(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers") or []}
                if message["status"] != 200 or b"etag" in names:
                    passthrough = True
                    await send(message)
                    return
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                size = sum(len(c) for c in chunks)
                if message.get("more_body", False) and size <= self.MAX_BODY:
                    return
                assert start is not None
                body = b"".join(chunks)
                if message.get("more_body", False):  # too large: stream it untouched
                    passthrough = True
                    await send(start)
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                    return
                etag = '"' + hashlib.blake2s(body, digest_size=12).hexdigest() + '"'
                headers = [
                    (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
                ]
                headers.append((b"etag", etag.encode()))
                if etag_matches(if_none_match, etag):
                    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-type",)]
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    await send({"type": "http.response.body", "body": b""})
                    return
                headers.append((b"content-length", str(len(body)).encode()))
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, buffering_send)
