"""Import an operator's IPE snapshot: validate, stage with COPY, merge set-based, keep history."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import date_from_name, problem, territory_context
from geo_service.ingest.cube import refresh_cube
from geo_service.ingest.ipe_reader import IpeFile, read_ipe
from geo_service.sql import statements

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

STAGE_COLUMNS = [
    ("line", "int"),
    ("identifiant_immeuble", "text"),
    ("code_adresse", "text"),
    ("insee", "text"),
    ("code_postal", "text"),
    ("commune", "text"),
    ("numero", "text"),
    ("complement", "text"),
    ("type_voie", "text"),
    ("nom_voie", "text"),
    ("batiment", "text"),
    ("x", "float8"),
    ("y", "float8"),
    ("logements", "int"),
    ("locaux_pro", "int"),
    ("etat", "text"),
    ("reference_pm", "text"),
    ("etat_pm", "text"),
    ("date_signature", "date"),
    ("date_installation_pm", "date"),
    ("type_pbo", "text"),
    ("type_racco", "text"),
    ("raccordement_long", "boolean"),
    ("code_oi", "text"),
    ("date_mes_commerciale", "date"),
]


def _stage(conn: Connection, rows: pd.DataFrame) -> None:
    """COPY the validated rows into a temporary staging table."""
    columns = ", ".join(f"{name} {kind}" for name, kind in STAGE_COLUMNS)
    # Several imports may share one transaction (batch, tests): start from clean temp tables.
    conn.execute(
        text("DROP TABLE IF EXISTS stage_ipe, changed_premise, stage_pm, changed_pm, gone_premise")
    )
    conn.execute(text(f"CREATE TEMP TABLE stage_ipe ({columns}) ON COMMIT DROP"))
    frame = rows[[name for name, _ in STAGE_COLUMNS]].copy()
    for name, kind in STAGE_COLUMNS:
        if kind == "date":  # vectorised: python date objects make to_csv slow
            frame[name] = pd.to_datetime(frame[name]).dt.strftime("%Y-%m-%d")
    frame["raccordement_long"] = frame["raccordement_long"].map(
        lambda v: (
            None
            if v is None or v == "" or pd.isna(v)
            else str(v).upper() in {"O", "OUI", "1", "TRUE", "T"}
        )
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="\\N", sep="\t", date_format="%Y-%m-%d")
    raw = conn.connection.driver_connection
    with raw.cursor().copy(  # type: ignore[union-attr]
        "COPY stage_ipe FROM STDIN (FORMAT csv, DELIMITER E'\\t', NULL '\\N')"
    ) as copy:  # type: ignore[union-attr]
        copy.write(buffer.getvalue())
    conn.execute(text("CREATE INDEX ON stage_ipe (identifiant_immeuble)"))
    conn.execute(text("ANALYZE stage_ipe"))


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


def _last_snapshot(conn: Connection, operators: list[str]) -> date | None:
    return conn.execute(
        text(
            "SELECT max(j.snapshot_date) FROM import_journal j WHERE j.kind = 'ipe' "
            "AND j.status IN ('OK', 'PARTIEL') AND j.counts->'operateurs' ?| :ois"
        ),
        {"ois": operators},
    ).scalar_one_or_none()


def _run(conn: Connection, name: str, params: dict[str, object]) -> int:
    total = 0
    for sql in statements(name).values():
        total += max(conn.execute(text(sql), params).rowcount, 0)
    return total


def import_ipe_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    snapshot_date: date | None = None,
    user: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    parsed: IpeFile | None = None,
) -> journal.ImportResult:
    """Import inside the caller's transaction; raise ImportRejectedError (nothing written) when
    the file is refused."""
    step = progress or (lambda _msg: None)
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    insee, bounds = territory_context(conn, territory)
    if path.is_file():  # the same file for the same date: recognised before any parsing
        sha, named = journal.file_sha256(path), snapshot_date or date_from_name(path.name)
        known = journal.previous_success(conn, "ipe", sha, named)
        if known is not None:
            return journal.already_imported("ipe", path, sha, known[0], named)
    step("lecture et contrôle du fichier")
    ipe = parsed or read_ipe(path, known_insee=insee, territory_bounds_2154=bounds)  # type: ignore[arg-type]
    snapshot = snapshot_date or ipe.snapshot_date
    if snapshot is None:
        raise ImportRejectedError(
            f"{path.name} : date de l'instantané inconnue (ni --date ni date AAAAMMJJ dans le nom du fichier).",
            [
                {
                    "file": path.name,
                    "line": 0,
                    "column": None,
                    "value": None,
                    "reason": "date de l'instantané inconnue",
                }
            ],
        )
    earlier = journal.previous_success(conn, "ipe", ipe.sha256, snapshot)
    if earlier is not None:
        return journal.already_imported("ipe", path, ipe.sha256, earlier[0], snapshot)
    problems = [p.as_dict() for p in ipe.problems]
    step("chargement en table de transit (COPY)")
    _stage(conn, ipe.rows)
    problems += _unknown_pm_problems(conn, path.name)
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
    operators = sorted({str(v) for v in ipe.rows["code_oi"].dropna().unique()}) or ["?"]
    last = _last_snapshot(conn, operators)
    if last is not None and snapshot < last:
        raise ImportRejectedError(
            f"{path.name} : instantané du {snapshot:%d/%m/%Y} antérieur au dernier importé "
            f"({last:%d/%m/%Y}) pour {', '.join(operators)} ; importez les fichiers dans l'ordre.",
            [
                {
                    "file": path.name,
                    "line": 0,
                    "column": None,
                    "value": str(snapshot),
                    "reason": "instantané antérieur au dernier importé",
                }
            ],
        )
    newest_pm = conn.execute(
        text(
            "SELECT max(h.valid_from) FROM pm_history h JOIN (SELECT DISTINCT reference_pm "
            "FROM stage_ipe) s ON s.reference_pm = h.pm_reference"
        )
    ).scalar_one_or_none()
    if newest_pm is not None and snapshot < newest_pm:
        raise ImportRejectedError(
            f"{path.name} : instantané du {snapshot:%d/%m/%Y} antérieur à l'historique des PM "
            f"(dernier changement le {newest_pm:%d/%m/%Y}) ; importez les fichiers dans l'ordre.",
            [problem(path.name, 0, None, str(snapshot), "instantané antérieur à l'historique")],
        )
    journal_id = journal.open_entry(
        conn, kind="ipe", path=path, sha256=ipe.sha256, snapshot=snapshot, user=user
    )
    params: dict[str, object] = {"d": snapshot, "j": journal_id, "u": user, "ois": operators}
    step("fusion et historique")
    merge = statements("ipe_merge")
    counts: dict[str, object] = {
        "lignes": ipe.line_count,
        "valides": len(ipe.rows),
        "rejetees": len(problems),
    }
    counts["immeubles_nouveaux"] = max(
        conn.execute(text(merge["insert_new_premises"]), params).rowcount, 0
    )
    counts["immeubles_modifies"] = max(
        conn.execute(text(merge["update_changed_premises"]), params).rowcount, 0
    )
    for key in ("changed_premises", "drop_same_day_periods", "close_periods"):
        conn.execute(text(merge[key]), params)
    counts["changements_etat"] = max(conn.execute(text(merge["open_periods"]), params).rowcount, 0)
    for key in (
        "stage_pm",
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
        removed = statements("ipe_removed")
        conn.execute(text(removed["gone"]), params)
        counts["retires"] = max(conn.execute(text(removed["mark_removed"]), params).rowcount, 0)
        conn.execute(text(removed["drop_same_day_periods"]), params)
        conn.execute(text(removed["close_and_record"]), params)
    refresh_cube(conn, snapshot)
    counts["operateurs"] = operators  # type: ignore[assignment]
    status = "PARTIEL" if problems else "OK"
    journal.close_entry(
        conn,
        journal_id,
        status=status,
        counts=counts,
        problems=problems,
        duration_ms=watch.ms(),  # type: ignore[arg-type]
    )
    conn.execute(text("ANALYZE premise; ANALYZE premise_history"))
    return journal.ImportResult(
        kind="ipe",
        file_name=path.name,
        sha256=ipe.sha256,
        status=status,
        journal_id=journal_id,
        snapshot_date=snapshot,
        counts={k: v for k, v in counts.items() if isinstance(v, int)},
        problems=problems,
        duration_ms=watch.ms(),
        message=f"{path.name} importé ({snapshot:%d/%m/%Y}) : {counts['valides']} immeubles, "
        f"{counts['changements_etat']} changements d'état, {counts['retires']} retirés.",
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
    return journal.run_import(
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
            progress=progress,
        ),
        snapshot_date=snapshot_date,
        user=user,
    )
