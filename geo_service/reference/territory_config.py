"""A territory's declaration: `data/territories/<code>/territoire.toml`.

A territory is a named set of départements (a département syndicat has one, a région-wide RIP 4
to 13). The file is optional: without it the territory is the département named by its code.

    nom = "Lot numérique"                 # shown on the pages (default: the département's name)
    departements = ["46"]                 # INSEE codes (default: [code])
    amii = "amii_communes.csv"            # a file (insee;nom) beside this one, or a list of codes
    objectifs = "objectifs.csv"           # contractual targets (level;code;date;raccordables;source)
    fond_de_carte = "OpenStreetMap"       # Folium tiles name or a URL template

Unknown keys are refused (a misspelt key would silently do nothing).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from geo_service.errors import ReferenceDataError

FILE_NAME = "territoire.toml"
CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,15}$")
DEPARTEMENT = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2[AB]|97[1-6])$")
KEYS = {"nom", "departements", "amii", "objectifs", "fond_de_carte"}


@dataclass(frozen=True)
class TerritoryConfig:
    code: str
    nom: str | None
    departements: tuple[str, ...]
    amii: frozenset[str] | None  # None: read from `amii_file`
    amii_file: Path
    objectifs_file: Path
    fond_de_carte: str | None
    source: Path | None  # the territoire.toml read, if any


def check_code(code: str) -> str:
    """A territory code: 1 to 16 letters, digits, '-' or '_'."""
    if not CODE.match(code or ""):
        raise ReferenceDataError(
            f"Code de territoire invalide : « {code} » (1 à 16 lettres, chiffres, « - » ou « _ »)."
        )
    return code


def read_config(code: str, territory_dir: Path) -> TerritoryConfig:
    """The territory's declaration from `territory_dir/territoire.toml`, else the defaults of a
    one-département territory named by its code."""
    check_code(code)
    path = territory_dir / FILE_NAME
    data: dict[str, object] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ReferenceDataError(f"{path} : fichier TOML illisible ({exc}).") from exc
        unknown = sorted(set(data) - KEYS)
        if unknown:
            raise ReferenceDataError(
                f"{path} : clé(s) inconnue(s) {', '.join(unknown)} "
                f"(attendu : {', '.join(sorted(KEYS))})."
            )
    departements = data.get("departements", [code])
    if (
        not isinstance(departements, list)
        or not departements
        or not all(isinstance(d, str) for d in departements)
    ):
        raise ReferenceDataError(
            f"{path} : « departements » doit être une liste non vide de codes INSEE "
            '(ex. ["46", "12"]).'
        )
    bad = [d for d in departements if not DEPARTEMENT.match(d)]
    if bad:
        where = path if path.is_file() else f"territoire « {code} »"
        raise ReferenceDataError(
            f"Département inconnu : « {', '.join(bad)} » ({where} ; codes INSEE : 01 à 95, "
            "2A, 2B, 971 à 976)."
        )
    if len(set(departements)) != len(departements):
        raise ReferenceDataError(f"{path} : un département est cité deux fois.")
    nom = data.get("nom")
    if nom is not None and (not isinstance(nom, str) or not 0 < len(nom.strip()) <= 120):
        raise ReferenceDataError(f"{path} : « nom » doit être un texte de 1 à 120 caractères.")
    amii_value = data.get("amii", "amii_communes.csv")
    amii: frozenset[str] | None = None
    amii_file = territory_dir / "amii_communes.csv"
    if isinstance(amii_value, list) and all(isinstance(c, str) for c in amii_value):
        amii = frozenset(c.strip() for c in amii_value)
    elif isinstance(amii_value, str):
        amii_file = territory_dir / amii_value
    else:
        raise ReferenceDataError(
            f"{path} : « amii » doit être un nom de fichier ou une liste de codes INSEE."
        )
    objectifs = data.get("objectifs", "objectifs.csv")
    fond = data.get("fond_de_carte")
    if not isinstance(objectifs, str) or (fond is not None and not isinstance(fond, str)):
        raise ReferenceDataError(f"{path} : « objectifs » et « fond_de_carte » sont des textes.")
    return TerritoryConfig(
        code=code,
        nom=nom.strip() if isinstance(nom, str) else None,
        departements=tuple(sorted(departements)),
        amii=amii,
        amii_file=amii_file,
        objectifs_file=territory_dir / objectifs,
        fond_de_carte=fond,
        source=path if path.is_file() else None,
    )


def territory_name(config: TerritoryConfig) -> str:
    """The declared name, else the département's own (or the départements' names joined)."""
    from geo_service.reference import sources  # geopandas: only when a name is needed

    if config.nom:
        return config.nom
    names = [sources.departement(d).nom for d in config.departements]
    return names[0] if len(names) == 1 else " – ".join(names)[:120]


def member_departements(conn: Connection, territory: str) -> list[str]:
    """The départements of a loaded territory (one for a département syndicat; a territory
    written without them is the département of its code); [] when it is not loaded."""
    found = conn.execute(
        text("SELECT departements FROM territory WHERE code = :t"), {"t": territory}
    ).first()
    if found is None:
        return []
    return list(found[0]) or [territory]
