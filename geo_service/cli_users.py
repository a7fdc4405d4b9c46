"""`geo-service users …`: accounts (élus, techniciens, administrateurs) and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from geo_service.settings import Settings

users_app = typer.Typer(help="Comptes des agents et des élus, jetons d'API.", no_args_is_help=True)
ROLE_HELP = "Rôle : elu (une commune ou un EPCI), technicien ou admin."


def _operator(settings: Settings):  # type: ignore[no-untyped-def]
    from geo_service.auth.actor import cli_actor
    from geo_service.ingest.journal import current_user

    return cli_actor(current_user(), settings.departement)


def register_users(friendly_errors) -> None:  # type: ignore[no-untyped-def]
    from geo_service.auth import users
    from geo_service.db.session import make_engine

    @users_app.command("add")
    @friendly_errors
    def add(
        nom: Annotated[str, typer.Argument(help="Identifiant (a-z, 0-9, . _ - @).")],
        role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
        commune: Annotated[str | None, typer.Option("--commune", help="INSEE de l'élu.")] = None,
        epci: Annotated[str | None, typer.Option("--epci", help="SIREN de l'élu d'EPCI.")] = None,
    ) -> None:
        """Crée un compte (puis « users password NOM » pour son mot de passe)."""
        from geo_service.cli import console

        settings = Settings()
        with make_engine(settings).begin() as conn:
            user = users.add_user(
                conn,
                _operator(settings),
                nom,
                role=role,
                territory=settings.departement,
                commune=commune,
                epci=epci,
            )
        scope = user["commune_insee"] or user["epci_siren"]
        console.print(
            f"Compte « {user['nom']} » créé ({user['role']}{', ' + scope if scope else ''}). "
            f"Mot de passe : geo-service users password {user['nom']}"
        )

    @users_app.command("list")
    @friendly_errors
    def list_() -> None:
        """Liste les comptes du territoire."""
        from geo_service.cli import console

        settings = Settings()
        with make_engine(settings).connect() as conn:
            rows = users.list_users(conn, settings.departement)
        table = Table("nom", "rôle", "périmètre", "état", "mot de passe", "créé le")
        for r in rows:
            table.add_row(
                r["nom"],
                r["role"],
                r["commune_insee"] or r["epci_siren"] or "territoire",
                "désactivé" if r["disabled"] else "actif",
                "oui" if r["has_password"] else "non",
                f"{r['created_at']:%d/%m/%Y}",
            )
        console.print(table)

    @users_app.command("disable")
    @friendly_errors
    def disable(nom: Annotated[str, typer.Argument(help="Identifiant.")]) -> None:
        """Désactive un compte : sessions et jetons cessent aussitôt de fonctionner."""
        from geo_service.cli import console

        settings = Settings()
        with make_engine(settings).begin() as conn:
            users.disable_user(conn, _operator(settings), nom)
        console.print(f"Compte « {nom} » désactivé, jetons révoqués.")

    @users_app.command("token")
    @friendly_errors
    def token(nom: Annotated[str, typer.Argument(help="Identifiant.")]) -> None:
        """Crée un jeton d'API (affiché une seule fois ; les précédents sont révoqués)."""
        from geo_service.cli import console

        settings = Settings()
        with make_engine(settings).begin() as conn:
            value = users.issue_token(conn, _operator(settings), nom)
        console.print(
            "Jeton (conservez-le, il ne sera plus affiché ; en-tête « Authorization: Bearer … ») :"
        )
        console.print(value, highlight=False, soft_wrap=True)

    @users_app.command("revoke")
    @friendly_errors
    def revoke(nom: Annotated[str, typer.Argument(help="Identifiant.")]) -> None:
        """Révoque tous les jetons d'API d'un compte."""
        from geo_service.cli import console

        settings = Settings()
        with make_engine(settings).begin() as conn:
            count = users.revoke_tokens(conn, _operator(settings), nom)
        console.print(f"{count} jeton(s) révoqué(s) pour « {nom} ».")

    @users_app.command("password")
    @friendly_errors
    def password(nom: Annotated[str, typer.Argument(help="Identifiant.")]) -> None:
        """Définit le mot de passe (demandé deux fois, sans écho ; 12 caractères au moins)."""
        from geo_service.cli import console

        settings = Settings()
        with make_engine(settings).connect() as conn:
            users.get_user(conn, nom)
        value = typer.prompt(
            "Nouveau mot de passe", hide_input=True, confirmation_prompt="Confirmez le mot de passe"
        )
        with make_engine(settings).begin() as conn:
            users.set_password(conn, _operator(settings), nom, value)
        console.print(f"Mot de passe de « {nom} » enregistré.")
