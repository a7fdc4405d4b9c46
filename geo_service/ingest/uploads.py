"""Files uploaded from the console or the API: a safe local copy, then the same importer as
the CLI, run as the signed-in user (recorded in the journal and the audit trail)."""

from __future__ import annotations

import importlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO

import psycopg
from sqlalchemy import Connection, Engine, text
from sqlalchemy import exc as sa_exc

from geo_service import audit
from geo_service.auth.actor import Actor
from geo_service.errors import InvalidParameterError, PayloadTooLargeError
from geo_service.ingest.journal import STALE_MARKER, ImportResult

KINDS = {
    "ipe": "fichier IPE (.csv, .csv.gz, .zip)",
    "gracethd": "livrable GraceTHD (.gpkg)",
    "sites": "registre des sites mobiles (.csv)",
    "bornes": "registre des bornes WiFi (.csv)",
    "med": "registre des sites MED (.csv)",
    "onereuses": "liste des prises chères de l'opérateur (.csv)",
    "adresses": "adresses de référence (.csv)",
    "anfr": "export ANFR (.zip des tables SUP_*, tables de référence comprises)",
    "dcc": "fichier ARCEP des sites New Deal (.csv)",
    "arcep-sites": "fichier ARCEP « Mon réseau mobile » des sites (.csv)",
    "wifi-stats": "statistiques mensuelles des bornes WiFi (.csv)",
    "arcep-immeubles": "fichier ARCEP « Carte fibre » par immeuble (.zip, .csv, .csv.gz)",
    "ban": "Base Adresse Nationale du département (.csv.gz, .csv)",
    "fermeture-cuivre": "calendrier de fermeture du cuivre par immeuble (.csv)",
    "incidents": "registre des incidents (.csv)",
    "controles-pm": "contrôles de conformité des PM (.csv)",
    "abonnes": "abonnés par commune ou PM (.csv)",
    "echanges-frontaliers": "échanges frontaliers (.csv)",
}
SUFFIXES = {
    "ipe": (".csv", ".csv.gz", ".zip"),
    "gracethd": (".gpkg",),
    "anfr": (".zip",),
    "wifi-stats": (".csv", ".csv.gz", ".zip"),
    "arcep-immeubles": (".zip", ".csv", ".csv.gz"),
    "ban": (".csv.gz", ".csv"),
}
# kinds read by the same call as the CLI: module, function (engine, path, *, territory,
# snapshot_date, skip_invalid)
STANDARD = {
    "anfr": ("geo_service.ingest.anfr", "import_anfr"),
    "dcc": ("geo_service.ingest.dcc", "import_dcc"),
    "arcep-sites": ("geo_service.ingest.arcep_sites", "import_arcep_sites"),
    "wifi-stats": ("geo_service.ingest.wifi_stats", "import_wifi_stats"),
    "arcep-immeubles": ("geo_service.ingest.arcep_immeubles", "import_arcep_immeubles"),
    "ban": ("geo_service.ingest.ban", "import_ban"),
    "fermeture-cuivre": ("geo_service.ingest.fermeture_cuivre", "import_fermeture_cuivre"),
    "incidents": ("geo_service.ingest.incidents", "import_incidents"),
    "controles-pm": ("geo_service.ingest.controles_pm", "import_controles_pm"),
    "abonnes": ("geo_service.ingest.abonnes", "import_abonnes"),
    "echanges-frontaliers": (
        "geo_service.ingest.echanges_frontaliers",
        "import_echanges_frontaliers",
    ),
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str | None, kind: str) -> str:
    """The upload's base name with only safe characters (no folder, no NUL, no leading dot)."""
    if kind not in KINDS:
        raise InvalidParameterError(
            f"Type d'import inconnu « {kind[:20]} » (attendu : {', '.join(KINDS)})."
        )
    raw = (name or "").replace("\\", "/").split("/")[-1]
    if "\x00" in raw:
        raise InvalidParameterError("Nom de fichier invalide (caractère nul).")
    clean = _UNSAFE.sub("_", raw).lstrip("._")[-120:]
    if not clean:
        raise InvalidParameterError("Nom de fichier manquant ou invalide.")
    allowed = SUFFIXES.get(kind, (".csv",))
    if not clean.lower().endswith(allowed):
        raise InvalidParameterError(
            f"« {clean} » : extension attendue pour un {KINDS[kind]} : {', '.join(allowed)}."
        )
    return clean


@contextmanager
def stored_upload(stream: IO[bytes], name: str, *, max_bytes: int) -> Iterator[Path]:
    """Copy an uploaded stream into a private temporary folder (removed afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="geo-upload-"))
    try:
        path = folder / name
        written = 0
        with path.open("wb") as out:
            while chunk := stream.read(1 << 20):
                written += len(chunk)
                if written > max_bytes:
                    raise PayloadTooLargeError(
                        f"Fichier trop volumineux : au plus {max_bytes // (1 << 20)} Mo."
                    )
                out.write(chunk)
        if written == 0:
            raise InvalidParameterError(f"{name} : fichier vide.")
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_upload(
    engine: Engine,
    kind: str,
    path: Path,
    actor: Actor,
    *,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """The CLI's importer for this kind, as `actor`."""
    territory = actor.territory
    with audit.acting_as(actor):
        if kind == "ipe":
            from geo_service.ingest.ipe import import_ipe

            return import_ipe(
                engine,
                path,
                territory=territory,
                snapshot_date=snapshot_date,
                skip_invalid=skip_invalid,
                progress=progress,
            )
        if kind == "gracethd":
            from geo_service.ingest.gracethd import import_gracethd

            return import_gracethd(engine, path, territory=territory, snapshot_date=snapshot_date)
        if kind == "onereuses":
            from geo_service.ingest.onereuses import import_onereuses

            return import_onereuses(engine, path, territory=territory, snapshot_date=snapshot_date)
        if kind == "adresses":
            from geo_service.ingest.addresses import import_addresses

            return import_addresses(engine, path, territory=territory)
        if kind in STANDARD:
            module, function = STANDARD[kind]
            importer = getattr(importlib.import_module(module), function)
            result: ImportResult = importer(
                engine,
                path,
                territory=territory,
                snapshot_date=snapshot_date,
                skip_invalid=skip_invalid,
            )
            return result
        from geo_service.ingest.registers import import_register

        return import_register(
            engine,
            kind,
            path,
            territory=territory,
            snapshot_date=snapshot_date,
            skip_invalid=skip_invalid,
        )


def journal(conn: Connection, *, limit: int = 50) -> list[dict[str, object]]:
    """The latest imports: who imported what, when, with counts and duration; an import still
    running says its step (`etape`), one whose session is gone says INTERROMPU."""
    rows = conn.execute(
        text(
            "SELECT j.id, j.kind, j.file_name, j.snapshot_date, j.user_name, j.started_at,"
            f" j.duration_ms, CASE WHEN {STALE_MARKER} THEN 'INTERROMPU' ELSE j.status END"
            " AS status, CASE WHEN j.status IN ('EN_COURS', 'INTERROMPU') THEN '{}'::jsonb"
            " ELSE j.counts END AS counts, j.counts->>'etape' AS etape,"
            " j.counts->>'erreur' AS erreur, jsonb_array_length(j.errors) AS problemes"
            " FROM import_journal j ORDER BY j.id DESC LIMIT :l"
        ),
        {"l": limit},
    ).mappings()
    return [dict(r) for r in rows]


def running(entries: list[dict[str, object]]) -> bool:
    """Whether one of these journal rows is an import still running."""
    return any(e["status"] == "EN_COURS" for e in entries)


def journal_unless_locked(
    conn: Connection, *, wait_s: float = 2.0
) -> list[dict[str, object]] | None:
    """The journal, or None when an import keeps it locked longer than `wait_s` (a first load
    rebuilds the foreign keys that point at the journal, which locks it until it commits)."""
    previous = conn.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
    try:
        with conn.begin_nested():
            conn.execute(
                text("SELECT set_config('lock_timeout', :t, true)"),
                {"t": f"{int(wait_s * 1000)}ms"},
            )
            entries = journal(conn)
            conn.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": previous})
    except sa_exc.OperationalError as exc:
        if isinstance(exc.orig, psycopg.errors.LockNotAvailable):
            return None
        raise
    return entries
