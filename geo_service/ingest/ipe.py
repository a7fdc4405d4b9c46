"""Import an operator's IPE snapshot: validate, stage with COPY, merge set-based, keep history."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from geo_service.db.bulk import deferred_indexes, settle
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import (
    date_from_name,
    problem,
    territory_bounds,
    territory_insee,
)
from geo_service.ingest.cube import analyze_cube, refresh_cube
from geo_service.ingest.ipe_reader import read_ipe
from geo_service.ingest.ipe_stage import stage_fast, stage_rows
from geo_service.ingest.streets import refresh_streets
from geo_service.reference.territory_config import member_departements
from geo_service.sql import statements

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
# a snapshot that at least doubles the premises (a first load) builds the indexes after the rows
BULK_MIN_ROWS = 10_000
# temporary tables have no statistics: the planner takes a small one for a big one and scans the
# history instead of looking its rows up; below this size they are analysed (a millisecond)
SMALL_ROWS = 1_000


@dataclass
class _Staged:
    sha256: str
    snapshot_date: date | None
    line_count: int  # data lines read (valid or not)
    valid_count: int
    operators: list[str]
    problems: list[dict[str, object]] = field(default_factory=list)
    fingerprinted: bool = False  # the fast way (ipe_line: the changed lines, the others counted)


def _stage(conn: Connection, path: Path, *, territory: str, bounds: tuple[float, ...]) -> _Staged:
    """Fill `stage_ipe`: the fast way for a clean file, else the reader (and its report)."""
    box = (bounds[0], bounds[1], bounds[2], bounds[3])
    # the staging joins the whole snapshot with every premise: keep its hash table in memory
    # (at 64 MB, 2.5 M premises were hashed in 4 batches written to disk: 7.1 s, 5.0 s in one)
    conn.execute(text("SET LOCAL work_mem = '256MB'"))
    # no JIT compilation: the staging's plan looks costly enough for it, and compiling its
    # expressions took longer than it saved (at 10 % of France: 1.1 s to compile, the staging
    # 10.2–10.9 s with it, 7.3–8.0 s without; nothing else in the import gained from it)
    conn.execute(text("SET LOCAL jit = off"))
    # reported done once on disk, whatever the server's setting: the VACUUM that follows a bulk
    # load (db.bulk.settle) can only mark pages all-visible once their commit is flushed
    conn.execute(text("SET LOCAL synchronous_commit = on"))
    # the merge looks up the few changed rows by key: on cached or solid-state pages a random
    # read costs about a sequential one (at the default 4 the planner hashed the whole premise
    # table to update 4 % of it)
    conn.execute(text("SET LOCAL random_page_cost = 1.1"))
    fast = stage_fast(conn, path, territory=territory, bounds=box)
    if fast is not None:
        n = fast.line_count
        return _Staged(fast.sha256, fast.snapshot_date, n, n, fast.operators, fingerprinted=True)
    insee = territory_insee(conn, territory)  # (the fast way checks them in SQL)
    ipe = read_ipe(path, known_insee=insee, territory_bounds_2154=box)
    stage_rows(conn, ipe.rows)
    problems = [p.as_dict() for p in ipe.problems] + _unknown_pm_problems(conn, path.name)
    operators = sorted({str(v) for v in ipe.rows["code_oi"].dropna().unique()}) or ["?"]
    return _Staged(
        ipe.sha256, ipe.snapshot_date, ipe.line_count, len(ipe.rows), operators, problems
    )


def _merge_premises(conn: Connection, params: dict[str, object]) -> dict[str, int]:
    """New and changed premises, and a history period for each change of state."""
    merge = statements("ipe_merge")

    def run(key: str) -> int:
        return max(conn.execute(text(merge[key]), params).rowcount, 0)

    modified = run("update_changed_premises")  # before the insert: new rows need no compare
    counts = {"immeubles_nouveaux": run("insert_new_premises"), "immeubles_modifies": modified}
    if run("changed_premises") < SMALL_ROWS:  # the usual few rows: index lookups below
        conn.execute(text("ANALYZE changed_premise"))
    for key in ("drop_same_day_periods", "close_periods"):
        run(key)
    counts["changements_etat"] = run("open_periods")
    return counts


def _unknown_pm_problems(conn: Connection, file_name: str) -> list[dict[str, object]]:
    rows = conn.execute(
        text(
            "SELECT s.line, s.reference_pm FROM stage_ipe s LEFT JOIN pm ON pm.reference = s.reference_pm "
            "WHERE s.reference_pm IS NOT NULL AND pm.reference IS NULL ORDER BY s.line"
        )
    ).all()
    return [
        {
            "file": file_name,
            "line": r.line,
            "column": "ReferencePM",
            "value": r.reference_pm,
            "reason": "référence PM inconnue (importez d'abord les zones GraceTHD)",
        }
        for r in rows
    ]


def _last_snapshot(
    conn: Connection, operators: list[str], territory: str, deps: list[str] | None
) -> date | None:
    """The newest snapshot of these operators imported into this territory (in a territory of
    several départements: into one of the départements `deps` the file covers, since operators
    deliver each département's history on its own)."""
    return conn.execute(
        text(
            "SELECT max(j.snapshot_date) FROM import_journal j WHERE j.kind = 'ipe' "
            "AND j.status IN ('OK', 'PARTIEL') AND j.counts->'operateurs' ?| :ois "
            "AND (CAST(:deps AS text[]) IS NULL OR NOT j.counts ? 'departements' "
            "     OR j.counts->'departements' ?| CAST(:deps AS text[])) "
            f"AND {journal.TERRITORY_MATCH}"
        ),
        {"ois": operators, "t": territory, "deps": deps},
    ).scalar_one_or_none()


def import_ipe_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    snapshot_date: date | None = None,
    user: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> journal.ImportResult:
    """Import inside the caller's transaction; raise ImportRejectedError (nothing written) when
    the file is refused."""
    step = progress or (lambda _msg: None)
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    bounds = territory_bounds(conn, territory)
    if path.is_file():  # the same file for the same date: recognised before any parsing
        sha, named = journal.file_sha256(path), snapshot_date or date_from_name(path.name)
        known = journal.previous_success(conn, "ipe", sha, named, territory=territory)
        if known is not None:
            return journal.already_imported("ipe", path, sha, known[0], named)
    step("lecture et contrôle du fichier")
    staged = _stage(conn, path, territory=territory, bounds=bounds)
    snapshot = snapshot_date or staged.snapshot_date
    if snapshot is None:
        raise ImportRejectedError(
            f"{path.name} : date de l'instantané inconnue (ni --date ni date AAAAMMJJ dans le nom du fichier).",
            [problem(path.name, 0, None, None, "date de l'instantané inconnue")],
        )
    earlier = journal.previous_success(conn, "ipe", staged.sha256, snapshot, territory=territory)
    if earlier is not None:
        return journal.already_imported("ipe", path, staged.sha256, earlier[0], snapshot)
    problems = staged.problems
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    if problems:
        conn.execute(
            text(
                "DELETE FROM stage_ipe s WHERE s.reference_pm IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM pm WHERE pm.reference = s.reference_pm)"
            )
        )
    if not staged.fingerprinted:
        conn.execute(text(statements("ipe_stage")["from_reader"]))
        conn.execute(text(statements("ipe_stage")["from_reader_lines"]), {"t": territory})
    operators = staged.operators
    removed = statements("ipe_removed")
    deps: list[str] | None = None  # the départements the file covers, in a territory of several
    if len(member_departements(conn, territory)) > 1:
        found = conn.execute(text(removed["file_departements"]), {"t": territory}).scalars()
        deps = sorted(found)
    last = _last_snapshot(conn, operators, territory, deps)
    if last is not None and snapshot < last:
        raise ImportRejectedError(
            f"{path.name} : instantané du {snapshot:%d/%m/%Y} antérieur au dernier importé "
            f"({last:%d/%m/%Y}) pour {', '.join(operators)} ; importez les fichiers dans l'ordre.",
            [problem(path.name, 0, None, str(snapshot), "instantané antérieur au dernier importé")],
        )
    merge = statements("ipe_merge")
    conn.execute(text(merge["stage_pm"]))  # the PMs of the file, their state and date
    # "files in date order" holds per source: only the IPE's own PM history counts here; a
    # GraceTHD delivery dated later does not make an older snapshot unloadable (see later_pm)
    newest_pm = conn.execute(
        text(
            "SELECT max(h.valid_from) FROM pm_history h "
            "JOIN stage_pm s ON s.reference = h.pm_reference "
            "JOIN import_journal j ON j.id = h.import_id AND j.kind = 'ipe'"
        )
    ).scalar_one_or_none()
    if newest_pm is not None and snapshot < newest_pm:
        raise ImportRejectedError(
            f"{path.name} : instantané du {snapshot:%d/%m/%Y} antérieur à l'historique des PM "
            f"(dernier changement le {newest_pm:%d/%m/%Y}) ; importez les fichiers dans l'ordre.",
            [problem(path.name, 0, None, str(snapshot), "instantané antérieur à l'historique")],
        )
    journal_id = journal.open_entry(
        conn,
        kind="ipe",
        path=path,
        sha256=staged.sha256,
        snapshot=snapshot,
        user=user,
        territory=territory,
    )
    params: dict[str, object] = {
        "d": snapshot,
        "j": journal_id,
        "u": user,
        "ois": operators,
        "t": territory,
        "deps": deps,
    }
    step("fusion et historique")
    counts: dict[str, object] = {
        "lignes": staged.line_count,
        "valides": staged.valid_count,
        "rejetees": len(problems),
    }
    # a first load (the new premises at least double the table): indexes built after the rows
    new = conn.execute(text("SELECT count(*) FROM stage_ipe WHERE premise_id IS NULL")).scalar_one()
    bulk = (
        new >= BULK_MIN_ROWS
        and new >= conn.execute(text("SELECT count(*) FROM premise")).scalar_one()
    )
    with deferred_indexes(conn, ["premise", "premise_history"]) if bulk else nullcontext():
        counts.update(_merge_premises(conn, params))
    step("états des PM et immeubles retirés")
    for key in (
        "later_pm",  # PMs whose history (from another source) already goes past the snapshot:
        "unstage_later_pm",  # their state is set into the past, before that later period
        "unchanged_later_pm",
        "drop_same_day_later_pm_periods",
        "close_covering_pm_periods",
        "insert_earlier_pm_periods",
        "update_pm",
        "changed_pm",
        "drop_same_day_pm_periods",
        "close_pm_periods",
    ):
        conn.execute(text(merge[key]), params)
    counts["changements_pm"] = max(conn.execute(text(merge["open_pm_periods"]), params).rowcount, 0)
    if problems:
        counts["retires"] = 0  # a partial file says nothing about absent premises
    else:
        if conn.execute(text(removed["gone"]), params).rowcount < SMALL_ROWS:
            conn.execute(text("ANALYZE gone_premise"))
        counts["retires"] = max(conn.execute(text(removed["mark_removed"]), params).rowcount, 0)
        conn.execute(text(removed["drop_same_day_periods"]), params)
        conn.execute(text(removed["close_and_record"]), params)
    step("agrégats par date et voies")
    refresh_cube(conn, snapshot, territory)
    refresh_streets(conn, staged=True, bulk=bulk)  # new streets come with the staged lines
    counts["operateurs"] = operators  # type: ignore[assignment]
    if deps is not None:
        counts["departements"] = deps
    status = "PARTIEL" if problems else "OK"
    journal.close_entry(
        conn,
        journal_id,
        status=status,
        counts=counts,
        problems=problems,
        duration_ms=watch.ms(),  # type: ignore[arg-type]
    )
    if bulk:  # the tables at least doubled: first statistics for the next queries (a coarse
        # sample is enough for plans; autovacuum refines them as the tables keep changing)
        conn.execute(text("SET LOCAL default_statistics_target = 30"))
        conn.execute(text("ANALYZE premise, premise_history"))
    return journal.ImportResult(
        kind="ipe",
        file_name=path.name,
        sha256=staged.sha256,
        status=status,
        journal_id=journal_id,
        snapshot_date=snapshot,
        counts={k: v for k, v in counts.items() if isinstance(v, int)},
        problems=problems,
        duration_ms=watch.ms(),
        message=f"{path.name} importé ({snapshot:%d/%m/%Y}) : {counts['valides']} immeubles, "
        f"{counts['changements_etat']} changements d'état, {counts['retires']} retirés.",
        bulk=bulk,
    )


def import_ipe(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    snapshot_date: date | None = None,
    user: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> journal.ImportResult:
    """Import in one transaction; a refused file is journalled apart and leaves the data as it was."""
    result = journal.run_import(
        engine,
        "ipe",
        path,
        lambda conn, who: import_ipe_conn(
            conn,
            path,
            territory=territory,
            snapshot_date=snapshot_date,
            user=who,
            skip_invalid=skip_invalid,
            progress=journal.tracked(progress),  # the journal's marker shows the step
        ),
        snapshot_date=snapshot_date,
        user=user,
        territory=territory,
    )
    if result.status in ("OK", "PARTIEL"):
        analyze_cube(engine)
        if result.bulk:
            settle(engine, ["premise", "premise_history"])
    return result
