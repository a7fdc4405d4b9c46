"""Writes the files of the three programmes beside fibre (mobile, WiFi, MED) in their public
layouts: ANFR extract, ARCEP DCC and sites files, the park layer, the WiFi statistics, and the
syndicat's registers; returns them with the generator's own figures for the manifest."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo_service.demo.anfr import anfr_extract, extract_name
from geo_service.demo.arcep import dcc_file, dcc_name, sites_file, sites_name
from geo_service.demo.dates import iso
from geo_service.demo.park import park_geojson, park_outline
from geo_service.demo.programmes import DEMO_TODAY, mobile_programme
from geo_service.demo.registers import med_sites, mobile_sites, wifi_bornes, wifi_usage
from geo_service.demo.territory import L93, TERRITORIES_DIR, Territory
from geo_service.demo.writers import frame_bytes, write_bytes

logger = logging.getLogger(__name__)
NEIGHBOUR = {"46": "19"}  # a neighbouring département for the border rows (Corrèze)
WIFI_STATS = f"stats_wifi_{iso(DEMO_TODAY).replace('-', '')}.csv"


def neighbour_communes(departement: str, data_root: Path = TERRITORIES_DIR) -> gpd.GeoDataFrame:
    """Communes of the neighbouring département within 25 km of the territory, as points
    (Lambert-93) inside each of them, for the border rows. Read from the territory's data file,
    computed from the official geometry (and written) when absent; empty when neither works."""
    code = NEIGHBOUR.get(departement)
    path = data_root / departement / "communes_voisines.csv"
    if code is None:
        return gpd.GeoDataFrame({"insee": [], "nom": []}, geometry=[], crs=L93)
    if path.exists():
        frame = pd.read_csv(path, sep=";", dtype={"insee": str})
        points = gpd.points_from_xy(frame["x"], frame["y"])
        return gpd.GeoDataFrame(frame[["insee", "nom"]], geometry=points, crs=L93)
    try:
        from geo_service.reference import sources

        communes = sources.read_communes(code)[["insee", "nom", "geometry"]].to_crs(L93)
        own = sources.read_communes(departement).to_crs(L93)
    except Exception as exc:  # reference files missing: no border rows
        logger.warning("Communes voisines indisponibles (%s) : %s", code, exc)
        return gpd.GeoDataFrame({"insee": [], "nom": []}, geometry=[], crs=L93)
    outline = shapely.union_all(own.geometry.values)
    near = communes[communes.distance(outline) < 25_000].sort_values("insee")
    points = near.geometry.representative_point()
    frame = pd.DataFrame(
        {"insee": near["insee"], "nom": near["nom"], "x": points.x.round(1), "y": points.y.round(1)}
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, sep=";", index=False, lineterminator="\n")
    except OSError as exc:  # read-only install: the points are still used
        logger.warning("Communes voisines non écrites (%s) : %s", path, exc)
    return gpd.GeoDataFrame(
        frame[["insee", "nom"]].reset_index(drop=True),
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=L93,
    )


def write_programmes(territory: Territory, out: Path, seed: int) -> tuple[list[Path], dict]:
    """Every programme file under `out`; the written paths and the generator's figures."""
    dep = territory.departement
    park = park_outline(territory)
    sites = mobile_programme(territory, seed, park)
    neighbours = neighbour_communes(dep)
    written: list[Path] = []
    zipped, anfr_summary = anfr_extract(territory, sites, seed, neighbours)
    written.append(write_bytes(out / "anfr" / extract_name(), zipped))
    written.append(
        write_bytes(out / "arcep" / dcc_name(), dcc_file(territory, sites, neighbours, seed))
    )
    written.append(write_bytes(out / "arcep" / sites_name(), sites_file(territory, sites, seed)))
    if park is not None:
        written.append(write_bytes(out / "couches" / "pnr.geojson", park_geojson(park)))
    bornes = wifi_bornes(territory, seed)
    for name, frame in (
        ("sites_mobiles", mobile_sites(territory, sites)),
        ("bornes_wifi", bornes),
        ("sites_med", med_sites(territory, seed)),
    ):
        written.append(write_bytes(out / "registres" / f"{name}.csv", frame_bytes(frame)))
    written.append(
        write_bytes(out / "wifi" / WIFI_STATS, frame_bytes(wifi_usage(bornes, territory, seed)))
    )
    truth = {
        "today": iso(DEMO_TODAY),
        "anfr": anfr_summary,
        "sites": {
            s.code: {
                "programme": s.programme,
                "etat": s.etat,
                "in_park": s.in_park,
                "stations": s.stations,
                **{k: (iso(v) if v is not None else None) for k, v in s.dates.items()},
            }
            for s in sites
        },
    }
    return written, truth
