"""Who is calling: the current actor from the session cookie or a bearer token (never from a
request body), `require(role)`, the élu's area check, and per-client rate limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from geo_service.api.deps import get_session, get_settings
from geo_service.auth import users
from geo_service.auth.actor import ROLE_LABELS, Actor
from geo_service.errors import AuthenticationError, ForbiddenError, TooManyRequestsError
from geo_service.settings import Settings

SESSION_USER_KEY = "uid"
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="jeton",
    description="Jeton d'API (« geo-service users token NOM »), en-tête Authorization: Bearer",
)


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def current_actor(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
) -> Actor | None:
    """The signed-in user (session cookie) or token holder; None for an anonymous visitor
    (answered on the event loop: no connection, no thread). A bad or revoked token is a 401,
    not an anonymous call."""
    uid = request.session.get(SESSION_USER_KEY) if "session" in request.scope else None
    if credentials is None and not isinstance(uid, int):
        return None
    return await run_in_threadpool(_identified, request, session, settings, credentials, uid)


def _identified(
    request: Request,
    session: Session,
    settings: Settings,
    credentials: HTTPAuthorizationCredentials | None,
    uid: object,
) -> Actor | None:
    conn = session.connection()
    source = "api" if request.url.path.startswith("/api/") else "console"
    if credentials is not None:
        user = users.user_for_token(conn, credentials.credentials)
        session.commit()  # the token's last use
        if user is None:
            raise AuthenticationError("Jeton d'API invalide, révoqué ou compte désactivé.")
        actor = users.actor_for(user, source="api", request_id=request_id(request))
    else:
        assert isinstance(uid, int)
        user = users.user_by_id(conn, uid)
        if user is None or user["disabled"]:
            request.session.clear()
            return None
        actor = users.actor_for(user, source=source, request_id=request_id(request))
    if actor.territory != settings.departement:
        raise ForbiddenError("Ce compte appartient à un autre territoire.")
    return actor


CurrentActor = Annotated[Actor | None, Depends(current_actor)]


def require(role: str) -> Callable[..., Actor]:
    """A dependency: an actor of at least this role (401 when anonymous, 403 when below)."""

    def dependency(actor: CurrentActor) -> Actor:
        if actor is None:
            raise AuthenticationError(
                "Authentification requise : connectez-vous ou fournissez un jeton d'API."
            )
        if not actor.at_least(role):
            raise ForbiddenError(
                f"Accès réservé au rôle {ROLE_LABELS[role]} ou supérieur "
                f"(vous êtes {ROLE_LABELS[actor.role]})."
            )
        return actor

    dependency.__name__ = f"require_{role}"
    return dependency


StaffActor = Annotated[Actor, Depends(require("technicien"))]
AdminActor = Annotated[Actor, Depends(require("admin"))]
SignedInActor = Annotated[Actor, Depends(require("elu"))]


def area_insees(session: Session, actor: Actor) -> set[str] | None:
    """The communes an actor may read non-public lists of; None = the whole territory."""
    if actor.at_least("technicien"):
        return None
    conn = session.connection()
    if actor.commune_insee:
        return {actor.commune_insee}
    rows = conn.execute(
        text("SELECT insee FROM commune WHERE epci_siren = :e AND territory_code = :t"),
        {"e": actor.epci_siren, "t": actor.territory},
    ).scalars()
    return set(rows)


def check_area(
    session: Session, actor: Actor, insees: set[str] | list[str] | tuple[str, ...]
) -> None:
    """403 unless the actor may read the non-public lists of every one of these communes."""
    allowed = area_insees(session, actor)
    if allowed is not None and not set(insees) <= allowed:
        raise ForbiddenError("Ces données ne sont pas celles de votre commune ou de votre EPCI.")


def may_read_area(
    session: Session, actor: Actor | None, insees: set[str] | list[str] | tuple[str, ...]
) -> bool:
    if actor is None:
        return False
    allowed = area_insees(session, actor)
    return allowed is None or (bool(insees) and set(insees) <= allowed)


class RateLimits:
    """Moving-window limits per client address (the `limits` library, in process memory)."""

    def __init__(self) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, rule: str, scope: str, client: str) -> bool:
        return bool(self.limiter.hit(parse(rule), scope, client))


def rate_limit(rule: str, scope: str) -> Callable[..., None]:
    """A dependency refusing a client over `rule` (e.g. "5/minute") with a French 429."""

    def dependency(request: Request) -> None:
        limits: RateLimits = request.app.state.rate_limits
        client = request.client.host if request.client else "inconnu"
        if not limits.hit(rule, scope, client):
            raise TooManyRequestsError(
                "Trop de demandes depuis votre connexion : réessayez dans quelques minutes."
            )

    dependency.__name__ = f"rate_limit_{scope}"
    return dependency


def sign_in(request: Request, user: dict[str, Any]) -> None:
    request.session.clear()
    request.session[SESSION_USER_KEY] = int(user["id"])


def sign_out(request: Request) -> None:
    request.session.clear()
