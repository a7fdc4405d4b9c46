"""Streaming replicas serving the public reads: one small pool each, a health check (reachable,
in recovery, receiving WAL, replay delay) refreshed in the background at most every
REFRESH_S, and a round-robin pick over the healthy ones (None: read on the primary)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc

from geo_service.db.session import GENERIC_PLANS
from geo_service.settings import to_sqlalchemy_url

log = logging.getLogger(__name__)

REFRESH_S = 1.5  # a replica's state is at most this old (plus one check)
CHECK_TIMEOUT_S = 2  # libpq's smallest connect_timeout
POOL_SIZE = (
    8  # kept open per replica: a worker's requests at once (GEO_SERVICE_REQUETES_SIMULTANEES)
)
MAX_OVERFLOW = 8
POOL_TIMEOUT = 2.0  # then the read goes to the primary
APPLICATION_NAME = "geo_service replica"
ON_REPLICA = "geo_service.on_replica"  # Connection.info key: a replica's connection

OK, LAGGING, DOWN = "ok", "en retard", "injoignable"

_HEALTH = text(
    "SELECT pg_is_in_recovery() AS recovery,"
    " (SELECT count(*) FROM pg_stat_wal_receiver"
    "   WHERE coalesce(status, 'streaming') = 'streaming') > 0 AS streaming,"
    " pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AS caught_up,"
    " extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS since_replay"
)


def public_name(url: str) -> str:
    """host:port/dbname of a libpq URL: no user, no password."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "?"
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    return f"{host}:{port}/{params.get('dbname') or ''}"


def replay_delay(
    streaming: bool, caught_up: bool | None, since_replay: float | None
) -> float | None:
    """Seconds the replica is behind: 0 when it has replayed all it received while streaming,
    else the age of the last transaction replayed (None: unknown — never replayed, not caught
    up). Without a WAL receiver, what was received tells nothing of what the primary has."""
    if streaming and caught_up:
        return 0.0
    return max(0.0, float(since_replay)) if since_replay is not None else None


@dataclass
class Replica:
    name: str
    engine: Engine
    state: str = DOWN
    lag_s: float | None = None
    detail: str = "pas encore vérifiée"
    served: int = 0  # reads it answered

    def status(self) -> dict[str, object]:
        lag = None if self.lag_s is None else round(self.lag_s, 1)
        return {"nom": self.name, "etat": self.state, "retard_s": lag, "detail": self.detail}


@dataclass
class ReplicaSet:
    replicas: list[Replica]
    max_lag_s: float
    refresh_s: float = REFRESH_S
    _checked_at: float = field(default=0.0)
    _refreshing: bool = False
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_urls(cls, urls: list[str], *, max_lag_s: float) -> ReplicaSet:
        return cls([Replica(public_name(u), replica_engine(u)) for u in urls], max_lag_s)

    def pick(self) -> Replica | None:
        """The next healthy replica (round robin), or None; starts a background check when the
        states are older than refresh_s (the request never waits for it)."""
        self.refresh_soon()
        with self._lock:
            healthy = [r for r in self.replicas if r.state == OK]
            if not healthy:
                return None
            self._next = (self._next + 1) % len(healthy)
            return healthy[self._next]

    def mark_down(self, replica: Replica, exc: BaseException) -> None:
        """A read failed on it: skipped until a check finds it healthy again."""
        log.warning("réplique %s injoignable, lecture sur le primaire : %s", replica.name, exc)
        with self._lock:
            replica.state, replica.lag_s = DOWN, None
            replica.detail = type(exc).__name__
            self._checked_at = time.monotonic()  # the next check in refresh_s, not at once

    def refresh(self) -> None:
        """Check every replica now (the caller waits: /healthz, the background check)."""
        for replica in self.replicas:
            state, lag, detail = self._check(replica)
            with self._lock:
                if (replica.state == OK) != (state == OK):
                    log.info("réplique %s : %s (%s)", replica.name, state, detail)
                replica.state, replica.lag_s, replica.detail = state, lag, detail
        with self._lock:
            self._checked_at = time.monotonic()

    def statuses(self) -> list[dict[str, object]]:
        with self._lock:
            return [r.status() for r in self.replicas]

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.engine.dispose()

    def refresh_soon(self) -> None:
        with self._lock:
            if self._refreshing or time.monotonic() - self._checked_at < self.refresh_s:
                return
            self._refreshing = True
        threading.Thread(target=self._background_refresh, name="replica-check", daemon=True).start()

    def _background_refresh(self) -> None:
        try:
            self.refresh()
        except Exception:  # never let the checker die silently with the flag set
            log.exception("vérification des répliques")
        finally:
            with self._lock:
                self._refreshing = False

    def _check(self, replica: Replica) -> tuple[str, float | None, str]:
        try:
            with replica.engine.connect() as conn:
                row = conn.execute(_HEALTH).one()
        except (sa_exc.SQLAlchemyError, psycopg.Error) as exc:
            return DOWN, None, type(exc).__name__
        if not row.recovery:
            return DOWN, None, "n'est pas en réplication (serveur primaire ?)"
        lag = replay_delay(bool(row.streaming), row.caught_up, row.since_replay)
        if not row.streaming:
            detail = "ne reçoit pas le WAL du primaire"
        else:
            detail = "réception du WAL en continu"
        if lag is None or lag > self.max_lag_s:
            return LAGGING, lag, detail
        return OK, lag, detail


def replica_engine(url: str) -> Engine:
    """A small pool on one replica; its connections say so in Connection.info."""
    engine = create_engine(
        to_sqlalchemy_url(url),
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT,
        connect_args={
            "connect_timeout": CHECK_TIMEOUT_S,
            "application_name": APPLICATION_NAME,
            "options": GENERIC_PLANS,  # as on the primary (the same reads)
        },
    )

    @event.listens_for(engine, "connect")
    def _mark(dbapi_connection: object, record: object) -> None:
        record.info[ON_REPLICA] = True  # type: ignore[attr-defined]

    return engine


def is_gone(exc: BaseException) -> bool:
    """The replica or its connection is gone (refused, closed, shut down), not merely this
    query cancelled there (recovery conflict 40001, statement timeout 57014…)."""
    if getattr(exc, "connection_invalidated", False):
        return True
    sqlstate = getattr(getattr(exc, "orig", exc), "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(("08", "57P"))
