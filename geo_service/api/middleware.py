"""Request-level protections: a request id, the signed session cookie, CSRF tokens on forms
(asgi-csrf, double-submit cookie), and a cap on request bodies. Cookies get `Secure` when the
request came over HTTPS (behind a proxy: uvicorn's --proxy-headers)."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import uuid
from pathlib import Path
from typing import Any

import asgi_csrf as asgi_csrf_module
import python_multipart
from asgi_csrf import asgi_csrf
from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_service.maps.styles import base_tiles
from geo_service.settings import Settings

log = logging.getLogger(__name__)


class _CsrfFormParser(python_multipart.FormParser):
    """asgi-csrf 0.11 hands python-multipart a `FileClass` argument that python-multipart 0.0.25
    removed; this parser takes it and, as asgi-csrf intends, refuses a file part met before the
    token (the console's forms put the token first)."""

    def __init__(
        self, content_type: str, on_field: Any, _on_file: Any, *args: Any, **kw: Any
    ) -> None:
        kw.pop("FileClass", None)

        def file_before_token(_file: Any) -> None:
            raise asgi_csrf_module.FileBeforeToken

        super().__init__(content_type, on_field, file_before_token, *args, **kw)


asgi_csrf_module.FormParser = _CsrfFormParser  # type: ignore[attr-defined]
SESSION_COOKIE = "geo_session"
SESSION_MAX_AGE = 8 * 3600
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# anonymous JSON posts from the public page: they never use the session's identity
CSRF_EXEMPT = {("POST", "/api/v1/signalements")}


def secret_key(settings: Settings) -> str:
    """GEO_SERVICE_SECRET_KEY, else a random key kept in a local file made once (0600), so that
    sessions survive a restart and every worker signs alike."""
    if settings.secret_key:
        return settings.secret_key.get_secret_value()
    path: Path = settings.secret_file
    if not path.exists():
        # several workers may start at once: the key is written apart, then linked into place
        # (atomic, refused when another process got there first) — all of them read the same
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
            log.warning(
                "GEO_SERVICE_SECRET_KEY absent : clé de signature créée dans %s "
                "(définissez la variable en production).",
                path,
            )
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text().strip()


async def _send_json(
    send: Send, status: int, detail: str, headers: list[Any] | None = None
) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _csrf_failed(scope: Scope, send: Send, message_id: object) -> None:
    await _send_json(
        send,
        403,
        "Jeton anti-falsification (CSRF) absent ou invalide : rechargez la page et recommencez.",
    )


class RequestIdMiddleware:
    """Gives every request an id (X-Request-ID when sane, else a new one), echoed back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """413 for a body over the limit (uploads have a larger one), by Content-Length or counted."""

    def __init__(self, app: ASGIApp, *, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"")
        limit = self.upload_limit if content_type.startswith(b"multipart/") else self.json_limit
        declared = headers.get(b"content-length")
        too_large = (
            "Requête trop volumineuse : au plus "
            + (f"{limit // (1 << 20)} Mo" if limit >= 1 << 20 else f"{limit // 1024} ko")
            + "."
        )
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, too_large)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, too_large)


class _TooLarge(Exception):
    pass


class HttpsAwareSessions:
    """Starlette's signed-cookie sessions, with `Secure` on the cookie over HTTPS."""

    def __init__(self, app: ASGIApp, *, secret: str) -> None:
        common: dict[str, Any] = {
            "secret_key": secret,
            "session_cookie": SESSION_COOKIE,
            "max_age": SESSION_MAX_AGE,
            "same_site": "lax",
        }
        self.plain = SessionMiddleware(app, https_only=False, **common)
        self.secure = SessionMiddleware(app, https_only=True, **common)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.secure if scope.get("scheme") == "https" else self.plain
        await chosen(scope, receive, send)


def _csrf_exempt(scope: Scope) -> bool:
    return (scope.get("method"), scope.get("path")) in CSRF_EXEMPT


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# answers without a form (so without a CSRF token to give): their safe requests skip asgi-csrf,
# which otherwise draws and signs a new token on every request without the cookie
NO_FORM_PREFIXES = ("/api/", "/tiles/", "/static/", "/healthz")


class HttpsAwareCsrf:
    """asgi-csrf on every non-GET request carrying cookies (bearer-token calls are exempt)."""

    def __init__(self, app: ASGIApp, *, secret: str) -> None:
        common: dict[str, Any] = {
            "signing_secret": secret,
            "always_protect": {"/connexion"},
            "skip_if_scope": _csrf_exempt,
            "send_csrf_failed": _csrf_failed,
        }
        self.app = app
        self.plain = asgi_csrf(app, cookie_secure=False, **common)
        self.secure = asgi_csrf(app, cookie_secure=True, **common)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in SAFE_METHODS
            and scope["path"].startswith(NO_FORM_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        chosen = self.secure if scope.get("scheme") == "https" else self.plain
        await chosen(scope, receive, send)


def base_map_sources(settings: Settings) -> list[str]:
    """CSP sources of the configured base map: its host, and its subdomains when the URL
    template has {s} (or for OpenStreetMap, whose tiles may come from a.tile… too)."""
    url = base_tiles(settings.base_tiles)["url"]
    scheme, _, rest = url.partition("://")
    if not rest:
        return []
    host = rest.split("/", 1)[0].split("?", 1)[0]
    if "{s}" in host:
        host = host.replace("{s}", "*")
    sources = [f"{scheme}://{host}"]
    if not host.startswith("*.") and settings.base_tiles == "OpenStreetMap":
        sources.append(f"{scheme}://*.{host}")
    return sources


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """Headers of every response. Folium pages carry inline scripts and styles, hence
    'unsafe-inline' for script-src and style-src; everything else comes from the app itself,
    and images also from the base map."""
    tiles = " ".join(base_map_sources(settings))
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob: {tiles}".strip(),
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-frame-options", b"DENY"),
    ]


class SecurityHeadersMiddleware:
    """Adds the security headers (CSP, nosniff, referrer policy, no framing) to every response,
    unless a route set its own."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.headers = security_headers(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the middlewares (the last added runs first)."""
    secret = secret_key(settings)
    app.add_middleware(HttpsAwareCsrf, secret=secret)
    app.add_middleware(HttpsAwareSessions, secret=secret)
    app.add_middleware(
        BodyLimitMiddleware,
        json_limit=settings.max_body_kb * 1024,
        upload_limit=settings.max_upload_mb * (1 << 20),
    )
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    app.add_middleware(RequestIdMiddleware)
