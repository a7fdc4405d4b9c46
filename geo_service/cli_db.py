"""`geo-service db backup` and `db restore`: thin commands over geo_service.db.backup."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from geo_service.settings import Settings


def _with_dbname(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    from geo_service.db.backup import as_url

    return as_url(psycopg.conninfo.make_conninfo(url, dbname=name))


def register_db(db_app: typer.Typer, friendly_errors) -> None:  # type: ignore[no-untyped-def]
    @db_app.command("backup")
    @friendly_errors
    def db_backup(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Fichier de sauvegarde à écrire, ou dossier existant (nom daté automatique)."
            ),
        ],
        dsn: Annotated[
            str | None,
            typer.Option("--dsn", help="Base à sauvegarder (défaut : celle du service)."),
        ] = None,
        ecraser: Annotated[
            bool, typer.Option("--ecraser", help="Remplace un fichier existant.")
        ] = False,
    ) -> None:
        """Sauvegarde la base (pg_dump, format custom) avec la révision de son schéma."""
        from geo_service.cli import console
        from geo_service.cli_format import fr_int
        from geo_service.db.backup import backup, sidecar

        path, info = backup(dsn or Settings().libpq_url, fichier, overwrite=ecraser)
        console.print(
            f"Sauvegarde de « {info.database} » écrite : {path} ({fr_int(info.bytes)} octets, "
            f"schéma {info.schema_revision}, PostgreSQL {info.server_version}) ; "
            f"description dans {sidecar(path).name}.",
            highlight=False,
        )

    @db_app.command("restore")
    @friendly_errors
    def db_restore(
        fichier: Annotated[Path, typer.Argument(help="Sauvegarde faite par « db backup ».")],
        base: Annotated[
            str | None,
            typer.Option(
                "--base",
                help="Nom de la base à créer sur le serveur du service "
                "(défaut : geo_service_restauree_<date>).",
            ),
        ] = None,
        dsn: Annotated[
            str | None,
            typer.Option("--dsn", help="URL complète d'une base cible neuve ou vide."),
        ] = None,
    ) -> None:
        """Restaure une sauvegarde dans une base neuve ou vide (la base source n'est pas touchée)."""
        from geo_service.cli import console
        from geo_service.db.backup import as_url, restore
        from geo_service.errors import InvalidParameterError

        if base and dsn:
            raise InvalidParameterError("Donnez --base ou --dsn, pas les deux.")
        name = base or f"geo_service_restauree_{datetime.now():%Y%m%d_%H%M%S}"
        target = dsn or _with_dbname(Settings().libpq_url, name)
        result = restore(fichier, target)
        migrated = (
            f", schéma mis à jour de {result.schema_revision} à {result.migrated_to}"
            if result.migrated_to
            else f", schéma {result.schema_revision}"
        )
        console.print(
            f"Sauvegarde restaurée dans la base « {result.database} »{migrated}.", highlight=False
        )
        if not dsn:
            console.print(
                "Pour que le service l'utilise : DATABASE_URL="
                f"'{as_url(target, hide_password=True)}' geo-service serve",
                highlight=False,
                soft_wrap=True,
            )
