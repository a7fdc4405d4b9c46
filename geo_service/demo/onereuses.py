"""Prises onéreuses, RAD, stragglers never built and abandoned buildings of the RIP timeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo_service.demo.addressing import BOURG, HAMLET, ISOLATED
from geo_service.demo.dates import NEVER, day

LIST_DAY = day("2022-02-15")
MOTIFS = ["Distance au réseau", "Génie civil à créer", "Habitat isolé", "Traversée de voie"]


@dataclass
class Targets:
    """Logements (or buildings) the exceptional cases must add up to."""

    expensive: float
    pending_2024: float
    rad_2025: float
    built_on_request: float
    not_deployed_2025: float
    other_pending_2024: float
    abandoned_buildings: int

    @classmethod
    def scaled(cls, factor: float) -> Targets:
        """The Lot's figures scaled by the RIP's size relative to the Lot."""
        return cls(
            expensive=4600 * factor,
            pending_2024=1050 * factor,
            rad_2025=870 * factor,
            built_on_request=55 * factor,
            not_deployed_2025=200 * factor,
            other_pending_2024=160 * factor,
            abandoned_buildings=max(1, int(round(12 * factor))),
        )


def _take(order: np.ndarray, logements: np.ndarray, target: float) -> np.ndarray:
    """Leading items of order whose cumulative logements first reach target."""
    if target <= 0 or not order.size:
        return order[:0]
    cum = np.cumsum(logements[order])
    stop = int(np.searchsorted(cum, target - 0.5 * logements[order].mean(), side="left"))
    return order[: stop + 1]


def _spread(start: int | np.ndarray, end: int | np.ndarray, u: np.ndarray) -> np.ndarray:
    """Day numbers spread between start and end by uniform draws u."""
    return (np.asarray(start) + np.round(u * (np.asarray(end) - np.asarray(start)))).astype(
        np.int64
    )


def apply_exceptions(
    deploy: np.ndarray,
    works: np.ndarray,
    pm: np.ndarray,
    rank: np.ndarray,
    install: np.ndarray,
    main_end: np.ndarray,
    logements: np.ndarray,
    kind: np.ndarray,
    u: dict[str, np.ndarray],
    targets: Targets,
) -> dict[str, np.ndarray]:
    """Expensive list, RAD path, last stragglers and abandoned buildings over natural dates."""
    n = len(deploy)
    deploy = deploy.copy()
    rad = np.full(n, NEVER, dtype=np.int64)
    rad_works = np.full(n, NEVER, dtype=np.int64)
    abandon = np.full(n, NEVER, dtype=np.int64)
    late = rank[pm] / max(len(install) - 1, 1)
    candidates = np.flatnonzero((kind == ISOLATED) & (logements == 1))
    chosen = candidates[np.argsort(u["abandon"][candidates], kind="stable")][
        : targets.abandoned_buildings
    ]
    abandon[chosen] = works[chosen] + _spread(60, 360, u["clamp"][chosen])
    deploy[chosen] = NEVER
    isolation = np.select([kind == ISOLATED, kind == HAMLET, kind == BOURG], [1.0, 0.35, 0.05])
    eligible = (deploy > LIST_DAY) & (logements >= 1) & (logements <= 4) & (abandon == NEVER)
    weight = (0.05 + isolation) * late**3 + 1e-9
    key = np.where(eligible, np.log(np.maximum(u["expensive"], 1e-12)) / weight, -np.inf)
    order = np.argsort(-key, kind="stable")
    order = order[eligible[order]]
    expensive_idx = _take(order, logements, targets.expensive)
    expensive = np.zeros(n, dtype=bool)
    expensive[expensive_idx] = True
    lateness = install[pm] + np.round(u["pending"] * 200)
    by_lateness = expensive_idx[np.argsort(-lateness[expensive_idx], kind="stable")]
    pending_idx = _take(by_lateness, logements, targets.pending_2024)
    pending = np.zeros(n, dtype=bool)
    pending[pending_idx] = True
    built = np.flatnonzero(expensive & ~pending)
    lower = np.minimum(np.maximum(day("2022-04-01"), main_end[pm[built]]), day("2024-10-31"))
    deploy[built] = _spread(lower, day("2024-12-20"), u["a_date"][built])
    by_split = pending_idx[np.argsort(u["split"][pending_idx], kind="stable")]
    rad_idx = _take(by_split, logements, targets.rad_2025 + targets.built_on_request)
    other_idx = np.setdiff1d(pending_idx, rad_idx)
    deploy[pending_idx] = NEVER
    rad[rad_idx] = _spread(day("2024-10-01"), day("2025-09-30"), u["rad"][rad_idx])
    by_rad = rad_idx[np.argsort(rad[rad_idx], kind="stable")]
    on_request = _take(by_rad, logements, targets.built_on_request)
    rad_works[on_request] = rad[on_request] + _spread(20, 60, u["clamp"][on_request])
    deploy[on_request] = np.maximum(
        rad_works[on_request] + _spread(60, 120, u["clamp"][on_request]), day("2025-01-15")
    )
    waiting = np.setdiff1d(rad_idx, on_request)
    requested = waiting[u["clamp"][waiting] < 0.12]
    rad_works[requested] = np.minimum(
        rad[requested] + _spread(30, 120, u["a_date"][requested]), day("2025-12-20")
    )
    final_target = targets.not_deployed_2025 - logements[other_idx].sum()
    normal = np.flatnonzero(~expensive & (abandon == NEVER) & (logements >= 1))
    latest = normal[np.argsort(-deploy[normal], kind="stable")]
    final_idx = _take(latest, logements, final_target)
    deploy[final_idx] = NEVER
    late_normal = np.flatnonzero(
        ~expensive & (abandon == NEVER) & (deploy > day("2024-12-31")) & (deploy < NEVER)
    )
    late_normal = late_normal[np.argsort(-deploy[late_normal], kind="stable")]
    in_2025 = _take(late_normal, logements, targets.other_pending_2024)
    beyond = in_2025[deploy[in_2025] > day("2025-12-20")]
    deploy[beyond] = _spread(day("2025-01-10"), day("2025-12-15"), u["clamp"][beyond])
    earlier = np.setdiff1d(late_normal, in_2025)
    deploy[earlier] = np.maximum(
        main_end[pm[earlier]] + 20,
        _spread(day("2024-06-01"), day("2024-12-20"), u["clamp"][earlier]),
    )
    return {
        "deploy": deploy,
        "rad": rad,
        "rad_works": rad_works,
        "abandon": abandon,
        "expensive": expensive,
        "pending_2024": pending,
    }


def expensive_list(
    rip: pd.DataFrame, expensive: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """The operator's Feb 2022 list: building, commune, logements, motif and estimated cost."""
    rows = rip[expensive]
    kind = rows["kind"].to_numpy()
    dist = rows["nn_dist"].to_numpy()
    motif = np.where(
        kind == ISOLATED,
        np.where(dist > 250, MOTIFS[2], MOTIFS[0]),
        np.where(rng.random(len(rows)) < 0.7, MOTIFS[1], MOTIFS[3]),
    )
    base = np.select(
        [motif == MOTIFS[0], motif == MOTIFS[1], motif == MOTIFS[2]], [2200, 3000, 2600], 3500
    )
    cost = base + 14 * np.minimum(dist, 800) + rng.uniform(0, 1200, len(rows))
    cost = cost * (1 + 0.35 * (rows["logements"].to_numpy() - 1))
    return pd.DataFrame(
        {
            "IdentifiantImmeuble": rows["imb"].to_numpy(),
            "CodeInseeImmeuble": rows["insee"].to_numpy(),
            "NombreLogements": rows["logements"].to_numpy(),
            "Motif": motif,
            "CoutEstimeEuros": (np.round(cost / 10) * 10).astype(np.int64),
        }
    ).sort_values("IdentifiantImmeuble", kind="stable")
