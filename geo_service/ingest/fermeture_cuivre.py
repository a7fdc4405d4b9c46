"""Import the copper switch-off calendar by building (ARCEP "Ma connexion internet"
`base_imb_fc_<DEP>.csv.gz`: `immeuble_id;num_lot_fz;fermeture_technique;fermeture_com_zone;
fermeture_com_addr;elig_fo;annee_ft`). Single source and unverified layout: the separator, the
encoding and the date format are detected over the whole file, and refused clearly when they
cannot be told apart. The file replaces the territory's calendar; each changed building is
written to asset_change (table `fermeture_cuivre`) with the import's id."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import date_from_name, problem, territory_context
from geo_service.ingest.csv_source import read_delimited, reject, unpack
from geo_service.ingest.date_formats import DATE_FORMATS, detect_formats, parse_column

KIND = "fermeture-cuivre"
REQUIRED = (
    *("immeuble_id", "num_lot_fz", "fermeture_technique", "fermeture_com_zone"),
    *("fermeture_com_addr", "elig_fo", "annee_ft"),
)
DATE_COLUMNS = ("fermeture_technique", "fermeture_com_zone", "fermeture_com_addr")
INSEE_COLUMNS = ("code_insee", "imb_code_insee", "insee")  # read when a version carries one
_INSEE_IN_ID = re.compile(r"^IMB/(\d[0-9AB]\d{3})/", re.IGNORECASE)

_STAGE = """
CREATE TEMP TABLE stage_fc (
    immeuble_id text, num_lot_fz text, fermeture_technique date, fermeture_com_zone date,
    fermeture_com_addr date, elig_fo text, annee_ft integer, code_insee text
) ON COMMIT DROP
"""
_FIELDS = (
    "num_lot_fz, fermeture_technique, fermeture_com_zone, fermeture_com_addr, elig_fo, "
    "annee_ft, code_insee"
)
_HISTORY = f"""
WITH old AS (
    SELECT immeuble_id, {_FIELDS} FROM fermeture_cuivre WHERE territory_code = :t
),
diff AS (
    SELECT coalesce(n.immeuble_id, o.immeuble_id) AS id,
           CASE WHEN o.immeuble_id IS NULL THEN NULL ELSE to_jsonb(o) - 'immeuble_id' END AS before,
           CASE WHEN n.immeuble_id IS NULL THEN NULL ELSE to_jsonb(n) - 'immeuble_id' END AS after
    FROM old o FULL JOIN stage_fc n ON n.immeuble_id = o.immeuble_id
    WHERE o.immeuble_id IS NULL OR n.immeuble_id IS NULL OR to_jsonb(o) <> to_jsonb(n)
),
logged AS (
    INSERT INTO asset_change (table_name, object_key, valid_from, changed_by, import_id,
                              before, after)
    SELECT 'fermeture_cuivre', id, :d, :u, :j, before, after FROM diff ORDER BY id
    RETURNING before IS NULL AS created, after IS NULL AS removed
)
SELECT count(*) FILTER (WHERE created) AS crees,
       count(*) FILTER (WHERE removed) AS retires,
       count(*) FILTER (WHERE NOT created AND NOT removed) AS modifies
FROM logged
"""
_REMOVE = """
DELETE FROM fermeture_cuivre f
WHERE f.territory_code = :t
  AND NOT EXISTS (SELECT 1 FROM stage_fc s WHERE s.immeuble_id = f.immeuble_id)
"""
_UPSERT = f"""
INSERT INTO fermeture_cuivre (territory_code, immeuble_id, {_FIELDS}, import_id)
SELECT :t, immeuble_id, {_FIELDS}, :j FROM stage_fc ORDER BY immeuble_id
ON CONFLICT (territory_code, immeuble_id) DO UPDATE SET
    num_lot_fz = EXCLUDED.num_lot_fz, fermeture_technique = EXCLUDED.fermeture_technique,
    fermeture_com_zone = EXCLUDED.fermeture_com_zone,
    fermeture_com_addr = EXCLUDED.fermeture_com_addr, elig_fo = EXCLUDED.elig_fo,
    annee_ft = EXCLUDED.annee_ft, code_insee = EXCLUDED.code_insee,
    import_id = EXCLUDED.import_id
WHERE (fermeture_cuivre.num_lot_fz, fermeture_cuivre.fermeture_technique,
       fermeture_cuivre.fermeture_com_zone, fermeture_cuivre.fermeture_com_addr,
       fermeture_cuivre.elig_fo, fermeture_cuivre.annee_ft, fermeture_cuivre.code_insee)
      IS DISTINCT FROM (EXCLUDED.num_lot_fz, EXCLUDED.fermeture_technique,
       EXCLUDED.fermeture_com_zone, EXCLUDED.fermeture_com_addr, EXCLUDED.elig_fo,
       EXCLUDED.annee_ft, EXCLUDED.code_insee)
"""
_PREMISES = """
SELECT p.identifiant_immeuble, p.insee FROM premise p
JOIN commune c ON c.insee = p.insee AND c.territory_code = :t
"""


def detect_separator(path: Path) -> str:
    """`;` or `,`: the one that splits the header into the expected column names."""
    data, member = unpack(path, path.read_bytes())
    first = data.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff").lower()
    for sep in (";", ","):
        if "immeuble_id" in [c.strip().strip('"') for c in first.split(sep)]:
            return sep
    file = f"{path.name}/{member}" if member else path.name
    raise reject(
        file,
        1,
        "en-tête non reconnu : colonne « immeuble_id » introuvable avec le séparateur « ; » "
        "ou « , »",
        value=first[:200],
    )


def _year(values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values.str.replace(",", ".", regex=False), errors="coerce")
    whole = numbers.notna() & (numbers % 1 == 0) & (numbers >= 1990) & (numbers <= 2100)
    return np.where(whole.to_numpy(), numbers.to_numpy(), np.nan)


def read_fermeture(
    path: Path,
    *,
    premises: dict[str, str],
    known_insee: set[str],
    date_format: str | None = None,
) -> tuple[pd.DataFrame, list[dict[str, Any]], int, dict[str, str]]:
    """The territory's valid buildings, the problems, how many lines were outside the territory,
    and the date format used for each date column."""
    source = read_delimited(path, delimiter=detect_separator(path))
    header = [h.strip().lower() for h in source.header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportRejectedError(
            f"{source.file} : colonnes absentes : {', '.join(missing)}.",
            [problem(source.file, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    columns = [*REQUIRED, *(c for c in INSEE_COLUMNS if c in header)]
    frame = pd.DataFrame({c: source.cells[header.index(c)] for c in columns}).astype(str)
    lines = source.lines
    problems = [p.as_dict() for p in source.problems]
    bad = np.zeros(len(frame), dtype=bool)

    def flag(mask: np.ndarray, column: str, reason: str) -> None:
        nonlocal bad
        for i in np.flatnonzero(mask & ~bad):
            problems.append(
                problem(source.file, int(lines[i]), column, frame[column].iat[i], reason)
            )
        bad |= mask

    formats = detect_formats(source.file, frame, DATE_COLUMNS, forced=date_format)
    for column in DATE_COLUMNS:
        parsed, unreadable = parse_column(frame[column], formats.get(column))
        label = DATE_FORMATS[formats[column]].label if column in formats else ""
        flag(unreadable, column, f"date illisible (format de la colonne : {label})")
        frame[column] = parsed
    flag((frame["immeuble_id"] == "").to_numpy(), "immeuble_id", "identifiant d'immeuble vide")
    flag(
        (frame["immeuble_id"].str.len() > 80).to_numpy(),
        "immeuble_id",
        "identifiant trop long (80 caractères au plus)",
    )
    year = _year(frame["annee_ft"])
    flag(
        (frame["annee_ft"] != "").to_numpy() & np.isnan(year),
        "annee_ft",
        "année illisible (attendu AAAA)",
    )
    frame["annee_ft"] = year
    flag((frame["num_lot_fz"].str.len() > 40).to_numpy(), "num_lot_fz", "lot trop long (40 max.)")
    flag((frame["elig_fo"].str.len() > 20).to_numpy(), "elig_fo", "valeur trop longue (20 max.)")
    first_line = pd.Series(lines).groupby(frame["immeuble_id"].to_numpy()).transform("first")
    duplicated = frame["immeuble_id"].duplicated().to_numpy()
    for i in np.flatnonzero(duplicated & ~bad):
        problems.append(
            problem(
                source.file,
                int(lines[i]),
                "immeuble_id",
                frame["immeuble_id"].iat[i],
                f"immeuble en double (déjà ligne {int(first_line.iat[i])})",
            )
        )
    bad |= duplicated
    frame["code_insee"] = _commune_of(frame, premises, columns)
    outside = ~frame["code_insee"].isin(known_insee).to_numpy()
    kept = ~bad & ~outside
    # a line outside the territory is not a fault of the file (national or neighbouring
    # extracts): it is counted, not reported
    inside = set(lines[~outside].tolist())
    problems = [p for p in problems if p["line"] in inside or p["column"] is None]
    problems.sort(key=lambda p: (p["line"], p["column"] or ""))
    if not len(frame) and not problems:
        raise reject(source.file, 0, "aucun immeuble dans le fichier")
    return frame[kept], problems, int((outside & ~bad).sum()), formats


def _commune_of(frame: pd.DataFrame, premises: dict[str, str], columns: list[str]) -> pd.Series:
    """The commune of each building: its premise's, else the file's INSEE column, else the INSEE
    code inside an `IMB/<insee>/…` identifier."""
    commune = frame["immeuble_id"].map(premises).astype(object)
    for column in [c for c in INSEE_COLUMNS if c in columns][:1]:
        commune = commune.where(commune.notna(), frame[column].where(frame[column] != ""))
    from_id = frame["immeuble_id"].str.extract(_INSEE_IN_ID, expand=False).str.upper()
    commune = commune.where(commune.notna(), from_id)
    return commune.where(commune.notna(), "").astype(str)


def _copy_stage(conn: Connection, frame: pd.DataFrame) -> None:
    conn.execute(
        text("DROP TABLE IF EXISTS pg_temp.stage_fc")
    )  # an earlier import in this transaction
    conn.execute(text(_STAGE))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY stage_fc (immeuble_id, {_FIELDS}) FROM STDIN") as copy:
        for row in frame.itertuples(index=False):
            copy.write_row(
                (
                    row.immeuble_id,
                    row.num_lot_fz or None,
                    row.fermeture_technique,
                    row.fermeture_com_zone,
                    row.fermeture_com_addr,
                    row.elig_fo or None,
                    None if np.isnan(row.annee_ft) else int(row.annee_ft),
                    row.code_insee,
                )
            )


def import_fermeture_cuivre_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
    date_format: str | None = None,
) -> journal.ImportResult:
    """Replace the territory's copper calendar with the file's (inside the caller's
    transaction): buildings of the territory's premises, or whose commune is in it."""
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    earlier = journal.previous_success(conn, KIND, sha, territory=territory)
    if earlier is not None:
        return journal.already_imported(KIND, path, sha, earlier[0])
    known, _bounds = territory_context(conn, territory)
    premises = {r[0]: r[1] for r in conn.execute(text(_PREMISES), {"t": territory})}
    frame, problems, outside, formats = read_fermeture(
        path, premises=premises, known_insee=known, date_format=date_format
    )
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    if frame.empty:
        raise ImportRejectedError(
            f"{path.name} refusé : aucun immeuble du territoire {territory} ; rien n'a été "
            "importé.",
            problems,
        )
    snapshot = snapshot_date or date_from_name(path.name) or date.today()
    journal_id = journal.open_entry(
        conn, kind=KIND, path=path, sha256=sha, snapshot=snapshot, user=user, territory=territory
    )
    _copy_stage(conn, frame)
    params = {"t": territory, "d": snapshot, "u": user, "j": journal_id}
    changes = conn.execute(text(_HISTORY), params).mappings().one()
    conn.execute(text(_REMOVE), params)
    conn.execute(text(_UPSERT), params)
    counts = {
        "immeubles": len(frame),
        "crees": int(changes["crees"]),
        "modifies": int(changes["modifies"]),
        "retires": int(changes["retires"]),
        "hors_territoire": outside,
        "rejetees": len(problems),
    }
    status = "PARTIEL" if problems else "OK"
    journal.close_entry(
        conn, journal_id, status=status, counts=counts, problems=problems, duration_ms=watch.ms()
    )
    used = ", ".join(f"{c} {DATE_FORMATS[f].label}" for c, f in formats.items())
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
        message=(
            f"{path.name} importé : {len(frame)} immeubles au calendrier ({counts['crees']} "
            f"nouveaux, {counts['modifies']} modifiés, {counts['retires']} retirés), "
            f"{outside} hors du territoire, {len(problems)} lignes rejetées"
            + (f" ; dates lues : {used}." if used else ".")
        ),
    )


def import_fermeture_cuivre(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
    date_format: str | None = None,
) -> journal.ImportResult:
    """One transaction; a refused file is journalled apart and changes nothing."""
    return journal.run_import(
        engine,
        KIND,
        path,
        lambda conn, who: import_fermeture_cuivre_conn(
            conn,
            path,
            territory=territory,
            user=who,
            snapshot_date=snapshot_date,
            skip_invalid=skip_invalid,
            date_format=date_format,
        ),
        snapshot_date=snapshot_date,
        user=user,
        territory=territory,
    )
