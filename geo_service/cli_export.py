"""`geo-service export`: the public collections as open-data files (GeoPackage)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from geo_service.settings import Settings

export_app = typer.Typer(help="Export des données ouvertes.", no_args_is_help=True)


def _write(path: Path, departement: str | None, as_of: date | None) -> None:
    from geo_service.analysis.open_data import COLLECTIONS, write_geopackage
    from geo_service.cli import console
    from geo_service.cli_format import fr_int
    from geo_service.db.session import make_engine

    settings = Settings()
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            counts = write_geopackage(conn, path, departement or settings.departement, as_of=as_of)
    finally:
        engine.dispose()
    for layer, n in counts.items():
        console.print(f"  {COLLECTIONS[layer].title} ({layer}) : {fr_int(n)}")
    console.print(f"{len(counts)} couches écrites dans {path}.")


@export_app.command("gpkg")
def gpkg(
    fichier: Annotated[Path, typer.Argument(help="Fichier GeoPackage à écrire (remplacé).")],
    as_of: Annotated[
        str | None,
        typer.Option("--date", help="Date des chiffres des zones, communes et EPCI (AAAA-MM-JJ)."),
    ] = None,
    departement: Annotated[str | None, typer.Option("--departement", "-d")] = None,
) -> None:
    """Écrit les couches publiques (zones PM, communes, EPCI, locaux, NRO, sites mobiles, bornes
    WiFi, sites MED) dans un GeoPackage, chacune avec sa source et sa date."""
    from geo_service.cli import friendly_errors
    from geo_service.cli_format import cli_date

    friendly_errors(_write)(fichier, departement, cli_date(as_of))
