"""Import GraceTHD deliverables (GeoPackage or a folder of shapefiles): NRO and PM zones, technical
sites, emission sites (TEL → mobile sites, WIFI → bornes)."""

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
from geo_service.db.enums import ETATS_PM
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import date_from_name, parse_date, problem

LAYERS = ("t_znro", "t_zsro", "t_sitetech", "t_siteemission")


def _read_layers(path: Path) -> dict[str, gpd.GeoDataFrame]:
    """The GraceTHD layers present in a .gpkg or a folder of shapefiles, in Lambert-93."""
    found: dict[str, gpd.GeoDataFrame] = {}
    try:
        if path.is_dir():
            for shp in sorted(path.iterdir()):
                if shp.suffix.lower() == ".shp" and shp.stem.lower() in LAYERS:
                    found[shp.stem.lower()] = pyogrio.read_dataframe(shp)
        else:
            names = {str(n).lower(): str(n) for n, _ in pyogrio.list_layers(path)}
            for layer in LAYERS:
                if layer in names:
                    found[layer] = pyogrio.read_dataframe(path, layer=names[layer])
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ImportRejectedError(
            f"{path.name} : fichier GraceTHD illisible ({exc}).",
            [problem(path.name, 0, None, None, "fichier GraceTHD illisible")],
        ) from exc
    if not found:
        raise ImportRejectedError(
            f"{path.name} : aucune table GraceTHD ({', '.join(LAYERS)}) trouvée.",
            [problem(path.name, 0, None, None, "aucune table GraceTHD reconnue")],
        )
    for name, frame in found.items():
        frame.columns = [c.lower() if c != "geometry" else c for c in frame.columns]
        if frame.crs is None:
            frame.set_crs(SRID, inplace=True)
        elif frame.crs.to_epsg() != SRID:
            found[name] = frame.to_crs(SRID)
    return found


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    out = str(value).strip()
    return out or None


def _check(
    frame: gpd.GeoDataFrame, layer: str, file: str, required: list[str]
) -> list[dict[str, Any]]:
    problems = []
    for column in required:
        if column not in frame.columns:
            problems.append(
                problem(file, 0, f"{layer}.{column}", None, "colonne obligatoire absente")
            )
    if problems:
        return problems
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for column in required:
            if _text(getattr(row, column)) is None:
                problems.append(
                    problem(file, i, f"{layer}.{column}", None, "valeur obligatoire vide")
                )
        geom = row.geometry
        if geom is None or geom.is_empty:
            problems.append(problem(file, i, f"{layer}.geometry", None, "géométrie absente"))
    key = required[0]
    duplicated = frame[key].astype(str).duplicated(keep="first")
    for i in (duplicated[duplicated].index + 1).tolist():
        problems.append(
            problem(file, int(i), f"{layer}.{key}", frame[key].iloc[i - 1], "identifiant en double")
        )
    return problems


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
                values.append(parse_date(raw))
            except ValueError:
                values.append(None)
                problems.append(problem(file, i, f"{layer}.{column}", raw, "date illisible"))
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
    snapshot = snapshot_date or date_from_name(path.name) or date.today()
    earlier = journal.previous_success(conn, "gracethd", sha)
    if earlier is not None:
        return journal.already_imported("gracethd", path, sha, earlier[0])
    layers = _read_layers(path)
    name = path.name
    problems: list[dict[str, Any]] = []
    znro = layers.get("t_znro")
    zsro = layers.get("t_zsro")
    sites = layers.get("t_sitetech")
    emission = layers.get("t_siteemission")
    if znro is not None:
        problems += _check(znro, "t_znro", name, ["zn_code"])
    if zsro is not None:
        problems += _check(zsro, "t_zsro", name, ["zs_refpm"])
        if "zs_etatpm" in zsro.columns:
            for i, value in enumerate(zsro["zs_etatpm"], start=1):
                etat = _text(value)
                if etat is not None and etat.upper() not in ETATS_PM:
                    problems.append(
                        problem(
                            name,
                            i,
                            "t_zsro.zs_etatpm",
                            value,
                            f"état de PM inconnu (attendu : {', '.join(ETATS_PM)})",
                        )
                    )
    if sites is not None:
        problems += _check(sites, "t_sitetech", name, ["st_code"])
    if emission is not None:
        problems += _check(emission, "t_siteemission", name, ["se_code"])
        for i, value in enumerate(
            emission.get("se_type", pd.Series([None] * len(emission))), start=1
        ):
            if (_text(value) or "").upper() not in {"TEL", "WIFI", "TV", "RADIO", "AUTRE"}:
                problems.append(
                    problem(
                        name,
                        i,
                        "t_siteemission.se_type",
                        value,
                        "type de site d'émission inconnu (TEL, WIFI…)",
                    )
                )
    zs_dates: dict[str, list[date | None]] = {}
    if zsro is not None and not problems:
        zs_dates, date_problems = _dates(zsro, "t_zsro", name, ["zs_dateins", "zs_datcomr"])
        problems += date_problems
    if problems:
        raise ImportRejectedError(
            f"{name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )

    journal_id = journal.open_entry(
        conn, kind="gracethd", path=path, sha256=sha, snapshot=snapshot, user=user
    )
    params = {"t": territory, "j": journal_id, "d": snapshot, "u": user}
    counts: dict[str, int] = {}
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
    if sites is not None:
        for row in sites.itertuples(index=False):
            kind = (_text(getattr(row, "st_typelog", None)) or "").upper()
            ref = _text(getattr(row, "st_ref", None)) or str(row.st_code)
            installed = (
                parse_date(getattr(row, "st_dateins", None)) if hasattr(row, "st_dateins") else None
            )
            point = shapely.to_wkb(
                row.geometry.centroid if row.geometry.geom_type != "Point" else row.geometry,
                hex=True,
            )
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
                        "di": installed,
                        "g": point,
                    },
                )
                counts["sites_nro"] = counts.get("sites_nro", 0) + 1
            elif kind in {"SRO", "PM"}:
                conn.execute(
                    text(
                        "INSERT INTO pm (reference, territory_code, etat, import_id, geom) VALUES (:c, :t, 'PLANIFIE', :j, ST_GeomFromWKB(decode(:g, 'hex'), 2154)) "
                        "ON CONFLICT (reference) DO UPDATE SET geom = EXCLUDED.geom WHERE pm.geom IS DISTINCT FROM EXCLUDED.geom"
                    ),
                    {**params, "c": ref, "g": point},
                )
                counts["sites_pm"] = counts.get("sites_pm", 0) + 1
    if zsro is not None:
        for i, row in enumerate(zsro.itertuples(index=False)):
            ref = str(row.zs_refpm).strip()
            etat = (_text(getattr(row, "zs_etatpm", None)) or "PLANIFIE").upper()
            amii_flag = (_text(getattr(row, "zs_amii", None)) or "N").upper() in {
                "O",
                "OUI",
                "1",
                "TRUE",
            }
            zone_code = _text(getattr(row, "zs_zn_code", None))
            nro = nro_of_zone.get(zone_code or "", zone_code)
            nblog = getattr(row, "zs_nblogmt", None)
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
                    "di": zs_dates["zs_dateins"][i],
                    "dp": zs_dates["zs_datcomr"][i],
                    "nb": None if nblog is None or pd.isna(nblog) else int(nblog),
                    "amii": amii_flag,
                    "z": _multi(row.geometry),
                },
            )
            _record_pm_state(conn, ref, etat, zs_dates["zs_dateins"][i], params)
        counts["pm"] = len(zsro)
    if emission is not None:
        counts.update(_import_emission(conn, emission, params))
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
        message=f"{name} importé : " + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".",
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
    conn: Connection, frame: gpd.GeoDataFrame, params: dict[str, Any]
) -> dict[str, int]:
    counts = {"sites_mobiles": 0, "bornes_wifi": 0}
    for row in frame.itertuples(index=False):
        kind = str(row.se_type).strip().upper()
        point = shapely.to_wkb(
            row.geometry.centroid if row.geometry.geom_type != "Point" else row.geometry, hex=True
        )
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
