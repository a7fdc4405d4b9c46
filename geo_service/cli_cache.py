"""`geo-service cache warm | clear`: the pages cache shared by the server's processes."""

from __future__ import annotations

from typing import Annotated

import typer

cache_app = typer.Typer(
    help="Cache des pages partagé par les processus du serveur.", no_args_is_help=True
)

KIND_LABELS = {
    "raccordables": "réponses raccordables de l'API",
    "page-public": "carte publique",
    "page-index": "index des communes",
    "page-technique": "carte technique",
    "page-commune": "pages communes",
    "page-epci": "pages EPCI",
    "page-departement_membre": "pages des départements d'un territoire régional",
    "progress": "séries de progression",
}


def register_cache(app: typer.Typer, friendly_errors) -> None:  # type: ignore[no-untyped-def]
    app.add_typer(cache_app, name="cache")

    @cache_app.command("warm")
    @friendly_errors
    def warm_command(
        quoi: Annotated[
            list[str] | None,
            typer.Option(
                "--quoi",
                help="Limiter à ces contenus (répétable) : " + ", ".join(KIND_LABELS) + ".",
            ),
        ] = None,
    ) -> None:
        """Calcule, pour la version actuelle des données, les raccordables de l'API (tous
        niveaux, puis chaque niveau), la carte publique, l'index, la carte
        technique, les pages élus publiques de chaque commune et EPCI et les séries de
        progression, et les range dans le cache partagé (ce qui y est déjà n'est pas refait) :
        le serveur les sert ensuite sans calcul. À lancer après un import ou des modifications
        (la version change) ; les versions plus anciennes sont supprimées."""
        from geo_service.api.warm import KINDS, warm
        from geo_service.cli import console
        from geo_service.db.session import make_engine
        from geo_service.errors import InvalidParameterError
        from geo_service.settings import Settings

        unknown = sorted(set(quoi or []) - set(KINDS))
        if unknown:
            raise InvalidParameterError(
                f"Contenu inconnu : {', '.join(unknown)} (attendu : {', '.join(KINDS)})."
            )
        settings = Settings()
        engine = make_engine(settings, application_name="geo_service cache warm")
        count = 0
        try:
            with console.status("Préchauffage du cache…") as status:

                def on_page(kind: str, key: str) -> None:
                    nonlocal count
                    count += 1
                    status.update(f"Préchauffage du cache : {count} rendus ({KIND_LABELS[kind]})")

                report = warm(engine, settings, kinds=set(quoi) if quoi else None, on_page=on_page)
        finally:
            engine.dispose()
        details = ", ".join(
            f"{n} {KIND_LABELS[kind]}" for kind, n in sorted(report.rendered.items())
        )
        console.print(
            f"Cache préchauffé pour la version {report.version} en {report.seconds:.0f} s — "
            f"calculés : {report.total}"
            + (f" ({details})" if details else "")
            + f" ; déjà présents : {report.already} ; anciens supprimés : {report.purged}.",
            highlight=False,
        )
        if report.interrupted:
            console.print(
                "[yellow]Les données ont changé pendant le préchauffage : relancez "
                "« geo-service cache warm » pour la nouvelle version.[/]"
            )
            raise typer.Exit(1)

    @cache_app.command("clear")
    @friendly_errors
    def clear_command() -> None:
        """Vide le cache partagé (les pages seront recalculées à la demande)."""
        from sqlalchemy import text

        from geo_service.cli import console
        from geo_service.db.session import make_engine
        from geo_service.settings import Settings

        engine = make_engine(Settings())
        try:
            with engine.begin() as conn:
                removed = conn.execute(text("DELETE FROM page_cache")).rowcount
        finally:
            engine.dispose()
        console.print(f"Cache partagé vidé (contenus supprimés : {removed}).")
