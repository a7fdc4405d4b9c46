"""Import the ANFR bulk export (radio sites of more than 5 W) for one territory.

Streams the national tables, keeping early what concerns the territory: supports whose point lies
in one of its communes (by geometry, whatever their COM_CD_INSEE says), then the stations they
carry, then those stations' emitters. Kept rows are staged with COPY and merged set-based; a
station whose service dates change gets a line of history (asset_change, table `anfr_station`);
stations, supports and emitters the export no longer lists for the territory are removed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.anfr_reader import (
    EMETTEUR_COLUMNS,
    EXPLOITANT_COLUMNS,
    NATURE_COLUMNS,
    PROPRIETAIRE_COLUMNS,
    REFERENCE_TABLES,
    STATION_COLUMNS,
    SUPPORT_COLUMNS,
    TABLES,
    AnfrSource,
    locate,
)
from geo_service.ingest.anfr_scan import Extract, copy_rows, scan
from geo_service.ingest.common import problem, territory_context
from geo_service.ingest.csv_source import fmt_int
from geo_service.sql import statements

log = logging.getLogger(__name__)
KIND = "anfr"
# progress: a message and the share of the work done (0 to 1, None when unknown)
Progress = Callable[[str, float | None], None]


def _sql(name: str) -> str:
    return statements("anfr_merge")[name]


def _keep_states(conn: Connection, table: str, territory: str) -> None:
    """The territory's stations and their service state, as `anfr_before` or `anfr_after`."""
    if table not in ("anfr_before", "anfr_after"):  # a fixed name, never input
        raise ValueError(table)
    conn.execute(text(f"DROP TABLE IF EXISTS pg_temp.{table}"))
    conn.execute(
        text(f"CREATE TEMP TABLE {table} ON COMMIT DROP AS {_sql('territory_stations')}"),
        {"t": territory},
    )


def _upsert(conn: Connection, name: str, params: dict[str, Any]) -> tuple[int, int]:
    """(created, modified) rows of an upsert."""
    created = [bool(r.created) for r in conn.execute(text(_sql(name)), params)]
    return sum(created), len(created) - sum(created)


def _relink_sites(conn: Connection, territory: str, journal_id: int, user: str) -> int:
    """Tie the New Deal sites to their nearest stations again, in the import's transaction."""
    from geo_service.analysis import mobile_links  # analysis reads the tables this fills

    return int(mobile_links.link_sites(conn, territory, import_id=journal_id, user=user))


def _check_dates(conn: Connection, path: Path, snapshot: date | None, territory: str) -> date:
    if snapshot is None:
        raise ImportRejectedError(
            f"{path.name} : date de l'export inconnue (ni --date ni date AAAAMMJJ dans le nom).",
            [problem(path.name, 0, None, None, "date de l'export inconnue")],
        )
    last = conn.execute(text(_sql("last_snapshot")), {"t": territory}).scalar_one_or_none()
    if last is not None and snapshot < last:
        raise ImportRejectedError(
            f"{path.name} : export du {snapshot:%d/%m/%Y} antérieur au dernier importé "
            f"({last:%d/%m/%Y}) ; importez les exports dans l'ordre.",
            [problem(path.name, 0, None, str(snapshot), "export antérieur au dernier importé")],
        )
    return snapshot


def import_anfr_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> journal.ImportResult:
    """Import inside the caller's transaction; raise ImportRejectedError (nothing written) when
    the export is refused."""
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    step: Progress = progress or (lambda _m, _f: None)
    territory_context(conn, territory)  # refuses a territory that is not loaded
    source: AnfrSource = locate(path)
    sha = source.sha256()
    snapshot = snapshot_date or source.named_date
    known = journal.previous_success(conn, KIND, sha, snapshot, territory=territory)
    if known is not None:
        return journal.already_imported(KIND, path, sha, known[0], snapshot)
    snapshot = _check_dates(conn, path, snapshot, territory)
    for statement in _sql("create_stage").split(";"):
        conn.execute(text(statement))
    extract: Extract = scan(conn, source, territory=territory, progress=step)
    problems = extract.problems
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    step("fusion et historique…", 0.9)
    journal_id = journal.open_entry(
        conn, kind=KIND, path=path, sha256=sha, snapshot=snapshot, user=user, territory=territory
    )
    params = {"t": territory, "j": journal_id}
    copy_rows(conn, "stage_anfr_support", extract.supports)
    copy_rows(conn, "stage_anfr_station", extract.stations)
    copy_rows(conn, "stage_anfr_link", extract.links)
    copy_rows(conn, "stage_anfr_emetteur", extract.emitters)
    _keep_states(conn, "anfr_before", territory)
    counts: dict[str, int] = dict(extract.counts)
    counts["supports_crees"], counts["supports_modifies"] = _upsert(conn, "upsert_supports", params)
    counts["stations_creees"], counts["stations_modifiees"] = _upsert(
        conn, "upsert_stations", params
    )
    conn.execute(text(_sql("insert_links")))
    counts["emetteurs_crees"], counts["emetteurs_modifies"] = _upsert(
        conn, "upsert_emitters", params
    )
    if problems:  # a partial export says nothing about what it does not list
        counts.update(emetteurs_retires=0, supports_retires=0, stations_retirees=0)
    else:
        counts["emetteurs_retires"] = max(conn.execute(text(_sql("gone_emitters"))).rowcount, 0)
        conn.execute(text(_sql("gone_links")), params)
        counts["supports_retires"] = max(
            conn.execute(text(_sql("gone_supports")), params).rowcount, 0
        )
        counts["stations_retirees"] = max(conn.execute(text(_sql("gone_stations"))).rowcount, 0)
    _keep_states(conn, "anfr_after", territory)
    history = {"d": snapshot, "u": user, "j": journal_id}
    counts["changements_service"] = max(
        conn.execute(text(_sql("record_history")), history).rowcount, 0
    )
    counts["sites_relies"] = _relink_sites(conn, territory, journal_id, user)
    conn.execute(text("ANALYZE anfr_support, anfr_station, anfr_station_support, anfr_emetteur"))
    status = "PARTIEL" if problems else "OK"
    counts["rejetees"] = len(problems)
    journal.close_entry(
        conn,
        journal_id,
        status=status,
        counts={**counts, "references": list(REFERENCE_TABLES)},
        problems=problems,
        duration_ms=watch.ms(),
    )
    return journal.ImportResult(
        kind=KIND,
        file_name=path.name,
        sha256=sha,
        status=status,
        journal_id=journal_id,
        snapshot_date=snapshot,
        counts=counts,
        problems=problems,
        duration_ms=watch.ms(),
        message=summary(path, snapshot, counts),
    )


def summary(path: Path, snapshot: date, counts: dict[str, int]) -> str:
    """The French summary the CLI prints."""
    n = {k: fmt_int(v) for k, v in counts.items()}
    return (
        f"{path.name} importé (export du {snapshot:%d/%m/%Y}) : {n['stations']} stations, "
        f"{n['supports']} supports, {n['emetteurs']} émetteurs dans le territoire "
        f"({n['stations_creees']} stations nouvelles, {n['stations_retirees']} retirées,"
        f" {n['changements_service']} changements de mise en service) ; laissés de côté hors"
        f" du territoire : {n['stations_hors_territoire']} stations, "
        f"{n['supports_hors_territoire']} supports, {n['emetteurs_hors_territoire']} émetteurs."
    )


def import_anfr(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> journal.ImportResult:
    """Import in one transaction; a refused export is journalled apart, the data untouched."""

    def tracked(message: str, share: float | None) -> None:
        if share is None or message.endswith("…"):  # a new step (not each line count)
            journal.report_progress(message)
        if progress is not None:
            progress(message, share)

    return journal.run_import(
        engine,
        KIND,
        path,
        lambda conn, who: import_anfr_conn(
            conn,
            path,
            territory=territory,
            user=who,
            snapshot_date=snapshot_date,
            skip_invalid=skip_invalid,
            progress=tracked,
        ),
        snapshot_date=snapshot_date,
        user=user,
        territory=territory,
    )


__all__ = [  # the published column lists live in anfr_reader; importable from here too
    "EMETTEUR_COLUMNS",
    "EXPLOITANT_COLUMNS",
    "NATURE_COLUMNS",
    "PROPRIETAIRE_COLUMNS",
    "STATION_COLUMNS",
    "SUPPORT_COLUMNS",
    "TABLES",
    "import_anfr",
    "import_anfr_conn",
    "summary",
]
