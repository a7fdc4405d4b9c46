"""Import a reference address file (BAN-like CSV) used to find premises missing from the
operator's file: `id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat` (WGS84)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
from pyproj import Transformer
from sqlalchemy import Connection, Engine, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import problem, territory_context
from geo_service.ingest.textfile import decode_text_file

COLUMNS = [
    "id",
    "numero",
    "rep",
    "nom_voie",
    "code_postal",
    "code_insee",
    "nom_commune",
    "lon",
    "lat",
]


def import_addresses_conn(
    conn: Connection, path: Path, *, territory: str, user: str | None = None
) -> journal.ImportResult:
    """Replace the territory's reference addresses with the file's (one transaction)."""
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    earlier = journal.previous_success(conn, "adresses", sha)
    if earlier is not None:
        return journal.already_imported("adresses", path, sha, earlier[0])
    known, bounds = territory_context(conn, territory)
    frame = pd.read_csv(
        io.StringIO(decode_text_file(path)), sep=";", dtype=str, keep_default_na=False
    )
    frame.columns = [c.strip().lower() for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ImportRejectedError(
            f"{path.name} : colonnes absentes : {', '.join(missing)}.",
            [problem(path.name, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    lon = pd.to_numeric(frame["lon"].str.replace(",", "."), errors="coerce")
    lat = pd.to_numeric(frame["lat"].str.replace(",", "."), errors="coerce")
    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(
        lon.to_numpy(), lat.to_numpy()
    )
    problems = []
    for i in frame.index[lon.isna() | lat.isna()]:
        problems.append(
            problem(
                path.name,
                int(i) + 2,
                "lon",
                f"{frame.at[i, 'lon']} {frame.at[i, 'lat']}",
                "coordonnées illisibles",
            )
        )
    outside = (
        ~((x >= bounds[0]) & (x <= bounds[2]) & (y >= bounds[1]) & (y <= bounds[3]))
        & lon.notna().to_numpy()
    )
    for i in frame.index[outside]:
        problems.append(
            problem(
                path.name,
                int(i) + 2,
                "lon",
                f"{frame.at[i, 'lon']} {frame.at[i, 'lat']}",
                "hors du territoire",
            )
        )
    for i in frame.index[~frame["code_insee"].isin(known)]:
        problems.append(
            problem(
                path.name,
                int(i) + 2,
                "code_insee",
                frame.at[i, "code_insee"],
                "commune inconnue du territoire",
            )
        )
    for i in frame.index[frame["id"].duplicated()]:
        problems.append(
            problem(path.name, int(i) + 2, "id", frame.at[i, "id"], "identifiant en double")
        )
    if problems:
        problems.sort(key=lambda p: p["line"])
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    journal_id = journal.open_entry(
        conn, kind="adresses", path=path, sha256=sha, snapshot=date.today(), user=user
    )
    conn.execute(
        text(
            "DELETE FROM reference_address a USING commune c WHERE c.insee = a.insee AND c.territory_code = :t"
        ),
        {"t": territory},
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(
        "COPY reference_address (id, numero, rep, nom_voie, code_postal, insee, nom_commune, import_id, geom) FROM STDIN"
    ) as copy:
        for row, xx, yy in zip(frame.itertuples(index=False), x, y, strict=True):
            copy.write_row(
                (
                    row.id,
                    row.numero or None,
                    row.rep or None,
                    row.nom_voie or None,
                    row.code_postal or None,
                    row.code_insee,
                    row.nom_commune or None,
                    journal_id,
                    f"SRID=2154;POINT({xx:.2f} {yy:.2f})",
                )
            )
    conn.execute(text("ANALYZE reference_address"))
    counts = {"adresses": len(frame)}
    journal.close_entry(
        conn, journal_id, status="OK", counts=counts, problems=[], duration_ms=watch.ms()
    )
    return journal.ImportResult(
        kind="adresses",
        file_name=path.name,
        sha256=sha,
        status="OK",
        journal_id=journal_id,
        counts=counts,
        duration_ms=watch.ms(),
        message=f"{path.name} : {len(frame)} adresses de référence chargées.",
    )


def import_addresses(
    engine: Engine, path: Path, *, territory: str, user: str | None = None
) -> journal.ImportResult:
    """One transaction; a refused file is journalled apart and changes nothing."""
    return journal.run_import(
        engine,
        "adresses",
        path,
        lambda conn, who: import_addresses_conn(conn, path, territory=territory, user=who),
        user=user,
        territory=territory,
    )
