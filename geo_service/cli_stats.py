"""`geo-service stats …`: the same numbers as the API, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from geo_service.cli_format import cli_date
from geo_service.settings import Settings

stats_app = typer.Typer(
    help="Statistiques du déploiement (raccordables, armoires).", no_args_is_help=True
)

FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, csv ou json.")]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Date AAAA-MM-JJ (défaut : aujourd'hui).")
]


def emit(rows: list[dict[str, Any]], fmt: str, columns: list[str], title: str) -> None:
    """Print rows in the requested format (JSON/CSV keys identical to the API's)."""
    from geo_service.cli import console

    if fmt == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, default=str, indent=1) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(
            sys.stdout, fieldnames=list(rows[0]) if rows else columns, delimiter=";"
        )
        writer.writeheader()
        writer.writerows(rows)
    elif fmt == "table":
        table = Table(title=title)
        for column in columns:
            table.add_column(
                column, justify="right" if column not in ("code", "nom", "level") else "left"
            )
        for row in rows:
            table.add_row(*(str(row.get(c, "")) for c in columns))
        console.print(table)
    else:
        raise typer.BadParameter(f"format inconnu « {fmt} » (table, csv ou json)")


def register_stats(friendly_errors) -> None:  # type: ignore[no-untyped-def]
    @stats_app.command("raccordables")
    @friendly_errors
    def stats_raccordables(
        level: Annotated[
            str,
            typer.Option(
                "--level",
                "-l",
                help="pm, nro, commune, epci, departement_membre (territoire de plusieurs départements) ou departement (le territoire entier).",
            ),
        ] = "departement",
        as_of: AsOfOption = None,
        fmt: FormatOption = "table",
        amii: Annotated[bool, typer.Option("--amii", help="Inclure la zone AMII.")] = False,
        departement: Annotated[str | None, typer.Option("--departement", "-d")] = None,
    ) -> None:
        """Logements raccordables par unité (RIP seul sauf --amii)."""
        from geo_service.analysis.raccordables import raccordables
        from geo_service.api.routes.stats import _level
        from geo_service.db.session import make_engine

        settings = Settings()
        with make_engine(settings).connect() as conn:
            rows = raccordables(
                conn,
                territory=departement or settings.departement,
                as_of=cli_date(as_of),
                levels=(_level(level),),
                include_amii=amii,
            )
        emit(
            rows,
            fmt,
            [
                "level",
                "code",
                "nom",
                "logements",
                "raccordables",
                "raccordables_demande",
                "en_cours",
                "cibles",
                "taux",
            ],
            "Logements raccordables",
        )

    @stats_app.command("armoires")
    @friendly_errors
    def stats_armoires(
        as_of: AsOfOption = None,
        fmt: FormatOption = "table",
        departement: Annotated[str | None, typer.Option("--departement", "-d")] = None,
    ) -> None:
        """Armoires (PM) installées, allumées et par tranche d'avancement."""
        from geo_service.analysis.progress import armoires_summary
        from geo_service.db.session import make_engine

        settings = Settings()
        with make_engine(settings).connect() as conn:
            summary = armoires_summary(
                conn, territory=departement or settings.departement, as_of=cli_date(as_of)
            )
        flat = {k: v for k, v in summary.items() if k != "bandes"} | {
            f"bande {k}": v for k, v in summary["bandes"].items()
        }
        emit([flat], fmt, list(flat), "Armoires")
