"""The demo's ANFR extract, as the monthly bulk export publishes it: a zip
`AAAAMMJJ-export-etalab-data.zip` of `;` tables in cp1252 with CRLF line ends, decimal commas,
WGS84 coordinates in degrees/minutes/seconds with a hemisphere letter, dates JJ/MM/AAAA, and the
reference tables (operators, owners, natures, antenna types) whose labels the other tables cite
by code.

Stations: every built mobile site of the programme (one per hosted operator; a New Deal site's
first emitter in service gives its service date), operators' town sites and a few
private-network stations, plus a handful across the border, one of them filed with a Lot INSEE
code although its support stands outside (the importer must filter by geometry)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo_service.demo.dates import iso
from geo_service.demo.programmes import DEMO_TODAY, Site
from geo_service.demo.territory import L93, WGS84, Territory, rng_for

EXTRACT_DATE = iso(DEMO_TODAY)
EXPLOITANTS = {
    "20801": (11, "ORANGE"),
    "20810": (27, "SFR"),
    "20815": (40, "FREE MOBILE"),
    "20820": (16, "BOUYGUES TELECOM"),
    "PMR": (73, "MINISTERE DE L'INTERIEUR"),
    "TDF": (52, "TDF"),
}
PROPRIETAIRES = {
    "TDF": 3,
    "ORANGE": 11,
    "SFR": 12,
    "FREE MOBILE": 13,
    "BOUYGUES TELECOM": 14,
    "ATC FRANCE": 21,
    "Département": 31,
    "Commune": 32,
    "Privé": 40,
}
NATURES = {
    "Pylône autostable": 11,
    "Pylône haubané": 12,
    "Pylône treillis": 13,
    "Château d'eau - réservoir": 21,
    "Bâtiment": 31,
    "Clocher - église": 41,
    "Mât": 51,
}
TYPES_ANTENNE = {1: "Panneau", 2: "Dipôle", 3: "Fouet"}
# (system, first band start, end) in MHz
BANDS = {
    "GSM 900": ("935,1", "949,9"),
    "UMTS 2100": ("2110,5", "2125,3"),
    "LTE 700": ("758", "768"),
    "LTE 800": ("791", "801"),
    "LTE 1800": ("1805", "1825"),
    "5G NR 3500": ("3490", "3570"),
    "PMR": ("380,2", "385"),
}
HEADERS = {
    "SUP_SUPPORT": "SUP_ID;STA_NM_ANFR;NAT_ID;COR_NB_DG_LAT;COR_NB_MN_LAT;COR_NB_SC_LAT;"
    "COR_CD_NS_LAT;COR_NB_DG_LON;COR_NB_MN_LON;COR_NB_SC_LON;COR_CD_EW_LON;SUP_NM_HAUT;TPO_ID;"
    "ADR_LB_LIEU;ADR_LB_ADD1;ADR_LB_ADD2;ADR_LB_ADD3;ADR_NM_CP;COM_CD_INSEE",
    "SUP_STATION": "STA_NM_ANFR;ADM_ID;DEM_NM_COMSIS;DTE_IMPLANTATION;DTE_MODIF;DTE_EN_SERVICE",
    "SUP_EMETTEUR": "EMR_ID;EMR_LB_SYSTEME;STA_NM_ANFR;AER_ID;EMR_DT_SERVICE",
    "SUP_ANTENNE": "STA_NM_ANFR;AER_ID;TAE_ID;AER_NB_DIMENSION;AER_FG_RAYON;AER_NB_AZIMUT;"
    "AER_NB_ALT_BAS;SUP_ID",
    "SUP_BANDE": "STA_NM_ANFR;BAN_ID;EMR_ID;BAN_NB_F_DEB;BAN_NB_F_FIN;BAN_FG_UNITE",
    "SUP_EXPLOITANT": "ADM_ID;ADM_LB_NOM",
    "SUP_PROPRIETAIRE": "TPO_ID;TPO_LB",
    "SUP_NATURE": "NAT_ID;NAT_LB_NOM",
    "SUP_TYPE_ANTENNE": "TAE_ID;TAE_LB",
}
LIEUX = ("LE PECH", "LES COMBES", "LA GARRIGUE", "LE CAUSSE", "PECH CAMP", "LES CÉZELLES")
FIXED_ZIP_TIME = (2025, 12, 31, 0, 0, 0)
Emitters = list[tuple[str, int | None]]  # (system, service day or None)
Station = tuple[str, str, int | None, Emitters]  # (STA_NM_ANFR, exploitant key, implanted, …)


@dataclass
class Support:
    """One support with its stations: position (Lambert-93), owner, nature, commune as filed."""

    x: float
    y: float
    nature: str
    owner: str
    height: float
    insee: str
    postcode: str
    lieu: str
    stations: list[Station]


def extract_name(date_iso: str = EXTRACT_DATE) -> str:
    return f"{date_iso.replace('-', '')}-export-etalab-data.zip"


def dms(value: float) -> tuple[int, int, int]:
    """Degrees, minutes and whole seconds of an absolute angle (as ANFR rounds them)."""
    total = int(round(abs(value) * 3600))
    return total // 3600, (total % 3600) // 60, total % 60


def _fr(value: float) -> str:
    """A decimal with a comma, as the export writes them ("28,3")."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _date(value: int | None) -> str:
    return "" if value is None else iso(value)[8:10] + "/" + iso(value)[5:7] + "/" + iso(value)[:4]


def _site_emitters(rng: np.random.Generator, site: Site, op: str) -> tuple[int | None, Emitters]:
    """Implantation day and emitters of one operator's station on a programme site."""
    built = site.dates.get("construction") or site.dates.get("service")
    service = site.dates.get("service")
    if service is None:  # declared, not in service yet
        return built, [("LTE 800", None), ("LTE 700", None)]
    systems: Emitters
    if site.programme == "NEW_DEAL":
        first = service if op == site.leader else service + int(rng.integers(0, 90))
        systems = [("LTE 800", first), ("LTE 700", first + int(rng.integers(0, 60)))]
        if rng.random() < 0.5:
            systems.append(("LTE 1800", first + int(rng.integers(30, 300))))
        if rng.random() < 0.5:
            systems.append(("GSM 900", first))
    else:
        first = service if op == site.leader else service + int(rng.integers(0, 200))
        systems = [("GSM 900", first), ("UMTS 2100", first + int(rng.integers(2000, 2600)))]
        systems.append(("LTE 800", first + int(rng.integers(3600, 4400))))
    systems = [(name, min(d, DEMO_TODAY) if d is not None else None) for name, d in systems]
    return built, systems


def programme_supports(
    rng: np.random.Generator, territory: Territory, sites: list[Site]
) -> list[Support]:
    """One support per built site, 15-60 m from the site's point, with its operators' stations."""
    communes = territory.communes
    out = []
    for s in sites:
        if not s.stations:
            continue
        r, a = rng.uniform(15, 60), rng.uniform(0, 2 * np.pi)
        crow = communes.iloc[s.pos]
        if s.programme == "NEW_DEAL":
            nature, owner = (
                "Pylône treillis" if rng.random() < 0.5 else "Pylône autostable",
                s.proprietaire,
            )
        elif s.programme == "CENTRE_BOURG":
            nature, owner = "Pylône haubané", "Département"
        else:
            nature, owner = "Pylône autostable", "TDF"
        stations = []
        for op, number in s.stations.items():
            built, systems = _site_emitters(rng, s, op)
            stations.append((number, op, built, systems))
        out.append(
            Support(
                s.x + r * np.cos(a),
                s.y + r * np.sin(a),
                nature,
                owner or "Privé",
                float(rng.integers(240, 420)) / 10,
                str(crow["insee"]),
                str(crow["code_postal"]),
                f"{LIEUX[int(rng.integers(len(LIEUX)))]}",
                stations,
            )
        )
    return out


def _town_supports(
    rng: np.random.Generator, territory: Territory, sites: list[Site], serial: int
) -> list[Support]:
    """Operators' own sites in the towns and a few private-network masts, 1.5 km from any
    programme site (so that no New Deal site is tied to them by proximity)."""
    communes = territory.communes
    taken = shapely.points([(s.x, s.y) for s in sites]) if sites else None
    tree = shapely.STRtree(taken) if taken is not None else None
    towns = np.flatnonzero(communes["population"].to_numpy() >= 900)
    out = []
    for p in towns.tolist():
        crow = communes.iloc[p]
        for k in range(2 if crow["population"] > 3000 else 1):
            c = crow["centre"]
            pt = shapely.Point(c.x + rng.uniform(-400, 400), c.y + rng.uniform(-400, 400))
            if tree is not None and tree.query(pt, predicate="dwithin", distance=1500).size:
                continue
            ops = sorted(
                rng.choice(list(EXPLOITANTS)[:4], size=int(rng.integers(2, 5)), replace=False)
            )
            stations: list[Station] = []
            for op in ops:
                serial += 1
                start = int(rng.integers(12000, 16000))  # 2002-2013
                systems: Emitters = [
                    ("GSM 900", start),
                    ("LTE 800", start + int(rng.integers(1500, 3000))),
                ]
                if rng.random() < 0.4:
                    systems.append(("5G NR 3500", int(rng.integers(19000, DEMO_TODAY))))
                systems = [(n, min(d, DEMO_TODAY) if d is not None else None) for n, d in systems]
                stations.append(
                    (f"{territory.departement.zfill(3)}228{serial:04d}", op, start, systems)
                )
            nature = [
                "Château d'eau - réservoir",
                "Bâtiment",
                "Clocher - église",
                "Pylône autostable",
            ][int(rng.integers(4)) if k == 0 else 3]
            owner = "Commune" if nature != "Pylône autostable" else "TDF"
            out.append(
                Support(
                    pt.x,
                    pt.y,
                    nature,
                    owner,
                    float(rng.integers(150, 450)) / 10,
                    str(crow["insee"]),
                    str(crow["code_postal"]),
                    "CENTRE BOURG",
                    stations,
                )
            )
    for p in rng.choice(len(communes), size=5, replace=False).tolist():
        crow = communes.iloc[p]
        c = crow["centre"]
        serial += 1
        day0 = int(rng.integers(14000, 18000))
        out.append(
            Support(
                c.x + 200,
                c.y - 150,
                "Mât",
                "Privé",
                18.0,
                str(crow["insee"]),
                str(crow["code_postal"]),
                "GENDARMERIE",
                [
                    (
                        f"{territory.departement.zfill(3)}227{serial:04d}",
                        "PMR",
                        day0,
                        [("PMR", day0)],
                    )
                ],
            )
        )
    return out


def _outside_supports(
    rng: np.random.Generator, territory: Territory, neighbours: gpd.GeoDataFrame
) -> list[Support]:
    """Stations across the border: real communes of a neighbouring département, 1 km from their
    mairie; the last one filed under a Lot commune's INSEE code by mistake."""
    outline = shapely.union_all(territory.communes.geometry.values)
    near = neighbours[neighbours.distance(outline) < 8000].sort_values("insee")
    out = []
    for i, row in enumerate(near.head(4).itertuples(index=False)):
        c = row.geometry
        number = f"{str(row.insee)[:2].zfill(3)}229{9000 + i:04d}"
        insee = str(row.insee)
        if i == 3:
            insee = str(
                territory.communes.iloc[int(territory.communes.distance(c).argmin())]["insee"]
            )
            number = f"{territory.departement.zfill(3)}229{9000 + i:04d}"
        start = int(rng.integers(17000, 19000))
        out.append(
            Support(
                c.x,
                c.y,
                "Pylône autostable",
                "TDF",
                32.0,
                insee,
                str(insee)[:2] + "000",
                "LE PUY",
                [(number, "20801", start, [("LTE 800", start), ("LTE 700", start + 200)])],
            )
        )
    return out


def id_base(departement: str) -> int:
    """A per-département offset of the demo's support, antenna, emitter and band ids, so that
    two demo territories in one database never share an id (ANFR's ids are national)."""
    digits = "".join(c for c in departement if c.isdigit()) or "0"
    return int(digits) % 100 * 1_000_000


def _tables(supports: list[Support], rng: np.random.Generator, base: int) -> dict[str, list[str]]:
    lonlat = gpd.GeoSeries(
        gpd.points_from_xy([s.x for s in supports], [s.y for s in supports]), crs=L93
    ).to_crs(WGS84)
    tables: dict[str, list[str]] = {name: [] for name in HEADERS}
    emr = aer = ban = 0
    for k, (s, pt) in enumerate(zip(supports, lonlat, strict=True)):
        sup_id = base + 700_001 + k
        lat, lon = dms(pt.y), dms(pt.x)
        ns, ew = ("N" if pt.y >= 0 else "S"), ("E" if pt.x >= 0 else "W")
        for number, op, built, systems in s.stations:
            tables["SUP_SUPPORT"].append(
                f"{sup_id};{number};{NATURES[s.nature]};{lat[0]};{lat[1]};{lat[2]};{ns};"
                f"{lon[0]};{lon[1]};{lon[2]};{ew};{_fr(s.height)};{PROPRIETAIRES[s.owner]};"
                f"{s.lieu};;;;{s.postcode};{s.insee}"
            )
            dates = [d for _, d in systems if d is not None]
            tables["SUP_STATION"].append(
                f"{number};{EXPLOITANTS[op][0]};{1_000_000 + int(rng.integers(0, 8_999_999))};"
                f"{_date(built)};{_date(max(dates) if dates else built)};{_date(min(dates) if dates else None)}"
            )
            antennas = []
            for azimuth in (0, 120, 240):
                aer += 1
                antennas.append(100 * base + 3_000_000 + aer)
                tables["SUP_ANTENNE"].append(
                    f"{number};{antennas[-1]};1;2,6;D;{azimuth};{_fr(s.height - 2.5)};{sup_id}"
                )
            for j, (system, served) in enumerate(systems):
                emr += 1
                emr_id = 100 * base + 12_000_000 + emr
                tables["SUP_EMETTEUR"].append(
                    f"{emr_id};{system};{number};{antennas[j % 3]};{_date(served)}"
                )
                ban += 1
                start, end = BANDS[system]
                tables["SUP_BANDE"].append(
                    f"{number};{100 * base + 40_000_000 + ban};{emr_id};{start};{end};M"
                )
    tables["SUP_EXPLOITANT"] = [f"{i};{label}" for i, label in sorted(EXPLOITANTS.values())]
    tables["SUP_PROPRIETAIRE"] = [
        f"{i};{label}" for label, i in sorted(PROPRIETAIRES.items(), key=lambda t: t[1])
    ]
    tables["SUP_NATURE"] = [
        f"{i};{label}" for label, i in sorted(NATURES.items(), key=lambda t: t[1])
    ]
    tables["SUP_TYPE_ANTENNE"] = [f"{i};{label}" for i, label in TYPES_ANTENNE.items()]
    return tables


def anfr_extract(
    territory: Territory, sites: list[Site], seed: int, neighbours: gpd.GeoDataFrame
) -> tuple[bytes, dict[str, object]]:
    """The zip's bytes and a summary of what it holds (for the manifest)."""
    rng = rng_for(seed, "anfr")
    supports = programme_supports(rng, territory, sites)
    supports += _town_supports(rng, territory, sites, 0)
    outside = _outside_supports(rng, territory, neighbours)
    tables = _tables(supports + outside, rng, id_base(territory.departement))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(tables):
            text = "\r\n".join([HEADERS[name], *tables[name]]) + "\r\n"
            info = zipfile.ZipInfo(f"{name}.txt", date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("cp1252"))
    summary = {
        "stations": len(tables["SUP_STATION"]),
        "stations_hors_territoire": [st[0] for s in outside for st in s.stations],
        "supports": {
            st[0]: [round(s.x, 1), round(s.y, 1)] for s in supports + outside for st in s.stations
        },
    }
    return buffer.getvalue(), summary
