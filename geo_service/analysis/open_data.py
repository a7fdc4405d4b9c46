"""Open data out: the public collections (a registry, never a name from a URL in SQL), read as
GeoJSON pages for OGC API - Features and written whole to a GeoPackage (WGS84 / CRS84)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from pyogrio import write_dataframe
from sqlalchemy import Connection, text

from geo_service.analysis.raccordables import raccordables
from geo_service.analysis.unit_layers import zones_frame
from geo_service.db.base import SRID
from geo_service.errors import InvalidParameterError, NotFoundError

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
COORDINATE_DECIMALS = 7
# Lambert-93 is only defined around France: a wider bbox is clamped before it is transformed.
_LON_RANGE, _LAT_RANGE = (-20.0, 30.0), (30.0, 60.0)

Figures = Callable[[Connection, str, date | None, list[str]], dict[str, dict[str, Any]]]
FIGURE_KEYS = ("logements", "raccordables", "raccordables_demande", "en_cours", "cibles", "taux")


@dataclass(frozen=True)
class Collection:
    """One public layer: its SQL (constants of this module), what it is and where it comes from."""

    id: str
    title: str
    description: str
    source: str
    geometry_type: str
    id_expr: str
    geom_expr: str
    columns: tuple[tuple[str, str], ...]  # (property, SQL expression)
    from_where: str  # binds :t (the territory)
    journal_kinds: tuple[str, ...]  # the imports whose last snapshot dates the layer
    figures: Figures | None = None
    temporal: bool = False  # figures as of a date (OGC `datetime`)


def _zone_figures(
    conn: Connection, territory: str, as_of: date | None, ids: list[str]
) -> dict[str, dict[str, Any]]:
    frame = zones_frame(
        conn, territory, refs=ids, as_of=as_of, tolerance_m=0.0, date_format="%Y-%m-%d"
    )
    keys = ["etat", "logements", "raccordables", "taux", "bande", "doe_etat"]
    keys += ["date_installation", "date_prevue"]
    return {
        str(ref): {k: (row[k] if row[k] != "" else None) for k in keys}
        for ref, row in frame[keys].iterrows()
    }


def _unit_figures(level: str) -> Figures:
    def figures(
        conn: Connection, territory: str, as_of: date | None, ids: list[str]
    ) -> dict[str, dict[str, Any]]:
        rows = raccordables(conn, territory=territory, as_of=as_of, levels=(level,))  # type: ignore[arg-type]
        by_code = {r["code"]: r for r in rows}
        empty = dict.fromkeys(FIGURE_KEYS, 0)
        return {i: {k: by_code.get(i, empty)[k] for k in FIGURE_KEYS} for i in ids}

    return figures


_IN_TERRITORY = " JOIN commune c ON c.insee = s.insee WHERE c.territory_code = :t"

COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection(
            "zones",
            "Zones des points de mutualisation",
            "Zones arrière des PM (réseau d'initiative publique) et leur avancement : "
            "logements, raccordables, taux (%), état, dates.",
            "Zones : GraceTHD ; chiffres : IPE des opérateurs",
            "MultiPolygon",
            "pm.reference",
            "pm.zone",
            (
                ("reference", "pm.reference"),
                ("nro_code", "pm.nro_code"),
                ("code_zone", "pm.code_zone"),
            ),
            "FROM pm WHERE pm.territory_code = :t AND pm.zone IS NOT NULL AND NOT pm.amii",
            ("gracethd", "ipe"),
            _zone_figures,
            temporal=True,
        ),
        Collection(
            "communes",
            "Communes",
            "Communes du territoire et leurs locaux raccordables à la fibre.",
            "Découpage : référentiel administratif ; chiffres : IPE des opérateurs",
            "MultiPolygon",
            "c.insee",
            "c.geom",
            (("insee", "c.insee"), ("nom", "c.nom"), ("epci_siren", "c.epci_siren")),
            "FROM commune c WHERE c.territory_code = :t",
            ("ipe",),
            _unit_figures("commune"),
            temporal=True,
        ),
        Collection(
            "epci",
            "Intercommunalités (EPCI)",
            "EPCI du territoire et leurs locaux raccordables à la fibre.",
            "Découpage : référentiel administratif ; chiffres : IPE des opérateurs",
            "MultiPolygon",
            "e.siren",
            "e.geom",
            (("siren", "e.siren"), ("nom", "e.nom")),
            "FROM epci e WHERE e.territory_code = :t",
            ("ipe",),
            _unit_figures("epci"),
            temporal=True,
        ),
        Collection(
            "locaux",
            "Locaux (immeubles)",
            "Immeubles de l'IPE : identifiant, état, nombre de logements, commune.",
            "IPE des opérateurs",
            "Point",
            "p.identifiant_immeuble",
            "p.geom",
            (
                ("identifiant", "p.identifiant_immeuble"),
                ("etat", "p.etat"),
                ("logements", "p.logements"),
                ("insee", "p.insee"),
                ("commune", "COALESCE(p.commune_nom, c.nom)"),
            ),
            "FROM premise p JOIN commune c ON c.insee = p.insee "
            "WHERE c.territory_code = :t AND p.removed_on IS NULL",
            ("ipe",),
        ),
        Collection(
            "nro",
            "Nœuds de raccordement optique (NRO)",
            "NRO du réseau d'initiative publique.",
            "GraceTHD",
            "Point",
            "n.code",
            "n.geom",
            (("code", "n.code"), ("nom", "n.nom"), ("date_installation", "n.date_installation")),
            "FROM nro n WHERE n.territory_code = :t AND n.geom IS NOT NULL AND NOT n.amii",
            ("gracethd",),
        ),
        Collection(
            "sites_mobiles",
            "Sites mobiles",
            "Sites du New Deal mobile, pylônes centres-bourgs et sites TDF, avec leur état.",
            "Registre des sites mobiles",
            "Point",
            "s.code",
            "s.geom",
            (
                ("code", "s.code"),
                ("nom", "s.nom"),
                ("insee", "s.insee"),
                ("programme", "s.programme"),
                ("etat", "s.etat"),
                ("operateurs", "s.operateurs"),
                ("date_arrete", "s.date_arrete"),
                ("date_mise_en_service", "s.date_mise_en_service"),
            ),
            "FROM mobile_site s" + _IN_TERRITORY,
            ("sites",),
        ),
        Collection(
            "bornes_wifi",
            "Bornes WiFi publiques",
            "Bornes du WiFi territorial et leur rayon de couverture.",
            "Registre des bornes WiFi",
            "Point",
            "s.code",
            "s.geom",
            (
                ("code", "s.code"),
                ("nom", "s.nom"),
                ("insee", "s.insee"),
                ("emplacement", "s.emplacement"),
                ("rayon_m", "s.rayon_m"),
                ("date_installation", "s.date_installation"),
            ),
            "FROM wifi_borne s" + _IN_TERRITORY,
            ("bornes",),
        ),
        Collection(
            "sites_med",
            "Sites de montée en débit",
            "Armoires de montée en débit (MED), foyers concernés et date d'ouverture.",
            "Registre des sites MED",
            "Point",
            "s.code",
            "s.geom",
            (
                ("code", "s.code"),
                ("nom", "s.nom"),
                ("insee", "s.insee"),
                ("foyers", "s.foyers"),
                ("date_ouverture", "s.date_ouverture"),
            ),
            "FROM med_site s" + _IN_TERRITORY,
            ("med",),
        ),
    )
}


def collection(collection_id: str) -> Collection:
    """The registered collection of this id, or a French 404."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFoundError(f"Collection inconnue : {collection_id[:60]}.")
    return found


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """`minlon,minlat,maxlon,maxlat` (CRS84; 6 numbers: heights ignored)."""
    if value is None or value == "":
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(pd.notna(n) and abs(n) != float("inf") for n in numbers):
        raise InvalidParameterError(
            "bbox attendu : quatre nombres lon_min,lat_min,lon_max,lat_max (degrés WGS84)."
        )
    x0, y0, x1, y1 = numbers
    if y0 > y1:
        raise InvalidParameterError("bbox : lat_min doit être inférieure ou égale à lat_max.")
    return (x0, y0, x1, y1)


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def parse_datetime(value: str | None) -> date | None:
    """OGC `datetime` (instant or interval) → the as-of date of the figures (an interval's end)."""
    if value is None or value == "":
        return None
    end = value.split("/")[-1].strip()
    if end in ("", ".."):
        return date.today() if "/" in value else None
    try:
        if not _DAY.match(end):
            raise ValueError(end)
        if len(end) == 10:
            return date.fromisoformat(end)
        return datetime.fromisoformat(end.replace("Z", "+00:00")).date()
    except ValueError:
        raise InvalidParameterError(
            "datetime attendu : une date AAAA-MM-JJ, un instant RFC 3339 ou un intervalle "
            "début/fin (« .. » pour ouvert)."
        ) from None


def _bbox_params(bbox: tuple[float, float, float, float] | None) -> dict[str, float | None]:
    if bbox is None:
        return {"x0": None, "y0": None, "x1": None, "y1": None}
    x0, y0, x1, y1 = bbox

    def clamp(v: float, lo_hi: tuple[float, float]) -> float:
        return min(max(v, lo_hi[0]), lo_hi[1])

    return {
        "x0": clamp(x0, _LON_RANGE),
        "y0": clamp(y0, _LAT_RANGE),
        "x1": clamp(x1, _LON_RANGE),
        "y1": clamp(y1, _LAT_RANGE),
    }


def _filters(coll: Collection) -> str:
    envelope = (
        "ST_Transform(ST_MakeEnvelope(CAST(:x0 AS float8), CAST(:y0 AS float8), "
        f"CAST(:x1 AS float8), CAST(:y1 AS float8), 4326), {SRID})"
    )
    return (
        f" AND (CAST(:x0 AS float8) IS NULL OR {coll.geom_expr} && {envelope})"
        f" AND (CAST(:fid AS text) IS NULL OR {coll.id_expr} = CAST(:fid AS text))"
    )


def _select(coll: Collection) -> str:
    columns = ", ".join(f"{expr} AS {name}" for name, expr in coll.columns)
    return (
        f"SELECT {coll.id_expr} AS fid, ST_AsGeoJSON(ST_Transform({coll.geom_expr}, 4326), "
        f"{COORDINATE_DECIMALS}) AS geojson, {columns} {coll.from_where}{_filters(coll)} "
        f"ORDER BY {coll.id_expr} LIMIT :limit OFFSET :offset"
    )


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _rows(
    conn: Connection,
    coll: Collection,
    territory: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    fid: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    as_of: date | None = None,
) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, GeoJSON geometry, properties) of the matching features, in id order."""
    params = {"t": territory, "fid": fid, "limit": limit, "offset": offset, **_bbox_params(bbox)}
    rows = conn.execute(text(_select(coll)), params).mappings().all()
    names = [name for name, _ in coll.columns]
    out = [(str(r["fid"]), r["geojson"], {n: _value(r[n]) for n in names}) for r in rows]
    if coll.figures is not None and out:
        figures = coll.figures(conn, territory, as_of, [fid for fid, _, _ in out])
        for feature_id, _, props in out:
            props.update({k: _value(v) for k, v in figures.get(feature_id, {}).items()})
    return out


def count(
    conn: Connection,
    coll: Collection,
    territory: str,
    bbox: tuple[float, float, float, float] | None = None,
) -> int:
    sql = f"SELECT count(*) {coll.from_where}{_filters(coll)}"
    params = {"t": territory, "fid": None, **_bbox_params(bbox)}
    return int(conn.execute(text(sql), params).scalar_one())


def _feature(feature_id: str, geojson: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": feature_id,
        "geometry": json.loads(geojson),
        "properties": props,
    }


def features(
    conn: Connection,
    coll: Collection,
    territory: str,
    *,
    bbox: tuple[float, float, float, float] | None,
    limit: int,
    offset: int,
    as_of: date | None,
) -> list[dict[str, Any]]:
    """One page of GeoJSON features (CRS84)."""
    rows = _rows(conn, coll, territory, bbox=bbox, limit=limit, offset=offset, as_of=as_of)
    return [_feature(*row) for row in rows]


def feature(
    conn: Connection, coll: Collection, territory: str, feature_id: str, as_of: date | None
) -> dict[str, Any]:
    rows = _rows(conn, coll, territory, fid=feature_id, limit=1, as_of=as_of)
    if not rows:
        raise NotFoundError(f"Objet introuvable dans « {coll.title} ».")
    return _feature(*rows[0])


def frame(
    conn: Connection, coll: Collection, territory: str, as_of: date | None = None
) -> gpd.GeoDataFrame:
    """The whole collection as a GeoDataFrame (EPSG:4326, same values as the API's GeoJSON)."""
    rows = _rows(conn, coll, territory, as_of=as_of)
    names = [name for name, _ in coll.columns]
    records = pd.DataFrame.from_records([props for _, _, props in rows])
    if records.empty:
        records = pd.DataFrame(columns=names)
    geometry = shapely.from_geojson([geojson for _, geojson, _ in rows]) if rows else []
    return gpd.GeoDataFrame(records, geometry=gpd.GeoSeries(geometry, crs=4326), crs=4326)


def layer_date(conn: Connection, coll: Collection) -> date | None:
    """Snapshot date of the last successful import feeding this layer."""
    return conn.execute(
        text(
            "SELECT max(snapshot_date) FROM import_journal "
            "WHERE kind = ANY(CAST(:k AS text[])) AND status IN ('OK', 'PARTIEL')"
        ),
        {"k": list(coll.journal_kinds)},
    ).scalar_one()


def write_geopackage(
    conn: Connection, path: Path, territory: str, as_of: date | None = None
) -> dict[str, int]:
    """Every public collection as one layer of `path`, its source and date in gpkg_contents."""
    path.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    for coll in COLLECTIONS.values():
        data = frame(conn, coll, territory, as_of)
        day = layer_date(conn, coll)
        dated = day.isoformat() if day else "inconnue"
        figures_day = (as_of or date.today()).isoformat() if coll.temporal else None
        description = f"{coll.title}. Source : {coll.source} (données du {dated})"
        description += f" ; chiffres au {figures_day}." if figures_day else "."
        metadata = {"SOURCE": coll.source, "DATE": dated, "DESCRIPTION": description}
        if figures_day:
            metadata["DATE_CHIFFRES"] = figures_day
        write_dataframe(
            data,
            path,
            layer=coll.id,
            driver="GPKG",
            geometry_type=coll.geometry_type,
            promote_to_multi=coll.geometry_type.startswith("Multi"),
            layer_options={"IDENTIFIER": coll.title, "DESCRIPTION": description},
            layer_metadata=metadata,
            append=path.exists(),
        )
        counts[coll.id] = len(data)
    return counts
