"""Registers of the demo: mobile sites, public WiFi bornes and montée-en-débit (MED) sites.

The mobile register holds what no public file holds (zone signalée, carence, retenue, IRU,
owner of the departmental pylons, controls, opposition); the arrêté, operators and service date
of a New Deal site listed by ARCEP come from the DCC and ANFR files, merged by site code."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_service.demo.dates import day, iso
from geo_service.demo.places import (
    MERGED,
    find_commune,
    lonlat,
    named,
    pick_communes,
    point_near,
    rural_weight,
)
from geo_service.demo.premises import _largest_remainder
from geo_service.demo.programmes import DEMO_TODAY, LOT_COMMUNES, OPERATORS, Site
from geo_service.demo.territory import Territory, normalize_name, rng_for

__all__ = ["MERGED", "find_commune", "med_sites", "mobile_sites", "wifi_bornes"]

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
MED_INCIDENTS = {
    "Lauresses": "Branchement Enedis retardé (poste à renforcer)",
    "Uzech": "Dalle refaite : terrain instable",
    "Aynac": "Armoire endommagée avant la recette",
    "Vaillac": "Servitude de passage contestée pour le câble d'adduction",
}
WIFI_OPERATOR = "Quercy Connect (titulaire du marché WiFi territorial)"
WIFI_CONTRACT = "Marché WiFi territorial 2017-2025"
WIFI_CONTRACT_END = "2025-12-31"
WIFI_PER_YEAR = {2017: 3, 2018: 7, 2019: 40, 2020: 35, 2021: 15}
MOBILE_COLUMNS = (
    "code;nom;code_insee;programme;etat;operateurs;date_signalement;date_carence;date_retenue;"
    "date_arrete;num_arrete;date_construction;date_mise_en_service;date_abandon;anfr;"
    "proprietaire;date_fin_iru;renouvellement_iru;date_dernier_controle;opposition;"
    "longitude;latitude"
).split(";")


def _scaled(n: int, factor: float) -> int:
    return max(1, int(round(n * factor)))


def _iso(value: int | None) -> str:
    return "" if value is None else iso(int(value))


def in_dcc(site: Site) -> bool:
    """A New Deal site is in ARCEP's DCC file once it has an arrêté, unless it was abandoned."""
    return (
        site.programme == "NEW_DEAL"
        and site.dates.get("arrete") is not None
        and (site.dates.get("abandon") is None)
    )


def mobile_sites(territory: Territory, sites: list[Site]) -> pd.DataFrame:
    """The syndicat's mobile register: every site, with only what public files do not say for
    the New Deal sites that ARCEP lists."""
    communes = territory.communes
    rows: list[dict[str, Any]] = []
    for s in sites:
        crow = communes.iloc[s.pos]
        public = in_dcc(s)
        d = s.dates
        rows.append(
            {
                "code": s.code,
                "nom": f"{crow['nom']} - {s.lieu}" if s.lieu else str(crow["nom"]),
                "code_insee": crow["insee"],
                "programme": s.programme,
                "etat": s.etat,
                "operateurs": "" if public else ",".join(OPERATORS[o] for o in s.operators),
                "date_signalement": _iso(d.get("signalement")),
                "date_carence": _iso(d.get("carence")),
                "date_retenue": _iso(d.get("retenue")),
                "date_arrete": "" if public else _iso(d.get("arrete")),
                "num_arrete": "" if public else (s.num_arrete or ""),
                "date_construction": _iso(d.get("construction")),
                "date_mise_en_service": "" if public else _iso(d.get("service")),
                "date_abandon": _iso(d.get("abandon")),
                "anfr": "" if s.programme == "NEW_DEAL" else ",".join(s.stations.values()),
                "proprietaire": "" if s.programme == "NEW_DEAL" else (s.proprietaire or ""),
                "date_fin_iru": _iso(s.fin_iru),
                "renouvellement_iru": s.renouvellement_iru or "",
                "date_dernier_controle": _iso(s.controle),
                "opposition": s.opposition or "",
            }
        )
    frame = pd.DataFrame(rows)
    frame["longitude"], frame["latitude"] = lonlat([shapely.Point(s.x, s.y) for s in sites])
    return frame[MOBILE_COLUMNS].sort_values("code", kind="stable").reset_index(drop=True)


def _borne_places(
    rng: np.random.Generator, territory: Territory
) -> tuple[list[tuple[int, str, shapely.Point]], set[int]]:
    """One borne at the mairie of each volunteer commune, a second one in some, three for the
    Département at the chef-lieu; the communes of the next purchasing group."""
    communes = territory.communes
    f = len(communes) / LOT_COMMUNES
    group = [
        p for n in WIFI_COMMUNES.split(",") if (p := find_commune(communes, n.strip())) is not None
    ]
    chef_lieu = int(communes["population"].to_numpy().argmax())
    n_communes = _scaled(80, f)
    keep = min(len(group), n_communes - _scaled(6, f))
    kept = [int(p) for p in rng.choice(group, size=keep, replace=False)] if keep > 0 else []
    weight = np.sqrt(communes["population"].to_numpy()) + 1e-9
    chosen = pick_communes(
        rng, communes, kept, n_communes, set(group) - set(kept) | {chef_lieu}, weight
    )
    second = set(rng.choice(chosen, size=_scaled(20, f), replace=False).tolist())
    places: list[tuple[int, str, shapely.Point]] = []
    for p in chosen:
        row = communes.iloc[p]
        mairie = row["mairie"] if row["mairie"] is not None else row["centre"]
        places.append((p, f"Mairie de {row['nom']}", mairie))
        if p in second:
            label = ["Salle des fêtes", "Place du village", "Médiathèque", "Office de tourisme"]
            where = point_near(rng, row, 120, 350)
            places.append((p, f"{label[int(rng.integers(4))]} - {row['nom']}", where))
    for site in ("Hôtel du Département", "Archives départementales", "Maison du Département"):
        where = point_near(rng, communes.iloc[chef_lieu], 150, 900)
        places.append((chef_lieu, f"Département - {site}", where))
    return places, set(kept)


def wifi_bornes(territory: Territory, seed: int) -> pd.DataFrame:
    """Public WiFi bornes with their stages (délibération → programmée → installée → en
    service → retirée at the end of the first contract for communes outside the next group)."""
    rng = rng_for(seed, "registers/wifi")
    communes = territory.communes
    dep = territory.departement
    places, group = _borne_places(rng, territory)
    n = len(places)
    counts = _largest_remainder(np.array(list(WIFI_PER_YEAR.values()), dtype=float), n - 3)
    years = np.repeat(list(WIFI_PER_YEAR), counts)
    install = np.array([day(f"{y}-01-15") + int(rng.integers(0, 325)) for y in years])
    install = np.concatenate([rng.permutation(np.sort(install)), [day("2019-05-14")] * 3])
    indoor = rng.random(n) < 0.45
    end = day(WIFI_CONTRACT_END)
    rows = []
    for i, (p, nom, _) in enumerate(places):
        crow = communes.iloc[p]
        installed = int(install[i])
        departement = nom.startswith("Département - ")
        leaves = not departement and p not in group
        place = nom.split(" - ")[0] if " - " in nom else "Mairie"
        rows.append(
            {
                "code": f"WIFI{dep}-{i + 1:03d}",
                "nom": nom,
                "code_insee": crow["insee"],
                "adresse": f"{place}, {crow['code_postal']} {crow['nom']}",
                "emplacement": "INTERIEUR" if indoor[i] else "EXTERIEUR",
                "rayon_m": int(rng.integers(5, 9) * 10)
                if indoor[i]
                else int(rng.integers(9, 16) * 10),
                "operateur": WIFI_OPERATOR,
                "contrat": WIFI_CONTRACT,
                "date_deliberation": iso(installed - int(rng.integers(150, 320))),
                "date_programmation": iso(installed - int(rng.integers(20, 120))),
                "date_installation": iso(installed),
                "date_mise_en_service": iso(installed + int(rng.integers(2, 15))),
                "date_fin_contrat": WIFI_CONTRACT_END,
                "date_retrait": iso(end) if leaves else "",
            }
        )
    frame = pd.DataFrame(rows)
    frame["longitude"], frame["latitude"] = lonlat([pt for _, _, pt in places])
    return frame


def wifi_usage(bornes: pd.DataFrame, territory: Territory, seed: int) -> pd.DataFrame:
    """Monthly sessions and distinct users per borne, from its first full month of service to
    the demo's last month (or its removal), as the operator portal exports them."""
    rng = rng_for(seed, "registers/wifi-stats")
    population = dict(
        zip(territory.communes["insee"], territory.communes["population"], strict=True)
    )
    last = pd.Timestamp(iso(DEMO_TODAY)).to_period("M")
    rows = []
    for borne in bornes.itertuples(index=False):
        start = pd.Timestamp(str(borne.date_mise_en_service)).to_period("M") + 1
        stop = (
            last if not borne.date_retrait else pd.Timestamp(str(borne.date_retrait)).to_period("M")
        )
        base = 20 + 4 * math.sqrt(population[borne.code_insee])
        months = pd.period_range(start, stop, freq="M") if start <= stop else []
        for month in months:
            season = 1.0 + 0.6 * math.exp(-(((month.month - 7.5) / 1.6) ** 2))
            users = int(round(rng.lognormal(math.log(base * season), 0.35)))
            sessions = int(round(users * rng.uniform(1.6, 3.2)))
            rows.append((borne.code, str(month), sessions, users))
    return pd.DataFrame(rows, columns=["borne", "mois", "sessions", "utilisateurs"])


def _nra(insee: str, name: str) -> str:
    letters = [c for c in normalize_name(name).upper() if c.isalpha()]
    return f"{insee}{''.join(letters[:3]).ljust(3, 'X')}"


def med_sites(territory: Territory, seed: int) -> pd.DataFrame:
    """Montée-en-débit cabinets with their milestones (2016-2019), 12 400 foyers in the Lot;
    the opening is left empty (réception Orange + 12 weeks) unless it was different."""
    rng = rng_for(seed, "registers/med")
    communes = territory.communes
    f = len(communes) / LOT_COMMUNES
    dep = territory.departement
    found = named(communes, MED_COMMUNES)
    n = _scaled(90, f)
    exclude = set(np.flatnonzero(communes["amii"].to_numpy()).tolist())
    chosen = pick_communes(rng, communes, [p for p, _ in found], n, exclude, rural_weight(communes))
    n = len(chosen)
    lieux = dict(found)
    foyers = _largest_remainder(rng.gamma(4.0, 1.0, n), int(round(12_400 * f)))
    # réception Orange fixes the opening (+12 weeks); 45 open, 65 received, 83 posed end 2018
    n_open, n_received, n_posed = (int(round(x * n / 90)) for x in (45, 65, 83))
    reception = np.sort(
        np.concatenate(
            [
                rng.integers(day("2017-06-01"), day("2018-10-05"), n_open),
                rng.integers(day("2018-10-12"), day("2018-12-28"), n_received - n_open),
                rng.integers(day("2019-01-07"), day("2019-03-20"), n - n_received),
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
    # the incident communes' cabinets are among those received in 2019, opened later
    incident = {find_commune(communes, c): cause for c, cause in MED_INCIDENTS.items()}
    slots = list(range(n_received, n))
    order = np.full(n, -1)
    for p in (p for p in incident if p in chosen):
        slot = slots.pop(int(rng.integers(len(slots))))
        order[slot] = chosen.index(p)
    rest = [k for k in rng.permutation(n).tolist() if k not in set(order.tolist())]
    order[order < 0] = rest
    rows, points = [], []
    for i in range(n):
        p = chosen[int(order[i])]
        row = communes.iloc[p]
        lieu = lieux.get(p, "")
        points.append(point_near(rng, row, 80, 400))
        cause = incident.get(p, "")
        opening = ""
        if cause:
            opening = iso(
                min(int(reception[i]) + 84 + int(rng.integers(10, 40)), day("2019-06-28"))
            )
        rows.append(
            {
                "code": f"MED{dep}-{i + 1:03d}",
                "nom": f"{row['nom']} - {lieu}" if lieu else str(row["nom"]),
                "code_insee": row["insee"],
                "nra": _nra(row["insee"], row["nom"]),
                "foyers": int(foyers[int(order[i])]),
                "date_alimentation": iso(int(alimentation[i])),
                "date_enedis": iso(int(enedis[i])),
                "date_reception_dalle": iso(int(dalle[i])),
                "date_pose_armoire": iso(int(pose[i])),
                "date_recette": iso(int(recette[i])),
                "date_reception_orange": iso(int(reception[i])),
                "date_ouverture": opening,
                "cause_blocage": cause,
            }
        )
    frame = pd.DataFrame(rows)
    frame["longitude"], frame["latitude"] = lonlat(points)
    return frame
