"""Cost parameters of the expensive-prise estimate, from a documented TOML file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from geo_service.errors import ConfigurationError


@dataclass(frozen=True)
class CostParameters:
    cout_fixe_prise: float
    cout_metre_reutilisation: float
    cout_metre_genie_civil: float
    facteur_detour: float
    distance_genie_civil_m: float
    rayon_voisinage_m: float
    majoration_isolement: float
    seuil_onereux: float


def load_costs(path: Path | None = None) -> CostParameters:
    """Defaults shipped in geo_service/data/couts.toml, overridden by GEO_SERVICE_COUTS."""
    source = path or (
        Path(os.environ["GEO_SERVICE_COUTS"]) if os.environ.get("GEO_SERVICE_COUTS") else None
    )
    text = (
        source.read_text(encoding="utf-8")
        if source
        else resources.files("geo_service.data").joinpath("couts.toml").read_text(encoding="utf-8")
    )
    values = tomllib.loads(text)
    names = [f.name for f in fields(CostParameters)]
    missing = [n for n in names if n not in values]
    if missing:
        raise ConfigurationError(
            f"{source or 'couts.toml'} : paramètres absents : {', '.join(missing)}."
        )
    return CostParameters(**{n: float(values[n]) for n in names})
