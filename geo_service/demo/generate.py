"""Entry point of the demo generator: builds the territory and writes every exchange file."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo_service.demo.dates import day, snapshot_dates
from geo_service.demo.ipe import DEPLOYE, RAD, RAD_EN_COURS, IpeTable, states_at
from geo_service.demo.network import build_network
from geo_service.demo.onereuses import expensive_list
from geo_service.demo.operations import write_operations
from geo_service.demo.outputs import gracethd_layers, missing_addresses, reference_addresses
from geo_service.demo.premises import generate_premises
from geo_service.demo.programme_files import write_programmes
from geo_service.demo.territory import TERRITORIES_DIR, Territory, load_territory, rng_for
from geo_service.demo.timeline import Timelines, build_timelines
from geo_service.demo.writers import GzipPool, frame_bytes, sha256, write_bytes, write_gpkg

logger = logging.getLogger(__name__)

AMII_SNAPSHOT = "2019-12-31"
LIST_DATE = "2022-02-15"
DONE_DATE = "2022-03-17"
DEMO_PACKAGE = Path(__file__).resolve().parent


def generator_version(departement: str) -> str:
    """Fingerprint of what the files are made from (the generator's code and the territory's
    data files), recorded in the manifest so that a folder from another version is noticed."""
    digest = hashlib.sha256()
    inputs = sorted(DEMO_PACKAGE.glob("*.py")) + sorted((TERRITORIES_DIR / departement).glob("*"))
    for path in inputs:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def manifest_is_current(folder: Path, departement: str, seed: int = 46) -> bool:
    """True when `folder` holds a complete demo written by this generator version with `seed`."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if (
        manifest.get("generator_version") != generator_version(departement)
        or manifest.get("seed") != seed
        or manifest.get("departement") != departement
    ):
        return False
    for item in manifest.get("files", []):
        path = Path(folder) / item["path"]
        if not path.is_file() or path.stat().st_size != item["bytes"]:
            return False
    return True


@contextmanager
def _steps(enabled: bool, total: int) -> Iterator[Callable[[str], None]]:
    """A step reporter: a rich progress bar when enabled, log lines otherwise."""
    started = time.perf_counter()
    if not enabled:
        yield lambda label: logger.info("%s (%.1f s)", label, time.perf_counter() - started)
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("Génération du territoire de démonstration", total=total)
        yield lambda label: bar.update(task, advance=1, description=label)


def _nearest_distance(premises: pd.DataFrame) -> np.ndarray:
    """Distance from each building to the nearest other building (isolation)."""
    points = shapely.points(premises[["x", "y"]].to_numpy())
    tree = shapely.STRtree(points)
    pairs, dist = tree.query_nearest(
        points, exclusive=True, return_distance=True, all_matches=False
    )
    out = np.full(len(points), 1e6)
    out[pairs[0]] = dist
    return out


def _truth(rip: pd.DataFrame, tl: Timelines, dates: list[str]) -> dict[str, dict[str, object]]:
    """The generator's own figures per snapshot date (RIP logements unless stated)."""
    logements = rip["logements"].to_numpy()
    pm = rip["pm"].to_numpy()
    n_pm = len(tl.schedule.pm_install)
    total_pm = np.bincount(pm, weights=logements, minlength=n_pm)
    out: dict[str, dict[str, object]] = {}
    for d in dates:
        when = day(d)
        state = states_at(tl.rip, when)
        deployed = state == DEPLOYE
        per_pm = np.bincount(pm, weights=logements * deployed, minlength=n_pm)
        lit = np.bincount(pm, weights=deployed, minlength=n_pm) > 0
        rad = np.isin(state, [RAD, RAD_EN_COURS])
        out[d] = {
            "deployed_logements": int(logements[deployed].sum()),
            "deployed_buildings": int(deployed.sum()),
            "rate": round(float(logements[deployed].sum() / logements.sum()), 4),
            "pm_installed": int((tl.schedule.pm_install <= when).sum()),
            "pm_lit": int(lit.sum()),
            "pm_over_95": int((per_pm > 0.95 * total_pm).sum()),
            "rad_logements": int(logements[rad].sum()),
            "other_not_deployed_logements": int(logements[np.isin(state, [0, 1, 2])].sum()),
            "expensive_not_deployed_logements": int(
                logements[tl.schedule.expensive & ~deployed].sum()
            ),
        }
    return out


def generate_demo(departement: str, out: Path, seed: int = 46, progress: bool = False) -> dict:
    """Write the demo exchange files of a département into out and return the manifest."""
    out = Path(out)
    dates = snapshot_dates()
    with _steps(progress, 10 + len(dates)) as step:
        territory = load_territory(departement, TERRITORIES_DIR)
        step("Communes chargées")
        premises = generate_premises(territory, seed)
        step("Immeubles placés")
        nro, pms, pm_of = build_network(territory, premises, seed)
        premises["pm"] = pm_of
        premises["nn_dist"] = _nearest_distance(premises)
        step("Zones NRO et PM construites")
        tl = build_timelines(territory, premises, pms, nro, seed)
        step("Calendrier calé")
        amii_mask = premises["amii"].to_numpy()
        rip, amii = premises[~amii_mask], premises[amii_mask]
        written: list[Path] = []
        rng = rng_for(seed, "ipe")
        long_rip = (rip["nn_dist"].to_numpy() > 150) | tl.schedule.expensive
        rip_ipe = IpeTable(
            rip, pms["ref"].to_numpy()[rip["pm"].to_numpy()], tl.rip, "ALLF", long_rip, rng
        )
        pool = GzipPool()
        for d in dates:
            path = out / "ipe" / f"IPE_ALLF_{departement}_{d.replace('-', '')}.csv.gz"
            pool.submit(path, rip_ipe.render(day(d)))
            written.append(path)
            step(f"IPE au {d}")
        if len(amii):
            amii_ipe = IpeTable(
                amii,
                pms["ref"].to_numpy()[amii["pm"].to_numpy()],
                tl.amii,
                "OORA",
                amii["nn_dist"].to_numpy() > 150,
                rng,
            )
            path = (
                out / "ipe_amii" / f"IPE_OORA_{departement}_{AMII_SNAPSHOT.replace('-', '')}.csv.gz"
            )
            pool.submit(path, amii_ipe.render(day(AMII_SNAPSHOT)))
            written.append(path)
        layers = gracethd_layers(nro, pms, tl.pm_install, tl.pm_commercial, tl.nro_install)
        written.append(write_gpkg(out / "gracethd" / f"gracethd_{departement}.gpkg", layers))
        step("GraceTHD écrit")
        files, programmes = write_programmes(territory, out, seed)
        written += files
        step("Programmes mobile, WiFi et MED écrits")
        cheres = expensive_list(rip, tl.schedule.expensive, rng_for(seed, "onereuses"))
        path = out / "onereuses" / f"prises_cheres_ALLF_{LIST_DATE.replace('-', '')}.csv"
        written.append(write_bytes(path, frame_bytes(cheres)))
        truth = _truth(rip, tl, dates)
        done = _finished_pms(rip, tl)
        missing = missing_addresses(
            rng_for(seed, "oublies"), rip, pms["zone"].to_numpy(), done, territory
        )
        reference = reference_addresses(rip, missing)
        path = out / "reference" / f"adresses_{departement}.csv"
        written.append(write_bytes(path, frame_bytes(reference)))
        step("Adresses de référence écrites")
        pool.close()
        # incidents, PM controls, abonnés, border exchanges (they read the IPE files written above)
        written += write_operations(departement, out, seed=seed)
        step("Registres d'exploitation écrits")
        manifest = _manifest(
            departement,
            seed,
            out,
            written,
            dates,
            premises,
            pms,
            nro,
            territory,
            truth,
            missing,
            cheres,
            tl,
        )
        manifest["truth"]["programmes"] = programmes
        write_bytes(
            out / "manifest.json",
            (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        )
        step("Manifeste écrit")
    return manifest


def _finished_pms(rip: pd.DataFrame, tl: Timelines) -> np.ndarray:
    """RIP PM zones already more than 95 % deployed on the reference date."""
    logements = rip["logements"].to_numpy()
    pm = rip["pm"].to_numpy()
    n_pm = len(tl.schedule.pm_install)
    deployed = states_at(tl.rip, day(DONE_DATE)) == DEPLOYE
    per_pm = np.bincount(pm, weights=logements * deployed, minlength=n_pm)
    total = np.bincount(pm, weights=logements, minlength=n_pm)
    return np.flatnonzero(per_pm > 0.95 * total)


def _manifest(
    departement: str,
    seed: int,
    out: Path,
    written: list[Path],
    dates: list[str],
    premises: pd.DataFrame,
    pms: pd.DataFrame,
    nro: pd.DataFrame,
    territory: Territory,
    truth: dict[str, dict[str, object]],
    missing: pd.DataFrame,
    cheres: pd.DataFrame,
    tl: Timelines,
) -> dict:
    """Manifest: inputs, files with checksums, counts and the generator's ground truth."""
    rip = premises[~premises["amii"]]
    amii = premises[premises["amii"]]
    knobs = tl.schedule.knobs
    return {
        "generator": "geo_service.demo",
        "generator_version": generator_version(departement),
        "departement": departement,
        "seed": seed,
        "snapshot_dates": dates,
        "files": [
            {"path": p.relative_to(out).as_posix(), "bytes": p.stat().st_size, "sha256": sha256(p)}
            for p in sorted(written)
        ],
        "counts": {
            "buildings": int(len(rip)),
            "logements": int(rip["logements"].sum()),
            "locaux_pro": int(rip["locaux_pro"].sum()),
            "locaux": int(rip["logements"].sum() + rip["locaux_pro"].sum()),
            "pm": int((~pms["amii"]).sum()),
            "nro": int((~nro["amii"]).sum()),
            "communes": int(len(territory.communes)),
            "amii": {
                "communes": len(territory.amii),
                "buildings": int(len(amii)),
                "logements": int(amii["logements"].sum()),
                "pm": int(pms["amii"].sum()),
                "nro": int(nro["amii"].sum()),
            },
            "expensive_list": {
                "buildings": int(len(cheres)),
                "logements": int(cheres["NombreLogements"].sum()),
            },
        },
        "truth": {
            "by_date": truth,
            "missing_addresses": sorted(missing["code_adresse"].tolist()),
            "calibration": {k: round(float(v), 4) for k, v in vars(knobs).items()},
        },
    }
