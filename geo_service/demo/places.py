"""Where the demo puts things: communes found by name, communes drawn by weight, points near a
bourg inside its commune, WGS84 renderings."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.demo.territory import L93, WGS84, normalize_name

MERGED = {"boulve": "Porte-du-Quercy", "vaillac": "Cœur de Causse"}  # communes nouvelles


_KEYS: dict[int, list[str]] = {}


def _keys(communes: pd.DataFrame) -> list[str]:
    """Normalised names of the communes, computed once per table."""
    ident = hash(tuple(communes["nom"]))
    if ident not in _KEYS:
        _KEYS.clear()
        _KEYS[ident] = [normalize_name(n) for n in communes["nom"]]
    return _KEYS[ident]


def find_commune(communes: pd.DataFrame, name: str) -> int | None:
    """Position of the commune with this name (accents, case, articles and prefixes tolerated)."""
    key = normalize_name(name)
    keys = _keys(communes)
    if key not in keys and key in MERGED:
        key = normalize_name(MERGED[key])
    if key in keys:
        return keys.index(key)
    starts = [i for i, k in enumerate(keys) if key.startswith(k + " ") or k.startswith(key + " ")]
    return starts[0] if len(starts) == 1 else None


def lieu(name: str) -> str:
    """Lieu-dit recorded for a named site in a commune nouvelle."""
    return name if normalize_name(name) in MERGED else ""


def named(communes: pd.DataFrame, names: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """Positions of the named communes found, with the lieu-dit to show."""
    found = [(find_commune(communes, n), where or lieu(n)) for n, where in names]
    return [(p, where) for p, where in found if p is not None]


def pick_communes(
    rng: np.random.Generator,
    communes: pd.DataFrame,
    first: list[int],
    count: int,
    exclude: set[int],
    weight: np.ndarray,
) -> list[int]:
    """The given communes first, then others drawn by weight without repetition."""
    chosen = [p for p in dict.fromkeys(first) if p not in exclude][:count]
    pool = np.array([p for p in range(len(communes)) if p not in set(chosen) | exclude])
    need = min(count - len(chosen), pool.size)
    if need > 0:
        w = weight[pool] / weight[pool].sum()
        chosen += [int(p) for p in rng.choice(pool, size=need, replace=False, p=w)]
    return chosen


def rural_weight(communes: pd.DataFrame) -> np.ndarray:
    """Higher for sparsely populated communes, nil for towns."""
    density = communes["population"].to_numpy() / communes["area_km2"].to_numpy()
    small = communes["population"].to_numpy() < 1500
    return np.where(small, 1.0 / np.maximum(density, 1) ** 1.5, 0.0) + 1e-9


def point_near(
    rng: np.random.Generator,
    row: pd.Series,
    r_min: float,
    r_max: float,
    taken: list[tuple[float, float]] | None = None,
    spacing: float = 0.0,
) -> shapely.Point:
    """A point r_min..r_max metres from the bourg centre, inside the commune, `spacing` metres
    from the points already taken when it can."""
    c = row["centre"]
    for attempt in range(300):
        r = rng.uniform(r_min, r_max) * (0.97 ** (attempt - 150) if attempt > 150 else 1)
        a = rng.uniform(0, 2 * math.pi)
        p = shapely.Point(c.x + r * math.cos(a), c.y + r * math.sin(a))
        far = attempt > 250 or all(
            (p.x - u) ** 2 + (p.y - v) ** 2 > spacing**2 for u, v in (taken or [])
        )
        if far and row["inner"].contains(p):
            return p
    return row["inner"].point_on_surface()


def lonlat(points: list[shapely.Point]) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude and latitude (6 decimals) of Lambert-93 points."""
    g = gpd.GeoSeries(points, crs=L93).to_crs(WGS84)
    return np.round(g.x.to_numpy(), 6), np.round(g.y.to_numpy(), 6)
