"""Address-buildings of the demo: counts from population, clustered placement inside communes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely

from geo_service.demo.addressing import BOURG, HAMLET, ISOLATED, address_commune
from geo_service.demo.territory import Territory, rng_for

RIP_LOGEMENTS_PER_INHABITANT = 0.866  # Lot: ~116 000 RIP logements for ~134 000 inhabitants
AMII_LOGEMENTS_PER_INHABITANT = 0.67
PRO_LOCAUX_PER_INHABITANT = 0.1045  # Lot: ~14 000 professional locaux in the RIP
PRO_ONLY_SHARE = 0.35


def collective_share(population: int) -> float:
    """Share of a commune's logements in collective buildings (5+ logements)."""
    if population <= 400:
        return 0.0
    return float(min(0.34, 0.30 * math.log10(population / 400) / math.log10(25)))


def building_sizes(rng: np.random.Generator, logements: int, population: int) -> np.ndarray:
    """Logements per residential building summing exactly to logements."""
    sizes: list[int] = []
    collective_target = int(round(logements * collective_share(population)))
    big = population > 2500
    while collective_target >= 5:
        size = 5 + int(rng.geometric(1 / (9 if big else 3))) - 1
        size = min(size, 40 if big else 12, collective_target)
        sizes.append(size)
        collective_target -= size
    rest = logements - sum(sizes)
    small = rng.choice([1, 2, 3, 4], size=max(rest, 1), p=[0.895, 0.085, 0.013, 0.007])
    cumulative = np.cumsum(small)
    cut = int(np.searchsorted(cumulative, rest, side="left"))
    small = small[: cut + 1].copy()
    if small.size:
        small[-1] -= int(cumulative[cut] - rest)
        small = small[small > 0]
    sizes.extend(int(s) for s in small)
    return np.array(sizes, dtype=np.int64)


def _uniform_in(rng: np.random.Generator, geom, n: int) -> np.ndarray:
    """n points uniformly inside a (prepared) polygon."""
    minx, miny, maxx, maxy = geom.bounds
    out: list[np.ndarray] = []
    found = 0
    while found < n:
        batch = max(64, 3 * (n - found))
        pts = np.column_stack([rng.uniform(minx, maxx, batch), rng.uniform(miny, maxy, batch)])
        pts = pts[shapely.contains_xy(geom, pts[:, 0], pts[:, 1])]
        out.append(pts)
        found += len(pts)
    return np.concatenate(out)[:n]


def _gaussian_in(
    rng: np.random.Generator, geom, centre: tuple[float, float], sigma: float, n: int
) -> np.ndarray:
    """n points around centre (two-scale Gaussian), redrawn until inside the polygon."""
    pts = np.empty((n, 2))
    todo = np.arange(n)
    wide = rng.random(n) < 0.3
    scale = np.where(wide, 2.2 * sigma, sigma)
    for _ in range(40):
        if not todo.size:
            break
        pts[todo] = np.asarray(centre) + rng.normal(size=(todo.size, 2)) * scale[todo, None]
        inside = shapely.contains_xy(geom, pts[todo, 0], pts[todo, 1])
        todo = todo[~inside]
    if todo.size:
        pts[todo] = _uniform_in(rng, geom, todo.size)
    return pts


def _hamlet_centres(
    rng: np.random.Generator, geom, bourg: tuple[float, float], count: int
) -> np.ndarray:
    """Hamlet centres spread in the commune, away from the bourg and from each other."""
    candidates = _uniform_in(rng, geom, 40 * count)
    chosen: list[np.ndarray] = []
    for min_bourg, min_other in ((1200, 700), (700, 400), (300, 150), (0, 0)):
        for p in candidates:
            if len(chosen) >= count:
                break
            if math.dist(p, bourg) < min_bourg:
                continue
            if any(math.dist(p, q) < min_other for q in chosen):
                continue
            chosen.append(p)
    return np.array(chosen[:count])


def _place_commune(
    rng: np.random.Generator, row: pd.Series, logements: int, pro_locaux: int
) -> pd.DataFrame:
    """Buildings of one commune: sizes, cluster kind, coordinates and professional locaux."""
    population = int(row["population"])
    sizes = building_sizes(rng, logements, population) if logements > 0 else np.zeros(0, int)
    pro_only_locaux = int(round(pro_locaux * PRO_ONLY_SHARE))
    pro_only: list[int] = []
    while pro_only_locaux > 0:
        size = min(int(rng.choice([1, 1, 1, 2, 2, 3])), pro_only_locaux)
        pro_only.append(size)
        pro_only_locaux -= size
    n_res, n_pro = sizes.size, len(pro_only)
    logements_arr = np.concatenate([sizes, np.zeros(n_pro, dtype=np.int64)])
    pro_arr = np.concatenate([np.zeros(n_res, dtype=np.int64), np.array(pro_only, dtype=np.int64)])
    n = n_res + n_pro
    bourg_share = float(np.clip(0.3 + 0.25 * math.log10(max(population, 30) / 100), 0.25, 0.85))
    hamlet_share = (1 - bourg_share) * 0.6
    kind = rng.choice(
        [BOURG, HAMLET, ISOLATED],
        size=n,
        p=[bourg_share, hamlet_share, 1 - bourg_share - hamlet_share],
    )
    kind[:n_res][sizes >= 5] = BOURG
    geom = row["inner"]
    centre = (row["centre"].x, row["centre"].y)
    xy = np.empty((n, 2))
    cluster_centre = np.empty((n, 2))
    in_bourg = np.flatnonzero(kind == BOURG)
    sigma = 110 + 9 * math.sqrt(max(in_bourg.size, 1))
    big_first = in_bourg[logements_arr[in_bourg] >= 5]
    big_first = big_first[np.argsort(-logements_arr[big_first], kind="stable")]
    others = rng.permutation(in_bourg[logements_arr[in_bourg] < 5])
    order = np.concatenate([big_first, others])
    pts = _gaussian_in(rng, geom, centre, sigma, order.size)
    radius = np.hypot(pts[:, 0] - centre[0], pts[:, 1] - centre[1])
    xy[order] = pts[np.argsort(radius, kind="stable")]  # collectives nearest the centre
    cluster_centre[in_bourg] = centre
    hamlet_of = np.full(n, -1)
    in_hamlet = np.flatnonzero(kind == HAMLET)
    n_hamlets = int(np.clip(round(2 + row["area_km2"] / 5 + rng.uniform(-1, 1)), 2, 12))
    hamlet_centres = _hamlet_centres(rng, geom, centre, n_hamlets)
    if in_hamlet.size and len(hamlet_centres):
        weights = rng.dirichlet(np.full(len(hamlet_centres), 1.2))
        hamlet_of[in_hamlet] = rng.choice(len(hamlet_centres), size=in_hamlet.size, p=weights)
        for h, hc in enumerate(hamlet_centres):
            members = in_hamlet[hamlet_of[in_hamlet] == h]
            if members.size:
                s = 50 + 18 * math.sqrt(members.size)
                xy[members] = _gaussian_in(rng, geom, (hc[0], hc[1]), s, members.size)
                cluster_centre[members] = hc
    else:
        kind[in_hamlet] = ISOLATED
    in_isolated = np.flatnonzero(kind == ISOLATED)
    xy[in_isolated] = _uniform_in(rng, geom, in_isolated.size)
    cluster_centre[in_isolated] = xy[in_isolated]
    attached = pro_locaux - int(pro_arr.sum())
    if attached > 0 and n_res:
        weight = np.where(kind[:n_res] == BOURG, 4.0, 1.0) * np.sqrt(sizes)
        hosts = rng.choice(n_res, size=attached, p=weight / weight.sum())
        np.add.at(pro_arr, hosts, 1)
    return pd.DataFrame(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "logements": logements_arr,
            "locaux_pro": pro_arr,
            "kind": kind,
            "hamlet": hamlet_of,
            "cluster_dist": np.hypot(
                xy[:, 0] - cluster_centre[:, 0], xy[:, 1] - cluster_centre[:, 1]
            ),
        }
    )


def _largest_remainder(values: np.ndarray, total: int) -> np.ndarray:
    """Integer allocation proportional to values summing exactly to total."""
    if values.sum() <= 0:
        return np.zeros(values.size, dtype=np.int64)
    exact = values / values.sum() * total
    base = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return base


def commune_targets(territory: Territory) -> pd.DataFrame:
    """Logements and professional locaux per commune."""
    communes = territory.communes
    pop = communes["population"].to_numpy(dtype=float)
    amii = communes["amii"].to_numpy()
    rip_total = int(round(pop[~amii].sum() * RIP_LOGEMENTS_PER_INHABITANT))
    amii_total = int(round(pop[amii].sum() * AMII_LOGEMENTS_PER_INHABITANT))
    logements = np.zeros(len(communes), dtype=np.int64)
    logements[~amii] = _largest_remainder(pop[~amii], rip_total)
    logements[amii] = _largest_remainder(pop[amii], amii_total)
    pro = _largest_remainder(pop, int(round(pop.sum() * PRO_LOCAUX_PER_INHABITANT)))
    return pd.DataFrame({"logements": logements, "locaux_pro": pro}, index=communes.index)


def generate_premises(territory: Territory, seed: int) -> pd.DataFrame:
    """All address-buildings (RIP and AMII) with coordinates, counts and addresses."""
    targets = commune_targets(territory)
    frames = []
    for pos, row in territory.communes.iterrows():
        rng = rng_for(seed, f"premises/{row['insee']}")
        frame = _place_commune(
            rng, row, int(targets.at[pos, "logements"]), int(targets.at[pos, "locaux_pro"])
        )
        if frame.empty:
            continue
        frame = address_commune(rng, frame, row, territory.communes)
        frame.insert(0, "commune_pos", pos)
        frames.append(frame)
    premises = pd.concat(frames, ignore_index=True)
    premises["x"] = premises["x"].round(2)
    premises["y"] = premises["y"].round(2)
    _separate_duplicates(premises, territory)
    communes = territory.communes
    premises["insee"] = communes["insee"].to_numpy()[premises["commune_pos"]]
    premises["amii"] = communes["amii"].to_numpy()[premises["commune_pos"]]
    premises = premises.sort_values("imb", kind="stable").reset_index(drop=True)
    return premises


def _separate_duplicates(premises: pd.DataFrame, territory: Territory) -> None:
    """Nudge buildings sharing exact coordinates so every point is distinct (Voronoi input)."""
    for step in range(1, 20):
        dup = premises.duplicated(["x", "y"], keep="first").to_numpy()
        if not dup.any():
            return
        idx = np.flatnonzero(dup)
        angle = idx * 2.399963 + step
        nx = (premises["x"].to_numpy()[idx] + 0.7 * step * np.cos(angle)).round(2)
        ny = (premises["y"].to_numpy()[idx] + 0.7 * step * np.sin(angle)).round(2)
        inner = territory.communes["inner"].to_numpy()[premises["commune_pos"].to_numpy()[idx]]
        ok = shapely.contains_xy(inner, nx, ny)
        premises.loc[idx[ok], "x"] = nx[ok]
        premises.loc[idx[ok], "y"] = ny[ok]
