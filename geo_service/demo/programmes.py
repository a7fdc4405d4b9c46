"""Timeline of the demo's mobile programme: New Deal sites (zone signalée → carence → retenue →
arrêté → construction → service), the legacy centre-bourg pylons and the TDF sites under IRU.

One table of sites feeds every file that speaks of them: the ANFR extract (stations and service
dates), ARCEP's New Deal and "Mon réseau mobile" files, and the syndicat's register. The figures
follow LOT_FACTS.md: 9-13 New Deal sites per arrêté year 2018-2022, 29 in service by mid-2022 (14
of them since 2021), 57 put in service 2020-2024, a few late ones (arrêté + 24 months passed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import shapely

from geo_service.demo.dates import day
from geo_service.demo.places import find_commune, named, pick_communes, point_near, rural_weight
from geo_service.demo.territory import Territory, rng_for

DEMO_TODAY = day("2025-12-31")  # the demo's "today": no stage is reached after it
LOT_COMMUNES = 312
OPERATORS = {
    "20801": "ORANGE",
    "20810": "SFR",
    "20815": "FREE MOBILE",
    "20820": "BOUYGUES TELECOM",
}
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


@dataclass(frozen=True)
class Arrete:
    """One New Deal arrêté: its number, publication date, how many Lot sites it names, and how
    many of them are in service in each window (start, end) of service dates."""

    num: str
    published: str
    sites: int
    service: tuple[tuple[str, str, int], ...]
    late: int = 0  # not in service after the 24 months (EN_CONSTRUCTION first, then ARRETE)
    abandoned: int = 0
    pending: int = 0  # deadline not reached yet


EARLY, MID, LATE = (
    ("2020-01-15", "2020-12-20"),
    ("2021-01-10", "2022-06-25"),
    ("2022-07-05", "2024-12-15"),
)
ARRETES = (
    Arrete("2018-1", "2018-07-08", 7, ((*EARLY, 7),)),
    Arrete("2018-2", "2018-12-20", 6, ((*EARLY, 6),)),
    Arrete("2019-1", "2019-04-10", 6, ((*EARLY, 2), (*MID, 4))),
    Arrete("2019-2", "2019-10-02", 6, ((*MID, 6),)),
    Arrete("2020-1", "2020-03-05", 4, ((*MID, 4),)),
    Arrete("2020-2", "2020-09-17", 8, ((*LATE, 8),)),
    Arrete("2021-1", "2021-03-26", 6, ((*LATE, 5),), late=1),
    Arrete("2021-2", "2021-09-30", 7, ((*LATE, 6),), late=1),
    Arrete("2022-1", "2022-04-05", 6, ((*LATE, 4),), late=1, abandoned=1),
    Arrete("2022-2", "2022-11-22", 6, ((*LATE, 5),), late=1),
    Arrete("2024-1", "2024-06-14", 2, (), pending=2),
    Arrete("2025-1", "2025-05-20", 1, (), pending=1),
)
# New Deal candidates without an arrêté yet (the register's own stages)
PIPELINE = (
    "RETENU",
    "RETENU",
    "CARENCE_CONFIRMEE",
    "CARENCE_CONFIRMEE",
    "ZONE_SIGNALEE",
    "ZONE_SIGNALEE",
    "ZONE_SIGNALEE",
)
OPPOSITION = (
    "Opposition de riverains : pétition contre l'impact paysager du pylône dans le Parc naturel "
    "régional des Causses du Quercy"
)


@dataclass
class Site:
    """One mobile site with every stage's day number (None when not reached)."""

    code: str
    programme: str
    pos: int
    x: float = 0.0
    y: float = 0.0
    lieu: str = ""
    operators: list[str] = field(default_factory=list)
    leader: str | None = None
    dates: dict[str, int | None] = field(default_factory=dict)
    num_arrete: str | None = None
    proprietaire: str | None = None
    fin_iru: int | None = None
    renouvellement_iru: str | None = None
    controle: int | None = None
    opposition: str | None = None
    in_park: bool = False
    arcep_listed: bool = False
    stations: dict[str, str] = field(default_factory=dict)  # operator MCC-MNC -> STA_NM_ANFR

    @property
    def etat(self) -> str:
        """The stage reached on the demo's today (the register's etat)."""
        if self.dates.get("abandon") is not None:
            return "ABANDONNE"
        for key, state in (
            ("service", "EN_SERVICE"),
            ("construction", "EN_CONSTRUCTION"),
            ("arrete", "ARRETE"),
            ("retenue", "RETENU"),
            ("carence", "CARENCE_CONFIRMEE"),
            ("signalement", "ZONE_SIGNALEE"),
        ):
            if self.dates.get(key) is not None:
                return state
        return "ZONE_SIGNALEE"

    def late_on(self, when: int) -> bool:
        """Past the legal deadline (arrêté + 24 months) and not in service on `when`."""
        arrete = self.dates.get("arrete")
        if arrete is None or self.programme != "NEW_DEAL" or self.dates.get("abandon") is not None:
            return False
        service = self.dates.get("service")
        return plus_24_months(arrete) < when and (service is None or service > when)


def plus_24_months(day_number: int) -> int:
    """Same calendar day 24 months later (the legal deadline of an arrêté)."""
    d = dt.date(1970, 1, 1) + dt.timedelta(days=day_number)
    try:
        later = d.replace(year=d.year + 2)
    except ValueError:  # 29 February
        later = d.replace(year=d.year + 2, day=28)
    return (later - dt.date(1970, 1, 1)).days


def _scaled(n: int, factor: float) -> int:
    return max(1, int(round(n * factor)))


def _new_deal_dates(
    rng: np.random.Generator, arrete: int, service: int | None, named: bool
) -> dict[str, int | None]:
    """Stages before and after the arrêté, in order, none after the demo's today."""
    if named:  # zones blanches named in 2018
        signalement = day("2018-01-08") + int(rng.integers(0, 60))
        carence = signalement + int(rng.integers(20, 45))
        retenue = carence + int(rng.integers(20, 45))
    else:
        signalement = arrete - int(rng.integers(200, 420))
        carence = signalement + int(rng.integers(30, 90))
        retenue = carence + int(rng.integers(30, 80))
    construction = None
    if service is not None:
        construction = max(arrete + 30, service - int(rng.integers(60, 150)))
    return {
        "signalement": signalement,
        "carence": carence,
        "retenue": retenue,
        "arrete": arrete,
        "construction": construction,
        "service": service,
        "abandon": None,
    }


def _operators(rng: np.random.Generator, everyone: bool) -> tuple[list[str], str]:
    codes = list(OPERATORS)
    if everyone or rng.random() < 0.75:
        hosted = codes
    else:
        k = int(rng.integers(1, 3))
        hosted = sorted(rng.choice(codes, size=k, replace=False).tolist())
    return hosted, str(rng.choice(hosted))


def mobile_programme(
    territory: Territory, seed: int, park: shapely.Geometry | None = None
) -> list[Site]:
    """Every mobile site of the demo, with its stages, operators, owner and park membership."""
    rng = rng_for(seed, "programmes/mobile")
    communes = territory.communes
    f = len(communes) / LOT_COMMUNES
    dep = territory.departement
    rural = rural_weight(communes)
    if park is not None:
        inside = shapely.contains(park, shapely.points([(c.x, c.y) for c in communes["centre"]]))
        rural = rural * np.where(inside, 3.0, 1.0)
    taken: list[tuple[float, float]] = []
    sites: list[Site] = []
    known = [p for n in TDF_COMMUNES if (p := find_commune(communes, n)) is not None]
    tdf = pick_communes(rng, communes, known, _scaled(10, f), set(), rural)
    for i, p in enumerate(tdf):
        construction = day("2009-03-01") + int(rng.integers(0, 640))
        s = Site(f"TDF{dep}-{i + 1:02d}", "TDF_IRU", p, operators=["20801"], leader="20801")
        s.dates = {
            "construction": construction,
            "service": construction + int(rng.integers(40, 120)),
        }
        s.proprietaire = "TDF"
        s.fin_iru = day("2025-06-30")
        s.renouvellement_iru = "IRU renouvelé en 2025 pour 10 ans (délibération du 14/03/2025)"
        s.controle = day("2023-04-03") + int(rng.integers(0, 900))
        sites.append(s)
    zones = {p for p, _ in named(communes, ZONES_BLANCHES)}  # kept for the New Deal
    cb = pick_communes(rng, communes, [], _scaled(17, f), set(tdf) | zones, rural)
    for i, p in enumerate(cb):
        construction = day("2005-01-10") + int(rng.integers(0, 560))
        s = Site(
            f"CB{dep}-{i + 1:02d}",
            "CENTRE_BOURG",
            p,
            operators=["20801", "20810", "20820"],
            leader="20801",
        )
        s.dates = {
            "signalement": day("2003-07-15") + int(rng.integers(0, 120)),
            "retenue": day("2004-03-01") + int(rng.integers(0, 200)),
            "construction": construction,
            "service": construction + int(rng.integers(40, 120)),
        }
        s.proprietaire = f"Département ({dep})"
        s.controle = day("2022-09-01") + int(rng.integers(0, 1100))
        sites.append(s)
    sites += _new_deal_sites(rng, territory, f, set(tdf) | set(cb), rural)
    for s in sites:
        row = communes.iloc[s.pos]
        near = (300, 900) if s.programme == "CENTRE_BOURG" else (900, 3000)
        point = point_near(rng, row, near[0], near[1], taken, spacing=1200.0)
        s.x, s.y = point.x, point.y
        taken.append((s.x, s.y))
        if park is not None:
            s.in_park = bool(park.contains(shapely.Point(s.x, s.y)))
    _oppositions(rng, sites)
    _number_stations(sites, dep)
    return sites


def _number_stations(sites: list[Site], dep: str) -> None:
    """ANFR station numbers (département, zone, serial) of the operators of each built site."""
    serial = 0
    for s in sites:
        if s.dates.get("construction") is None and s.dates.get("service") is None:
            continue
        # the leader's station first: it is the first in service (see anfr.py)
        for op in sorted(s.operators, key=lambda o: (o != s.leader, o)):
            serial += 1
            s.stations[op] = f"{dep.zfill(3)}229{serial:04d}"


def _new_deal_sites(
    rng: np.random.Generator, territory: Territory, f: float, exclude: set[int], rural: np.ndarray
) -> list[Site]:
    communes = territory.communes
    dep = territory.departement
    zones = named(communes, ZONES_BLANCHES)
    total = sum(_scaled(a.sites, f) for a in ARRETES) + len(PIPELINE)
    chosen = pick_communes(rng, communes, [p for p, _ in zones], total, exclude, rural)
    lieux = dict(zones)
    named_set = {p for p, _ in zones}
    sites: list[Site] = []
    k = late_seen = 0
    for a in ARRETES:
        n = _scaled(a.sites, f)
        published = day(a.published)
        services: list[int | None] = []
        for start, end, count in a.service:
            lo = max(day(start), published + 240)
            hi = min(day(end), plus_24_months(published) - 5)
            services += [
                int(v)
                for v in np.sort(
                    rng.integers(lo, max(hi, lo + 1), _scaled(count, f) if count else 0)
                )
            ]
        services = services[:n]
        outcomes: list[str] = ["service"] * len(services)
        outcomes += ["late"] * a.late + ["abandoned"] * a.abandoned + ["pending"] * a.pending
        outcomes = (outcomes + ["pending"] * n)[:n]
        for j, outcome in enumerate(outcomes):
            p = chosen[k] if k < len(chosen) else int(rng.integers(len(communes)))
            k += 1
            hosted, leader = _operators(rng, p in named_set)
            service = services[j] if outcome == "service" else None
            s = Site(
                f"{dep}{k:02d}",  # ARCEP's numero_site, the key the register merges on
                "NEW_DEAL",
                p,
                lieu=lieux.get(p, ""),
                operators=hosted,
                leader=leader,
            )
            s.dates = _new_deal_dates(rng, published, service, p in named_set)
            s.num_arrete = a.num
            if outcome == "late":
                if late_seen % 2 == 0:  # works started, then stalled
                    s.dates["construction"] = published + int(rng.integers(300, 600))
                late_seen += 1
            elif outcome == "abandoned":
                s.dates["abandon"] = published + int(rng.integers(380, 520))
            elif outcome == "pending" and j == 0 and published + 200 < DEMO_TODAY:
                s.dates["construction"] = min(
                    DEMO_TODAY - 20, published + int(rng.integers(200, 400))
                )
            s.proprietaire = OPERATORS[leader] if rng.random() < 0.6 else "ATC FRANCE"
            s.arcep_listed = service is not None and rng.random() < 0.6
            sites.append(s)
    done = k  # candidates not yet in an arrêté get a provisional code of the syndicat
    for stage in PIPELINE:
        p = chosen[k] if k < len(chosen) else int(rng.integers(len(communes)))
        k += 1
        s = Site(f"ND{dep}-{k - done:02d}", "NEW_DEAL", p, lieu=lieux.get(p, ""))
        signalement = day("2024-02-01") + int(rng.integers(0, 300))
        s.dates = {"signalement": signalement}
        if stage in ("CARENCE_CONFIRMEE", "RETENU"):
            s.dates["carence"] = signalement + int(rng.integers(60, 150))
        if stage == "RETENU":
            s.dates["retenue"] = s.dates["carence"] + int(rng.integers(40, 120))  # type: ignore[operator]
        sites.append(s)
    return sites


def _oppositions(rng: np.random.Generator, sites: list[Site]) -> None:
    """Residents' opposition on the late sites of the park and a few others there."""
    in_park = [
        s for s in sites if s.programme == "NEW_DEAL" and s.in_park and s.dates.get("arrete")
    ]
    late = [s for s in in_park if s.late_on(DEMO_TODAY)]
    others = [s for s in in_park if s not in late]
    picks = late + [
        others[int(i)] for i in rng.choice(len(others), size=min(3, len(others)), replace=False)
    ]
    for s in picks:
        s.opposition = OPPOSITION
