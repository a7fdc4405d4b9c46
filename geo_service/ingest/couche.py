"""Import a named polygon layer of a territory (`geo-service import couche pnr FICHIER`).

GeoPackage, shapefile (`.shp` with its side files, or a `.zip` of them) or GeoJSON, in any CRS
(reprojected to Lambert-93); each feature's fields are kept in `attributs`, its label taken from
`nom_site` / `nom` / `libelle` when present. A new file replaces the layer's previous version in
that territory. The regional natural park is the layer `pnr`.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, text

from geo_service.db.base import SRID
from geo_service.db.changes import log_change
from geo_service.errors import ImportRejectedError, InvalidParameterError
from geo_service.ingest import journal
from geo_service.ingest.common import problem, territory_context

KIND = "couche"
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
LABELS = ("nom_site", "nom", "libelle")
SUFFIXES = (".gpkg", ".shp", ".zip", ".geojson", ".json")


def check_name(name: str) -> str:
    """A layer name: lower-case letters, digits and '_' (40 at most), starting with a letter."""
    if not NAME.fullmatch(name):
        raise InvalidParameterError(
            f"Nom de couche « {name} » invalide : lettres minuscules, chiffres et « _ »,"
            " 40 caractères au plus, en commençant par une lettre (ex. : pnr)."
        )
    return name


def _refuse(file: str, reason: str, *, line: int = 0, value: Any = None) -> ImportRejectedError:
    return ImportRejectedError(f"{file} : {reason}", [problem(file, line, None, value, reason)])


def read_layer(path: Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """The file's features as a GeoDataFrame in Lambert-93 (one layer; a GeoPackage holding
    several needs `layer`)."""
    file = path.name
    if path.suffix.lower() not in SUFFIXES:
        raise _refuse(file, "format non reconnu (attendu : .gpkg, .shp, .zip, .geojson)")
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(path)]
        if layer is None and len(layers) > 1:
            raise _refuse(
                file,
                f"le fichier contient {len(layers)} couches ({', '.join(layers)}) : précisez-en une",
            )
        if layer is not None and layer not in layers:
            raise _refuse(file, f"couche « {layer} » absente (couches : {', '.join(layers)})")
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise _refuse(file, f"fichier géographique illisible ({exc})") from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry is None:
        raise _refuse(file, "aucune géométrie dans le fichier")
    if frame.crs is None:
        raise _refuse(file, "système de coordonnées inconnu (fichier .prj absent ?)")
    if frame.empty:
        raise _refuse(file, "aucune entité dans le fichier")
    return frame.to_crs(SRID)


def _attributes(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, float) and math.isnan(value):
            value = None
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "item"):  # numpy scalars
            value = value.item()
        out[str(key)] = value
    return out


def _label(attributes: dict[str, Any]) -> str | None:
    lower = {k.lower(): v for k, v in attributes.items()}
    for key in LABELS:
        if lower.get(key) not in (None, ""):
            return str(lower[key])[:200]
    return None


def features(file: str, frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Polygon features (WKB in Lambert-93, label, attributes); any other geometry refuses the
    file, naming the feature (its 1-based number) and its type."""
    out, problems = [], []
    columns = [c for c in frame.columns if c != frame.geometry.name]
    for number, (geom, record) in enumerate(
        zip(frame.geometry, frame[columns].to_dict("records"), strict=True), start=1
    ):
        if not isinstance(geom, BaseGeometry) or geom.is_empty:
            problems.append(problem(file, number, "geometry", None, "entité sans géométrie"))
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(problem(file, number, "geometry", geom.geom_type, "polygone attendu"))
            continue
        attributes = _attributes(record)
        out.append(
            {"no": number, "wkb": geom.wkb, "label": _label(attributes), "attrs": attributes}
        )
    if problems:
        raise ImportRejectedError(
            f"{file} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    return out


def import_couche_conn(
    conn: Connection,
    name: str,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    layer: str | None = None,
) -> journal.ImportResult:
    """Replace the territory's layer `name` with the file's polygons (history in asset_change)."""
    watch = journal.Stopwatch()
    check_name(name)
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    territory_context(conn, territory)
    current = conn.execute(
        text(
            "SELECT n.import_id, j.sha256, count(*) AS n FROM named_layer n"
            " LEFT JOIN import_journal j ON j.id = n.import_id"
            " WHERE n.territory_code = :t AND n.nom = :n GROUP BY n.import_id, j.sha256"
        ),
        {"t": territory, "n": name},
    ).first()
    if current is not None and current.sha256 == sha:
        return journal.already_imported(KIND, path, sha, int(current.import_id))
    rows = features(path.name, read_layer(path, layer=layer))
    inside = conn.execute(
        text(
            "SELECT count(*) FROM unnest(CAST(:g AS bytea[])) AS f(wkb) WHERE EXISTS (SELECT 1"
            " FROM commune c WHERE c.territory_code = :t"
            " AND ST_Intersects(c.geom, ST_GeomFromWKB(f.wkb, 2154)))"
        ),
        {"g": [r["wkb"] for r in rows], "t": territory},
    ).scalar_one()
    if not inside:
        raise _refuse(
            path.name,
            f"aucune entité ne touche le territoire {territory} (système de coordonnées erroné ?)",
        )
    journal_id = journal.open_entry(
        conn,
        kind=KIND,
        path=path,
        sha256=sha,
        snapshot=date.today(),
        user=user,
        territory=territory,
    )
    conn.execute(
        text("DELETE FROM named_layer WHERE territory_code = :t AND nom = :n"),
        {"t": territory, "n": name},
    )
    conn.execute(
        text(
            "INSERT INTO named_layer (territory_code, nom, feature_no, libelle, attributs,"
            " import_id, geom) VALUES (:t, :n, :no, :label, CAST(:attrs AS jsonb), :j,"
            " ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromWKB(:wkb, 2154)), 3)))"
        ),
        [
            {
                **r,
                "attrs": json.dumps(r["attrs"], default=str),
                "t": territory,
                "n": name,
                "j": journal_id,
            }
            for r in rows
        ],
    )
    log_change(
        conn,
        table="named_layer",
        key=f"{territory}/{name}",
        user=user,
        before=None if current is None else {"entites": current.n, "import_id": current.import_id},
        after={"entites": len(rows), "fichier": path.name},
        import_id=journal_id,
    )
    counts = {"entites": len(rows), "entites_du_territoire": int(inside)}
    journal.close_entry(
        conn, journal_id, status="OK", counts=counts, problems=[], duration_ms=watch.ms()
    )
    return journal.ImportResult(
        kind=KIND,
        file_name=path.name,
        sha256=sha,
        status="OK",
        journal_id=journal_id,
        counts=counts,
        duration_ms=watch.ms(),
        message=(
            f"Couche « {name} » chargée depuis {path.name} : {len(rows)} polygone(s)"
            + (" (version précédente remplacée)." if current is not None else ".")
        ),
    )


def import_couche(
    engine: Engine,
    name: str,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    layer: str | None = None,
) -> journal.ImportResult:
    """One transaction; a refused file is journalled apart and the layer stays as it was."""
    check_name(name)
    return journal.run_import(
        engine,
        KIND,
        path,
        lambda conn, who: import_couche_conn(
            conn, name, path, territory=territory, user=who, layer=layer
        ),
        user=user,
        territory=territory,
    )
