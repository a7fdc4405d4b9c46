"""`geo-service import incidents|controles-pm|abonnes|echanges-frontaliers FICHIER`: the
operating registers (formats in the README, "Registres d'exploitation")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo_service.cli_format import cli_date
from geo_service.cli_import import DateOption, DeptOption, SkipInvalidOption, UserOption

HELP = {
    "incidents": "Importe le registre des incidents (pannes) : PM ou commune, catégorie, "
    "ouverture, rétablissement, cause, source.",
    "controles-pm": "Importe les contrôles de conformité des PM (campagne, PM, date, résultat).",
    "abonnes": "Importe les abonnés par commune ou par PM et par date (chiffres du délégataire).",
    "echanges-frontaliers": "Importe les fiches d'échanges frontaliers (immeubles servis de part "
    "et d'autre de la limite, PM, PB, liens).",
}


def register_operations_imports(import_app: typer.Typer, friendly_errors) -> None:  # type: ignore[no-untyped-def]
    """Attach the four register imports to `geo-service import`."""
    for kind, helptext in HELP.items():
        import_app.command(kind, help=helptext)(friendly_errors(_command(kind)))


def _command(kind: str):  # type: ignore[no-untyped-def]
    def command(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Registre CSV (séparateur ; ou , ; UTF-8 ou Windows-1252), voir le README.",
                exists=True,
                dir_okay=False,
            ),
        ],
        date_: DateOption = None,
        skip_invalid: SkipInvalidOption = False,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        from geo_service.cli_import import _context, _report
        from geo_service.db.session import make_engine
        from geo_service.ingest.operations_common import import_register

        settings, code = _context(departement)
        _report(
            import_register(
                make_engine(settings),
                registers()[kind],
                fichier,
                territory=code,
                user=utilisateur,
                snapshot_date=cli_date(date_),
                skip_invalid=skip_invalid,
            )
        )

    command.__doc__ = HELP[kind]
    return command


def registers():  # type: ignore[no-untyped-def]
    """The four registers by import kind (imported late: the CLI starts fast)."""
    from geo_service.ingest.operations_files import REGISTERS

    return REGISTERS
