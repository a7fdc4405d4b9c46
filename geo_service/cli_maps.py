"""`geo-service maps export`: the pages as static HTML files."""

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
                help="Adresse du service qui sert les fichiers Leaflet, les tuiles et l'API.",
            ),
        ] = "http://127.0.0.1:8000",
        commune: Annotated[
            list[str] | None,
            typer.Option("--commune", help="Limiter aux communes données (code INSEE, répétable)."),
        ] = None,
    ) -> None:
        """Écrit la carte publique, la carte technique, l'index et les pages élus en HTML statique."""
        from rich.progress import Progress

        from geo_service.cli import console
        from geo_service.maps.export import export_pages

        with Progress(transient=True) as progress:
            task = progress.add_task("Export", total=None)
            files = export_pages(
                Settings(),
                out,
                base_url=base_url,
                communes=commune,
                on_page=lambda url: progress.update(task, description=f"Export {url}"),
            )
        console.print(f"{len(files)} pages écrites dans {out} (ressources servies par {base_url}).")
