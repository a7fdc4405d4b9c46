"""Registers of the demo: mobile sites, public WiFi bornes and montée-en-débit (MED) sites."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.demo.dates import day, iso
from geo_service.demo.premises import _largest_remainder
from geo_service.demo.territory import L93, WGS84, Territory, normalize_name, rng_for

LOT_COMMUNES = 312
TDF_COMMUNES = [
    "Luzech",
    "Concorès",
    "Les Junies",
    "Peyrilles",
    "Larroque-Toirac",
    "Latouille-Lentillac",
    "Latronquière",
    "Laval-de-Cère",
    "Caniac-du-Causse",
    "Terrou",
]
ZONES_BLANCHES = [
    ("Le Bastit", ""),
    ("Carlucet", ""),
    ("Montcuq-en-Quercy-Blanc", "Belmontet"),
    ("Le Boulvé", ""),
    ("Castelnau-Montratier-Sainte-Alauzie", ""),
    ("Brengues", ""),
    ("Corn", ""),
    ("Espagnac-Sainte-Eulalie", ""),
    ("Larnagol", ""),
    ("Quissac", ""),
    ("Les Pechs-du-Vers", "Saint-Martin-de-Vers"),
    ("Béduer", ""),
    ("Saint-Sulpice", ""),
    ("Sousceyrac-en-Quercy", ""),
]
WIFI_COMMUNES = """Albas, Alvignac, Anglars-Juillac, Assier, Autoire, Bach, Bagnac-sur-Célé,
Baladou, Barguelonne-en-Quercy, Belaye, Bétaille, Biars-sur-Cère, Blars, Boissières, Boussac,
Cabrerets, Capdenac, Cassagnes, Castelfranc, Cézac, Concorès, Concots, Cornac, Duravel,
Fajoles, Felzins,
Figeac, Fons, Fontanes, Frayssinet-le-Gélat, Gindou, Goujounac, Gramat, Labathude,
Lacapelle-Marival, Lacave, Lalbenque, Lanzac, Laramière, Lavercantière, Lavergne, Le Roc,
Lendou-en-Quercy, Les Arques, Les Junies, Limogne-en-Quercy, Livernon, Loubressac, Loupiac,
Marcilhac-sur-Célé, Meyronne, Miers, Montcabrier, Orniac, Parnac, Payrignac, Pern, Peyrilles,
Puy-l'Évêque, Puybrun, Reyrevignes, Rignac, Rocamadour, Sabadel-Latronquière, Saint-Bressou,
Saint-Céré, Saint-Chamarand, Saint-Félix, Saint-Germain-du-Bel-Air, Saint-Laurent-les-Tours,
Saint-Martin-le-Redon, Saint-Sozy, Salviac, Seniergues, Sérignac, Soucirac, Souillac, Soulomes,
Sousceyrac-en-Quercy, Terrou, Thégra, Touzac"""
MED_COMMUNES = [
    ("Lauresses", ""),
    ("Uzech", ""),
    ("Aynac", ""),
    ("Vaillac", ""),
    ("Montcuq-en-Quercy-Blanc", "Lebreil"),
    ("Albas", ""),
    ("Saint-Paul-Flaugnac", ""),
]
OPERATORS = "ORANGE,SFR,BOUYGUES,FREE"
MERGED = {"boulve": "Porte-du-Quercy", "vaillac": "Cœur de Causse"}  # communes nouvelles


def find_commune(communes: pd.DataFrame, name: str) -> int | None:
    """Position of the commune with this name (accents, case, articles and prefixes tolerated)."""
    key = normalize_name(name)
    keys = [normalize_name(n) for n in communes["nom"]]
    if key not in keys and key in MERGED:
        key = normalize_name(MERGED[key])
    if key in keys:
        return keys.index(key)
    starts = [i for i, k in enumerate(keys) if key.startswith(k + " ") or k.startswith(key + " ")]
    return starts[0] if len(starts) == 1 else None


def _point_near(
    rng: np.random.Generator, row: pd.Series, r_min: float, r_max: float
) -> shapely.Point:
    """A point r_min..r_max metres from the bourg centre, inside the commune."""
    c = row["centre"]
    for attempt in range(200):
        r = rng.uniform(r_min, r_max) * (0.97**attempt if attempt > 100 else 1)
        a = rng.uniform(0, 2 * math.pi)
        p = shapely.Point(c.x + r * math.cos(a), c.y + r * math.sin(a))
        if row["inner"].contains(p):
            return p
    return row["inner"].point_on_surface()


def _lonlat(points: list[shapely.Point]) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude and latitude (6 decimals) of Lambert-93 points."""
    g = gpd.GeoSeries(points, crs=L93).to_crs(WGS84)
    return np.round(g.x.to_numpy(), 6), np.round(g.y.to_numpy(), 6)


def _pick_communes(
    rng: np.random.Generator,
    communes: pd.DataFrame,
    named: list[int],
    count: int,
    exclude: set[int],
    weight: np.ndarray,
) -> list[int]:
    """Named communes first, then others drawn by weight without repetition."""
    chosen = [p for p in dict.fromkeys(named) if p not in exclude][:count]
    pool = np.array([p for p in range(len(communes)) if p not in set(chosen) | exclude])
    need = min(count - len(chosen), pool.size)
    if need > 0:
        w = weight[pool] / weight[pool].sum()
        chosen += [int(p) for p in rng.choice(pool, size=need, replace=False, p=w)]
    return chosen


def _rural_weight(communes: pd.DataFrame) -> np.ndarray:
    """Higher for sparsely populated communes, nil for towns."""
    density = communes["population"].to_numpy() / communes["area_km2"].to_numpy()
    small = communes["population"].to_numpy() < 1500
    return np.where(small, 1.0 / np.maximum(density, 1) ** 1.5, 0.0) + 1e-9


def _lieu(name: str) -> str:
    """Lieu-dit recorded for a named site in a commune nouvelle."""
    key = normalize_name(name)
    return name if key in MERGED else ""


def _named(communes: pd.DataFrame, names: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """Positions of the named communes found, with the lieu-dit to show."""
    found = [(find_commune(communes, n), lieu or _lieu(n)) for n, lieu in names]
    return [(p, lieu) for p, lieu in found if p is not None]


def _scaled(n: int, factor: float) -> int:
    return max(1, int(round(n * factor)))


def mobile_sites(territory: Territory, seed: int) -> pd.DataFrame:
    """New Deal, centres-bourgs and TDF IRU sites with their pipeline dates."""
    rng = rng_for(seed, "registers/mobile")
    communes = territory.communes
    f = len(communes) / LOT_COMMUNES
    dep = territory.departement
    rural = _rural_weight(communes)
    rows: list[dict[str, Any]] = []
    tdf = [p for n in TDF_COMMUNES if (p := find_commune(communes, n)) is not None]
    tdf = _pick_communes(rng, communes, tdf, _scaled(10, f), set(), rural)
    for i, p in enumerate(tdf):
        rows.append(
            {
                "programme": "TDF_IRU",
                "pos": p,
                "etat": "EN_SERVICE",
                "operateurs": "ORANGE",
                "mes": day("2009-06-01") + int(rng.integers(0, 700)),
                "code": f"TDF{dep}-{i + 1:02d}",
            }
        )
    cb = _pick_communes(rng, communes, [], _scaled(17, f), set(tdf), rural)
    for i, p in enumerate(cb):
        rows.append(
            {
                "programme": "CENTRE_BOURG",
                "pos": p,
                "etat": "EN_SERVICE",
                "operateurs": "ORANGE,SFR,BOUYGUES",
                "mes": day("2005-02-01") + int(rng.integers(0, 690)),
                "code": f"CB{dep}-{i + 1:02d}",
            }
        )
    named = _named(communes, ZONES_BLANCHES)
    n_service, n_pipe = _scaled(57, f), _scaled(16, f)
    nd = _pick_communes(rng, communes, [p for p, _ in named], n_service + n_pipe, set(tdf), rural)
    lieux = dict(named)
    service = np.sort(
        np.concatenate(
            [
                rng.integers(day("2020-02-01"), day("2020-12-20"), _scaled(15, f)),
                rng.integers(day("2021-01-10"), day("2022-06-25"), _scaled(14, f)),
                rng.integers(day("2022-07-05"), day("2024-12-20"), n_service - _scaled(29, f)),
            ]
        )
    )
    pipeline = ["ARRETE"] * 6 + ["CARENCE_CONFIRMEE"] * 4 + ["ZONE_SIGNALEE"] * 5 + ["ABANDONNE"]
    pipeline = (pipeline * (n_pipe // len(pipeline) + 1))[:n_pipe]
    arretes = [
        day(d)
        for d in (
            "2023-03-15",
            "2023-10-02",
            "2024-06-20",
            "2025-02-10",
            "2025-07-08",
            "2025-12-04",
        )
    ]
    for i, p in enumerate(nd):
        row: dict[str, Any] = {
            "programme": "NEW_DEAL",
            "pos": p,
            "operateurs": OPERATORS,
            "code": f"ND{dep}-{i + 1:03d}",
            "lieu": lieux.get(p, ""),
        }
        if i < n_service:
            mes = int(service[i])
            arrete = mes - int(rng.integers(330, 700))
            row.update(
                etat="EN_SERVICE",
                mes=mes,
                arrete=arrete,
                signalement=arrete - int(rng.integers(90, 300)),
            )
        else:
            etat = pipeline[i - n_service]
            k = pipeline[: i - n_service].count(etat)
            if etat == "ARRETE":
                arrete = arretes[k % len(arretes)]
                row.update(arrete=arrete, signalement=arrete - int(rng.integers(120, 300)))
            elif etat == "ABANDONNE":
                row.update(arrete=day("2021-05-17"), signalement=day("2020-11-03"))
            elif etat == "CARENCE_CONFIRMEE":
                row.update(signalement=day("2023-09-01") + int(rng.integers(0, 500)))
            else:
                row.update(signalement=day("2024-09-01") + int(rng.integers(0, 600)))
            row["etat"] = etat
            row["operateurs"] = "" if etat == "ZONE_SIGNALEE" else OPERATORS
        rows.append(row)
    out = []
    anfr = rng.choice(np.arange(1_000_000, 9_999_999), size=len(rows), replace=False)
    points = []
    for j, r in enumerate(rows):
        crow = communes.iloc[int(r["pos"])]
        points.append(
            _point_near(
                rng,
                crow,
                300 if r["programme"] == "CENTRE_BOURG" else 900,
                900 if r["programme"] == "CENTRE_BOURG" else 3000,
            )
        )
        lieu = str(r.get("lieu", "") or "")
        out.append(
            {
                "code": r["code"],
                "nom": f"{crow['nom']} - {lieu}" if lieu else str(crow["nom"]),
                "code_insee": crow["insee"],
                "programme": r["programme"],
                "etat": r["etat"],
                "operateurs": r["operateurs"],
                "date_signalement": iso(int(r["signalement"])) if "signalement" in r else "",
                "date_arrete": iso(int(r["arrete"])) if "arrete" in r else "",
                "date_mise_en_service": iso(int(r["mes"])) if "mes" in r else "",
                "anfr": f"{int(anfr[j]):07d}" if r["etat"] == "EN_SERVICE" else "",
            }
        )
    frame = pd.DataFrame(out)
    frame["longitude"], frame["latitude"] = _lonlat(points)
    return frame.sort_values("code", kind="stable").reset_index(drop=True)


def wifi_bornes(territory: Territory, seed: int) -> pd.DataFrame:
    """Public WiFi bornes: one per volunteer commune (mairie), a few seconds, the Département's."""
    rng = rng_for(seed, "registers/wifi")
    communes = territory.communes
    f = len(communes) / LOT_COMMUNES
    dep = territory.departement
    named = [find_commune(communes, n.strip()) for n in WIFI_COMMUNES.split(",")]
    weight = np.sqrt(communes["population"].to_numpy()) + 1e-9
    chosen = _pick_communes(
        rng, communes, [p for p in named if p is not None], _scaled(80, f), set(), weight
    )
    second = set(rng.choice(chosen, size=_scaled(20, f), replace=False).tolist())
    chef_lieu = int(communes["population"].to_numpy().argmax())
    places: list[tuple[int, str, shapely.Point]] = []
    for p in chosen:
        row = communes.iloc[p]
        mairie = row["mairie"] if row["mairie"] is not None else row["centre"]
        places.append((p, f"Mairie de {row['nom']}", mairie))
        if p in second:
            label = ["Salle des fêtes", "Place du village", "Médiathèque", "Office de tourisme"]
            places.append(
                (
                    p,
                    f"{label[int(rng.integers(4))]} - {row['nom']}",
                    _point_near(rng, row, 120, 350),
                )
            )
    for site in ("Hôtel du Département", "Archives départementales", "Maison du Département"):
        places.append(
            (
                chef_lieu,
                f"Département - {site}",
                _point_near(rng, communes.iloc[chef_lieu], 150, 900),
            )
        )
    n = len(places)
    per_year = {
        2017: 3,
        2018: 7,
        2019: 17,
        2020: 17,
        2021: 15,
        2022: 14,
        2023: 11,
        2024: 9,
        2025: 7,
    }
    counts = _largest_remainder(np.array(list(per_year.values()), dtype=float), n - 3)
    years = np.repeat(list(per_year), counts)
    install = np.sort(np.array([day(f"{y}-01-15") + int(rng.integers(0, 330)) for y in years]))
    install = np.concatenate([rng.permutation(install), [day("2019-05-14")] * 3])
    indoor = rng.random(n) < 0.45
    pop = communes["population"].to_numpy()[[p for p, _, _ in places]]
    rows = []
    for i, (p, nom, _) in enumerate(places):
        rows.append(
            {
                "code": f"WIFI{dep}-{i + 1:03d}",
                "nom": nom,
                "code_insee": communes.iloc[p]["insee"],
                "emplacement": "INTERIEUR" if indoor[i] else "EXTERIEUR",
                "rayon_m": int(rng.integers(5, 9) * 10)
                if indoor[i]
                else int(rng.integers(9, 16) * 10),
                "date_installation": iso(int(install[i])),
                "connexions_mois": int(
                    round(rng.lognormal(math.log(25 + 4 * math.sqrt(pop[i])), 0.5))
                ),
            }
        )
    frame = pd.DataFrame(rows)
    frame["longitude"], frame["latitude"] = _lonlat([pt for _, _, pt in places])
    return frame


def med_sites(territory: Territory, seed: int) -> pd.DataFrame:
    """Montée-en-débit cabinets with their milestones (2016-2019), 12 400 foyers in the Lot."""
    rng = rng_for(seed, "registers/med")
    communes = territory.communes
    f = len(communes) / LOT_COMMUNES
    dep = territory.departement
    named = _named(communes, MED_COMMUNES)
    n = _scaled(90, f)
    exclude = set(np.flatnonzero(communes["amii"].to_numpy()).tolist())
    chosen = _pick_communes(
        rng, communes, [p for p, _ in named], n, exclude, _rural_weight(communes)
    )
    n = len(chosen)
    lieux = dict(named)
    foyers = _largest_remainder(rng.gamma(4.0, 1.0, n), int(round(12_400 * f)))
    # milestones: réception Orange fixes the opening (+12 weeks); 45 open, 65 received end 2018
    n_open, n_received, n_posed = (int(round(x * n / 90)) for x in (45, 65, 83))
    reception = np.sort(
        np.concatenate(
            [
                rng.integers(day("2017-06-01"), day("2018-10-05"), n_open),
                rng.integers(day("2018-10-12"), day("2018-12-28"), n_received - n_open),
                rng.integers(day("2019-01-07"), day("2019-04-05"), n - n_received),
            ]
        )
    )
    pose = reception - rng.integers(25, 70, n)
    late = np.arange(n) >= n_posed
    pose[late] = np.maximum(pose[late], day("2019-01-03"))
    pose[~late] = np.minimum(pose[~late], day("2018-12-20"))
    recette = pose + ((reception - pose) * rng.uniform(0.4, 0.8, n)).astype(np.int64)
    dalle = pose - rng.integers(20, 60, n)
    enedis = dalle - rng.integers(15, 45, n)
    alimentation = enedis - rng.integers(30, 90, n)
    ouverture = reception + 84
    rows, points = [], []
    order = rng.permutation(n)
    for i in range(n):
        p = chosen[int(order[i])]
        row = communes.iloc[p]
        lieu = lieux.get(p, "")
        points.append(_point_near(rng, row, 80, 400))
        rows.append(
            {
                "code": f"MED{dep}-{i + 1:03d}",
                "nom": f"{row['nom']} - {lieu}" if lieu else str(row["nom"]),
                "code_insee": row["insee"],
                "foyers": int(foyers[int(order[i])]),
                "date_alimentation": iso(int(alimentation[i])),
                "date_enedis": iso(int(enedis[i])),
                "date_reception_dalle": iso(int(dalle[i])),
                "date_pose_armoire": iso(int(pose[i])),
                "date_recette": iso(int(recette[i])),
                "date_reception_orange": iso(int(reception[i])),
                "date_ouverture": iso(int(ouverture[i])),
            }
        )
    frame = pd.DataFrame(rows)
    frame["longitude"], frame["latitude"] = _lonlat(points)
    return frame
