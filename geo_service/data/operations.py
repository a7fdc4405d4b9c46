"""The data files of the operating registers: contractual commitments and DSP facts
(engagements.toml, overridden by GEO_SERVICE_ENGAGEMENTS) and ARCEP's national take-up rates
(national.toml)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from geo_service.errors import ConfigurationError


@dataclass(frozen=True)
class Category:
    code: str
    libelle: str
    delai_heures: float


@dataclass(frozen=True)
class Engagements:
    """Restoration commitments per incident category, control objectives, DSP facts."""

    statut: str  # "hypothèse" until the contract's values are entered
    categories: dict[str, Category]
    objectifs: dict[str, dict[int, int]]  # perimetre → campaign → objective
    dsp_nom: str
    dsp_pm: int
    pm_territoire: dict[str, int]
    source: str


@dataclass(frozen=True)
class NationalRate:
    date: date
    taux: float
    source: str
    abonnements: int | None = None
    locaux_raccordables: int | None = None


def _read(name: str, path: Path | None) -> tuple[dict[str, Any], str]:
    if path is not None:
        try:
            return tomllib.loads(path.read_text(encoding="utf-8")), str(path)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"{path} illisible : {exc}") from exc
    packaged = resources.files("geo_service.data").joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(packaged), name


def load_engagements(path: Path | None = None) -> Engagements:
    """The commitments file: `path`, else GEO_SERVICE_ENGAGEMENTS, else the shipped one."""
    env = os.environ.get("GEO_SERVICE_ENGAGEMENTS")
    values, source = _read("engagements.toml", path or (Path(env) if env else None))
    try:
        categories = {
            code: Category(code, str(c["libelle"]), float(c["delai_heures"]))
            for code, c in values["incidents"]["categories"].items()
        }
        objectifs = {
            str(perimetre): {int(year): int(n) for year, n in by_year.items()}
            for perimetre, by_year in values.get("controles_pm", {}).get("objectifs", {}).items()
        }
        dsp = values["dsp"]
        return Engagements(
            statut=str(values.get("statut", "hypothèse")),
            categories=categories,
            objectifs=objectifs,
            dsp_nom=str(dsp["nom"]),
            dsp_pm=int(dsp["nb_pm"]),
            pm_territoire={str(k): int(v) for k, v in dsp.get("pm_territoire", {}).items()},
            source=source,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"{source} : paramètre absent ou illisible : {exc}.") from exc


def load_national(series: str = "national") -> list[NationalRate]:
    """ARCEP's national take-up rates ('national'), or the figure the syndicat quotes
    ('cite'), in date order."""
    values, source = _read("national.toml", None)
    if series not in values:
        raise ConfigurationError(f"{source} : série « {series} » absente.")
    return sorted(
        (
            NationalRate(
                date=entry["date"],
                taux=float(entry["taux"]),
                source=str(entry["source"]),
                abonnements=entry.get("abonnements"),
                locaux_raccordables=entry.get("locaux_raccordables"),
            )
            for entry in values[series]
        ),
        key=lambda r: r.date,
    )
