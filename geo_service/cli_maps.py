"""`geo-service maps export`: the pages as a static folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo_service.settings import PROJECT_ROOT, Settings

maps_app = typer.Typer(help="Cartes et pages HTML.", no_args_is_help=True)


def register_maps(friendly_errors) -> None:  # type: ignore[no-untyped-def]
    @maps_app.command("export")
    @friendly_errors
    def export(
        out: Annotated[Path, typer.Option("--out", help="Dossier de sortie.")] = PROJECT_ROOT
        / "maps",
        base_url: Annotated[
            str,
            typer.Option(
                "--base-url",
                help="Adresse publique du service qui sert les tuiles vectorielles, l'API "
                "« quand ? » et la connexion (la carte publique les charge depuis le navigateur).",
            ),
        ] = "http://127.0.0.1:8000",
        commune: Annotated[
            list[str] | None,
            typer.Option("--commune", help="Limiter aux communes données (code INSEE, répétable)."),
        ] = None,
        epci: Annotated[
            list[str] | None,
            typer.Option("--epci", help="Limiter aux EPCI donnés (SIREN, répétable)."),
        ] = None,
        avec_technique: Annotated[
            bool,
            typer.Option(
                "--avec-technique",
                help="Écrire aussi technique.html, qui contient des données NON PUBLIQUES "
                "(adresses des prises onéreuses et des oubliés) : à ne pas publier.",
            ),
        ] = False,
    ) -> None:
        """Écrit un dossier statique complet : la carte publique (index.html), l'index des communes,
        les pages élus (version publique) de chaque EPCI et de chaque commune, et les fichiers
        Leaflet (static/). Il se publie sur tout hébergement statique ou s'ouvre depuis le disque ;
        les tuiles et l'API « quand ? » viennent du service --base-url. La carte technique n'est
        écrite qu'avec --avec-technique (données non publiques)."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from geo_service.cli import console
        from geo_service.db.session import make_engine
        from geo_service.maps.export import TECHNIQUE, export_pages

        settings = Settings()
        engine = make_engine(settings, application_name="geo-service maps export")
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        try:
            with engine.connect() as conn, Progress(*columns, console=console) as progress:
                task = progress.add_task("Préparation", total=None)
                result = export_pages(
                    conn,
                    settings,
                    out,
                    base_url=base_url,
                    communes=commune,
                    epcis=epci,
                    with_technique=avec_technique,
                    on_plan=lambda total: progress.update(task, total=total, description="Pages"),
                    on_page=lambda page: progress.update(
                        task, advance=1, description=f"Pages — {page.label}"
                    ),
                )
                progress.update(task, description="Pages")
        finally:
            engine.dispose()
        console.print(
            f"{len(result.pages)} pages et {len(result.assets)} fichiers Leaflet écrits dans "
            f"{out} ; tuiles et API « quand ? » servies par {base_url} (voir {result.readme})."
        )
        if avec_technique:
            console.print(
                f"[bold red]Attention[/] : {out / TECHNIQUE} contient des données non publiques "
                "(adresses des prises onéreuses et des oubliés). Ne la publiez pas."
            )
