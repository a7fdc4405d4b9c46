"""Import ARCEP's building-level "Carte fibre" file (quarterly) for one territory.

The file is streamed (arcep_reader): only the territory's lines are decoded and checked, then
COPYed into a temporary table, checked against the territory's communes in SQL, and merged into
`arcep_immeuble` for the quarter the file describes: a new file for a quarter already loaded
replaces that quarter's rows (each building that changes is recorded in asset_change); other
quarters are kept. One transaction (journal.run_import): a refused file changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from geo_service.db.changes import log_change
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.arcep_reader import Building, BytesProgress, scan_file
from geo_service.ingest.arcep_source import dated_names, quarter_date
from geo_service.ingest.common import problem, territory_context
from geo_service.ingest.csv_source import fmt_int

log = logging.getLogger(__name__)
KIND = "arcep-immeubles"
# a building's point may lie this far outside its territory's communes (geocoding at borders)
TOLERANCE_M = 1000.0
Progress = Callable[[str], None]

_STAGE_COLUMNS = (
    "line int, imb_id text, imb_etat text, pm_ref text, pm_etat text, code_insee text,"
    " adresse text, type_imb text, lon float8, lat float8"
)
_STAGE = """
CREATE TEMP TABLE stage_arcep ON COMMIT DROP AS
SELECT r.*, ST_Transform(ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326), 2154) AS geom
FROM stage_arcep_raw r
"""
# the kept buildings whose point is not within TOLERANCE_M of one of the territory's communes
_OUTSIDE = """
SELECT s.line, s.lon, s.lat FROM stage_arcep s
WHERE NOT EXISTS (SELECT 1 FROM commune c WHERE c.territory_code = :t
                  AND ST_DWithin(c.geom, s.geom, :tol))
ORDER BY s.line
"""
_QUARTER = "a.territory_code = :t AND a.date_etat = :d"
_DIFFERS = (
    "((a.imb_etat, a.pm_ref, a.pm_etat, a.code_insee, a.adresse, a.type_imb)"
    " IS DISTINCT FROM (n.imb_etat, n.pm_ref, n.pm_etat, n.code_insee, n.adresse, n.type_imb)"
    " OR ST_Distance(a.geom, n.geom) > 0.01)"
)


def _json(alias: str) -> str:
    return (
        f"jsonb_build_object('imb_etat', {alias}.imb_etat, 'pm_ref', {alias}.pm_ref,"
        f" 'pm_etat', {alias}.pm_etat, 'code_insee', {alias}.code_insee,"
        f" 'adresse', {alias}.adresse, 'type_imb', {alias}.type_imb,"
        f" 'x', round(ST_X({alias}.geom)::numeric, 2), 'y', round(ST_Y({alias}.geom)::numeric, 2))"
    )


# each building of a quarter already loaded that the new file adds, changes or (whole file
# only) retires: one asset_change row, before/after as JSON
_HISTORY = f"""
INSERT INTO asset_change (table_name, object_key, valid_from, changed_by, import_id, before, after)
SELECT 'arcep_immeuble', COALESCE(n.imb_id, a.imb_id), :d, :u, :j,
       CASE WHEN a.id IS NULL THEN NULL ELSE {_json("a")} END,
       CASE WHEN n.imb_id IS NULL THEN jsonb_build_object('retire', true) ELSE {_json("n")} END
FROM (SELECT * FROM arcep_immeuble a WHERE {_QUARTER}) a
FULL JOIN stage_arcep n ON n.imb_id = a.imb_id
WHERE (a.id IS NULL OR n.imb_id IS NULL OR {_DIFFERS})
  AND (n.imb_id IS NOT NULL OR NOT :partial)
"""
_RETIRE = f"""
DELETE FROM arcep_immeuble a WHERE {_QUARTER}
AND NOT EXISTS (SELECT 1 FROM stage_arcep n WHERE n.imb_id = a.imb_id)
"""
_UPDATE = f"""
UPDATE arcep_immeuble a SET imb_etat = n.imb_etat, pm_ref = n.pm_ref, pm_etat = n.pm_etat,
    code_insee = n.code_insee, adresse = n.adresse, type_imb = n.type_imb, geom = n.geom,
    import_id = :j
FROM stage_arcep n WHERE {_QUARTER} AND n.imb_id = a.imb_id AND {_DIFFERS}
"""
# new buildings (those of the quarter were updated just above): the unique constraint skips
# them, where NOT EXISTS on the table being filled would rescan its new rows for each one
_INSERT = """
INSERT INTO arcep_immeuble (territory_code, date_etat, imb_id, imb_etat, pm_ref, pm_etat,
    code_insee, adresse, type_imb, import_id, geom)
SELECT CAST(:t AS text), CAST(:d AS date), n.imb_id, n.imb_etat, n.pm_ref, n.pm_etat,
    n.code_insee, n.adresse, n.type_imb, :j, n.geom
FROM stage_arcep n
ON CONFLICT ON CONSTRAINT immeuble DO NOTHING
"""


def state_date(path: Path, snapshot_date: date | None) -> date:
    """The date of the state the file describes: --date, else the end of the quarter named in
    the CSV's name or the file's (T1 → 31 March … T4 → 31 December); else refused. The
    AAAAMMJJ at the end of the published name is the extraction day, not the state's."""
    if snapshot_date is not None:
        return snapshot_date
    try:
        names = dated_names(path)
    except ImportRejectedError:
        names = [path.name]
    for name in names:
        found = quarter_date(name)
        if found is not None:
            return found
    reason = (
        "date de l'état inconnue : ni --date ni trimestre (AAAA_Tn) dans le nom du fichier "
        "(ex. carte_fibre_immeubles_2024_T2_20240912.csv) ; relancez avec --date AAAA-MM-JJ"
    )
    raise ImportRejectedError(
        f"{path.name} : {reason}.", [problem(path.name, 0, None, None, reason)]
    )


def _stage(conn: Connection, buildings: list[Building]) -> None:
    conn.execute(text("DROP TABLE IF EXISTS stage_arcep_raw, stage_arcep"))
    conn.execute(text(f"CREATE TEMP TABLE stage_arcep_raw ({_STAGE_COLUMNS}) ON COMMIT DROP"))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy("COPY stage_arcep_raw FROM STDIN") as copy:
        for b in buildings:
            copy.write_row(
                (
                    b.line,
                    b.imb_id,
                    b.imb_etat,
                    b.pm_ref,
                    b.pm_etat,
                    b.code_insee,
                    b.adresse,
                    b.type_imb,
                    b.lon,
                    b.lat,
                )
            )
    conn.execute(text(_STAGE))
    conn.execute(text("DROP TABLE stage_arcep_raw"))
    conn.execute(text("CREATE UNIQUE INDEX ON stage_arcep (imb_id)"))
    conn.execute(text("ANALYZE stage_arcep"))


def _outside(conn: Connection, file: str, territory: str) -> list[dict[str, object]]:
    rows = conn.execute(text(_OUTSIDE), {"t": territory, "tol": TOLERANCE_M}).all()
    reason = (
        f"point hors du territoire (à plus de {fmt_int(int(TOLERANCE_M))} m de ses communes ; "
        "x = longitude, y = latitude en WGS84)"
    )
    return [problem(file, r.line, "x", f"x={r.lon} y={r.lat}", reason) for r in rows]


def _merge(
    conn: Connection, params: dict[str, object], *, partial: bool
) -> tuple[dict[str, int], int]:
    """Replace the quarter's rows by the file's; counts, and the rows the quarter had before."""
    before = conn.execute(
        text(f"SELECT count(*) FROM arcep_immeuble a WHERE {_QUARTER}"), params
    ).scalar_one()
    if before:
        conn.execute(text(_HISTORY), {**params, "partial": partial})

    def run(sql: str) -> int:
        return max(conn.execute(text(sql), params).rowcount, 0)

    retired = 0 if partial else run(_RETIRE)  # a partial file says nothing about the others
    counts = {"modifies": run(_UPDATE), "nouveaux": run(_INSERT), "retires": retired}
    return counts, int(before)


def import_arcep_immeubles_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    snapshot_date: date | None = None,
    user: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    on_bytes: BytesProgress | None = None,
) -> journal.ImportResult:
    """Import inside the caller's transaction; ImportRejectedError (nothing written) when the
    file is refused."""
    step = progress or (lambda _m: None)
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    insee, _bounds = territory_context(conn, territory)
    day = state_date(path, snapshot_date)
    step("lecture du fichier et tri des immeubles du territoire")
    # the checksum is computed by a second thread while the file is scanned (hashlib works
    # without the GIL): one pass less over a national file; the scan writes nothing
    with ThreadPoolExecutor(1) as pool:
        digest = pool.submit(journal.file_sha256, path)
        scan = scan_file(path, insee, on_bytes)
        sha = digest.result()
    known = journal.previous_success(conn, KIND, sha, day, territory=territory)
    if known is not None:
        return journal.already_imported(KIND, path, sha, known[0], day)
    if scan.kept == 0:
        reason = f"aucun immeuble des communes du territoire {territory} dans le fichier"
        raise ImportRejectedError(
            f"{scan.file} : {reason} ({fmt_int(scan.lines)} lignes lues).",
            [problem(scan.file, 0, "code_insee", None, reason)],
        )
    step("table de travail (COPY) et contrôle des positions")
    _stage(conn, scan.buildings)
    outside = _outside(conn, scan.file, territory)
    problems = sorted(scan.problems + outside, key=lambda p: (p["line"], p["column"] or ""))
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{scan.file} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    if outside:
        conn.execute(
            text("DELETE FROM stage_arcep WHERE line = ANY(:lines)"),
            {"lines": [p["line"] for p in outside]},
        )
    journal_id = journal.open_entry(
        conn, kind=KIND, path=path, sha256=sha, snapshot=day, user=user, territory=territory
    )
    params: dict[str, object] = {"t": territory, "d": day, "j": journal_id, "u": user}
    step("remplacement du trimestre et historique")
    merged, before = _merge(conn, params, partial=bool(problems))
    valid = len(scan.buildings) - len(outside)
    counts = {
        "lignes": scan.lines,
        "lignes_territoire": scan.kept,
        "valides": valid,
        "rejetees": len(problems),
        **merged,
        "inchanges": valid - merged["modifies"] - merged["nouveaux"],
    }
    log_change(
        conn,
        table="arcep_immeuble",
        key=f"{territory}/{day.isoformat()}",
        user=user,
        before={"immeubles": before} if before else None,
        after={"immeubles": before + merged["nouveaux"] - merged["retires"], **merged},
        valid_from=day,
        import_id=journal_id,
    )
    status = "PARTIEL" if problems else "OK"
    journal.close_entry(
        conn,
        journal_id,
        status=status,
        counts={**counts, "encodage": scan.encoding},
        problems=problems,
        duration_ms=watch.ms(),
    )
    conn.execute(text("ANALYZE arcep_immeuble"))
    return journal.ImportResult(
        kind=KIND,
        file_name=path.name,
        sha256=sha,
        status=status,
        journal_id=journal_id,
        snapshot_date=day,
        counts=counts,
        problems=problems,
        duration_ms=watch.ms(),
        message=(
            f"{path.name} importé (état ARCEP au {day:%d/%m/%Y}) : {fmt_int(scan.lines)} lignes "
            f"lues, {fmt_int(valid)} immeubles du territoire ({fmt_int(merged['nouveaux'])} "
            f"nouveaux, {fmt_int(merged['modifies'])} modifiés, {fmt_int(merged['retires'])} "
            f"retirés), {len(problems)} rejetés."
        ),
    )


def import_arcep_immeubles(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    snapshot_date: date | None = None,
    user: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    on_bytes: BytesProgress | None = None,
) -> journal.ImportResult:
    """One transaction; a refused file is journalled apart and leaves the data as it was."""
    return journal.run_import(
        engine,
        KIND,
        path,
        lambda conn, who: import_arcep_immeubles_conn(
            conn,
            path,
            territory=territory,
            snapshot_date=snapshot_date,
            user=who,
            skip_invalid=skip_invalid,
            progress=journal.tracked(progress),
            on_bytes=on_bytes,
        ),
        snapshot_date=snapshot_date or _quiet_date(path),
        user=user,
        territory=territory,
    )


def _quiet_date(path: Path) -> date | None:
    """The quarter for the journal's marker, None when unknown (the import then refuses)."""
    try:
        return state_date(path, None)
    except ImportRejectedError:
        return None
