"""NRO areas (groups of communes), PM zones (balanced clusters of premises) and their geometry."""

from __future__ import annotations

import heapq
import math
import string

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.demo.partition import balanced_partition
from geo_service.demo.premises import _largest_remainder
from geo_service.demo.territory import Territory, rng_for

LOGEMENTS_PER_NRO = 4500
LOT_RIP_PM = 412
LOT_RIP_LOGEMENTS = 116_000
AMII_LOGEMENTS_PER_PM = 1330
AMII_LOGEMENTS_PER_NRO = 15_000


def rip_pm_count(departement: str, logements: int) -> int:
    """412 PM in the Lot; elsewhere the same density of logements per PM."""
    if departement == "46":
        return LOT_RIP_PM
    return max(1, int(round(logements * LOT_RIP_PM / LOT_RIP_LOGEMENTS)))


def group_communes(communes: gpd.GeoDataFrame, logements: np.ndarray, k: int) -> np.ndarray:
    """Contiguous groups of communes of similar logements, grown from spread-out seeds."""
    n = len(communes)
    k = max(1, min(k, n))
    xy = np.column_stack([communes["centre"].x, communes["centre"].y])
    seeds = [int(np.argmax(logements))]
    dist = np.hypot(*(xy - xy[seeds[0]]).T)
    while len(seeds) < k:
        score = dist * np.sqrt(np.maximum(logements, 1))
        score[seeds] = -1
        nxt = int(np.argmax(score))
        seeds.append(nxt)
        dist = np.minimum(dist, np.hypot(*(xy - xy[nxt]).T))
    position = {p: i for i, p in enumerate(communes.index)}
    adjacency = [[position[m] for m in nb if m in position] for nb in communes["neighbours"]]
    label = np.full(n, -1)
    loads = np.zeros(k)
    for g, s in enumerate(seeds):
        label[s] = g
        loads[g] = logements[s]
    heap = [(loads[g], g) for g in range(k)]
    heapq.heapify(heap)
    while heap:
        load, g = heapq.heappop(heap)
        if load != loads[g]:
            continue
        members = np.flatnonzero(label == g)
        frontier = sorted({m for c in members for m in adjacency[c] if label[m] < 0})
        if not frontier:
            continue
        seed_xy = xy[seeds[g]]
        best = min(frontier, key=lambda m: (math.dist(xy[m], seed_xy), m))
        label[best] = g
        loads[g] += logements[best]
        heapq.heappush(heap, (loads[g], g))
    for m in np.flatnonzero(label < 0):  # islands: nearest seed
        label[m] = int(np.argmin([math.dist(xy[m], xy[s]) for s in seeds]))
    return label


def _pm_prefixes(rng: np.random.Generator, count: int, forbidden: set[str]) -> list[str]:
    """Unique 3-letter PM reference prefixes."""
    letters = np.array(list(string.ascii_uppercase))
    out: list[str] = []
    while len(out) < count:
        prefix = "".join(rng.choice(letters, 3))
        if prefix not in forbidden and prefix not in out:
            out.append(prefix)
    return out


def _commune_pieces(
    premises: pd.DataFrame, pm: np.ndarray, territory: Territory
) -> dict[int, list[shapely.Geometry]]:
    """Per PM, its pieces: Voronoi cells of its premises inside each commune, dissolved."""
    pieces: dict[int, list[shapely.Geometry]] = {}
    geoms = territory.communes.geometry.to_numpy()
    for pos, idx in premises.groupby("commune_pos").indices.items():
        labels = pm[idx]
        commune = geoms[pos]
        distinct = np.unique(labels)
        if distinct.size == 1:
            pieces.setdefault(int(distinct[0]), []).append(commune)
            continue
        xy = premises[["x", "y"]].to_numpy()[idx]
        points = shapely.multipoints(xy)
        cells = shapely.get_parts(
            shapely.voronoi_polygons(
                points, extend_to=shapely.buffer(commune.envelope, 10), ordered=True
            )
        )
        for label in distinct.tolist():
            merged = shapely.coverage_union_all(cells[labels == label])
            piece = shapely.intersection(merged, commune)
            if not piece.is_empty:
                pieces.setdefault(label, []).append(piece)
    return pieces


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep the polygonal parts, as a MultiPolygon."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    flat = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(flat)


def _armoire(zone: shapely.Geometry, xy: np.ndarray, weight: np.ndarray) -> shapely.Point:
    """PM cabinet point: beside the premise nearest the zone's weighted centre, inside the zone."""
    centre = np.average(xy, axis=0, weights=np.maximum(weight, 0.05))
    near = xy[int(np.argmin(((xy - centre) ** 2).sum(axis=1)))]
    for angle in np.linspace(0, 2 * math.pi, 8, endpoint=False):
        for r in (12.0, 6.0, 3.0):
            p = shapely.Point(
                round(near[0] + r * math.cos(angle), 2), round(near[1] + r * math.sin(angle), 2)
            )
            if zone.contains(p):
                return p
    return shapely.Point(near)


def build_area(
    territory: Territory, premises: pd.DataFrame, n_nro: int, n_pm: int, seed: int, tag: str
) -> tuple[np.ndarray, np.ndarray, list[shapely.Geometry], np.ndarray]:
    """NRO label per commune, PM label per premise, PM zones and NRO of each PM, for one area."""
    communes = territory.communes
    area_pos = np.sort(premises["commune_pos"].unique())
    commune_logements = (
        premises.groupby("commune_pos")["logements"].sum().reindex(area_pos).to_numpy()
    )
    nro_of_commune = group_communes(communes.loc[area_pos], commune_logements.astype(float), n_nro)
    n_nro = int(nro_of_commune.max()) + 1
    nro_of_premise = pd.Series(nro_of_commune, index=area_pos)[premises["commune_pos"]].to_numpy()
    w = premises["logements"].to_numpy().astype(float)
    nro_loads = np.bincount(nro_of_premise, weights=w, minlength=n_nro)
    pm_per_nro = np.maximum(_largest_remainder(nro_loads, n_pm), 1)
    xy = premises[["x", "y"]].to_numpy()
    pm = np.empty(len(premises), dtype=np.int64)
    pm_nro: list[int] = []
    for nro in range(n_nro):
        idx = np.flatnonzero(nro_of_premise == nro)
        local = balanced_partition(xy[idx], w[idx], int(pm_per_nro[nro]))
        used = np.unique(local)
        remap = {int(u): len(pm_nro) + j for j, u in enumerate(used)}
        pm[idx] = [remap[int(v)] for v in local]
        pm_nro.extend([nro] * used.size)
    pieces = _commune_pieces(premises, pm, territory)
    zones = [_polygonal(shapely.union_all(pieces[i])) for i in range(len(pm_nro))]
    nro_arr = np.array(pm_nro)
    for _ in range(4):
        zones, moved = _merge_fragments(zones, pm, xy, nro_arr)
        if not moved:
            break
    return nro_of_commune, pm, zones, nro_arr


def _merge_fragments(
    zones: list[shapely.Geometry], pm: np.ndarray, xy: np.ndarray, pm_nro: np.ndarray
) -> tuple[list[shapely.Geometry], int]:
    """Give each detached zone part (and its premises) to the same-NRO neighbour it borders most."""
    parts, owner = shapely.get_parts(np.array(zones, dtype=object), return_index=True)
    areas = shapely.area(parts)
    main = np.zeros(len(parts), dtype=bool)
    for z in range(len(zones)):
        idx = np.flatnonzero(owner == z)
        if idx.size:
            main[idx[np.argmax(areas[idx])]] = True
    tree = shapely.STRtree(parts)
    new_owner = owner.copy()
    moved = 0
    for f in np.flatnonzero(~main).tolist():
        candidates = tree.query(parts[f], predicate="intersects")
        candidates = candidates[
            (owner[candidates] != owner[f]) & (pm_nro[owner[candidates]] == pm_nro[owner[f]])
        ]
        if not candidates.size:
            continue
        shared = shapely.length(shapely.intersection(parts[candidates], parts[f]))
        shared = shared + main[candidates] * 1e-3
        if shared.max() <= 0:
            continue
        target = int(owner[candidates[int(np.argmax(shared))]])
        inside = np.flatnonzero(pm == owner[f])
        inside = inside[shapely.contains_xy(parts[f], xy[inside, 0], xy[inside, 1])]
        pm[inside] = target
        new_owner[f] = target
        moved += 1
    merged = [_polygonal(shapely.union_all(parts[new_owner == z])) for z in range(len(zones))]
    return merged, moved


def _site_point(commune_row: pd.Series) -> shapely.Point:
    """NRO building: a few tens of metres from the bourg centre, inside the commune."""
    c = commune_row["centre"]
    for dx, dy in ((40, 25), (-40, 25), (25, -40), (-25, -40), (5, 5)):
        p = shapely.Point(round(c.x + dx, 2), round(c.y + dy, 2))
        if commune_row["inner"].contains(p):
            return p
    return c


def _area_tables(
    territory: Territory, premises: pd.DataFrame, seed: int, amii: bool, first_pm: int
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """NRO and PM tables of one area (RIP or AMII) and the global PM index of its premises."""
    communes = territory.communes
    logements = int(premises["logements"].sum())
    if amii:
        n_pm = max(1, int(round(logements / AMII_LOGEMENTS_PER_PM)))
        n_nro = max(1, int(round(logements / AMII_LOGEMENTS_PER_NRO)))
    else:
        n_pm = rip_pm_count(territory.departement, logements)
        n_nro = max(1, int(round(logements / LOGEMENTS_PER_NRO)))
    tag = "amii" if amii else "rip"
    nro_of_commune, pm, zones, pm_nro = build_area(territory, premises, n_nro, n_pm, seed, tag)
    area_pos = np.sort(premises["commune_pos"].unique())
    w = premises["logements"].to_numpy()
    xy = premises[["x", "y"]].to_numpy()
    nro_rows = []
    for nro in range(int(nro_of_commune.max()) + 1):
        members = area_pos[nro_of_commune == nro]
        host = members[int(np.argmax(communes.loc[members, "population"].to_numpy()))]
        nro_rows.append(
            {
                "host_pos": int(host),
                "insee": communes.at[host, "insee"],
                "host_nom": communes.at[host, "nom"],
                "site": _site_point(communes.loc[host]),
            }
        )
    nro = pd.DataFrame(nro_rows)
    nro = nro.sort_values("insee", kind="stable").reset_index().rename(columns={"index": "label"})
    base = 900 if amii else 0
    nro["code"] = [f"NRO{territory.departement}{base + i + 1:03d}" for i in range(len(nro))]
    nro["zone"] = [
        _polygonal(shapely.union_all([zones[p] for p in np.flatnonzero(pm_nro == lbl)]))
        for lbl in nro["label"]
    ]
    nro["amii"] = amii
    rng = rng_for(seed, f"pm-refs/{tag}")
    prefixes = _pm_prefixes(rng, len(nro), {"ORC"})
    pm_rows: list[dict[str, object]] = []
    for row_i, lbl in enumerate(nro["label"]):
        site = nro.at[row_i, "site"]
        members = np.flatnonzero(pm_nro == lbl)
        armoires = {}
        for p in members.tolist():
            idx = np.flatnonzero(pm == p)
            armoires[p] = _armoire(zones[p], xy[idx], w[idx])
        members = sorted(members.tolist(), key=lambda p: (armoires[p].distance(site), p))
        for j, p in enumerate(members):
            # the département leads the reference: two territories' demos share one database
            # (PM references are unique across territories) and draw the same prefixes
            local = f"ORC{len(pm_rows) + 1:02d}" if amii else f"{prefixes[row_i]}{j + 1:02d}"
            ref = f"{territory.departement}{local}"
            pm_rows.append(
                {
                    "local": p,
                    "ref": ref,
                    "nro": row_i,
                    "zone": zones[p],
                    "armoire": armoires[p],
                    "logements": int(w[pm == p].sum()),
                    "buildings": int((pm == p).sum()),
                }
            )
    pms = pd.DataFrame(pm_rows)
    pms["amii"] = amii
    local_to_global = np.empty(len(pms), dtype=np.int64)
    local_to_global[pms["local"].to_numpy()] = first_pm + np.arange(len(pms))
    pms = pms.drop(columns=["local"])
    nro = nro.drop(columns=["label"])
    return nro, pms, local_to_global[pm]


def build_network(
    territory: Territory, premises: pd.DataFrame, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """NRO and PM tables for the RIP then the AMII, and each premise's PM (global index)."""
    pm_of_premise = np.empty(len(premises), dtype=np.int64)
    nro_tables: list[pd.DataFrame] = []
    pm_tables: list[pd.DataFrame] = []
    for amii in (False, True):
        mask = premises["amii"].to_numpy() == amii
        if not mask.any():
            continue
        area = premises[mask]
        first_pm = sum(len(t) for t in pm_tables)
        first_nro = sum(len(t) for t in nro_tables)
        nro, pms, pm_idx = _area_tables(territory, area, seed, amii, first_pm)
        pms["nro"] += first_nro
        nro_tables.append(nro)
        pm_tables.append(pms)
        pm_of_premise[mask] = pm_idx
    nro = pd.concat(nro_tables, ignore_index=True)
    pms = pd.concat(pm_tables, ignore_index=True)
    return nro, pms, pm_of_premise
