"""`geo-service mobile|wifi|med …`: the programmes' lists, one object with its history and the
indicators, as a table, CSV or JSON (the same keys as the API's)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import typer

from geo_service.cli_format import cli_date
from geo_service.cli_stats import AsOfOption, FormatOption, emit
from geo_service.settings import Settings

CommuneOption = Annotated[str | None, typer.Option("--commune", help="Code INSEE.")]
EpciOption = Annotated[str | None, typer.Option("--epci", help="SIREN de l'EPCI.")]
EtatOption = Annotated[str | None, typer.Option("--etat", help="État à la date.")]
LevelOption = Annotated[str, typer.Option("--level", "-l", help="commune, epci ou departement.")]
CodeOption = Annotated[
    str | None, typer.Option("--code", help="Code INSEE ou SIREN (niveaux commune et epci).")
]


@dataclass(frozen=True)
class Programme:
    name: str
    help: str
    title: str
    columns: list[str]
    listing: Callable[..., list[dict[str, Any]]]
    one: Callable[..., dict[str, Any] | None]
    indicators: Callable[..., dict[str, Any]]
    headline: Callable[[dict[str, Any]], list[dict[str, Any]]]


def _plain(row: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    return {c: row.get(c) for c in columns}


def _mobile_headline(f: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"indicateur": "sites", "valeur": f["sites"]}]
    rows += [{"indicateur": f"état {k}", "valeur": v} for k, v in f["pipeline"].items()]
    rows += [{"indicateur": "en retard", "valeur": len(f["en_retard"])}]
    if f["parc"]:
        rows += [{"indicateur": "dans le parc", "valeur": f["parc"].get("sites")}]
    return rows


def _wifi_headline(f: dict[str, Any]) -> list[dict[str, Any]]:
    share = f["part_logements_couverts"]
    return [
        {"indicateur": "bornes en service", "valeur": f["bornes_en_service"]},
        {"indicateur": "communes avec une borne", "valeur": f["communes_avec_borne"]},
        {"indicateur": "logements couverts", "valeur": f["logements_couverts"]},
        {
            "indicateur": "part des logements couverts",
            "valeur": "" if share is None else f"{share:.1%}".replace(".", ","),
        },
    ]


def _med_headline(f: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("sites", "installes", "receptionnes", "ouverts", "foyers", "foyers_desservis")
    return [{"indicateur": k, "valeur": f[k]} for k in keys] + [
        {"indicateur": "bloqués", "valeur": len(f["bloques"])}
    ]


def _programmes() -> list[Programme]:
    from geo_service.analysis import med, mobile, wifi

    return [
        Programme(
            "mobile",
            "Sites mobiles (pylônes) : liste, fiche, indicateurs.",
            "Sites mobiles",
            ["code", "nom", "commune", "programme", "etat", "echeance", "mois_retard"],
            mobile.mobile_sites,
            mobile.mobile_site,
            mobile.mobile_indicators,
            _mobile_headline,
        ),
        Programme(
            "wifi",
            "Bornes WiFi publiques : liste, fiche, indicateurs.",
            "Bornes WiFi",
            ["code", "nom", "commune", "emplacement", "rayon_m", "etat"],
            wifi.wifi_bornes,
            wifi.wifi_borne,
            wifi.wifi_indicators,
            _wifi_headline,
        ),
        Programme(
            "med",
            "Montée en débit (MED) : liste, fiche, indicateurs.",
            "Sites de montée en débit",
            ["code", "nom", "commune", "foyers", "etat", "date_ouverture", "cause_blocage"],
            med.med_sites,
            med.med_site,
            med.med_indicators,
            _med_headline,
        ),
    ]


def _as_of(value: str | None) -> date:
    return cli_date(value) or date.today()


def _register(app: typer.Typer, p: Programme, friendly_errors) -> None:  # type: ignore[no-untyped-def]
    group = typer.Typer(help=p.help, no_args_is_help=True)

    @group.command("liste")
    @friendly_errors
    def listing(
        commune: CommuneOption = None,
        epci: EpciOption = None,
        etat: EtatOption = None,
        as_of: AsOfOption = None,
        fmt: FormatOption = "table",
        programme: Annotated[
            str | None, typer.Option("--programme", help="Sites mobiles : NEW_DEAL, CENTRE_BOURG…")
        ] = None,
        en_retard: Annotated[
            bool, typer.Option("--en-retard", help="Sites mobiles : échéance dépassée seulement.")
        ] = False,
    ) -> None:
        """Les objets du territoire à la date, filtrés par commune, EPCI ou état."""
        from geo_service.db.session import make_engine

        settings = Settings()
        extra: dict[str, Any] = {}
        if p.name == "mobile":
            extra = {"programme": programme.upper() if programme else None}
            extra["en_retard"] = True if en_retard else None
        elif programme or en_retard:
            raise typer.BadParameter("--programme et --en-retard ne valent que pour « mobile ».")
        with make_engine(settings).connect() as conn:
            rows = p.listing(
                conn,
                settings.departement,
                as_of=_as_of(as_of),
                insee=commune,
                epci=epci,
                etat=etat.upper() if etat else None,
                **extra,
            )
        shown = rows if fmt == "json" else [_plain(r, p.columns) for r in rows]
        emit(shown, fmt, p.columns, f"{p.title} au {_as_of(as_of):%d/%m/%Y}")

    @group.command("fiche")
    @friendly_errors
    def one(code: str, as_of: AsOfOption = None) -> None:
        """Un objet à la date, avec son historique (JSON)."""
        from geo_service.db.session import make_engine
        from geo_service.errors import NotFoundError

        settings = Settings()
        with make_engine(settings).connect() as conn:
            found = p.one(conn, settings.departement, code, as_of=_as_of(as_of))
        if found is None:
            raise NotFoundError(f"« {code} » inconnu sur ce territoire.")
        sys.stdout.write(json.dumps(found, ensure_ascii=False, default=str, indent=1) + "\n")

    @group.command("indicateurs")
    @friendly_errors
    def indicators(
        level: LevelOption = "departement",
        code: CodeOption = None,
        as_of: AsOfOption = None,
        fmt: FormatOption = "table",
    ) -> None:
        """Les indicateurs d'une commune, d'un EPCI ou du département à la date."""
        from geo_service.analysis.programmes import unit_name
        from geo_service.db.session import make_engine

        settings = Settings()
        with make_engine(settings).connect() as conn:
            name = unit_name(conn, settings.departement, level, code)
            figures = p.indicators(
                conn, settings.departement, as_of=_as_of(as_of), level=level, code=code
            )
        if fmt == "json":
            sys.stdout.write(json.dumps(figures, ensure_ascii=False, default=str, indent=1) + "\n")
            return
        where = name or f"département {settings.departement}"
        emit(
            p.headline(figures),
            fmt,
            ["indicateur", "valeur"],
            f"{p.title} — {where} au {_as_of(as_of):%d/%m/%Y}",
        )

    app.add_typer(group, name=p.name)


def register_programmes(app: typer.Typer, friendly_errors) -> None:  # type: ignore[no-untyped-def]
    for programme in _programmes():
        _register(app, programme, friendly_errors)
