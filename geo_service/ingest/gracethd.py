"""Import GraceTHD deliverables (GeoPackage or a folder of shapefiles and CSV): NRO and PM zones,
technical sites, emission sites (TEL → mobile sites, WIFI → bornes), GraceTHD 2.0.x and 3.x."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Connection, Engine, text

from geo_service.db.base import SRID
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import date_from_name, parse_date, problem
from geo_service.ingest.cube import refresh_rollup
from geo_service.ingest.gracethd_lists import L_SRO_ETAT, code_of, expected

# t_sitetech (2.0.x) is t_site in 3.x; sites and emission sites have no geometry of their own in
# the full model: their point is their node (st_nd_code / se_nd_code → t_noeud.nd_code).
LAYERS = ("t_znro", "t_zsro", "t_sitetech", "t_site", "t_siteemission", "t_noeud")


def _read_table(path: Path) -> pd.DataFrame:
    """One layer of a folder delivery: a shapefile, or an attribute table (CSV `;` or DBF)."""
    if path.suffix.lower() != ".csv":
        return pyogrio.read_dataframe(path)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("encodage illisible")


def _read_layers(path: Path) -> dict[str, gpd.GeoDataFrame]:
    """The GraceTHD layers present in a .gpkg or a folder (shapefiles, CSV or DBF tables), in
    Lambert-93; attribute tables get an empty geometry column."""
    raw: dict[str, pd.DataFrame] = {}
    try:
        if path.is_dir():
            rank = {".shp": 0, ".dbf": 1, ".csv": 2}
            files = sorted(
                (f for f in path.iterdir() if f.suffix.lower() in rank),
                key=lambda f: rank[f.suffix.lower()],
            )
            for table in files:
                stem = table.stem.lower()
                if stem in LAYERS and stem not in raw:
                    raw[stem] = _read_table(table)
        else:
            names = {str(n).lower(): str(n) for n, _ in pyogrio.list_layers(path)}
            for layer in LAYERS:
                if layer in names:
                    raw[layer] = pyogrio.read_dataframe(path, layer=names[layer])
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise ImportRejectedError(
            f"{path.name} : fichier GraceTHD illisible ({exc}).",
            [problem(path.name, 0, None, None, "fichier GraceTHD illisible")],
        ) from exc
    if not raw:
        raise ImportRejectedError(
            f"{path.name} : aucune table GraceTHD ({', '.join(LAYERS)}) trouvée.",
            [problem(path.name, 0, None, None, "aucune table GraceTHD reconnue")],
        )
    found: dict[str, gpd.GeoDataFrame] = {}
    for name, frame in raw.items():
        frame.columns = [c.lower() if c != "geometry" else c for c in frame.columns]
        if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame.columns:
            frame = gpd.GeoDataFrame(
                frame, geometry=gpd.GeoSeries([None] * len(frame), index=frame.index), crs=SRID
            )
        elif frame.crs is None:
            frame = frame.set_crs(SRID)
        elif frame.crs.to_epsg() != SRID:
            frame = frame.to_crs(SRID)
        found[name] = frame.reset_index(drop=True)
    if "t_sitetech" in found:  # 2.0.x name wins when a delivery carries both
        found.pop("t_site", None)
    elif "t_site" in found:
        found["t_sitetech"] = found.pop("t_site")
    return found


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    out = str(value).strip()
    return out or None


def _date(value: Any) -> date | None:
    """ISO date or 3.x timestamp; empty → None; unreadable → ValueError."""
    if _text(value) is None:
        return None
    return parse_date(value)


def _int(value: Any) -> int | None:
    raw = _text(value)
    return None if raw is None else int(float(raw))


def _problem(
    file: str, line: int, layer: str, column: str | None, value: Any, reason: str
) -> dict[str, Any]:
    """A problem naming the layer too (its column is written `layer.column`)."""
    out = problem(file, line, f"{layer}.{column}" if column else layer, value, reason)
    out["layer"] = layer
    return out


def _locate(frame: gpd.GeoDataFrame, nd_column: str, nodes: dict[str, Any]) -> gpd.GeoDataFrame:
    """Rows without a geometry of their own take their node's point (`*_nd_code` → nd_code)."""
    if nd_column not in frame.columns or not nodes:
        return frame
    geoms = list(frame.geometry)
    for i, (geom, code) in enumerate(zip(geoms, frame[nd_column], strict=True)):
        if (geom is None or geom.is_empty) and _text(code) in nodes:
            geoms[i] = nodes[str(_text(code))]
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=SRID))


def _check(
    frame: gpd.GeoDataFrame,
    layer: str,
    file: str,
    required: list[str],
    nd_column: str | None = None,
) -> list[dict[str, Any]]:
    problems = [
        _problem(file, 0, layer, column, None, "colonne obligatoire absente")
        for column in required
        if column not in frame.columns
    ]
    if problems:
        return problems
    absent = "géométrie absente" + (
        f" (ni géométrie dans {layer}, ni nœud {nd_column} dans t_noeud)" if nd_column else ""
    )
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for column in required:
            if _text(getattr(row, column)) is None:
                problems.append(_problem(file, i, layer, column, None, "valeur obligatoire vide"))
        geom = row.geometry
        if geom is None or geom.is_empty:
            problems.append(_problem(file, i, layer, "geometry", None, absent))
    key = required[0]
    duplicated = frame[key].astype(str).duplicated(keep="first")
    for i in (duplicated[duplicated].index + 1).tolist():
        problems.append(
            _problem(file, int(i), layer, key, frame[key].iloc[i - 1], "identifiant en double")
        )
    return problems


def _coded(
    frame: gpd.GeoDataFrame, layer: str, column: str, list_name: str, file: str
) -> tuple[list[str | None], list[dict[str, Any]]]:
    """Each cell of a value-list field as the standard's code (code or label accepted)."""
    if column not in frame.columns:
        return [None] * len(frame), []
    values: list[str | None] = []
    problems: list[dict[str, Any]] = []
    for i, raw in enumerate(frame[column], start=1):
        cell = _text(raw)
        code = None if cell is None else code_of(list_name, cell)
        if cell is not None and code is None:
            codes = expected(list_name)
            problems.append(
                _problem(
                    file,
                    i,
                    layer,
                    column,
                    raw,
                    f"valeur absente de la liste GraceTHD {list_name} (codes {codes}, "
                    "ou leurs libellés)",
                )
            )
        values.append(code)
    return values, problems


def _dates(
    frame: pd.DataFrame, layer: str, file: str, columns: list[str]
) -> tuple[dict[str, list[date | None]], list[dict[str, Any]]]:
    out: dict[str, list[date | None]] = {}
    problems = []
    for column in columns:
        values: list[date | None] = []
        for i, raw in enumerate(
            frame[column] if column in frame.columns else [None] * len(frame), start=1
        ):
            try:
                values.append(_date(raw))
            except ValueError:
                values.append(None)
                problems.append(_problem(file, i, layer, column, raw, "date illisible"))
        out[column] = values
    return out, problems


def _multi(geom: Any) -> str:
    geom = shapely.make_valid(geom)
    if geom.geom_type == "GeometryCollection":
        geom = shapely.union_all(
            [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        )
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return shapely.to_wkb(geom, hex=True)


def _point(geom: Any) -> str:
    return shapely.to_wkb(geom if geom.geom_type == "Point" else geom.centroid, hex=True)


def delivery_date(path: Path, snapshot_date: date | None) -> date:
    """The date of the state a deliverable describes: --date, else a date in its name."""
    found = snapshot_date or date_from_name(path.name)
    if found is None:
        raise ImportRejectedError(
            f"{path.name} : date de la livraison GraceTHD inconnue ; indiquez-la avec "
            "--date AAAA-MM-JJ (champ « date » d'un dépôt) ou mettez-la dans le nom du fichier "
            "(AAAAMMJJ).",
            [problem(path.name, 0, None, None, "date de la livraison inconnue : indiquez --date")],
        )
    return found


def _validate(
    layers: dict[str, gpd.GeoDataFrame], name: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Geometry from the nodes, required fields, value lists and dates; returns the values read
    (codes, dates) and the problems found."""
    nodes_frame = layers.get("t_noeud")
    problems: list[dict[str, Any]] = []
    nodes: dict[str, Any] = {}
    if nodes_frame is not None:
        problems += _check(nodes_frame, "t_noeud", name, ["nd_code"])
        nodes = (
            {
                str(_text(c)): g
                for c, g in zip(nodes_frame["nd_code"], nodes_frame.geometry, strict=True)
                if _text(c) is not None and g is not None and not g.is_empty
            }
            if "nd_code" in nodes_frame.columns
            else {}
        )
    read: dict[str, Any] = {"nodes": nodes}
    specs = {
        "t_znro": (["zn_code"], None),
        "t_zsro": (["zs_refpm"], None),
        "t_sitetech": (["st_code"], "st_nd_code"),
        "t_siteemission": (["se_code"], "se_nd_code"),
    }
    for layer, (required, nd_column) in specs.items():
        frame = layers.get(layer)
        if frame is None:
            continue
        if nd_column:
            frame = layers[layer] = _locate(frame, nd_column, nodes)
        problems += _check(frame, layer, name, required, nd_column)
    if (zsro := layers.get("t_zsro")) is not None:
        read["etat"], found = _coded(zsro, "t_zsro", "zs_etatpm", "l_sro_etat", name)
        problems += found
        read["zs_dates"], found = _dates(zsro, "t_zsro", name, ["zs_dateins", "zs_datcomr"])
        problems += found
        read["nblog"] = []
        for i, raw in enumerate(zsro.get("zs_nblogmt", [None] * len(zsro)), start=1):
            try:
                read["nblog"].append(_int(raw))
            except ValueError:
                read["nblog"].append(None)
                problems.append(
                    _problem(name, i, "t_zsro", "zs_nblogmt", raw, "nombre entier attendu")
                )
    if (sites := layers.get("t_sitetech")) is not None:
        read["typelog"], found = _coded(sites, "t_sitetech", "st_typelog", "l_site_type_log", name)
        problems += found
        read["st_dates"], found = _dates(sites, "t_sitetech", name, ["st_dateins"])
        problems += found
    if (emission := layers.get("t_siteemission")) is not None:
        if "se_type" not in emission.columns:
            problems.append(
                _problem(name, 0, "t_siteemission", "se_type", None, "colonne obligatoire absente")
            )
        read["se_type"], found = _coded(
            emission, "t_siteemission", "se_type", "l_site_emission_type", name
        )
        problems += found
    return read, problems


# the PM / NRO tables and their key, for the territory guard (a whitelist: never from input)
_KEYED = {"pm": "reference", "nro": "code"}
_LABEL = {"pm": "PM", "nro": "NRO"}


def _refuse_foreign(
    conn: Connection, table: str, refs: set[str], territory: str, name: str
) -> None:
    """Refuse the delivery when one of its PM / NRO references belongs to another territory:
    a territory's delivery never overwrites another's PM or NRO of the same reference."""
    if not refs:
        return
    key = _KEYED[table]
    rows = conn.execute(
        text(
            f"SELECT {key} AS ref, territory_code FROM {table} "
            f"WHERE {key} = ANY(:refs) AND territory_code <> :t ORDER BY {key}"
        ),
        {"refs": sorted(refs), "t": territory},
    ).all()
    if not rows:
        return
    label = _LABEL[table]
    listed = ", ".join(f"{r.ref} ({r.territory_code})" for r in rows[:10])
    raise ImportRejectedError(
        f"{name} refusé : {len(rows)} {label} déjà rattaché(s) à un autre territoire que le "
        f"{territory} : {listed} ; rien n'a été importé.",
        [
            problem(
                name, 0, key, r.ref, f"{label} du territoire {r.territory_code}, pas du {territory}"
            )
            for r in rows
        ],
    )


def import_gracethd_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    snapshot_date: date | None = None,
    user: str | None = None,
) -> journal.ImportResult:
    """Upsert NRO/PM and their zones, emission sites; PM state changes go to pm_history."""
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path) if path.is_file() else journal.folder_sha256(path)
    earlier = journal.previous_success(conn, "gracethd", sha, territory=territory)
    if earlier is not None:
        return journal.already_imported("gracethd", path, sha, earlier[0])
    snapshot = delivery_date(path, snapshot_date)
    layers = _read_layers(path)
    name = path.name
    read, problems = _validate(layers, name)
    if problems:
        raise ImportRejectedError(
            f"{name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    znro = layers.get("t_znro")
    if znro is not None:
        _refuse_foreign(
            conn,
            "nro",
            {_text(getattr(r, "zn_nroref", None)) or str(r.zn_code) for r in znro.itertuples()},
            territory,
            name,
        )
    if (zsro_refs := layers.get("t_zsro")) is not None:
        _refuse_foreign(
            conn, "pm", {str(ref).strip() for ref in zsro_refs["zs_refpm"]}, territory, name
        )
    journal_id = journal.open_entry(
        conn,
        kind="gracethd",
        path=path,
        sha256=sha,
        snapshot=snapshot,
        user=user,
        territory=territory,
    )
    params = {"t": territory, "j": journal_id, "d": snapshot, "u": user}
    read["file"] = name
    counts: dict[str, int] = {}
    nodes = read["nodes"]
    nro_of_zone: dict[str, str] = {}
    if znro is not None:
        for row in znro.itertuples(index=False):
            code = _text(getattr(row, "zn_nroref", None)) or str(row.zn_code)
            nro_of_zone[str(row.zn_code)] = code
            conn.execute(
                text(
                    "INSERT INTO nro (code, territory_code, import_id, zone) VALUES (:c, :t, :j, ST_GeomFromWKB(decode(:z, 'hex'), 2154)) "
                    "ON CONFLICT (code) DO UPDATE SET zone = EXCLUDED.zone, import_id = EXCLUDED.import_id "
                    "WHERE nro.zone IS DISTINCT FROM EXCLUDED.zone"
                ),
                {**params, "c": code, "z": _multi(row.geometry)},
            )
        counts["nro"] = len(znro)
    zsro = layers.get("t_zsro")
    read["zone_of_node"] = _zones_by_node(znro, zsro, nro_of_zone)
    if (sites := layers.get("t_sitetech")) is not None:
        counts.update(_import_sites(conn, sites, read, params))
    if zsro is not None:
        for i, row in enumerate(zsro.itertuples(index=False)):
            ref = str(row.zs_refpm).strip()
            etat = L_SRO_ETAT[read["etat"][i] or "PL"][0]
            amii_flag = (_text(getattr(row, "zs_amii", None)) or "N").upper() in {
                "O",
                "OUI",
                "1",
                "TRUE",
            }
            zone_code = _text(getattr(row, "zs_zn_code", None))
            nro = nro_of_zone.get(zone_code or "", zone_code)
            installed = read["zs_dates"]["zs_dateins"][i]
            conn.execute(
                text(
                    "INSERT INTO pm (reference, code_zone, nro_code, territory_code, etat, date_installation, date_prevue, "
                    "nb_logements_prevus, amii, import_id, zone) VALUES (:r, :zc, :nro, :t, :e, :di, :dp, :nb, :amii, :j, "
                    "ST_GeomFromWKB(decode(:z, 'hex'), 2154)) ON CONFLICT (reference) DO UPDATE SET "
                    "code_zone = EXCLUDED.code_zone, nro_code = EXCLUDED.nro_code, date_prevue = EXCLUDED.date_prevue, "
                    "nb_logements_prevus = EXCLUDED.nb_logements_prevus, amii = EXCLUDED.amii, zone = EXCLUDED.zone, "
                    "import_id = EXCLUDED.import_id "
                    "WHERE (pm.code_zone, pm.nro_code, pm.date_prevue, pm.nb_logements_prevus, pm.amii, pm.zone) "
                    "IS DISTINCT FROM (EXCLUDED.code_zone, EXCLUDED.nro_code, EXCLUDED.date_prevue, "
                    "EXCLUDED.nb_logements_prevus, EXCLUDED.amii, EXCLUDED.zone)"
                ),
                {
                    **params,
                    "r": ref,
                    "zc": _text(getattr(row, "zs_code", None)),
                    "nro": nro,
                    "e": etat,
                    "di": installed,
                    "dp": read["zs_dates"]["zs_datcomr"][i],
                    "nb": read["nblog"][i],
                    "amii": amii_flag,
                    "z": _multi(row.geometry),
                },
            )
            _record_pm_state(conn, ref, etat, installed, params)
        counts["pm"] = len(zsro)
    _points_from_zone_nodes(conn, znro, zsro, nodes, nro_of_zone)
    if (emission := layers.get("t_siteemission")) is not None:
        counts.update(_import_emission(conn, emission, read["se_type"], params))
    # the figures per NRO follow the PMs a delivery moves, and the NROs' names
    refresh_rollup(conn, territory)
    journal.close_entry(
        conn, journal_id, status="OK", counts=counts, problems=[], duration_ms=watch.ms()
    )
    conn.execute(text("ANALYZE pm; ANALYZE nro"))
    return journal.ImportResult(
        kind="gracethd",
        file_name=name,
        sha256=sha,
        status="OK",
        journal_id=journal_id,
        snapshot_date=snapshot,
        counts=counts,
        duration_ms=watch.ms(),
        message=f"{name} importé ({snapshot:%d/%m/%Y}) : "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
        + ".",
    )


def _import_sites(
    conn: Connection, sites: gpd.GeoDataFrame, read: dict[str, Any], params: dict[str, Any]
) -> dict[str, int]:
    """NRO and SRO technical sites (2.0.x types; 3.x sites are CLIENT / RESEAU and skipped)."""
    counts: dict[str, int] = {}
    legacy = "st_ref" in sites.columns  # our former layout named the PM / NRO in st_ref
    for i, row in enumerate(sites.itertuples(index=False)):
        kind = read["typelog"][i]
        if kind not in ("NRO", "SRO"):
            continue
        # the standard ties a site to its zone by their node (st_nd_code = zs_nd_code / zn_nd_code)
        ref = (
            _text(getattr(row, "st_ref", None))
            or read["zone_of_node"].get((kind, _text(getattr(row, "st_nd_code", None))))
            or (str(row.st_code) if legacy else None)
        )
        if ref is None:
            continue
        # sites come with the zones' references: those of another territory are refused too
        _refuse_foreign(conn, "nro" if kind == "NRO" else "pm", {ref}, params["t"], read["file"])
        point = _point(row.geometry)
        if kind == "NRO":
            conn.execute(
                text(
                    "INSERT INTO nro (code, nom, territory_code, date_installation, import_id, geom) "
                    "VALUES (:c, :n, :t, :di, :j, ST_GeomFromWKB(decode(:g, 'hex'), 2154)) "
                    "ON CONFLICT (code) DO UPDATE SET nom = EXCLUDED.nom, date_installation = EXCLUDED.date_installation, geom = EXCLUDED.geom "
                    "WHERE (nro.nom, nro.date_installation, nro.geom) IS DISTINCT FROM (EXCLUDED.nom, EXCLUDED.date_installation, EXCLUDED.geom)"
                ),
                {
                    **params,
                    "c": ref,
                    "n": _text(getattr(row, "st_nom", None)),
                    "di": read["st_dates"]["st_dateins"][i],
                    "g": point,
                },
            )
            counts["sites_nro"] = counts.get("sites_nro", 0) + 1
        elif kind == "SRO":
            conn.execute(
                text(
                    "INSERT INTO pm (reference, territory_code, etat, import_id, geom) VALUES (:c, :t, 'PLANIFIE', :j, ST_GeomFromWKB(decode(:g, 'hex'), 2154)) "
                    "ON CONFLICT (reference) DO UPDATE SET geom = EXCLUDED.geom WHERE pm.geom IS DISTINCT FROM EXCLUDED.geom"
                ),
                {**params, "c": ref, "g": point},
            )
            counts["sites_pm"] = counts.get("sites_pm", 0) + 1
    return counts


def _zones_by_node(
    znro: gpd.GeoDataFrame | None, zsro: gpd.GeoDataFrame | None, nro_of_zone: dict[str, str]
) -> dict[tuple[str, str | None], str]:
    """(site type, node) → the PM reference or NRO code of the zone on that node."""
    out: dict[tuple[str, str | None], str] = {}
    if zsro is not None and "zs_nd_code" in zsro.columns:
        for ref, node in zip(zsro["zs_refpm"], zsro["zs_nd_code"], strict=True):
            out[("SRO", _text(node))] = str(ref).strip()
    if znro is not None and "zn_nd_code" in znro.columns:
        for zone, node in zip(znro["zn_code"], znro["zn_nd_code"], strict=True):
            out[("NRO", _text(node))] = nro_of_zone[str(zone)]
    return out


def _points_from_zone_nodes(
    conn: Connection,
    znro: gpd.GeoDataFrame | None,
    zsro: gpd.GeoDataFrame | None,
    nodes: dict[str, Any],
    nro_of_zone: dict[str, str],
) -> None:
    """A PM or NRO still without a point takes its zone's node (zs_nd_code / zn_nd_code)."""
    pairs = []
    if zsro is not None and "zs_nd_code" in zsro.columns:
        pairs += [
            ("pm", "reference", str(r).strip(), n)
            for r, n in zip(zsro["zs_refpm"], zsro["zs_nd_code"], strict=True)
        ]
    if znro is not None and "zn_nd_code" in znro.columns:
        pairs += [
            ("nro", "code", nro_of_zone[str(z)], n)
            for z, n in zip(znro["zn_code"], znro["zn_nd_code"], strict=True)
        ]
    for table, key, code, node in pairs:
        point = nodes.get(_text(node) or "")
        if point is not None:
            conn.execute(
                text(
                    f"UPDATE {table} SET geom = ST_GeomFromWKB(decode(:g, 'hex'), 2154) "
                    f"WHERE {key} = :c AND geom IS NULL"
                ),
                {"c": code, "g": _point(point)},
            )


def _record_pm_state(
    conn: Connection, ref: str, etat: str, installed: date | None, params: dict[str, Any]
) -> None:
    """Open a pm_history period when the state changed, unless newer history already exists."""
    current = conn.execute(
        text(
            "SELECT etat, date_installation, valid_from FROM pm_history WHERE pm_reference = :r AND valid_to IS NULL"
        ),
        {"r": ref},
    ).first()
    if current is not None and (current.etat, current.date_installation) == (etat, installed):
        return
    if current is not None and current.valid_from > params["d"]:
        return  # an IPE snapshot more recent than this delivery already says the state
    if current is not None and current.valid_from == params["d"]:
        conn.execute(
            text("DELETE FROM pm_history WHERE pm_reference = :r AND valid_to IS NULL"), {"r": ref}
        )
    conn.execute(
        text("UPDATE pm_history SET valid_to = :d WHERE pm_reference = :r AND valid_to IS NULL"),
        {**params, "r": ref},
    )
    conn.execute(
        text(
            "INSERT INTO pm_history (pm_reference, etat, date_installation, valid_from, import_id, changed_by) VALUES (:r, :e, :di, :d, :j, :u)"
        ),
        {**params, "r": ref, "e": etat, "di": installed},
    )
    conn.execute(
        text("UPDATE pm SET etat = :e, date_installation = :di WHERE reference = :r"),
        {"r": ref, "e": etat, "di": installed},
    )


def _import_emission(
    conn: Connection, frame: gpd.GeoDataFrame, kinds: list[str | None], params: dict[str, Any]
) -> dict[str, int]:
    """TEL (radio téléphonie) → mobile sites, WIFI → bornes; the other types are not kept."""
    counts = {"sites_mobiles": 0, "bornes_wifi": 0}
    for kind, row in zip(kinds, frame.itertuples(index=False), strict=True):
        point = _point(row.geometry)
        values = {
            **params,
            "c": str(row.se_code),
            "n": _text(getattr(row, "se_nom", None)) or str(row.se_code),
            "anfr": _text(getattr(row, "se_anfr", None)),
            "g": point,
        }
        insee_sql = "(SELECT insee FROM commune WHERE territory_code = :t AND ST_Contains(geom, ST_GeomFromWKB(decode(:g, 'hex'), 2154)) LIMIT 1)"
        if kind == "TEL":
            conn.execute(
                text(
                    f"INSERT INTO mobile_site (code, nom, insee, programme, etat, anfr, import_id, geom) VALUES (:c, :n, {insee_sql}, 'AUTRE', 'EN_SERVICE', :anfr, :j, "
                    "ST_GeomFromWKB(decode(:g, 'hex'), 2154)) ON CONFLICT (code) DO UPDATE SET anfr = EXCLUDED.anfr, geom = EXCLUDED.geom "
                    "WHERE (mobile_site.anfr, mobile_site.geom) IS DISTINCT FROM (EXCLUDED.anfr, EXCLUDED.geom)"
                ),
                values,
            )
            counts["sites_mobiles"] += 1
        elif kind == "WIFI":
            conn.execute(
                text(
                    f"INSERT INTO wifi_borne (code, nom, insee, emplacement, rayon_m, import_id, geom) VALUES (:c, :n, {insee_sql}, 'EXTERIEUR', 100, :j, "
                    "ST_GeomFromWKB(decode(:g, 'hex'), 2154)) ON CONFLICT (code) DO UPDATE SET geom = EXCLUDED.geom "
                    "WHERE wifi_borne.geom IS DISTINCT FROM EXCLUDED.geom"
                ),
                values,
            )
            counts["bornes_wifi"] += 1
    return counts


def import_gracethd(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    snapshot_date: date | None = None,
    user: str | None = None,
) -> journal.ImportResult:
    """One transaction; a refused delivery is journalled apart and changes nothing."""
    return journal.run_import(
        engine,
        "gracethd",
        path,
        lambda conn, who: import_gracethd_conn(
            conn, path, territory=territory, snapshot_date=snapshot_date, user=who
        ),
        snapshot_date=snapshot_date,
        user=user,
        territory=territory,
    )
