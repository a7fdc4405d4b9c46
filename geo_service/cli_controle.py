"""`geo-service import arcep-immeubles` and `geo-service controle arcep`: ARCEP's building-level
file, and the cross-check of the operator's IPE against it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from geo_service.cli_format import cli_date, fr_int
from geo_service.cli_import import (
    DateOption,
    DeptOption,
    SkipInvalidOption,
    UserOption,
    _context,
    _report,
)
from geo_service.settings import Settings

controle_app = typer.Typer(
    help="Contrôles des données de l'opérateur (croisement avec les fichiers de l'État).",
    no_args_is_help=True,
)
CATEGORY_HEADERS = {
    "absent_ipe": "absents IPE",
    "absent_arcep": "absents ARCEP",
    "etat_different": "états ≠",
    "pm_different": "PM ≠",
    "position_ecart": "positions",
}


def register_arcep_import(import_app: typer.Typer, friendly_errors) -> None:  # type: ignore[no-untyped-def]
    """`geo-service import arcep-immeubles FICHIER` (called next to the other import commands)."""

    @import_app.command("arcep-immeubles")
    @friendly_errors
    def import_arcep_immeubles_cmd(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Fichier « Carte fibre » de l'ARCEP par immeuble (.zip tel que publié, "
                ".csv ou .csv.gz ; national ou extrait départemental).",
                exists=True,
                dir_okay=False,
            ),
        ],
        date_: DateOption = None,
        skip_invalid: SkipInvalidOption = False,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Importe l'état trimestriel des immeubles fibrés publié par l'ARCEP, pour les communes
        du territoire. Date de l'état : --date, sinon la fin du trimestre nommé dans le fichier
        (…_2024_T2_… → 30/06/2024) ; sans trimestre ni --date, l'import est refusé. Un nouveau
        fichier du même trimestre remplace ce trimestre ; les autres sont gardés."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.arcep_immeubles import import_arcep_immeubles

        settings, code = _context(departement)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(f"{fichier.name} : lecture", total=fichier.stat().st_size)

            def step(message: str) -> None:
                progress.update(task, description=f"{fichier.name} : {message}")

            def read(done: int, total: int | None) -> None:
                progress.update(task, completed=done, total=total)

            result = import_arcep_immeubles(
                make_engine(settings),
                fichier,
                territory=code,
                snapshot_date=cli_date(date_),
                user=utilisateur,
                skip_invalid=skip_invalid,
                progress=step,
                on_bytes=read,
            )
        _report(result)


def _table(title: str, units: list[dict[str, Any]], keys: tuple[str, ...]) -> Table:
    table = Table(title=title)
    for key in keys:
        table.add_column(key)
    for header in [*CATEGORY_HEADERS.values(), "total"]:
        table.add_column(header, justify="right")
    for unit in units:
        counts = [fr_int(unit[c]) for c in [*CATEGORY_HEADERS, "total"]]
        table.add_row(*(str(unit[k] or "") for k in keys), *counts)
    return table


def _print_table(result: dict[str, Any], limit: int) -> None:
    from geo_service.analysis.controle_arcep import LIBELLES
    from geo_service.cli import console

    console.print(
        f"État ARCEP au {result['date_arcep']:%d/%m/%Y} comparé à l'IPE à la même date "
        f"(territoire {result['territoire']}) : {fr_int(result['immeubles_arcep'])} immeubles "
        f"ARCEP, {fr_int(result['immeubles_ipe'])} immeubles IPE ; écart de position au-delà "
        f"de {result['seuil_m']:g} m."
    )
    summary = Table(title="Écarts par catégorie")
    summary.add_column("catégorie")
    summary.add_column("immeubles", justify="right")
    for key, count in result["par_categorie"].items():
        summary.add_row(LIBELLES[key], fr_int(count))
    console.print(summary)
    console.print(_table("Par EPCI", result["par_epci"], ("siren", "nom")))
    console.print(_table("Par commune", result["par_commune"][:limit], ("insee", "commune")))
    rows = Table(title=f"Immeubles ({fr_int(len(result['lignes']))} lignes)")
    for header in ("catégorie", "immeuble", "commune", "ARCEP", "IPE", "écart (m)"):
        rows.add_column(header)
    for row in result["lignes"][:limit]:
        arcep = " / ".join(str(v) for v in (row["etat_arcep"], row["pm_arcep"]) if v)
        ipe = " / ".join(str(v) for v in (row["etat_ipe"], row["pm_ipe"]) if v)
        distance = "" if row["distance_m"] is None else f"{row['distance_m']:.1f}"
        rows.add_row(row["libelle"], row["imb_id"], row["commune"], arcep, ipe, distance)
    console.print(rows)
    if len(result["lignes"]) > limit:
        console.print(f"… {fr_int(len(result['lignes']) - limit)} autres : --format csv.")


def register_controle(app: typer.Typer, friendly_errors) -> None:  # type: ignore[no-untyped-def]
    """Attach the `controle` group and its commands to the main app."""

    @controle_app.command("arcep")
    @friendly_errors
    def controle_arcep(
        date_: Annotated[
            str | None,
            typer.Option(
                "--date",
                help="Date AAAA-MM-JJ : le trimestre ARCEP importé à cette date ou avant "
                "(défaut : le dernier importé).",
            ),
        ] = None,
        commune: Annotated[
            str | None, typer.Option("--commune", help="Code INSEE d'une commune.")
        ] = None,
        epci: Annotated[str | None, typer.Option("--epci", help="SIREN d'un EPCI.")] = None,
        seuil: Annotated[
            float, typer.Option("--seuil", help="Écart de position signalé au-delà (mètres).")
        ] = 100.0,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv ou json.")] = "table",
        sortie: Annotated[
            Path | None, typer.Option("--sortie", "-o", help="Écrire dans ce fichier.")
        ] = None,
        limite: Annotated[int, typer.Option("--limite", help="Lignes affichées (table).")] = 50,
        departement: Annotated[str | None, typer.Option("--departement", "-d")] = None,
    ) -> None:
        """Compare l'état ARCEP d'un trimestre à l'IPE de l'opérateur à la même date, immeuble
        par immeuble : absents de l'IPE, absents de l'ARCEP, états différents, PM différents,
        positions éloignées ; comptes par commune et par EPCI. Le CSV (« ; », en-têtes en
        français) est celui à transmettre au délégataire."""
        from geo_service.analysis.controle_arcep import arcep_differences, differences_csv
        from geo_service.db.session import make_engine

        if fmt not in ("table", "csv", "json"):
            raise typer.BadParameter(f"format inconnu « {fmt} » (table, csv ou json)")
        settings = Settings()
        with make_engine(settings).connect() as conn:
            result = arcep_differences(
                conn,
                departement or settings.departement,
                date=cli_date(date_),
                insee=commune,
                epci=epci,
                seuil_m=seuil,
            )
        if fmt == "table":
            _print_table(result, limite)
            return
        if fmt == "csv":
            content = differences_csv(result)
        else:
            content = json.dumps(result, ensure_ascii=False, default=str, indent=1) + "\n"
        if sortie is None:
            sys.stdout.write(content)
        else:
            # the CSV with a BOM: French Excel then reads its accents right
            sortie.write_text(("\ufeff" if fmt == "csv" else "") + content, encoding="utf-8")
            from geo_service.cli import console

            console.print(f"{sortie} écrit ({fr_int(len(result['lignes']))} lignes).")

    app.add_typer(controle_app, name="controle")
