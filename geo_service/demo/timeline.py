"""Glue between the network and the roll-out model: RIP and AMII building dates, site dates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo_service.demo import rollout
from geo_service.demo.addressing import BOURG, HAMLET, ISOLATED
from geo_service.demo.dates import NEVER, day
from geo_service.demo.ipe import BuildingDates, never
from geo_service.demo.onereuses import Targets
from geo_service.demo.territory import Territory, rng_for

AMII_FIRST, AMII_LAST = day("2016-03-01"), day("2019-06-30")


@dataclass
class Timelines:
    """Building dates of the RIP and the AMII, PM and NRO dates, and the calibrated schedule."""

    rip: BuildingDates
    amii: BuildingDates
    schedule: rollout.Schedule
    pm_install: np.ndarray
    pm_commercial: np.ndarray
    nro_install: np.ndarray


def _isolation(kind: np.ndarray) -> np.ndarray:
    """Relative chance of being a straggler: isolated houses more, bourg less (mean 1)."""
    raw = np.select([kind == ISOLATED, kind == HAMLET, kind == BOURG], [1.8, 1.0, 0.7])
    return raw / raw.mean()


def rip_timeline(
    territory: Territory, rip: pd.DataFrame, pms: pd.DataFrame, nro: pd.DataFrame, seed: int
) -> rollout.Schedule:
    """Calibrated schedule of the RIP (PM index local to the RIP PM table)."""
    rng = rng_for(seed, "rollout")
    rip_pms = pms[~pms["amii"]]
    rank_in_nro = rip_pms.groupby("nro").cumcount().to_numpy()
    rip_nro = nro[~nro["amii"]]
    host_population = territory.communes["population"].to_numpy()[rip_nro["host_pos"].to_numpy()]
    rank = rollout.pm_order(
        rng, rip_pms["nro"].to_numpy(), rank_in_nro, np.log(np.maximum(host_population, 1))
    )
    pm = rip["pm"].to_numpy()
    logements = rip["logements"].to_numpy()
    kind = rip["kind"].to_numpy()
    draws = rollout.draw(rng, len(rip_pms), len(rip))
    targets = Targets.scaled(logements.sum() / rollout.LOT_LOGEMENTS)
    return rollout.calibrate(draws, rank, pm, logements, kind, _isolation(kind), targets)


def build_timelines(
    territory: Territory, premises: pd.DataFrame, pms: pd.DataFrame, nro: pd.DataFrame, seed: int
) -> Timelines:
    """Dates for every building, PM and NRO."""
    amii_mask = premises["amii"].to_numpy()
    rip, amii = premises[~amii_mask], premises[amii_mask]
    n_rip_pm = int((~pms["amii"]).sum())
    schedule = rip_timeline(territory, rip, pms, nro, seed)
    pm = rip["pm"].to_numpy()
    rip_dates = BuildingDates(
        sign=schedule.sign,
        works=schedule.works,
        deploy=schedule.deploy,
        rad=schedule.rad,
        rad_works=schedule.rad_works,
        abandon=schedule.abandon,
        convention=schedule.convention,
        pm_install=schedule.pm_install[pm],
    )
    rng = rng_for(seed, "amii")
    amii_pms = np.flatnonzero(pms["amii"].to_numpy())
    amii_nro = nro[nro["amii"]]
    centre = amii_nro["site"].iloc[0] if len(amii_nro) else None
    distance = np.array(
        [a.distance(centre) if centre is not None else 0.0 for a in pms.loc[amii_pms, "armoire"]]
    )
    order = np.argsort(distance + rng.uniform(0, 1500, amii_pms.size), kind="stable")
    amii_install = np.empty(amii_pms.size, dtype=np.int64)
    amii_install[order] = np.linspace(AMII_FIRST, AMII_LAST - 240, amii_pms.size).astype(np.int64)
    local = amii["pm"].to_numpy() - n_rip_pm
    install_b = amii_install[local]
    deploy = install_b + rng.integers(30, 200, len(amii))
    amii_dates = BuildingDates(
        sign=install_b - 150,
        works=install_b,
        deploy=deploy,
        rad=never(len(amii)),
        rad_works=never(len(amii)),
        abandon=never(len(amii)),
        convention=np.where(amii["logements"].to_numpy() >= 4, install_b - 60, NEVER),
        pm_install=install_b,
    )
    pm_install = np.concatenate([schedule.pm_install, amii_install])
    commercial = np.concatenate(
        [
            schedule.pm_main_end,
            np.array(
                [
                    deploy[local == i].max() if (local == i).any() else amii_install[i] + 200
                    for i in range(amii_pms.size)
                ]
            ),
        ]
    )
    nro_install = np.empty(len(nro), dtype=np.int64)
    for n in range(len(nro)):
        first = pm_install[pms["nro"].to_numpy() == n].min()
        nro_install[n] = min(first - int(rng.integers(30, 120)), day("2021-06-30"))
    return Timelines(
        rip=rip_dates,
        amii=amii_dates,
        schedule=schedule,
        pm_install=pm_install,
        pm_commercial=commercial,
        nro_install=nro_install,
    )
