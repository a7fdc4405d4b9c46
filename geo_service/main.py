"""FastAPI application factory: engine and sessionmaker live on app.state (built in lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape
from importlib import import_module
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from geo_service import __version__
from geo_service.api import warmer
from geo_service.api.caching import ConditionalGetMiddleware
from geo_service.api.errors_http import install as install_error_handling
from geo_service.api.middleware import install as install_middleware
from geo_service.api.security import RateLimits
from geo_service.api.validation import install as install_validation
from geo_service.cache import ResponseCache
from geo_service.db.replicas import ReplicaSet
from geo_service.db.session import make_engine, make_sessionmaker
from geo_service.errors import (
    AuthenticationError,
    ConflictError,
    FieldValidationError,
    ForbiddenError,
    GeoServiceError,
    NotFoundError,
)
from geo_service.settings import Settings


def wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API, not a script)."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings, generic_plans=True)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        replicas = settings.replica_urls
        app.state.replicas = (
            ReplicaSet.from_urls(replicas, max_lag_s=settings.replica_retard_max_s)
            if replicas
            else None
        )
        if app.state.replicas is not None:
            app.state.replicas.refresh_soon()  # first check in the background
        store = app.state.response_cache
        # a new worker serves its first visits from memory: what the shared table holds now
        await run_in_threadpool(warmer.preload_at_start, engine, store)
        stop_warming = None
        if settings.prechauffage:  # `geo-service serve`: ready for a burst from the start
            await run_in_threadpool(
                warmer.warm_connections, engine, settings, settings.requetes_simultanees
            )
            stop_warming = warmer.start(engine, settings, store)
        yield
        if stop_warming is not None:
            stop_warming.set()
        if app.state.replicas is not None:
            app.state.replicas.dispose()
        engine.dispose()

    app = FastAPI(
        title="geo_service",
        description="Suivi du très haut débit : fibre, mobile, WiFi public.",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings

    app.state.rate_limits = RateLimits()
    app.state.response_cache = ResponseCache(settings.cache_mb << 20)
    # requests in flight ≤ the connections the pool keeps (first: runs inside the others)
    install_error_handling(app, settings, limit=settings.requetes_simultanees)
    install_middleware(app, settings)
    install_validation(app)
    app.add_middleware(ConditionalGetMiddleware)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # public GETs only, never with cookies
        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET"], allow_credentials=False
        )

    @app.exception_handler(GeoServiceError)
    async def domain_error(request: Request, exc: GeoServiceError) -> Response:
        if isinstance(exc, AuthenticationError) and wants_html(request):
            # a browser on a page for signed-in users: to the sign-in form, then back
            return RedirectResponse(
                "/connexion?" + urlencode({"suivant": request.url.path}), status_code=303
            )
        if isinstance(exc, ForbiddenError | NotFoundError) and wants_html(request):
            title = "Accès refusé" if isinstance(exc, ForbiddenError) else "Introuvable"
            page = (
                f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
                f"</head><body><main><h1>{title}</h1><p>{escape(exc.message)}</p>"
                '<p><a href="/">Carte publique</a> · <a href="/connexion">Connexion</a></p>'
                "</main></body></html>"
            )
            return HTMLResponse(page, status_code=exc.status_code)
        body: dict[str, object] = {"detail": exc.message}
        problems = getattr(exc, "problems", None)
        if problems:
            body["problemes"] = problems
        if isinstance(exc, ConflictError):
            body["actuel"] = jsonable_encoder(exc.current)
        if isinstance(exc, FieldValidationError):
            body["champs"] = exc.fields
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
        if isinstance(exc, ConflictError) and "version" in exc.current:
            headers = {"ETag": f'"{exc.current["version"]}"'}
        return JSONResponse(status_code=exc.status_code, content=body, headers=headers)

    from geo_service.api.routes import (
        audit,
        console,
        console_programmes,
        controles,
        edits,
        elus,
        exports,
        health,
        imports,
        ogc,
        pages,
        prises,
        programmes,
        signalements,
        stats,
        tiles,
    )
    from geo_service.maps.assets import mount_static

    app.include_router(health.router)
    app.include_router(stats.router)
    app.include_router(prises.router)
    app.include_router(programmes.router)
    app.include_router(signalements.router)
    app.include_router(pages.router)
    app.include_router(tiles.router)
    app.include_router(elus.router)
    app.include_router(exports.router)
    app.include_router(edits.router)
    app.include_router(imports.router)
    app.include_router(audit.router)
    app.include_router(import_module("geo_service.api.routes.operations").router)  # exploitation
    app.include_router(console.router)
    app.include_router(import_module("geo_service.api.routes.console_rapports").router)
    app.include_router(console_programmes.router)
    app.include_router(import_module("geo_service.api.routes.console_operations").router)
    app.include_router(ogc.router)
    app.include_router(controles.router)
    mount_static(app)
    return app
