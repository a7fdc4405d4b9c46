"""`geo-service import …` and `geo-service demo …` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from geo_service.cli_format import cli_date, fr_int, print_problems
from geo_service.settings import Settings

import_app = typer.Typer(
    help="Import des fichiers de l'opérateur et des registres du syndicat.", no_args_is_help=True
)
demo_app = typer.Typer(
    help="Territoire de démonstration (réseau fictif calé sur les chiffres publiés).",
    no_args_is_help=True,
)

DeptOption = Annotated[
    str | None,
    typer.Option(
        "--departement", "-d", help="Code du département (défaut : GEO_SERVICE_DEPARTEMENT)."
    ),
]
DateOption = Annotated[
    str | None,
    typer.Option(
        "--date", help="Date de l'instantané AAAA-MM-JJ (défaut : lue dans le nom du fichier)."
    ),
]
SkipInvalidOption = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Importer les lignes valides et journaliser les autres."),
]
UserOption = Annotated[
    str | None,
    typer.Option(
        "--utilisateur",
        help="Auteur de l'import (défaut : GEO_SERVICE_USER ou l'utilisateur système).",
    ),
]


def _context(departement: str | None) -> tuple[Settings, str]:
    settings = Settings()
    return settings, departement or settings.departement


def _report(result) -> None:  # type: ignore[no-untyped-def]
    from geo_service.cli import console, err_console

    console.print(result.message)
    if result.problems:
        err_console.print(
            f"[yellow]{len(result.problems)} ligne(s) rejetée(s), consignées au journal n° {result.journal_id} :[/]"
        )
        print_problems(err_console, result.problems)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        transient=True,
    )


def register_commands(friendly_errors) -> None:  # type: ignore[no-untyped-def]
    """Attach the commands (wrapped so domain errors print in French and exit 1)."""

    @import_app.command("ipe")
    @friendly_errors
    def import_ipe_cmd(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Fichier IPE (.csv, .csv.gz ou .zip).", exists=True, dir_okay=False
            ),
        ],
        date_: DateOption = None,
        skip_invalid: SkipInvalidOption = False,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Importe un instantané IPE (Interop'Fibre) et met à jour l'historique des états."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.ipe import import_ipe

        settings, code = _context(departement)
        with _progress() as progress:
            task = progress.add_task(f"Import de {fichier.name}", total=4)

            def step(message: str) -> None:
                progress.update(task, description=f"{fichier.name} : {message}", advance=1)

            result = import_ipe(
                make_engine(settings),
                fichier,
                territory=code,
                snapshot_date=cli_date(date_),
                user=utilisateur,
                skip_invalid=skip_invalid,
                progress=step,
            )
        _report(result)

    @import_app.command("gracethd")
    @friendly_errors
    def import_gracethd_cmd(
        source: Annotated[
            Path,
            typer.Argument(
                help="GeoPackage GraceTHD ou dossier de shapefiles et tables CSV (;).", exists=True
            ),
        ],
        date_: DateOption = None,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Importe un livrable GraceTHD 2.0.x ou 3.x : zones NRO/PM, sites techniques et sites
        d'émission (listes de valeurs en codes ou en libellés, points des sites lus dans t_noeud).
        Date de la livraison : --date, sinon la date AAAAMMJJ du nom du fichier ; sans date,
        l'import est refusé."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.gracethd import import_gracethd

        settings, code = _context(departement)
        _report(
            import_gracethd(
                make_engine(settings),
                source,
                territory=code,
                snapshot_date=cli_date(date_),
                user=utilisateur,
            )
        )

    for kind, helptext in (
        ("sites", "Importe le registre des sites mobiles (pylônes)."),
        ("bornes", "Importe le registre des bornes WiFi."),
        ("med", "Importe le registre des sites de montée en débit."),
    ):
        _register_command(kind, helptext, friendly_errors)
    from geo_service.cli_controle import register_arcep_import

    register_arcep_import(import_app, friendly_errors)  # ARCEP's building file (Carte fibre)
    from geo_service.cli_operations import register_operations_imports

    register_operations_imports(import_app, friendly_errors)  # incidents, contrôles, abonnés…

    @import_app.command("wifi-stats")
    @friendly_errors
    def import_wifi_stats_cmd(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Statistiques mensuelles du portail de l'opérateur WiFi (CSV), voir le README.",
                exists=True,
                dir_okay=False,
            ),
        ],
        date_: DateOption = None,
        skip_invalid: SkipInvalidOption = False,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Importe les sessions et utilisateurs mensuels des bornes WiFi."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.wifi_stats import import_wifi_stats

        settings, code = _context(departement)
        _report(
            import_wifi_stats(
                make_engine(settings),
                fichier,
                territory=code,
                user=utilisateur,
                skip_invalid=skip_invalid,
                snapshot_date=cli_date(date_),
            )
        )

    @import_app.command("anfr")
    @friendly_errors
    def import_anfr_cmd(
        source: Annotated[
            Path,
            typer.Argument(
                help="Export ANFR (AAAAMMJJ-export-etalab-data.zip, son archive « -ref » à côté)"
                " ou dossier des tables SUP_*.txt.",
                exists=True,
            ),
        ],
        date_: DateOption = None,
        skip_invalid: SkipInvalidOption = False,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Importe les stations radioélectriques de l'ANFR (supports, stations, émetteurs) dont
        le support est dans le territoire, avec leurs dates de mise en service."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.anfr import import_anfr

        settings, code = _context(departement)
        with _progress() as progress:
            task = progress.add_task(f"Import de {source.name}", total=1.0)

            def step(message: str, share: float | None) -> None:
                progress.update(task, description=message, completed=share)

            result = import_anfr(
                make_engine(settings),
                source,
                territory=code,
                user=utilisateur,
                snapshot_date=cli_date(date_),
                skip_invalid=skip_invalid,
                progress=step,
            )
        _report(result)

    @import_app.command("dcc")
    @friendly_errors
    def import_dcc_cmd(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Fichier ARCEP des sites New Deal (AAAA_Tn_dcc_Metropole_sites.csv).",
                exists=True,
                dir_okay=False,
            ),
        ],
        date_: DateOption = None,
        skip_invalid: SkipInvalidOption = False,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Importe les sites New Deal (dispositif de couverture ciblée) de l'ARCEP situés dans le
        territoire : arrêté, opérateurs, état ; date : --date, sinon le trimestre du nom."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.dcc import import_dcc

        settings, code = _context(departement)
        _report(
            import_dcc(
                make_engine(settings),
                fichier,
                territory=code,
                user=utilisateur,
                snapshot_date=cli_date(date_),
                skip_invalid=skip_invalid,
            )
        )

    @import_app.command("arcep-sites")
    @friendly_errors
    def import_arcep_sites_cmd(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Fichier ARCEP « Mon réseau mobile » des sites (AAAA_Tn_sites_Metropole.csv).",
                exists=True,
                dir_okay=False,
            ),
        ],
        date_: DateOption = None,
        skip_invalid: SkipInvalidOption = False,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Relie les sites New Deal du territoire aux stations ANFR que nomme l'ARCEP
        (id_station_anfr), les autres par proximité ; dates de mise en service lues à l'ANFR."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.arcep_sites import import_arcep_sites

        settings, code = _context(departement)
        _report(
            import_arcep_sites(
                make_engine(settings),
                fichier,
                territory=code,
                user=utilisateur,
                snapshot_date=cli_date(date_),
                skip_invalid=skip_invalid,
            )
        )

    @import_app.command("couche")
    @friendly_errors
    def import_couche_cmd(
        nom: Annotated[str, typer.Argument(help="Nom de la couche (ex. : pnr).")],
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Polygones en GeoPackage, shapefile (.shp ou .zip) ou GeoJSON.", exists=True
            ),
        ],
        couche: Annotated[
            str | None,
            typer.Option("--couche", help="Couche à lire dans un GeoPackage qui en a plusieurs."),
        ] = None,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Charge une couche de polygones nommée (le parc naturel régional : pnr), reprojetée en
        Lambert-93 ; remplace la version précédente de cette couche dans le territoire."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.couche import import_couche

        settings, code = _context(departement)
        _report(
            import_couche(
                make_engine(settings),
                nom,
                fichier,
                territory=code,
                user=utilisateur,
                layer=couche,
            )
        )

    @import_app.command("onereuses")
    @friendly_errors
    def import_onereuses_cmd(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Liste des prises chères de l'opérateur (CSV ;).", exists=True, dir_okay=False
            ),
        ],
        date_: DateOption = None,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Importe la liste datée des prises onéreuses fournie par l'opérateur."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.onereuses import import_onereuses

        settings, code = _context(departement)
        _report(
            import_onereuses(
                make_engine(settings),
                fichier,
                territory=code,
                snapshot_date=cli_date(date_),
                user=utilisateur,
            )
        )

    @import_app.command("ban")
    @friendly_errors
    def import_ban_cmd(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Fichier BAN du département tel que publié (adresses-DEP.csv.gz).",
                exists=True,
                dir_okay=False,
            ),
        ],
        date_: DateOption = None,
        skip_invalid: SkipInvalidOption = False,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Importe la Base Adresse Nationale : adresses de référence (oubliés) et recherche."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.ban import import_ban

        settings, code = _context(departement)
        _report(
            import_ban(
                make_engine(settings),
                fichier,
                territory=code,
                user=utilisateur,
                snapshot_date=cli_date(date_),
                skip_invalid=skip_invalid,
            )
        )

    @import_app.command("fermeture-cuivre")
    @friendly_errors
    def import_fermeture_cuivre_cmd(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Calendrier de fermeture du cuivre par immeuble (ARCEP base_imb_fc).",
                exists=True,
                dir_okay=False,
            ),
        ],
        format_date: Annotated[
            str | None,
            typer.Option(
                "--format-date",
                help="Format des dates quand il est ambigu : AAAA-MM-JJ, JJ/MM/AAAA, "
                "MM/JJ/AAAA, AAAAMMJJ, AAAA/MM/JJ ou AAAA-MM-JJThh:mm:ss (défaut : détecté).",
            ),
        ] = None,
        date_: DateOption = None,
        skip_invalid: SkipInvalidOption = False,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        """Importe le calendrier de fermeture du réseau cuivre (immeubles du territoire)."""
        from geo_service.db.session import make_engine
        from geo_service.ingest.fermeture_cuivre import import_fermeture_cuivre

        settings, code = _context(departement)
        _report(
            import_fermeture_cuivre(
                make_engine(settings),
                fichier,
                territory=code,
                user=utilisateur,
                snapshot_date=cli_date(date_),
                skip_invalid=skip_invalid,
                date_format=format_date,
            )
        )

    @demo_app.command("generate")
    @friendly_errors
    def demo_generate(
        departement: DeptOption = None,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Dossier de sortie (défaut : data/demo/<département>)."),
        ] = None,
        seed: Annotated[int, typer.Option(help="Graine du générateur (déterministe).")] = 46,
        departements: Annotated[
            str | None,
            typer.Option(
                "--departements",
                help="France synthétique : « all » (les 96 départements de métropole) ou une "
                "liste séparée par des virgules (ex. 46,48) ; sans cette option, la "
                "démonstration d'un département.",
            ),
        ] = None,
        fraction: Annotated[
            float,
            typer.Option(
                "--fraction",
                help="France synthétique : part de la taille réelle (0 < F ≤ 1 ; 0.01 = 1 %, "
                "environ 440 000 locaux pour toute la métropole).",
            ),
        ] = 0.01,
    ) -> None:
        """Génère les fichiers d'échange (IPE, GraceTHD, registres) du territoire de démonstration,
        ou, avec --departements, une France synthétique à une fraction de sa taille."""
        from geo_service.cli import console
        from geo_service.demo.generate import generate_demo

        if departements is not None:
            from geo_service.demo.france import check_fraction, generate_france, parse_departements

            codes, share = parse_departements(departements), check_fraction(fraction)
            folder = out or Settings().demo_path("fr")
            with console.status("Génération de la France synthétique…") as status:
                manifest = generate_france(
                    codes, share, folder, seed=seed, progress=lambda m: status.update(m)
                )
            counts = manifest["counts"]
            percent = f"{share * 100:g}".replace(".", ",")
            console.print(
                f"France synthétique ({len(codes)} département{'s' * (len(codes) > 1)}, "
                f"{percent} %) écrite dans "
                f"{folder} : {fr_int(counts['locaux'])} locaux, {fr_int(counts['lignes_1'])} "
                f"lignes IPE, {fr_int(counts['pm'])} PM, {fr_int(counts['nro'])} NRO."
            )
            return
        settings, code = _context(departement)
        target = out or settings.demo_path(code)
        manifest = generate_demo(code, target, seed=seed, progress=True)
        console.print(
            f"Démonstration {code} écrite dans {target} : {len(manifest.get('files', []))} fichiers."
        )

    @demo_app.command("load")
    @friendly_errors
    def demo_load(
        departement: DeptOption = None,
        source: Annotated[
            Path | None,
            typer.Option(
                "--source", help="Dossier des fichiers (défaut : data/demo/<département>)."
            ),
        ] = None,
    ) -> None:
        """Charge la démonstration par les importeurs ordinaires (la génère si absente)."""
        from geo_service.cli import console
        from geo_service.db.session import make_engine
        from geo_service.ingest.batch import load_folder

        settings, code = _context(departement)
        folder = source or settings.demo_path(code)
        if not (folder / "manifest.json").exists():
            from geo_service.demo.generate import generate_demo

            console.print(f"Génération de la démonstration dans {folder}…")
            generate_demo(code, folder, progress=True)
        with _progress() as progress:
            task = progress.add_task("Import", total=None)

            def on_step(step, index, total) -> None:  # type: ignore[no-untyped-def]
                progress.update(
                    task,
                    total=total,
                    completed=index,
                    description=f"{step.kind} : {step.path.name}",
                )

            batch = load_folder(make_engine(settings), folder, territory=code, on_step=on_step)
        done = [r for r in batch.results if r.status in {"OK", "PARTIEL"}]
        console.print(
            f"Démonstration chargée : {len(done)} fichiers importés, {fr_int(len(batch.results) - len(done))} déjà présents."
        )


def _register_command(kind: str, helptext: str, friendly_errors) -> None:  # type: ignore[no-untyped-def]
    @import_app.command(kind, help=helptext)
    @friendly_errors
    def command(
        fichier: Annotated[
            Path,
            typer.Argument(
                help="Registre CSV (séparateur ;), voir le README.", exists=True, dir_okay=False
            ),
        ],
        date_: DateOption = None,
        skip_invalid: SkipInvalidOption = False,
        departement: DeptOption = None,
        utilisateur: UserOption = None,
    ) -> None:
        from geo_service.db.session import make_engine
        from geo_service.ingest.registers import import_register

        settings, code = _context(departement)
        _report(
            import_register(
                make_engine(settings),
                kind,
                fichier,
                territory=code,
                user=utilisateur,
                snapshot_date=cli_date(date_),
                skip_invalid=skip_invalid,
            )
        )
