"""Command line `geo-service` (Typer): database, reference data, demo, imports, stats, maps, server."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from typer._click.core import Command as TyperCommandBase

from geo_service.cli_format import fr_int
from geo_service.errors import GeoServiceError
from geo_service.logging_setup import configure_logging
from geo_service.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

_typer_help_option = TyperCommandBase.get_help_option


def _french_help_option(self: TyperCommandBase, ctx: Any) -> Any:
    """The --help option, described in French like the rest of the CLI."""
    option = _typer_help_option(self, ctx)
    if option is not None:
        option.help = "Affiche cette aide et quitte."
    return option


TyperCommandBase.get_help_option = _french_help_option  # type: ignore[method-assign]

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    help="geo_service : suivi du très haut débit (fibre, mobile, WiFi) d'un territoire.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    add_completion=False,
)
db_app = typer.Typer(
    help="Base de données PostGIS : démarrage, arrêt, migrations.", no_args_is_help=True
)
reference_app = typer.Typer(
    help="Référentiel géographique officiel (communes, EPCI).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(reference_app, name="reference")


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a domain error's French message and exit non-zero (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GeoServiceError as exc:
            err_console.print(f"[bold red]Erreur :[/] {exc.message}")
            problems = getattr(exc, "problems", None)
            if problems:
                from geo_service.cli_format import print_problems

                print_problems(err_console, problems)
            raise typer.Exit(code=1) from exc

    return wrapper


from geo_service.cli_cache import register_cache  # noqa: E402
from geo_service.cli_controle import register_controle  # noqa: E402
from geo_service.cli_db import register_db  # noqa: E402
from geo_service.cli_export import export_app  # noqa: E402
from geo_service.cli_import import demo_app, import_app, register_commands  # noqa: E402
from geo_service.cli_maps import maps_app, register_maps  # noqa: E402
from geo_service.cli_prises import prises_app, register_prises  # noqa: E402
from geo_service.cli_programmes import register_programmes  # noqa: E402
from geo_service.cli_stats import register_stats, stats_app  # noqa: E402
from geo_service.cli_users import register_users, users_app  # noqa: E402

register_db(db_app, friendly_errors)
register_commands(friendly_errors)
register_stats(friendly_errors)
register_prises(app, friendly_errors)
register_programmes(app, friendly_errors)
register_maps(friendly_errors)
register_users(friendly_errors)
register_cache(app, friendly_errors)
register_controle(app, friendly_errors)
__import__("geo_service.cli_rapport").cli_rapport.register_rapport(app, friendly_errors)
app.add_typer(users_app, name="users")
app.add_typer(maps_app, name="maps")
app.add_typer(prises_app, name="prises")
app.add_typer(stats_app, name="stats")
app.add_typer(import_app, name="import")
app.add_typer(demo_app, name="demo")
app.add_typer(export_app, name="export")


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Journal détaillé.")] = False,
) -> None:
    configure_logging(logging.DEBUG if verbose else logging.INFO)


@db_app.command("up")
@friendly_errors
def db_up(
    rapide_tests: Annotated[
        bool,
        typer.Option(
            "--rapide-tests",
            help="Pour la suite de tests seulement : fsync coupé (une coupure de courant peut "
            "corrompre les données).",
        ),
    ] = False,
) -> None:
    """Démarre le PostgreSQL/PostGIS local du projet (l'installe si besoin) sauf si DATABASE_URL est défini."""
    from geo_service.db import cluster

    settings = Settings()
    if not settings.local_cluster:
        console.print("DATABASE_URL est défini : base externe utilisée, rien à démarrer.")
        return
    url = cluster.up(settings, rapide_tests=rapide_tests)
    console.print(f"Base prête : [bold]{url}[/] (données dans {settings.pgdata})")


@db_app.command("down")
@friendly_errors
def db_down() -> None:
    """Arrête le PostgreSQL local du projet (les données sont conservées)."""
    from geo_service.db import cluster

    cluster.down(Settings())
    console.print("Base locale arrêtée.")


@db_app.command("migrate")
@friendly_errors
def db_migrate(
    revision: Annotated[
        str, typer.Argument(help="Révision cible (défaut : la dernière).")
    ] = "head",
) -> None:
    """Applique les migrations Alembic à la base désignée par DATABASE_URL."""
    from geo_service.db.migrate import upgrade

    settings = Settings()
    upgrade(settings.libpq_url, revision)
    console.print(f"Migrations appliquées jusqu'à « {revision} ».")


@db_app.command("url")
def db_url() -> None:
    """Affiche l'URL de la base utilisée (forme libpq)."""
    console.print(Settings().libpq_url, highlight=False, soft_wrap=True)


@reference_app.command("load")
@friendly_errors
def reference_load(
    departement: Annotated[
        str | None,
        typer.Option(
            "--territoire",
            "--departement",
            "-d",
            help="Code du territoire (ex. 46) ; ses départements sont ceux de "
            "data/territories/<code>/territoire.toml, sinon le département de ce code.",
        ),
    ] = None,
) -> None:
    """Charge les communes et EPCI officiels d'un territoire (un ou plusieurs départements ;
    idempotent)."""
    from geo_service.db.session import make_engine
    from geo_service.reference.load import load_reference

    settings = Settings()
    code = departement or settings.departement
    engine = make_engine(settings)
    with engine.begin() as conn:
        summary = load_reference(conn, code, territory_dir=settings.territory_dir(code))
    several = len(summary.departements) > 1
    deps = f" ; départements {', '.join(summary.departements)}" if several else ""
    console.print(
        f"{summary.nom} ({summary.departement}{deps}) : {summary.communes} communes, "
        f"{summary.epci} EPCI, {fr_int(summary.population)} habitants, "
        f"{summary.amii_communes} communes en zone AMII ; {summary.changed_rows} lignes modifiées."
    )


def default_workers() -> int:
    """`serve`'s processes when not told: one more than the machine's cores."""
    return (os.cpu_count() or 1) + 1


@app.command("serve")
@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="Nombre de processus ; 0 : un de plus que de cœurs (chacun a son pool de 20 "
            "connexions PostgreSQL au plus : comptez 20 × N sous max_connections, 100 par "
            "défaut).",
        ),
    ] = 0,
    graceful_timeout: Annotated[
        int,
        typer.Option(
            min=1,
            help="Secondes laissées aux requêtes en cours après SIGTERM ou Ctrl-C ; "
            "au-delà elles sont coupées et le serveur s'arrête.",
        ),
    ] = 10,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            help="Derrière un proxy HTTPS (nginx, Caddy…) : croire X-Forwarded-Proto et "
            "X-Forwarded-For venus des adresses de --forwarded-allow-ips, pour que l'application "
            "sache la requête en HTTPS (cookies « Secure »)."
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(help="Adresses du proxy dont les en-têtes X-Forwarded-* sont crus."),
    ] = "127.0.0.1",
    prechauffage: Annotated[
        bool,
        typer.Option(
            help="Préchauffer le cache partagé en tâche de fond (toutes les pages publiques, au "
            "démarrage puis après chaque import ou modification)."
        ),
    ] = True,
) -> None:
    """Sert l'application web (carte publique, pages élus, API)."""
    import uvicorn

    Settings()  # a configuration error is reported here, before any worker starts
    # one more than the cores: measured on 2 cores with the database on the same machine, 3
    # processes answer 200 req/s with a p99 of 23 to 52 ms where 2 reach 47 to 82 ms (the
    # kernel gives a process more connections than the other, and the GIL caps each at a core)
    workers = workers or default_workers()
    if prechauffage:
        os.environ.setdefault("GEO_SERVICE_PRECHAUFFAGE", "1")
    uvicorn.run(
        "geo_service.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_graceful_shutdown=graceful_timeout,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="info",
    )


if __name__ == "__main__":
    app()
