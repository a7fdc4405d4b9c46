"""The demo's ARCEP files: the New Deal "dispositif de couverture ciblée" sites file
(`<AAAA>_T<n>_dcc_Metropole_sites.csv`) and a subset of the "Mon réseau mobile" sites file
(`<AAAA>_T<n>_sites_Metropole.csv`), both `;`-separated UTF-8 as ARCEP publishes them.

The DCC file has no dates beyond the arrêté's publication: its status is 0/1 flags as of the
quarter's end. A few rows of a neighbouring département are included (the importer must leave
them out) and one Lot site is listed under two départements in `insee_dep`."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo_service.demo.dates import iso
from geo_service.demo.programmes import DEMO_TODAY, OPERATORS, Site, plus_24_months
from geo_service.demo.registers import in_dcc
from geo_service.demo.territory import L93, WGS84, Territory, rng_for

QUARTER = "2025_T4"
DCC_COLUMNS = (
    "num_arrete;date_publication_arrete;numero_site;nom_site_operateurs;site_physique;"
    "numero_site_physique;nom_site_arrete;id_dossier;nom_de_la_zone;region;departement;insee_dep;"
    "x_lambert_93;y_lambert_93;20801;20810;20815;20820;op_leader;sites_demandes;sites_mes;"
    "sites_6_mois;sites_6_24_mois;sites_attente_deploiement;origine_zone;num_zone_arrete"
).split(";")
SITES_COLUMNS = (
    "code_op;nom_op;num_site;id_site_partage;id_station_anfr;x;y;latitude;longitude;nom_reg;"
    "nom_dep;insee_dep;nom_com;insee_com;site_2g;site_3g;site_4g;site_5g;mes_4g_trim;site_ZB;"
    "site_DCC;site_strategique;site_capa_240mbps"
).split(";")
NOM_OP = {"20801": "Orange", "20810": "SFR", "20815": "Free Mobile", "20820": "Bouygues Telecom"}
REGIONS = {"46": "OCCITANIE", "12": "OCCITANIE", "19": "NOUVELLE-AQUITAINE"}
DEPARTEMENTS = {"46": "LOT", "19": "CORRÈZE", "12": "AVEYRON"}


def dcc_name() -> str:
    return f"{QUARTER}_dcc_Metropole_sites.csv"


def sites_name() -> str:
    return f"{QUARTER}_sites_Metropole.csv"


def site_partage(dep: str, k: int) -> str:
    """ARCEP's shared-site name of a New Deal site (`nom_site_operateurs`, `id_site_partage`)."""
    return f"ZPG{dep}{601 + k}"


def _status(site: Site) -> tuple[int, int, int, int]:
    """sites_mes, sites_6_mois, sites_6_24_mois, sites_attente_deploiement at the quarter's end:
    in service; works under way (due within about 6 months); arrêté less than 24 months ago, no
    works yet; deadline passed with no works (awaiting deployment)."""
    service = site.dates.get("service")
    if service is not None and service <= DEMO_TODAY:
        return 1, 0, 0, 0
    if site.dates.get("construction") is not None:
        return 0, 1, 0, 0
    left = plus_24_months(int(site.dates["arrete"] or 0)) - DEMO_TODAY
    return (0, 0, 1, 0) if left >= 0 else (0, 0, 0, 1)


def _dcc_row(
    site: Site, k: int, dep: str, zone: str, insee_dep: str, x: float, y: float
) -> list[str]:
    arrete = int(site.dates["arrete"] or 0)
    flags = [str(int(op in site.operators)) for op in OPERATORS]
    return [
        site.num_arrete or "NA",
        iso(arrete),
        site.code,
        site_partage(dep, k),
        "1",
        site.code,
        "NA",
        str(k + 1),
        zone,
        REGIONS.get(insee_dep[:2], "NA"),
        ", ".join(DEPARTEMENTS.get(d.strip(), "NA") for d in insee_dep.split(",")),
        insee_dep,
        str(int(round(x))),
        str(int(round(y))),
        *flags,
        site.leader or "NA",
        "1",
        *(str(v) for v in _status(site)),
        "ZBCB" if iso(arrete) < "2019-01-01" else "DCC",
        str(k + 1),
    ]


def dcc_file(
    territory: Territory, sites: list[Site], neighbours: gpd.GeoDataFrame, seed: int
) -> bytes:
    """The DCC sites file: every Lot New Deal site with an arrêté (not abandoned), plus rows of
    the neighbouring département; the Lot site nearest the border lists two départements."""
    rng = rng_for(seed, "arcep/dcc")
    dep = territory.departement
    communes = territory.communes
    listed = [s for s in sites if in_dcc(s)]
    lot = shapely.union_all(communes.geometry.values)
    across = shapely.union_all(neighbours.geometry.values) if len(neighbours) else None
    other_dep = str(neighbours["insee"].iloc[0])[:2] if len(neighbours) else ""
    border = -1
    if listed and across is not None:  # the Lot site nearest the neighbour lists both
        border = int(np.argmin([across.distance(shapely.Point(s.x, s.y)) for s in listed]))
    lines = []
    for k, s in enumerate(listed):
        crow = communes.iloc[s.pos]
        zone = (s.lieu or str(crow["nom"])).upper()
        insee_dep = f"{dep}, {other_dep}" if k == border else dep
        lines.append(_dcc_row(s, k, dep, zone, insee_dep, s.x, s.y))
    gap = neighbours.distance(lot)
    near = neighbours[(gap > 5000) & (gap < 25000)].sort_values("insee")
    for j, row in enumerate(near.head(3).itertuples(index=False)):
        other = Site(
            f"{str(row.insee)[:2]}{j + 1:02d}",
            "NEW_DEAL",
            0,
            operators=list(OPERATORS),
            leader="20810",
        )
        template = listed[j % len(listed)] if listed else None
        other.dates = {"arrete": template.dates["arrete"] if template else 0, "service": 1}
        other.num_arrete = template.num_arrete if template else "2018-1"
        pt = row.geometry
        k = len(listed) + j
        code = str(row.insee)[:2]
        lines.append(_dcc_row(other, k, code, str(row.nom).upper(), code, pt.x, pt.y))
    order = rng.permutation(len(lines))  # ARCEP sorts by arrêté, not by département
    lines = [lines[i] for i in sorted(order, key=lambda i: (lines[i][0], lines[i][2]))]
    return ("\n".join([";".join(DCC_COLUMNS), *(";".join(line) for line in lines)]) + "\n").encode(
        "utf-8"
    )


def sites_file(territory: Territory, sites: list[Site], seed: int) -> bytes:
    """ "Mon réseau mobile" rows (one per operator's station) for part of the New Deal sites in
    service and for the centre-bourg pylons; decimal point, WGS84 and Lambert-93 columns."""
    rng = rng_for(seed, "arcep/sites")
    dep = territory.departement
    communes = territory.communes
    listed = {s.code: k for k, s in enumerate(s for s in sites if in_dcc(s))}
    chosen = [
        s
        for s in sites
        if (s.code in listed and s.arcep_listed) or (s.programme == "CENTRE_BOURG" and s.stations)
    ]
    points = gpd.GeoSeries(
        gpd.points_from_xy([s.x for s in chosen], [s.y for s in chosen]), crs=L93
    )
    wgs = points.to_crs(WGS84)
    lines = []
    for s, pt, ll in zip(chosen, points, wgs, strict=True):
        crow = communes.iloc[s.pos]
        for op, number in s.stations.items():
            dcc = s.code in listed
            lines.append(
                [
                    op,
                    NOM_OP[op],
                    f"{dep}{int(rng.integers(10000, 99999))}T{int(rng.integers(1, 4))}",
                    site_partage(dep, listed[s.code]) if dcc else "",
                    number,
                    str(int(round(pt.x))),
                    str(int(round(pt.y))),
                    f"{ll.y:.5f}",
                    f"{ll.x:.5f}",
                    "Occitanie",
                    "Lot",
                    dep,
                    str(crow["nom"]),
                    str(crow["insee"]),
                    "1" if s.programme != "NEW_DEAL" else str(int(rng.random() < 0.5)),
                    "1" if s.programme != "NEW_DEAL" else "0",
                    "1",
                    "0",
                    "0",
                    "1" if s.programme == "CENTRE_BOURG" else "0",
                    "1" if dcc else "0",
                    "0",
                    "1" if dcc else "0",
                ]
            )
    return (
        "\n".join([";".join(SITES_COLUMNS), *(";".join(line) for line in lines)]) + "\n"
    ).encode("utf-8")
