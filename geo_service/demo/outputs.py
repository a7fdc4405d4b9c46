"""GraceTHD layers, the BAN-like reference address file and the addresses missing from the IPE."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.demo.addressing import HAMLET, ISOLATED, code_adresse
from geo_service.demo.dates import add_months, iso_array
from geo_service.demo.territory import L93, WGS84, Territory

MISSING_ADDRESSES = 40


def gracethd_layers(
    nro: pd.DataFrame,
    pms: pd.DataFrame,
    pm_install: np.ndarray,
    pm_commercial: np.ndarray,
    nro_install: np.ndarray,
) -> dict[str, gpd.GeoDataFrame]:
    """t_znro, t_zsro and t_sitetech as GeoDataFrames in Lambert-93."""
    zn_code = [f"ZN{c[3:]}" for c in nro["code"]]
    znro = gpd.GeoDataFrame(
        {"zn_code": zn_code, "zn_nroref": nro["code"], "zn_etat": "DEPLOYE"},
        geometry=list(nro["zone"]),
        crs=L93,
    )
    zsro = gpd.GeoDataFrame(
        {
            "zs_code": [f"ZS{r}" for r in pms["ref"]],
            "zs_refpm": pms["ref"],
            "zs_zn_code": [zn_code[n] for n in pms["nro"]],
            "zs_etatpm": "DEPLOYE",
            "zs_nblogmt": pms["logements"].astype(np.int64),
            "zs_dateins": iso_array(pm_install),
            "zs_datcomr": iso_array(add_months(pm_commercial, 3)),
            "zs_amii": np.where(pms["amii"], "O", "N"),
        },
        geometry=list(pms["zone"]),
        crs=L93,
    )
    hosts = nro["host_nom"].tolist()
    sites = gpd.GeoDataFrame(
        {
            "st_code": [f"ST{c}" for c in nro["code"]] + [f"ST{r}" for r in pms["ref"]],
            "st_nom": [f"NRO {h}" for h in hosts] + [f"Armoire {r}" for r in pms["ref"]],
            "st_typelog": ["NRO"] * len(nro) + ["SRO"] * len(pms),
            "st_ref": list(nro["code"]) + list(pms["ref"]),
            "st_dateins": list(iso_array(nro_install)) + list(iso_array(pm_install)),
        },
        geometry=list(nro["site"]) + list(pms["armoire"]),
        crs=L93,
    )
    return {"t_znro": znro, "t_zsro": zsro, "t_sitetech": sites}


def missing_addresses(
    rng: np.random.Generator,
    rip: pd.DataFrame,
    zones: np.ndarray,
    done_pms: np.ndarray,
    territory: Territory,
) -> pd.DataFrame:
    """New houses beside buildings of finished zones, absent from the operator's file."""
    used = set(rip["code_adresse"])
    numbers = rip.groupby(["insee", "street_code"])["numero"].max().to_dict()
    candidates = rip[
        rip["pm"].isin(done_pms)
        & (rip["logements"] >= 1)
        & (rip["kind"] != ISOLATED)
        & (rip["rep"] == "")
    ]
    rows: list[dict[str, object]] = []
    taken_pms: set[int] = set()
    inner = territory.communes["inner"].to_numpy()
    for i in rng.permutation(len(candidates)).tolist():
        if len(rows) >= MISSING_ADDRESSES:
            break
        b = candidates.iloc[i]
        if int(b["pm"]) in taken_pms:
            continue
        for _ in range(20):
            r, a = rng.uniform(25, 70), rng.uniform(0, 2 * math.pi)
            p = shapely.Point(
                round(b["x"] + r * math.cos(a), 2), round(b["y"] + r * math.sin(a), 2)
            )
            if inner[int(b["commune_pos"])].contains(p) and zones[int(b["pm"])].contains(p):
                break
        else:
            continue
        key = (b["insee"], b["street_code"])
        numero = int(numbers[key]) + (2 if b["kind"] == HAMLET else 1)
        ident = code_adresse(b["insee"], int(b["street_code"]), numero, "")
        if ident in used:
            continue
        numbers[key] = numero
        used.add(ident)
        taken_pms.add(int(b["pm"]))
        rows.append(
            {
                "code_adresse": ident,
                "numero": numero,
                "rep": "",
                "type_voie": b["type_voie"],
                "nom_voie": b["nom_voie"],
                "code_postal": b["code_postal"],
                "insee": b["insee"],
                "commune": b["commune"],
                "x": p.x,
                "y": p.y,
                "pm": int(b["pm"]),
            }
        )
    return pd.DataFrame(rows)


def reference_addresses(rip: pd.DataFrame, missing: pd.DataFrame) -> pd.DataFrame:
    """BAN-like file: every RIP premise's address plus the missing ones, WGS84, sorted by id."""
    both = pd.concat(
        [rip[missing.columns.drop("pm")], missing.drop(columns=["pm"])], ignore_index=True
    )
    points = gpd.GeoSeries(gpd.points_from_xy(both["x"], both["y"]), crs=L93).to_crs(WGS84)
    street = np.where(
        both["type_voie"] == "Lieu-dit",
        both["nom_voie"],
        both["type_voie"] + " " + both["nom_voie"],
    )
    frame = pd.DataFrame(
        {
            "id": both["code_adresse"],
            "numero": both["numero"].astype(str),
            "rep": both["rep"],
            "nom_voie": street,
            "code_postal": both["code_postal"],
            "code_insee": both["insee"],
            "nom_commune": both["commune"],
            "lon": [f"{v:.6f}" for v in points.x],
            "lat": [f"{v:.6f}" for v in points.y],
        }
    )
    return frame.drop_duplicates("id").sort_values("id", kind="stable").reset_index(drop=True)
