"""The import journal: one row per file, whatever its fate (rejected files too)."""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, text
from sqlalchemy import exc as sa_exc

from geo_service import audit
from geo_service.auth.actor import Actor
from geo_service.errors import GeoServiceError, ImportRejectedError
from geo_service.ingest.common import date_from_name

log = logging.getLogger(__name__)
# How long an import waits for a lock before giving up (GEO_SERVICE_IMPORT_LOCK_TIMEOUT_S).
LOCK_TIMEOUT_S = 30.0
Progress = Callable[[str], None]
# An EN_COURS marker whose session is gone (killed, crashed, server restarted): the import did not
# finish. The pid alone could be reused by a newer session, hence the start time.
STALE_MARKER = (
    "j.status = 'EN_COURS' AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a"
    " WHERE a.pid::text = j.counts->>'pid'"
    " AND (a.backend_start IS NULL OR a.backend_start <= j.started_at))"
)
# A journal entry of territory :t (or of no known territory: rows older than the column).
TERRITORY_MATCH = (
    "(CAST(:t AS text) IS NULL OR territory_code IS NULL OR territory_code = CAST(:t AS text))"
)
# The territory of the import running in this context (set by run_import).
_current_territory: ContextVar[str | None] = ContextVar("import_territory", default=None)


def current_user() -> str:
    """Who runs the import (GEO_SERVICE_USER, else the system user)."""
    return os.environ.get("GEO_SERVICE_USER") or getpass.getuser()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class ImportResult:
    """What an import did, for the CLI, the API and the tests."""

    kind: str
    file_name: str
    sha256: str
    status: str
    journal_id: int | None = None
    snapshot_date: date | None = None
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: int = 0
    message: str = ""
    # the rows came in bulk (a first load): their tables are worth a VACUUM once committed
    bulk: bool = False


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def ms(self) -> int:
        return int((time.perf_counter() - self.start) * 1000)


def previous_success(
    conn: Connection,
    kind: str,
    sha256: str,
    snapshot: date | None = None,
    *,
    territory: str | None = None,
) -> tuple[int, date | None] | None:
    """The journal entry of an earlier successful import of the very same file (and, when given,
    for the same snapshot date) into the same territory (an entry of no known territory counts
    for all), if any."""
    territory = territory or _current_territory.get()
    row = conn.execute(
        text(
            "SELECT id, started_at::date AS day FROM import_journal "
            "WHERE kind = :k AND sha256 = :s AND status IN ('OK', 'PARTIEL') "
            "AND (CAST(:d AS date) IS NULL OR snapshot_date = :d) "
            f"AND {TERRITORY_MATCH} ORDER BY id LIMIT 1"
        ),
        {"k": kind, "s": sha256, "d": snapshot, "t": territory},
    ).first()
    return (int(row.id), row.day) if row else None


def open_entry(
    conn: Connection,
    *,
    kind: str,
    path: Path,
    sha256: str,
    snapshot: date | None,
    user: str,
    territory: str | None = None,
) -> int:
    """Create the journal row of an import in progress (inside the import's transaction), for
    `territory` (default: the territory of the import running in this context)."""
    return int(
        conn.execute(
            text(
                "INSERT INTO import_journal"
                " (kind, file_name, sha256, snapshot_date, user_name, status, territory_code)"
                " VALUES (:k, :f, :s, :d, :u, 'EN_COURS', :t) RETURNING id"
            ),
            {
                "k": kind,
                "f": path.name,
                "s": sha256,
                "d": snapshot,
                "u": user,
                "t": territory or _current_territory.get(),
            },
        ).scalar_one()
    )


def close_entry(
    conn: Connection,
    journal_id: int,
    *,
    status: str,
    counts: dict[str, Any],
    problems: Sequence[dict[str, Any]],
    duration_ms: int,
) -> None:
    conn.execute(
        text(
            "UPDATE import_journal SET status = :st, counts = CAST(:c AS jsonb),"
            " errors = CAST(:e AS jsonb), duration_ms = :ms WHERE id = :id"
        ),
        {
            "st": status,
            "c": json.dumps(counts),
            "e": json.dumps(list(problems)[:1000], default=str),
            "ms": duration_ms,
            "id": journal_id,
        },
    )


def journal_rejection(
    engine: Engine,
    *,
    kind: str,
    path: Path,
    sha256: str,
    snapshot: date | None,
    user: str,
    problems: Sequence[dict[str, Any]],
    duration_ms: int,
    marker_id: int | None = None,
    territory: str | None = None,
) -> int:
    """Record a rejected file in its own transaction (which also removes the import's marker):
    the data tables stay untouched."""
    with engine.begin() as conn:
        if marker_id is not None:
            conn.execute(text("DELETE FROM import_journal WHERE id = :m"), {"m": marker_id})
        journal_id = open_entry(
            conn,
            kind=kind,
            path=path,
            sha256=sha256,
            snapshot=snapshot,
            user=user,
            territory=territory,
        )
        close_entry(
            conn,
            journal_id,
            status="REJETE",
            counts={"rejetees": len(problems)},
            problems=problems,
            duration_ms=duration_ms,
        )
    return journal_id


def folder_sha256(folder: Path) -> str:
    """Checksum of a folder delivery (file names and contents, in name order)."""
    digest = hashlib.sha256()
    for item in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(item.relative_to(folder).as_posix().encode())
        digest.update(file_sha256(item).encode())
    return digest.hexdigest()


def already_imported(
    kind: str, path: Path, sha256: str, journal_id: int, snapshot: date | None = None
) -> ImportResult:
    """The result of an import skipped because the same file was already imported."""
    return ImportResult(
        kind=kind,
        file_name=path.name,
        sha256=sha256,
        status="DEJA_IMPORTE",
        journal_id=journal_id,
        snapshot_date=snapshot,
        message=f"{path.name} déjà importé (journal n° {journal_id}) : rien n'a changé.",
    )


def _import_actor(who: str, territory: str | None) -> Actor:
    """The actor of an upload (API, console) when one is set, else the CLI's operator."""
    actor = audit.import_actor()
    if actor is not None:
        return actor.with_source("import")
    return Actor(name=who, role="admin", territory=territory or "", source="cli")


def _audit_import(
    conn: Connection, actor: Actor, kind: str, path: Path, result_or_problems: Any, *, ok: bool
) -> None:
    if ok:
        result: ImportResult = result_or_problems
        audit.record(
            conn,
            actor,
            action="import",
            object_type=f"import_{kind}",
            object_key=path.name,
            after={"statut": result.status, "journal": result.journal_id, **result.counts},
            import_id=result.journal_id,
        )
    else:
        audit.record(
            conn,
            actor,
            action="import",
            object_type=f"import_{kind}",
            object_key=path.name,
            after={"rejets": len(result_or_problems)},
            outcome="refuse",
            detail="fichier refusé",
        )


class ImportLockedError(GeoServiceError):
    """An import could not get its locks in time: another session holds them."""

    status_code = 503


def lock_timeout_s() -> float:
    value = os.environ.get("GEO_SERVICE_IMPORT_LOCK_TIMEOUT_S", "")
    try:
        return float(value) if value else LOCK_TIMEOUT_S
    except ValueError:
        return LOCK_TIMEOUT_S


_STATES = {
    "idle in transaction": "transaction ouverte et inactive",
    "idle in transaction (aborted)": "transaction ouverte en échec",
    "active": "requête en cours",
}


def lock_holders(engine: Engine) -> list[dict[str, Any]]:
    """Other sessions holding locks on this database's tables, oldest transaction first."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.pid, a.application_name, a.state, left(a.query, 160) AS query,"
                " string_agg(DISTINCT c.relname, ', ' ORDER BY c.relname) AS tables,"
                " extract(epoch FROM now() - a.xact_start)::int AS seconds"
                " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " JOIN pg_class c ON c.oid = l.relation"
                " WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND c.relnamespace = 'public'::regnamespace"
                " GROUP BY a.pid, a.application_name, a.state, a.query, a.xact_start"
                " ORDER BY a.xact_start NULLS LAST LIMIT 3"
            )
        ).mappings()
        return [dict(r) for r in rows]


def locked_message(engine: Engine, path: Path, timeout: float) -> str:
    """A French message naming the sessions that hold the locks the import waited for."""
    head = f"Import de {path.name} interrompu : verrous non obtenus en {timeout:g} s"
    try:
        holders = lock_holders(engine)
    except sa_exc.SQLAlchemyError:
        holders = []
    if not holders:
        return head + " (la session qui les tenait a fini depuis) : relancez l'import."
    described = "; ".join(
        f"pid {h['pid']} (application « {h['application_name'] or 'sans nom'} », "
        f"{_STATES.get(h['state'], h['state'] or 'état inconnu')} depuis {h['seconds'] or 0} s, "
        f"tables {h['tables']}, dernière requête « {' '.join(str(h['query']).split())} »)"
        for h in holders
    )
    first = holders[0]["pid"]
    return (
        f"{head}, la base est occupée par une autre session : {described}. Attendez qu'elle se "
        f"termine ou arrêtez-la (SELECT pg_terminate_backend({first})), puis relancez l'import."
    )


# --- the marker of an import in progress ------------------------------------------------------


def mark_interrupted(conn: Connection) -> int:
    """Turn the markers of imports whose session is gone into INTERROMPU (the caller commits)."""
    return max(
        conn.execute(
            text(f"UPDATE import_journal j SET status = 'INTERROMPU' WHERE {STALE_MARKER}")
        ).rowcount,
        0,
    )


def _set_lock_timeout(conn: Connection, seconds: float) -> None:
    """SET LOCAL lock_timeout: never wait for ever behind another session's transaction."""
    conn.execute(
        text("SELECT set_config('lock_timeout', :t, true)"), {"t": f"{int(seconds * 1000)}ms"}
    )


@dataclass
class Marker:
    """The EN_COURS row an import commits before it starts, so that a killed import leaves a
    trace; its step is updated by short transactions of their own while the import runs."""

    engine: Engine
    id: int
    closed: bool = False

    @classmethod
    def open(
        cls,
        conn: Connection,
        engine: Engine,
        *,
        kind: str,
        path: Path,
        user: str,
        snapshot: date | None,
        timeout: float,
        territory: str | None = None,
    ) -> Marker:
        """Sweep stale markers, then commit this import's marker (with `conn`'s backend pid)."""
        if path.is_file():
            sha = file_sha256(path)
        else:
            sha = folder_sha256(path) if path.is_dir() else ""
        _set_lock_timeout(conn, timeout)
        mark_interrupted(conn)
        marker_id = conn.execute(
            text(
                "INSERT INTO import_journal (kind, file_name, sha256, snapshot_date, user_name,"
                " status, territory_code, counts) VALUES (:k, :f, :s, :d, :u, 'EN_COURS', :t,"
                " jsonb_build_object('pid', pg_backend_pid(), 'etape', CAST(:e AS text)))"
                " RETURNING id"
            ),
            {
                "t": territory,
                "k": kind,
                "f": path.name,
                "s": sha,
                "u": user,
                "e": "démarrage",
                "d": snapshot or date_from_name(path.name),
            },
        ).scalar_one()
        conn.commit()
        return cls(engine, int(marker_id))

    def step(self, message: str) -> None:
        """Record the current step in a short transaction of its own (best effort: a failure
        here never stops the import)."""
        if self.closed:
            return
        try:
            with self.engine.begin() as conn:
                _set_lock_timeout(conn, 1.0)
                conn.execute(text("SELECT set_config('statement_timeout', '5000ms', true)"))
                conn.execute(
                    text(
                        "UPDATE import_journal SET counts = jsonb_set(counts, '{etape}',"
                        " to_jsonb(CAST(:e AS text))) WHERE id = :id AND status = 'EN_COURS'"
                    ),
                    {"e": message[:200], "id": self.id},
                )
        except sa_exc.OperationalError as exc:
            if isinstance(exc.orig, psycopg.errors.LockNotAvailable):
                # the import itself holds a table lock on the journal until it commits (a first
                # load rebuilding foreign keys): no more steps rather than a wait for each
                self.closed = True
            log.info("étape de l'import %s non enregistrée : %s", self.id, exc.orig)
        except sa_exc.SQLAlchemyError as exc:
            log.warning("étape de l'import %s non enregistrée : %s", self.id, exc)

    def finish(self, conn: Connection) -> None:
        """Remove the marker inside the import's transaction: gone exactly when it commits."""
        self.closed = True  # no more step updates: they would wait for this row's lock
        conn.execute(text("DELETE FROM import_journal WHERE id = :m"), {"m": self.id})

    def interrupt(self, reason: str, duration_ms: int) -> None:
        """The import failed without being killed: say so on the marker, in its own transaction."""
        self.closed = True
        try:
            with self.engine.begin() as conn:
                _set_lock_timeout(conn, 2.0)
                conn.execute(
                    text(
                        "UPDATE import_journal SET status = 'INTERROMPU', duration_ms = :ms,"
                        " counts = counts || jsonb_build_object('erreur', CAST(:r AS text))"
                        " WHERE id = :id AND status = 'EN_COURS'"
                    ),
                    {"r": reason[:500], "ms": duration_ms, "id": self.id},
                )
        except sa_exc.SQLAlchemyError as exc:  # the session's end will show it interrupted
            log.warning("import %s : marqueur non mis à jour : %s", self.id, exc)


_current_marker: ContextVar[Marker | None] = ContextVar("import_marker", default=None)


def report_progress(message: str) -> None:
    """Record the step of the import running in this context, if any (importers call it)."""
    marker = _current_marker.get()
    if marker is not None:
        marker.step(message)


def tracked(progress: Progress | None) -> Progress:
    """The importer's progress callback: the journal's marker first, then the caller's."""

    def step(message: str) -> None:
        report_progress(message)
        if progress is not None:
            progress(message)

    return step


def run_import(
    engine: Engine,
    kind: str,
    path: Path,
    work: Callable[[Connection, str], ImportResult],
    *,
    snapshot_date: date | None = None,
    user: str | None = None,
    territory: str | None = None,
) -> ImportResult:
    """Run `work(conn, user)` in one transaction, announced by a committed EN_COURS marker that
    the transaction removes as it commits (a killed import leaves it: the journal says the import
    did not finish). A refused file is journalled in a transaction of its own and the data tables
    stay as they were. Both are recorded in the audit trail."""
    watch = Stopwatch()
    actor_set = audit.import_actor()
    who = actor_set.name if actor_set is not None else (user or current_user())
    actor = _import_actor(who, territory)
    timeout = lock_timeout_s()
    marker: Marker | None = None
    try:
        with engine.connect() as conn:
            marker = Marker.open(
                conn,
                engine,
                kind=kind,
                path=path,
                user=who,
                snapshot=snapshot_date,
                timeout=timeout,
                territory=territory,
            )
            token = _current_marker.set(marker)
            territory_token = _current_territory.set(territory)
            try:
                with conn.begin():
                    _set_lock_timeout(conn, timeout)
                    # a killed client: the server notices within a second, even mid-query
                    conn.execute(
                        text("SELECT set_config('client_connection_check_interval', '1s', true)")
                    )
                    result = work(conn, who)
                    marker.finish(conn)
                    if result.status != "DEJA_IMPORTE":
                        _audit_import(conn, actor, kind, path, result, ok=True)
                return result
            finally:
                _current_territory.reset(territory_token)
                _current_marker.reset(token)
    except ImportRejectedError as exc:
        journal_rejection(
            engine,
            kind=kind,
            path=path,
            sha256=file_sha256(path) if path.is_file() else "",
            snapshot=snapshot_date,
            user=who,
            problems=exc.problems,
            duration_ms=watch.ms(),
            marker_id=marker.id if marker is not None else None,
            territory=territory,
        )
        with engine.begin() as conn:
            _audit_import(conn, actor, kind, path, exc.problems, ok=False)
        raise
    except sa_exc.OperationalError as exc:
        if isinstance(exc.orig, psycopg.errors.LockNotAvailable):
            message = locked_message(engine, path, timeout)
            if marker is not None:
                marker.interrupt(message, watch.ms())
            raise ImportLockedError(message) from exc
        if marker is not None:
            marker.interrupt(f"erreur de la base : {type(exc.orig).__name__}", watch.ms())
        raise
    except BaseException as exc:
        if marker is not None:
            marker.interrupt(f"erreur inattendue : {type(exc).__name__}", watch.ms())
        raise
