"""Import the Base Adresse Nationale file of a département as published (`adresses-DEP.csv.gz`:
`;`, UTF-8, 23 columns read by name, `x`/`y` Lambert-93 and `lon`/`lat` WGS84). It replaces the
territory's reference addresses (oubliés) in one transaction and files each address under its
street of the address search, so that every address of the territory can be found."""

from __future__ import annotations

import io
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer
from sqlalchemy import Connection, Engine, text

from geo_service.db.bulk import deferred_indexes
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import date_from_name, problem, territory_context
from geo_service.ingest.csv_source import read_delimited, reject, unpack

KIND = "ban"
# The publisher's layout (adresse.data.gouv.fr, "Schéma des données Adresses au format CSV").
COLUMNS = (
    *("id", "id_fantoir", "numero", "rep", "nom_voie", "code_postal", "code_insee"),
    *("nom_commune", "code_insee_ancienne_commune", "nom_ancienne_commune", "x", "y", "lon"),
    *("lat", "type_position", "alias", "nom_ld", "libelle_acheminement", "nom_afnor"),
    *("source_position", "source_nom_voie", "certification_commune", "cad_parcelles"),
)
# What the import needs; the other columns may come and go over the years.
REQUIRED = ("id", "numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune")
COORDINATES = ("x", "y", "lon", "lat")
WIDTHS = {"id": 80, "numero": 20, "rep": 20, "nom_voie": 200, "code_postal": 5, "nom_commune": 200}
MAX_GAP_M = 50.0  # x/y and lon/lat of one line must name the same place
_TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)

_STAGE = """
CREATE TEMP TABLE stage_ban (
    line integer, id text, numero text, rep text, nom_voie text, code_postal text,
    insee text, nom_commune text, x double precision, y double precision
) ON COMMIT DROP
"""
# The differences between the territory's addresses and the file's: only those are written
# (a new BAN of the same territory changes a few thousand lines out of 200 000), each one
# recorded in asset_change.
_DIFF = """
CREATE TEMP TABLE ban_diff ON COMMIT DROP AS
WITH old AS (
    SELECT a.id, a.numero, a.rep, a.nom_voie, a.code_postal, a.insee, a.nom_commune,
           round(ST_X(a.geom)::numeric, 2) AS x, round(ST_Y(a.geom)::numeric, 2) AS y
    FROM reference_address a JOIN commune c ON c.insee = a.insee AND c.territory_code = :t
),
new AS (
    SELECT id, numero, rep, nom_voie, code_postal, insee, nom_commune,
           round(x::numeric, 2) AS x, round(y::numeric, 2) AS y
    FROM stage_ban
)
SELECT coalesce(n.id, o.id) AS id,
       CASE WHEN o.id IS NULL THEN NULL ELSE to_jsonb(o) - 'id' END AS before,
       CASE WHEN n.id IS NULL THEN NULL ELSE to_jsonb(n) - 'id' END AS after
FROM old o FULL JOIN new n ON n.id = o.id
WHERE o.id IS NULL OR n.id IS NULL OR to_jsonb(o) <> to_jsonb(n)
"""
_HISTORY = """
WITH logged AS (
    INSERT INTO asset_change (table_name, object_key, valid_from, changed_by, import_id,
                              before, after)
    SELECT 'reference_address', id, :d, :u, :j, before, after FROM ban_diff ORDER BY id
    RETURNING before IS NULL AS created, after IS NULL AS removed
)
SELECT count(*) FILTER (WHERE created) AS crees,
       count(*) FILTER (WHERE removed) AS supprimees,
       count(*) FILTER (WHERE NOT created AND NOT removed) AS modifiees
FROM logged
"""
_DELETE = """
DELETE FROM reference_address a USING ban_diff d
WHERE a.id = d.id AND d.before IS NOT NULL
"""
# The BAN spells the street type in its name ("Rue de l'Église"): streets without a type. The
# table only grows, as the streets of the premises do.
_STREETS = """
WITH street AS (
    SELECT DISTINCT insee, nom_voie, nom_commune FROM stage_ban
),
written AS (
    INSERT INTO address_street (insee, type_voie, nom_voie, commune_nom, search_text)
    SELECT s.insee, NULL, s.nom_voie, s.nom_commune,
           lower(unaccent(concat_ws(' ', s.nom_voie, s.nom_commune)))
    FROM street s
    ORDER BY s.insee, s.nom_voie, s.nom_commune
    ON CONFLICT (insee, (coalesce(type_voie, '')), (coalesce(nom_voie, '')),
                 (coalesce(commune_nom, '')))
    DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM written
"""
_STREET_OF = """
LEFT JOIN address_street a
  ON a.insee = s.insee AND coalesce(a.type_voie, '') = ''
 AND coalesce(a.nom_voie, '') = coalesce(s.nom_voie, '')
 AND coalesce(a.commune_nom, '') = coalesce(s.nom_commune, '')
"""
_INSERT = f"""
INSERT INTO reference_address (id, numero, rep, nom_voie, code_postal, insee, nom_commune,
                               import_id, street_id, geom)
SELECT s.id, s.numero, s.rep, s.nom_voie, s.code_postal, s.insee, s.nom_commune, :j, a.id,
       ST_SetSRID(ST_MakePoint(s.x, s.y), 2154)
FROM stage_ban s
JOIN ban_diff d ON d.id = s.id
{_STREET_OF}
ORDER BY s.insee, s.id
"""
# addresses loaded by the older `import adresses` have no street yet
_FILE_UNDER_STREETS = f"""
UPDATE reference_address r SET street_id = a.id
FROM stage_ban s {_STREET_OF}
WHERE r.id = s.id AND r.street_id IS NULL
"""
BULK_ROWS = 50_000  # more rows to write than this: indexes rebuilt once (first load)


def _utf8_or_refuse(path: Path, encoding: str) -> None:
    """The BAN is published in UTF-8: a file re-saved in another encoding is refused at the
    first line that is not UTF-8 (its accents would be stored wrong)."""
    if encoding.startswith("utf-8"):
        return
    data, _member = unpack(path, path.read_bytes())
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        value = data[start : end if end >= 0 else len(data)].decode("cp1252", "replace")
        raise reject(
            path.name,
            line,
            f"encodage incorrect : octet 0x{data[exc.start]:02X} illisible en UTF-8 (la BAN est "
            "publiée en UTF-8 ; le fichier a sans doute été ré-enregistré en Latin-1)",
            value=value[:200],
        ) from exc


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values.str.replace(",", ".", regex=False), errors="coerce").to_numpy(
        dtype=float
    )


def read_ban(
    path: Path, *, known_insee: set[str], bounds: tuple[float, ...]
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The valid addresses (x/y in Lambert-93, with their file line) and the problems found."""
    source = read_delimited(path, delimiter=";")
    _utf8_or_refuse(path, source.encoding)
    header = [h.strip().lower() for h in source.header]
    missing = [c for c in REQUIRED if c not in header]
    if not any(c in header for c in ("x", "lon")):
        missing.append("x/y ou lon/lat")
    if missing:
        raise ImportRejectedError(
            f"{source.file} : colonnes absentes : {', '.join(missing)}.",
            [problem(source.file, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    cells = source.cells
    frame = pd.DataFrame(
        {c: cells[header.index(c)] if c in header else "" for c in (*REQUIRED, *COORDINATES)}
    ).astype(str)
    frame["line"] = source.lines
    problems = [p.as_dict() for p in source.problems]
    bad = np.zeros(len(frame), dtype=bool)

    def flag(mask: np.ndarray, column: str, values: pd.Series, reason: str) -> None:
        nonlocal bad
        for i in np.flatnonzero(mask & ~bad):
            problems.append(
                problem(source.file, int(frame["line"].iat[i]), column, values.iat[i], reason)
            )
        bad |= mask

    flag((frame["id"] == "").to_numpy(), "id", frame["id"], "identifiant vide")
    for column, limit in WIDTHS.items():
        too_long = (frame[column].str.len() > limit).to_numpy()
        flag(too_long, column, frame[column], f"valeur trop longue ({limit} caractères au plus)")
    flag(
        ~frame["code_insee"].isin(known_insee).to_numpy(),
        "code_insee",
        frame["code_insee"],
        "commune inconnue du territoire",
    )
    x, y = _numbers(frame["x"]), _numbers(frame["y"])
    lon, lat = _numbers(frame["lon"]), _numbers(frame["lat"])
    both = lambda a, b: np.isfinite(a) & np.isfinite(b)  # noqa: E731
    has_xy, has_ll = both(x, y), both(lon, lat)
    typed = lambda a, b: ((frame[a] != "") | (frame[b] != "")).to_numpy()  # noqa: E731
    pair = frame["x"] + " " + frame["y"]
    flag(typed("x", "y") & ~has_xy, "x", pair, "coordonnées x/y illisibles")
    flag(
        typed("lon", "lat") & ~has_ll,
        "lon",
        frame["lon"] + " " + frame["lat"],
        "coordonnées lon/lat illisibles",
    )
    flag(~has_xy & ~has_ll, "x", pair, "coordonnées absentes (x/y et lon/lat vides)")
    lx, ly = _TO_L93.transform(np.where(has_ll, lon, 0.0), np.where(has_ll, lat, 0.0))
    inside = lambda a, b: (  # noqa: E731
        (a >= bounds[0]) & (a <= bounds[2]) & (b >= bounds[1]) & (b <= bounds[3])
    )
    xy_ok, ll_ok = has_xy & inside(x, y), has_ll & inside(lx, ly)
    gap = np.hypot(x - lx, y - ly)
    flag(
        xy_ok & ll_ok & ~(gap <= MAX_GAP_M),
        "x",
        pair + " / " + frame["lon"] + " " + frame["lat"],
        f"x/y (Lambert-93) et lon/lat (WGS84) désignent deux points distants de plus de "
        f"{MAX_GAP_M:g} m",
    )
    flag(~xy_ok & ~ll_ok, "x", pair, "coordonnées hors du territoire")
    frame["x"] = np.where(xy_ok, x, lx)
    frame["y"] = np.where(xy_ok, y, ly)
    first_line = frame.groupby("id")["line"].transform("first").to_numpy()
    duplicated = frame["id"].duplicated().to_numpy() & ~bad
    for i in np.flatnonzero(duplicated):
        problems.append(
            problem(
                source.file,
                int(frame["line"].iat[i]),
                "id",
                frame["id"].iat[i],
                f"identifiant en double (déjà ligne {int(first_line[i])})",
            )
        )
    bad |= duplicated
    if not len(frame) and not problems:
        raise reject(source.file, 0, "aucune adresse dans le fichier")
    problems.sort(key=lambda p: (p["line"], p["column"] or ""))
    return frame[~bad], problems


def _copy_stage(conn: Connection, frame: pd.DataFrame) -> None:
    """The valid lines into a temporary table, by one COPY of a CSV written by pandas."""
    conn.execute(
        text("DROP TABLE IF EXISTS pg_temp.stage_ban")
    )  # an earlier import in this transaction
    conn.execute(text(_STAGE))
    columns = ["line", "id", "numero", "rep", "nom_voie", "code_postal", "code_insee"]
    out = frame[[*columns, "nom_commune"]].copy()
    out["x"], out["y"] = frame["x"].astype(float).round(2), frame["y"].astype(float).round(2)
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, header=False)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    copy_sql = (
        "COPY stage_ban (line, id, numero, rep, nom_voie, code_postal, insee, nom_commune, x, y)"
        " FROM STDIN (FORMAT csv, NULL '')"
    )
    with cursor.copy(copy_sql) as copy:
        copy.write(buffer.getvalue())


def import_ban_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """Replace the territory's reference addresses with the file's and file them under their
    streets (inside the caller's transaction); each created, changed or removed address is
    written to asset_change with the import's id."""
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    earlier = journal.previous_success(conn, KIND, sha, territory=territory)
    if earlier is not None:
        return journal.already_imported(KIND, path, sha, earlier[0])
    known, bounds = territory_context(conn, territory)
    frame, problems = read_ban(path, known_insee=known, bounds=bounds)
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    if frame.empty:
        raise ImportRejectedError(
            f"{path.name} refusé : aucune adresse valide ; rien n'a été importé.", problems
        )
    snapshot = snapshot_date or date_from_name(path.name) or date.today()
    journal_id = journal.open_entry(
        conn, kind=KIND, path=path, sha256=sha, snapshot=snapshot, user=user, territory=territory
    )
    journal.report_progress(f"{len(frame)} adresses lues")
    _copy_stage(conn, frame)
    params = {"t": territory, "d": snapshot, "u": user, "j": journal_id}
    conn.execute(text("DROP TABLE IF EXISTS pg_temp.ban_diff"))
    conn.execute(text(_DIFF), params)
    changes = conn.execute(text(_HISTORY), params).mappings().one()
    streets = int(conn.execute(text(_STREETS)).scalar_one())
    written = int(changes["crees"]) + int(changes["modifiees"])
    with deferred_indexes(conn, ["reference_address"]) if written > BULK_ROWS else nullcontext():
        conn.execute(text(_DELETE), params)
        conn.execute(text(_INSERT), params)
    conn.execute(text(_FILE_UNDER_STREETS))
    conn.execute(text("ANALYZE reference_address"))
    conn.execute(text("ANALYZE address_street"))
    counts = {
        "adresses": len(frame),
        "crees": int(changes["crees"]),
        "modifiees": int(changes["modifiees"]),
        "supprimees": int(changes["supprimees"]),
        "rues_ajoutees": streets,
        "rejetees": len(problems),
    }
    status = "PARTIEL" if problems else "OK"
    journal.close_entry(
        conn, journal_id, status=status, counts=counts, problems=problems, duration_ms=watch.ms()
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
        message=(
            f"{path.name} importé : {len(frame)} adresses BAN ({counts['crees']} nouvelles, "
            f"{counts['modifiees']} modifiées, {counts['supprimees']} supprimées), "
            f"{streets} rues ajoutées à la recherche, {len(problems)} lignes rejetées."
        ),
    )


def import_ban(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """One transaction; a refused file is journalled apart and changes nothing."""
    return journal.run_import(
        engine,
        KIND,
        path,
        lambda conn, who: import_ban_conn(
            conn,
            path,
            territory=territory,
            user=who,
            snapshot_date=snapshot_date,
            skip_invalid=skip_invalid,
        ),
        snapshot_date=snapshot_date,
        user=user,
        territory=territory,
    )
