"""Demo operating registers (issue #14), calibrated on LOT_FACTS.md: the délégataire's
incidents and PM controls for the whole DSP in 2023 (1 557 incidents; 1 297 PM controlled of
1 308) and the territory's share of them, abonnés per commune (18 700 at end 2021, ~24 % in
March 2022, 42 % mid-2024) and the border-exchange sheets (16 ↔ 34 buildings).

Reads the demo's IPE snapshots in `folder/ipe/` when they are there (PM references, raccordables
per commune); without them the territory's rows name communes only. Writes files, never the DB.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from geo_service.demo.territory import Territory, load_territory, rng_for
from geo_service.demo.writers import frame_bytes, write_bytes

YEAR = 2023
DSP_INCIDENTS = 1557
DSP_PM, TERRITORY_PM = 1308, {"46": 412}
DSP_CONTROLLED = 1297
# (date, take-up rate or fixed abonnés, the délégataire's stated raccordables when published)
RELEVES = (
    (dt.date(2021, 12, 31), 18_700, 82_700),
    (dt.date(2022, 3, 31), 0.24, None),
    (dt.date(2022, 12, 31), 0.30, None),
    (dt.date(2023, 12, 31), 0.37, None),
    (dt.date(2024, 6, 30), 0.42, None),
)
FALLBACK_RACCORDABLES = {dt.date(2022, 3, 31): 86_000, dt.date(2022, 12, 31): 100_000}
FALLBACK_RACCORDABLES |= {dt.date(2023, 12, 31): 112_000, dt.date(2024, 6, 30): 114_000}
# category: (share of incidents, commitment in hours as in engagements.toml, causes)
CATEGORIES = {
    "raccordement": (0.70, 48, ("Câble de branchement arraché", "PTO défectueuse", "Élagage")),
    "distribution": (0.20, 24, ("Travaux de tiers", "Chute d'arbre", "Rongeurs")),
    "pm": (0.07, 8, ("Coupure électrique", "Vandalisme", "Erreur de brassage")),
    "transport": (0.03, 4, ("Rupture de câble", "Travaux de voirie")),
}
FAI_MAJORS = ("Orange", "SFR", "Free", "Bouygues Telecom")
FAI_LOCAL = ("Nordnet", "K-Net", "Coriolis", "Vidéofutur")
# neighbour: (territory buildings it serves, outside buildings the délégataire serves, INSEE
# prefix of the outside ones or None for the AMII, where the sheets' communes lie)
BORDERS = {
    "Corrèze": (4, 3, "19", "nord"),
    "Lot-et-Garonne": (2, 4, "47", "ouest"),
    "Tarn-et-Garonne": (6, 2, "82", "sud"),
    "AMII (Orange)": (4, 25, None, "amii"),
}
EXCHANGE_COLUMNS = (
    "secteur;voisin;sens;identifiant_immeuble;adresse;code_insee;pm;pb;lien;longueur_m;mode;"
    "statut;date_cosignature"
).split(";")


def write_operations(territory_code: str, folder: Path, *, seed: int) -> list[Path]:
    """Write the four registers under folder/"exploitation"/ and return the files written."""
    territory = load_territory(territory_code)
    out = Path(folder) / "exploitation"
    ipe = _ipe_snapshots(Path(folder))
    pms = _rip_pms(ipe)
    written = [*_incidents(territory, out, pms, seed), *_controls(territory, out, pms, seed)]
    written.append(_abonnes(territory, out, ipe, seed))
    written.append(_exchanges(territory, out, seed))
    return written


# --- inputs from the demo's own files --------------------------------------------------------


def _ipe_snapshots(folder: Path) -> dict[dt.date, pd.DataFrame]:
    """The RIP IPE snapshots by date (only the columns needed), if the folder has them."""
    out = {}
    for path in sorted((folder / "ipe").glob("IPE_*_*.csv*")):
        stamp = path.name.split("_")[-1].split(".")[0]
        day = dt.date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
        out[day] = path
    frames = {}
    wanted = {_latest(out, d) for d, _v, _s in RELEVES}
    for day in sorted(d for d in wanted if d is not None):
        frames[day] = pd.read_csv(
            out[day],
            sep=";",
            dtype=str,
            usecols=[
                "CodeInseeImmeuble",
                "NombreLogementsAdresseIPE",
                "EtatImmeuble",
                "ReferencePM",
            ],
        )
    return frames


def _latest(known: Iterable[dt.date], day: dt.date) -> dt.date | None:
    before = [d for d in known if d <= day]
    return max(before) if before else None


def _rip_pms(ipe: dict[dt.date, pd.DataFrame]) -> list[str]:
    if not ipe:
        return []
    last = ipe[max(ipe)]
    return sorted(last["ReferencePM"].dropna().unique().tolist())


def _raccordables(ipe: dict[dt.date, pd.DataFrame], day: dt.date) -> pd.Series | None:
    snapshot = _latest(ipe, day)
    if snapshot is None:
        return None
    frame = ipe[snapshot]
    deployed = frame[frame["EtatImmeuble"] == "DEPLOYE"]
    return (
        deployed["NombreLogementsAdresseIPE"]
        .astype(int)
        .groupby(deployed["CodeInseeImmeuble"])
        .sum()
    )


# --- incidents and controls ------------------------------------------------------------------


def _territory_share(territory: Territory, total: int) -> int:
    return round(total * TERRITORY_PM.get(territory.departement, 0) / DSP_PM)


def _incidents(territory: Territory, out: Path, pms: list[str], seed: int) -> list[Path]:
    rng = rng_for(seed, "exploitation-incidents")
    ours = _territory_share(territory, DSP_INCIDENTS)
    codes = list(CATEGORIES)
    category = rng.choice(codes, size=DSP_INCIDENTS, p=[CATEGORIES[c][0] for c in codes])
    start = dt.datetime(YEAR, 1, 1)
    opened = [
        start + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 365 * 24 * 60, DSP_INCIDENTS)
    ]
    # restoration: the commitment times a log-normal factor (about 4 in 5 within it)
    factor = rng.lognormal(mean=-0.45, sigma=0.55, size=DSP_INCIDENTS)
    rip = territory.rip
    weights = rip["population"].to_numpy(float) if "population" in rip else np.ones(len(rip))
    communes = rip["insee"].to_numpy()[
        rng.choice(len(rip), size=DSP_INCIDENTS, p=weights / weights.sum())
    ]
    rows = []
    for i in range(DSP_INCIDENTS):
        code = str(category[i])
        hours = CATEGORIES[code][1] * factor[i]
        restored = opened[i] + dt.timedelta(minutes=max(15, round(hours * 60)))
        local = i < ours
        rows.append(
            {
                "reference": f"ALLF-{YEAR}-{i + 1:05d}",
                "pm": (
                    pms[int(rng.integers(len(pms)))]
                    if local and pms
                    else ""
                    if local
                    else f"{'AV' if i % 3 else 'LZ'}{int(rng.integers(1, 449)):03d}"
                ),
                "code_insee": "" if not local or pms else str(communes[i]),
                "categorie": code,
                "ouverture": opened[i],
                "retablissement": restored,
                "cause": str(rng.choice(CATEGORIES[code][2])),
                "source": "signalement" if rng.random() < 0.4 else "délégataire",
            }
        )
    frame = pd.DataFrame(rows).sort_values("ouverture", kind="stable")
    dsp = frame.assign(
        perimetre="dsp",
        ouverture=frame["ouverture"].map(lambda t: t.strftime("%Y-%m-%dT%H:%M")),
        retablissement=frame["retablissement"].map(lambda t: t.strftime("%Y-%m-%dT%H:%M")),
    )
    columns = ["reference", "perimetre", "pm", "code_insee", "categorie", "ouverture"]
    columns += ["retablissement", "cause", "source"]
    # the délégataire's export: comma-separated, Windows-1252, CRLF
    text = dsp[columns].to_csv(index=False, sep=",", lineterminator="\r\n")
    written = [write_bytes(out / f"incidents_dsp_{YEAR}.csv", text.encode("cp1252"))]
    local_rows = frame[frame["reference"].str[-5:].astype(int) <= ours]
    lot = local_rows.assign(
        perimetre=territory.departement,
        ouverture=local_rows["ouverture"].map(lambda t: t.strftime("%d/%m/%Y %H:%M")),
        retablissement=local_rows["retablissement"].map(lambda t: t.strftime("%d/%m/%Y %H:%M")),
    )
    if len(lot):  # a territory outside the DSP has no register of its own (an empty one is refused)
        path = out / f"incidents_{territory.departement}_{YEAR}.csv"
        written.append(write_bytes(path, frame_bytes(lot[columns])))
    return written


def _controls(territory: Territory, out: Path, pms: list[str], seed: int) -> list[Path]:
    rng = rng_for(seed, "exploitation-controles")
    ours = TERRITORY_PM.get(territory.departement, 0)
    lot_done = _territory_share(territory, DSP_CONTROLLED)
    # without the IPE the territory's PM are named here, for the DSP-wide list only
    pool = pms or [f"LOT{i:03d}" for i in range(1, ours + 1)]
    lot_pms = list(rng.permutation(pool)[:lot_done])
    others = [f"{'AV' if i % 3 else 'LZ'}{i:03d}" for i in range(1, DSP_PM - ours + 1)]
    others_done = list(rng.permutation(others)[: DSP_CONTROLLED - len(lot_pms)])
    rows = []
    for pm in [*lot_pms, *others_done]:
        result = rng.choice(["conforme", "réserves", "non conforme"], p=[0.86, 0.09, 0.05])
        day = dt.date(YEAR, 3, 1) + dt.timedelta(days=int(rng.integers(0, 270)))
        remark = {"conforme": "", "réserves": "Étiquetage incomplet"}.get(
            str(result), "Porte ou serrure à reprendre"
        )
        rows.append(
            {
                "campagne": YEAR,
                "perimetre": "dsp",
                "pm": pm,
                "date_controle": day.isoformat(),
                "resultat": result,
                "remarques": remark,
            }
        )
    frame = pd.DataFrame(rows)
    written = [write_bytes(out / f"controles_pm_dsp_{YEAR}.csv", frame_bytes(frame))]
    if pms and lot_pms:  # the territory's own register: its PM only (none outside the DSP)
        lot = frame[frame["pm"].isin(lot_pms)].assign(perimetre=territory.departement)
        path = out / f"controles_pm_{territory.departement}_{YEAR}.csv"
        written.append(write_bytes(path, frame_bytes(lot)))
    return written


# --- take-up ---------------------------------------------------------------------------------


def _allocate(total: int, weights: np.ndarray, caps: np.ndarray | None) -> np.ndarray:
    """Split `total` proportionally to `weights` (largest remainders), never above `caps`."""
    share = np.zeros(len(weights), dtype=np.int64)
    left = total
    active = weights > 0
    while left > 0 and active.any():
        w = np.where(active, weights, 0.0)
        exact = left * w / w.sum()
        part = np.floor(exact).astype(np.int64)
        order = np.argsort(-(exact - part), kind="stable")[: left - part.sum()]
        part[order] += 1
        if caps is not None:
            part = np.minimum(part, caps - share)
        share += part
        left = total - int(share.sum())
        if caps is not None:
            active &= share < caps
        if part.sum() == 0:
            break
    return share


def _abonnes(territory: Territory, out: Path, ipe: dict[dt.date, pd.DataFrame], seed: int) -> Path:
    rng = rng_for(seed, "exploitation-abonnes")
    rip = territory.rip.reset_index(drop=True)
    insee = rip["insee"].to_numpy()
    # résidences secondaires are hard to win: a lasting factor per commune
    appetite = rng.lognormal(mean=0.0, sigma=0.3, size=len(rip))
    local = rng.choice(FAI_LOCAL, size=len(rip))
    rows: list[tuple[object, ...]] = []
    for day, target, stated in RELEVES:
        ours = _raccordables(ipe, day)
        if ours is not None:
            caps = ours.reindex(insee).fillna(0).to_numpy(np.int64)
            base = int(caps.sum())
            weights = caps * appetite
        else:
            caps = None
            base = stated or FALLBACK_RACCORDABLES[day]
            weights = rip["population"].to_numpy(float) * appetite
        declared = stated or base
        abonnes = int(target) if target >= 1 else round(target * declared)
        per_commune = _allocate(abonnes, weights, caps)
        majors = "|".join(FAI_MAJORS if day.year >= 2022 else FAI_MAJORS[:3])
        rows.append((day, "", abonnes, declared, majors))
        rows += [
            (day, insee[i], int(n), "", f"{majors}|{local[i]}" if n >= 50 else majors)
            for i, n in enumerate(per_commune)
            if n
        ]
    frame = pd.DataFrame(rows, columns=["date", "code_insee", "abonnes", "raccordables", "fai"])
    frame.insert(1, "perimetre", territory.departement)
    return write_bytes(out / f"abonnes_{territory.departement}.csv", frame_bytes(frame))


# --- border exchanges ------------------------------------------------------------------------


def _border_communes(territory: Territory, side: str) -> list[str]:
    """Communes of the territory on one side (by their centres), or the AMII's RIP neighbours."""
    rip = territory.rip
    if side == "amii":
        epci = territory.communes[territory.communes["insee"].isin(territory.amii)]["epci_siren"]
        return sorted(rip[rip["epci_siren"].isin(set(epci))]["insee"])[:2]
    x = rip["centre"].x.to_numpy()
    y = rip["centre"].y.to_numpy()
    key = {"nord": -y, "ouest": x, "sud": y}[side]
    return [str(rip["insee"].to_numpy()[i]) for i in np.argsort(key, kind="stable")[:2]]


def _exchanges(territory: Territory, out: Path, seed: int) -> Path:
    rng = rng_for(seed, "exploitation-echanges")
    names = dict(zip(territory.communes["insee"], territory.communes["nom"], strict=True))
    montcabrier = next((c for c, n in names.items() if n == "Montcabrier"), None)
    rows: list[list[object]] = []
    for neighbour, (served_by_them, served_by_us, prefix, side) in BORDERS.items():
        communes = _border_communes(territory, side)
        if neighbour == "Lot-et-Garonne" and montcabrier:
            communes = [montcabrier]
        if not communes or (prefix is None and not territory.amii):
            continue  # another territory: no AMII, or no commune on that side
        signed = dt.date(2022, 1, 1) + dt.timedelta(days=int(rng.integers(30, 330)))
        sector = f"{names.get(communes[0], communes[0])} - limite {neighbour}"
        pm = f"{prefix or 'AM'}X{int(rng.integers(1, 99)):02d}"
        lieu = "Lacaze Basse" if communes[0] == montcabrier else f"Lieu-dit {len(rows) + 1}"
        link, metres = ("PB27650-PB27668", 1100.0) if communes[0] == montcabrier else (None, None)
        for k in range(served_by_them):
            insee = communes[k % len(communes)]
            rows.append(
                [sector, neighbour, "servi par le voisin", f"IMB/{insee}/X/V{k:03d}", lieu, insee]
                + [pm, f"PB{27668 + k}", link or "", metres or "", "aérien", "à créer", signed]
            )
        amii = sorted(territory.amii)
        for k in range(served_by_us):
            insee = (
                amii[k % len(amii)]
                if prefix is None
                else f"{prefix}{int(rng.integers(1, 300)):03d}"
            )
            extension = "Extension voisin" if communes[0] == montcabrier else ""
            rows.append(
                [sector, neighbour, "servi par le délégataire", f"IMB/{insee}/X/D{k:03d}", ""]
                + [insee, "DLW02", f"PB{27650 + k}", extension, 320.0 if extension else ""]
                + ["souterrain" if extension else "aérien", "existant", signed]
            )
    frame = pd.DataFrame(rows, columns=EXCHANGE_COLUMNS)
    return write_bytes(
        out / f"echanges_frontaliers_{territory.departement}.csv", frame_bytes(frame)
    )
