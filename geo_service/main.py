"""FastAPI application factory: engine and sessionmaker live on app.state (built in lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from geo_service import __version__
from geo_service.db.session import make_engine, make_sessionmaker
from geo_service.errors import GeoServiceError
from geo_service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        yield
        engine.dispose()

    app = FastAPI(
        title="geo_service",
        description="Suivi du très haut débit : fibre, mobile, WiFi public.",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings

    @app.exception_handler(GeoServiceError)
    async def domain_error(_request: Request, exc: GeoServiceError) -> JSONResponse:
        body: dict[str, object] = {"detail": exc.message}
        problems = getattr(exc, "problems", None)
        if problems:
            body["problemes"] = problems
        return JSONResponse(status_code=exc.status_code, content=body)

    from geo_service.api.routes import (
        elus,
        exports,
        health,
        pages,
        prises,
        signalements,
        stats,
        tiles,
    )
    from geo_service.maps.assets import mount_static

    app.include_router(health.router)
    app.include_router(stats.router)
    app.include_router(prises.router)
    app.include_router(signalements.router)
    app.include_router(pages.router)
    app.include_router(tiles.router)
    app.include_router(elus.router)
    app.include_router(exports.router)
    mount_static(app)
    return app
