"""`geo-service rapport annuel|tout`: the yearly documents (département, EPCI, commune) as PDF
or HTML, built from the database (see geo_service.reports)."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Annotated

import typer

from geo_service.cli_import import DeptOption
from geo_service.errors import InvalidParameterError

rapport_app = typer.Typer(
    help="Rapports annuels : dossier du département, des EPCI, fiche par commune (PDF, HTML).",
    no_args_is_help=True,
)
KINDS = {
    "departement": "dossier du département",
    "epci": "dossiers EPCI",
    "commune": "fiches communes",
}

YearOption = Annotated[int, typer.Option("--annee", help="Année du rapport (chiffres au 31/12).")]


def register_rapport(app: typer.Typer, friendly_errors) -> None:  # type: ignore[no-untyped-def]
    rapport_app.command("annuel")(friendly_errors(annuel))
    rapport_app.command("tout")(friendly_errors(tout))
    app.add_typer(rapport_app, name="rapport")


def _context(departement: str | None, annee: int):  # type: ignore[no-untyped-def]
    from geo_service.db.session import make_engine
    from geo_service.reports.context import build_context
    from geo_service.settings import Settings

    settings = Settings()
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            return build_context(conn, departement or settings.departement, annee)
    finally:
        engine.dispose()


def annuel(
    annee: YearOption,
    out: Annotated[Path, typer.Option("--out", help="Fichier à écrire.", dir_okay=False)],
    epci: Annotated[str | None, typer.Option("--epci", help="SIREN de l'EPCI.")] = None,
    commune: Annotated[str | None, typer.Option("--commune", help="Code INSEE.")] = None,
    format_: Annotated[
        str, typer.Option("--format", help="pdf (défaut) ou html (version accessible).")
    ] = "pdf",
    departement: DeptOption = None,
) -> None:
    """Le rapport d'une année : du département, d'un EPCI (--epci) ou d'une commune (--commune)."""
    from geo_service.cli import console
    from geo_service.reports.render import build

    if format_ not in ("pdf", "html"):
        raise InvalidParameterError(f"Format inconnu « {format_} » (attendu : pdf ou html).")
    if epci and commune:
        raise InvalidParameterError("Choisissez --epci ou --commune, pas les deux.")
    level, code = (
        ("epci", epci) if epci else ("commune", commune) if commune else ("departement", None)
    )
    start = time.perf_counter()
    ctx = _context(departement, annee)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(build(ctx, level, code, format_))  # type: ignore[arg-type]
    console.print(f"Rapport écrit : [bold]{out}[/] ({time.perf_counter() - start:.1f} s)")
    if ctx.missing:
        console.print(f"[yellow]Données non disponibles :[/] {', '.join(ctx.missing)}")


def tout(
    annee: YearOption,
    out: Annotated[
        Path, typer.Option("--out", help="Dossier où écrire les documents.", file_okay=False)
    ],
    format_: Annotated[str, typer.Option("--format", help="pdf (défaut) ou html.")] = "pdf",
    processus: Annotated[
        int | None, typer.Option("--processus", help="Processus en parallèle (défaut : les cœurs).")
    ] = None,
    departement: DeptOption = None,
) -> None:
    """Tous les documents de l'année : département, chaque EPCI, une fiche A4 par commune."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from geo_service.cli import console
    from geo_service.reports.batch import build_all

    if format_ not in ("pdf", "html"):
        raise InvalidParameterError(f"Format inconnu « {format_} » (attendu : pdf ou html).")
    start = time.perf_counter()
    ctx = _context(departement, annee)
    read = time.perf_counter() - start
    console.print(f"Données de {annee} lues en {read:.1f} s.")
    per_kind: dict[str, list[float]] = defaultdict(list)
    total = 1 + len(ctx.epcis) + len(ctx.communes)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("Documents", total=total)

        def tick(done):  # type: ignore[no-untyped-def]
            per_kind[done.job.level].append(done.seconds)
            progress.advance(task)

        build_all(ctx, out, fmt=format_, processes=processus, on_done=tick)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    for kind, label in KINDS.items():
        times = per_kind.get(kind, [])
        if times:
            console.print(
                f"{label} : {len(times)} document(s), {sum(times) / len(times):.2f} s chacun en moyenne"
            )
    console.print(f"{total} documents écrits sous [bold]{out}[/] en {elapsed:.1f} s.")
    if ctx.missing:
        console.print(f"[yellow]Données non disponibles :[/] {', '.join(ctx.missing)}")
