"""`geo-service prises …` and `geo-service quand`: the same answers as the API."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from geo_service.cli_format import cli_date
from geo_service.cli_stats import AsOfOption, FormatOption, emit
from geo_service.settings import Settings

prises_app = typer.Typer(
    help="Prises onéreuses, raccordables à la demande et oubliés.", no_args_is_help=True
)
DeptOption = Annotated[str | None, typer.Option("--departement", "-d")]


def _connect():  # type: ignore[no-untyped-def]
    from geo_service.db.session import make_engine

    return make_engine(Settings()).connect()


def register_prises(app: typer.Typer, friendly_errors) -> None:  # type: ignore[no-untyped-def]
    @prises_app.command("onereuses")
    @friendly_errors
    def cmd_onereuses(
        threshold: Annotated[
            float | None, typer.Option("--threshold", "--seuil", help="Seuil en € par logement.")
        ] = None,
        commune: Annotated[str | None, typer.Option("--commune", help="Code INSEE.")] = None,
        as_of: AsOfOption = None,
        fmt: FormatOption = "table",
        limit: Annotated[int, typer.Option(help="Lignes affichées en tableau.")] = 50,
        departement: DeptOption = None,
    ) -> None:
        """Adresses dont le coût estimé par logement dépasse le seuil, avec l'explication."""
        from geo_service.analysis.onereuses import onereuses

        with _connect() as conn:
            rows = onereuses(
                conn,
                territory=departement or Settings().departement,
                as_of=cli_date(as_of),
                threshold=threshold,
                insee=commune,
            )
        shown = rows[:limit] if fmt == "table" else rows
        emit(
            shown,
            fmt,
            [
                "identifiant_immeuble",
                "commune_nom",
                "adresse",
                "logements",
                "distance_route_m",
                "voisins",
                "genie_civil",
                "cout_par_logement",
                "explication",
            ],
            f"Prises onéreuses : {len(rows)} adresses",
        )

    @prises_app.command("equite")
    @friendly_errors
    def cmd_equite(
        threshold: Annotated[float | None, typer.Option("--threshold", "--seuil")] = None,
        as_of: AsOfOption = None,
        fmt: FormatOption = "table",
        departement: DeptOption = None,
    ) -> None:
        """Part des logements onéreux de chaque commune."""
        from geo_service.analysis.onereuses import equity

        with _connect() as conn:
            rows = equity(
                conn,
                territory=departement or Settings().departement,
                as_of=cli_date(as_of),
                threshold=threshold,
            )
        emit(
            rows,
            fmt,
            ["insee", "nom", "logements", "logements_onereux", "part_onereuse"],
            "Équité : part de logements onéreux",
        )

    @prises_app.command("comparaison")
    @friendly_errors
    def cmd_comparaison(
        threshold: Annotated[float | None, typer.Option("--threshold", "--seuil")] = None,
        fmt: FormatOption = "table",
        departement: DeptOption = None,
    ) -> None:
        """Notre estimation face à la liste de prises chères de l'opérateur."""
        from geo_service.analysis.onereuses import compare_with_operator

        with _connect() as conn:
            result = compare_with_operator(
                conn, territory=departement or Settings().departement, threshold=threshold
            )
        if fmt == "json":
            sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str, indent=1) + "\n")
            return
        summary = {k: v for k, v in result.items() if k != "jugees_peu_cheres"} | {
            "jugees_peu_cheres": len(result["jugees_peu_cheres"])
        }
        emit([summary], fmt, list(summary), "Comparaison avec la liste de l'opérateur")
        emit(
            result["jugees_peu_cheres"][:30],
            fmt,
            [
                "identifiant_immeuble",
                "commune_nom",
                "motif_operateur",
                "cout_par_logement",
                "explication",
            ],
            "Listées par l'opérateur, peu chères selon nous",
        )

    @prises_app.command("rad")
    @friendly_errors
    def cmd_rad(
        level: Annotated[
            str | None, typer.Option("--level", "-l", help="commune ou epci : comptes par unité.")
        ] = None,
        as_of: AsOfOption = None,
        fmt: FormatOption = "table",
        departement: DeptOption = None,
    ) -> None:
        """Raccordables à la demande et étape de leur procédure."""
        from geo_service.analysis.rad import rad_counts, rad_list

        code = departement or Settings().departement
        with _connect() as conn:
            if level:
                rows = rad_counts(conn, territory=code, level=level, as_of=cli_date(as_of))
                emit(rows, fmt, list(rows[0]) if rows else ["code"], "Raccordables à la demande")
            else:
                rows = rad_list(conn, territory=code, as_of=cli_date(as_of))
                emit(
                    rows,
                    fmt,
                    [
                        "identifiant_immeuble",
                        "commune_nom",
                        "adresse",
                        "logements",
                        "etat",
                        "etape",
                    ],
                    f"Raccordables à la demande : {len(rows)} adresses",
                )

    @prises_app.command("oublies")
    @friendly_errors
    def cmd_oublies(
        as_of: AsOfOption = None, fmt: FormatOption = "table", departement: DeptOption = None
    ) -> None:
        """Adresses oubliées : non raccordables en zone terminée, absentes du fichier opérateur."""
        from geo_service.analysis.oublies import in_finished_zones, missing_from_operator

        code = departement or Settings().departement
        with _connect() as conn:
            zones = in_finished_zones(conn, territory=code, as_of=cli_date(as_of))
            missing = missing_from_operator(conn, territory=code)
        emit(
            zones,
            fmt,
            ["identifiant_immeuble", "commune_nom", "adresse", "etat", "pm_reference", "taux_zone"],
            f"Non raccordables en zone à plus de 95 % : {len(zones)}",
        )
        emit(
            missing,
            fmt,
            ["id", "numero", "nom_voie", "nom_commune"],
            f"Absentes du fichier de l'opérateur : {len(missing)}",
        )

    @app.command("quand")
    @friendly_errors
    def cmd_quand(
        adresse: Annotated[str | None, typer.Argument(help="Adresse à chercher.")] = None,
        lat: Annotated[float | None, typer.Option(help="Latitude WGS84.")] = None,
        lon: Annotated[float | None, typer.Option(help="Longitude WGS84.")] = None,
        departement: DeptOption = None,
    ) -> None:
        """« Quand aurai-je la fibre ? » pour une adresse ou un point."""
        from geo_service.analysis.quand import quand_address, quand_point
        from geo_service.errors import InvalidParameterError

        code = departement or Settings().departement
        with _connect() as conn:
            if adresse:
                result = quand_address(conn, adresse, territory=code)
            elif lat is not None and lon is not None:
                result = quand_point(conn, lat=lat, lon=lon, territory=code)
            else:
                raise InvalidParameterError("Indiquez une adresse ou --lat et --lon.")
        sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str, indent=1) + "\n")
