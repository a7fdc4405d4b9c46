"""Roll-out timeline of the RIP, plaque by plaque, calibrated on the Lot's published figures."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from geo_service.demo.dates import NEVER, day
from geo_service.demo.onereuses import Targets, apply_exceptions

logger = logging.getLogger(__name__)

LOT_PM = 412
LOT_LOGEMENTS = 116_048
LOT_BUILDINGS = 97_927
FIRST_INSTALL = day("2018-02-15")
LAST_INSTALL = day("2023-09-30")
CHECKS = {
    "lit": day("2018-07-31"),
    "t1": day("2018-12-31"),
    "t2": day("2019-12-31"),
    "t3": day("2021-12-31"),
    "t4": day("2022-03-17"),
}


@dataclass
class Knobs:
    """Free parameters tuned by the calibration."""

    installed_2019: float = 150.0
    installed_2021: float = 330.0
    installed_2022q1: float = 345.0
    straggler_share: float = 0.2
    ramp_2018: float = 120.0
    lag_2018: float = 1.0


@dataclass
class Draws:
    """Random draws fixed once, so that calibration only moves the knobs."""

    lag: np.ndarray
    ramp: np.ndarray
    sign: np.ndarray
    u_main: np.ndarray
    u_straggler: np.ndarray
    e_delay: np.ndarray
    misc: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Schedule:
    """Per-PM and per-building dates (day numbers, NEVER when it does not happen)."""

    pm_install: np.ndarray
    pm_lit: np.ndarray
    pm_main_end: np.ndarray
    pm_sign: np.ndarray
    sign: np.ndarray
    works: np.ndarray
    deploy: np.ndarray
    rad: np.ndarray
    rad_works: np.ndarray
    abandon: np.ndarray
    convention: np.ndarray
    expensive: np.ndarray
    pending_2024: np.ndarray
    knobs: Knobs


def pm_order(
    rng: np.random.Generator, pm_nro: np.ndarray, pm_rank_in_nro: np.ndarray, nro_weight: np.ndarray
) -> np.ndarray:
    """Deployment rank of each PM: NRO by NRO (towns first, overlapping), nearest plaques first."""
    n_nro = len(nro_weight)
    z = (nro_weight - nro_weight.min()) / max(np.ptp(nro_weight), 1e-9)
    nro_key = rng.uniform(0, 1, n_nro) - 0.45 * z
    nro_start = np.empty(n_nro)
    nro_start[np.argsort(nro_key, kind="stable")] = np.linspace(0, 0.72, n_nro)
    span = rng.uniform(0.25, 0.45, n_nro)
    size = np.bincount(pm_nro, minlength=n_nro)
    position = pm_rank_in_nro / np.maximum(size[pm_nro] - 1, 1)
    key = nro_start[pm_nro] + span[pm_nro] * position + rng.uniform(-0.03, 0.03, len(pm_nro))
    rank = np.empty(len(pm_nro), dtype=np.int64)
    rank[np.argsort(key, kind="stable")] = np.arange(len(pm_nro))
    return rank


def install_days(rank: np.ndarray, knobs: Knobs, n_pm: int) -> np.ndarray:
    """Installation day of each PM from its rank and the cumulative installation curve."""
    f = n_pm / LOT_PM
    a2, a6 = knobs.installed_2019 * f, knobs.installed_2021 * f
    a7 = knobs.installed_2022q1 * f
    counts = [0.0, 40 * f, 73 * f, a2, a2 + 0.5 * (a6 - a2), a6, a7, a7 + 0.75 * (n_pm - a7), n_pm]
    days = [
        FIRST_INSTALL,
        day("2018-07-31"),
        day("2018-12-31"),
        day("2019-12-31"),
        day("2020-12-31"),
        day("2021-12-31"),
        day("2022-03-17"),
        day("2022-12-31"),
        LAST_INSTALL,
    ]
    curve = np.maximum.accumulate(np.array(counts)) + np.arange(len(counts)) * 1e-6
    return np.round(np.interp(rank + 0.5, curve, days)).astype(np.int64)


def draw(rng: np.random.Generator, n_pm: int, n_buildings: int) -> Draws:
    """All random draws of the timeline."""
    return Draws(
        lag=rng.uniform(45, 115, n_pm),
        ramp=rng.uniform(0.6, 1.4, n_pm),
        sign=rng.uniform(90, 200, n_pm),
        u_main=rng.random(n_buildings) ** 1.3,
        u_straggler=rng.random(n_buildings),
        e_delay=rng.exponential(1.0, n_buildings),
        misc={
            name: rng.random(n_buildings)
            for name in (
                "expensive",
                "pending",
                "split",
                "a_date",
                "rad",
                "clamp",
                "conv",
                "abandon",
            )
        },
    )


def base_schedule(
    knobs: Knobs, draws: Draws, rank: np.ndarray, pm: np.ndarray, isolation: np.ndarray
) -> tuple[np.ndarray, ...]:
    """PM installation/lit/main-wave-end days and each building's natural DEPLOYE day."""
    n_pm = len(rank)
    install = install_days(rank, knobs, n_pm)
    lag = draws.lag * np.where(install < day("2019-01-01"), knobs.lag_2018, 1.0)
    lit = install + np.round(lag).astype(np.int64)
    ramp_base = np.where(install < day("2019-01-01"), knobs.ramp_2018, 70.0)
    ramp = ramp_base * draws.ramp
    main_end = lit + np.round(ramp).astype(np.int64)
    main = lit[pm] + np.round(ramp[pm] * draws.u_main).astype(np.int64)
    p = np.clip(knobs.straggler_share * isolation, 0, 0.95)
    straggler = draws.u_straggler < p
    tau = 330.0 * np.clip((day("2024-12-31") - lit) / 900.0, 0.15, 1.0)
    delay = np.round(draws.e_delay * tau[pm]).astype(np.int64)
    deploy = np.where(straggler, main_end[pm] + delay, main)
    return install, lit, main_end, deploy


def build_schedule(
    knobs: Knobs,
    draws: Draws,
    rank: np.ndarray,
    pm: np.ndarray,
    logements: np.ndarray,
    kind: np.ndarray,
    isolation: np.ndarray,
    targets: Targets,
) -> Schedule:
    """Full schedule for given knobs: natural dates, then the expensive, RAD and abandoned cases."""
    install, lit, main_end, deploy = base_schedule(knobs, draws, rank, pm, isolation)
    pm_sign = install - np.round(draws.sign).astype(np.int64)
    sign = pm_sign[pm]
    works = install[pm].copy()
    convention = np.where(
        logements >= 4, sign + np.round(draws.misc["conv"] * 120).astype(np.int64), NEVER
    )
    exceptions = apply_exceptions(
        deploy, works, pm, rank, install, main_end, logements, kind, draws.misc, targets
    )
    return Schedule(
        pm_install=install,
        pm_lit=lit,
        pm_main_end=main_end,
        pm_sign=pm_sign,
        sign=sign,
        works=works,
        deploy=exceptions["deploy"],
        rad=exceptions["rad"],
        rad_works=exceptions["rad_works"],
        abandon=exceptions["abandon"],
        convention=convention,
        expensive=exceptions["expensive"],
        pending_2024=exceptions["pending_2024"],
        knobs=knobs,
    )


def measure(s: Schedule, pm: np.ndarray, logements: np.ndarray) -> dict[str, float]:
    """Figures the calibration aims at."""
    n_pm = len(s.pm_install)
    deployed = s.deploy <= CHECKS["t4"]
    per_pm = np.bincount(pm, weights=logements * deployed, minlength=n_pm)
    total = np.bincount(pm, weights=logements, minlength=n_pm)
    first_lit = np.full(n_pm, NEVER)
    np.minimum.at(first_lit, pm, s.deploy)
    return {
        "lit": float((first_lit <= CHECKS["lit"]).sum()),
        "t1_buildings": float((s.deploy <= CHECKS["t1"]).sum()),
        "t2": float(logements[s.deploy <= CHECKS["t2"]].sum()),
        "t3": float(logements[s.deploy <= CHECKS["t3"]].sum()),
        "t4": float(logements[deployed].sum()),
        "p95": float((per_pm > 0.95 * total).sum()),
    }


def calibrate(
    draws: Draws,
    rank: np.ndarray,
    pm: np.ndarray,
    logements: np.ndarray,
    kind: np.ndarray,
    isolation: np.ndarray,
    targets: Targets,
    iterations: int = 60,
) -> Schedule:
    """Tune the knobs until the timeline hits the targets (deterministic fixed-point iteration)."""
    n_pm = len(rank)
    f_pm, total = n_pm / LOT_PM, float(logements.sum())
    goal = {
        "lit": 20 * f_pm,
        "t1_buildings": 5000 * len(pm) / LOT_BUILDINGS,
        "t2": 35_000 * total / LOT_LOGEMENTS,
        "t3": 82_700 * total / LOT_LOGEMENTS,
        "t4": 0.75 * total,
        "p95": 208 * f_pm,
    }
    per_pm = total / n_pm * 0.85
    knobs = Knobs()
    schedule = build_schedule(knobs, draws, rank, pm, logements, kind, isolation, targets)
    for _ in range(iterations):
        m = measure(schedule, pm, logements)
        errors = {k: abs(m[k] / goal[k] - 1) for k in goal}
        if errors["t3"] < 0.003 and errors["p95"] < 0.008 and max(errors.values()) < 0.03:
            break
        k = knobs
        k.installed_2019 += 0.8 * (goal["t2"] - m["t2"]) / per_pm / f_pm
        k.installed_2021 += 0.8 * (goal["t3"] - m["t3"]) / per_pm / f_pm
        k.installed_2022q1 += 0.8 * (goal["t4"] - m["t4"]) / per_pm / f_pm
        k.installed_2019 = float(np.clip(k.installed_2019, 80, 380))
        k.installed_2021 = float(np.clip(k.installed_2021, k.installed_2019 + 5, 400))
        k.installed_2022q1 = float(np.clip(k.installed_2022q1, k.installed_2021 + 1, 405))
        k.straggler_share = float(
            np.clip(k.straggler_share * (m["p95"] / goal["p95"]) ** 1.5, 0.02, 0.9)
        )
        k.lag_2018 = float(np.clip(k.lag_2018 * (m["lit"] / goal["lit"]) ** 0.5, 0.5, 3.0))
        k.ramp_2018 = float(
            np.clip(k.ramp_2018 * (m["t1_buildings"] / goal["t1_buildings"]), 20, 400)
        )
        schedule = build_schedule(knobs, draws, rank, pm, logements, kind, isolation, targets)
    logger.info("Calibrage : %s → %s", knobs, measure(schedule, pm, logements))
    return schedule
