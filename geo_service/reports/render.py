"""A year's document as HTML (the accessible version: headings, tables with captions, alt texts)
and as PDF (the same HTML through WeasyPrint, A4). Charts and maps are PNG embedded in the page,
so one file holds the whole document."""

from __future__ import annotations

import base64
import logging
from datetime import date
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, select_autoescape

from geo_service.reports import charts, maps
from geo_service.reports.context import YearContext
from geo_service.reports.data import (
    Dossier,
    Image,
    Level,
    Section,
    fr_date,
    fr_int,
    fr_value,
    gather,
)

Format = Literal["pdf", "html"]
TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "rapports"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True
)
_env.filters["fr_date"] = fr_date
_env.filters["fr_int"] = fr_int
_env.filters["fr_value"] = fr_value
_env.filters["data_uri"] = lambda img: (
    f"data:{img.mime};base64," + base64.b64encode(img.png).decode()
)
logging.getLogger("fontTools").setLevel(logging.WARNING)
logging.getLogger("weasyprint").setLevel(logging.ERROR)


def _series(ctx: YearContext, level: str, code: str) -> tuple[list[date], list[int], int]:
    racc = [ctx.racc(d, level, code)["raccordables"] for d in ctx.quarters]
    return ctx.quarters, racc, ctx.racc(ctx.as_of, level, code)["logements"]


def _progress_image(ctx: YearContext, dossier: Dossier, *, small: bool = False) -> Image:
    level, code = dossier.level, dossier.code
    dates, racc, logements = _series(ctx, level, code)
    own = [(d, n) for d, n, _s in ctx.targets.get((level, code), [])]
    label = "Objectif contractuel"
    if not own and level != "departement":
        dept = ctx.racc(ctx.as_of, "departement", ctx.territory)["logements"]
        share = logements / dept if dept else 0.0
        own = [
            (d, round(n * share))
            for d, n, _s in ctx.targets.get(("departement", ctx.territory), [])
        ]
        label = "Objectif du département rapporté aux logements (estimation)"
    if small:
        picture = charts.progress_svg(dates, racc, logements, own, target_label=label)
    else:
        picture = charts.progress_chart(dates, racc, logements, own, target_label=label)
    last = fr_int(racc[-1]) if racc else "0"
    alt = (
        f"Courbe des logements raccordables de {dossier.nom}, trimestre par trimestre de "
        f"{dates[0].year} au {fr_date(ctx.as_of)} : {last} raccordables sur "
        f"{fr_int(logements)} logements à raccorder"
        + (f", comparés à {label.lower()} ({len(own)} échéances)." if own else ".")
    )
    mime = "image/svg+xml" if small else "image/png"
    return Image("Avancement des raccordables et objectifs", alt, picture, "graphique", mime)


def _frame(ctx: YearContext, insees: set[str] | None = None) -> Any:
    frame = ctx.geometry
    if insees is not None:
        frame = frame[frame["insee"].isin(insees)]
    frame = frame.copy()
    frame["taux"] = [ctx.racc(ctx.as_of, "commune", i)["taux"] for i in frame["insee"]]
    for year in ctx.years:
        day = ctx.as_of if year == ctx.year else date(year, 12, 31)
        frame[f"taux_{year}"] = [ctx.racc(day, "commune", i)["taux"] for i in frame["insee"]]
    return frame


def _map_images(ctx: YearContext, dossier: Dossier) -> list[Image]:
    insees = None if dossier.level == "departement" else {c["insee"] for c in dossier.communes}
    frame = _frame(ctx, insees)
    where = "du territoire" if insees is None else f"de {dossier.nom}"
    best = frame.sort_values("taux", ascending=False)
    top = ", ".join(f"{r.nom} ({fr_value(float(r.taux), '%')})" for r in best.head(3).itertuples())
    full = int((frame["taux"] >= 100).sum())
    images = [
        Image(
            f"Taux de logements raccordables par commune au {fr_date(ctx.as_of)}",
            f"Carte des {len(frame)} communes {where} colorées selon leur taux de logements "
            f"raccordables au {fr_date(ctx.as_of)} (classes de 0 % à 100 %) : {full} communes à "
            f"100 % ; taux les plus élevés : {top}. Les valeurs par commune figurent dans le "
            "tableau des communes.",
            maps.rate_map(frame, labels=insees is not None),
            "carte",
        )
    ]
    years = ctx.years
    images.append(
        Image(
            f"Le déploiement année par année, {years[0]}-{years[-1]}",
            f"Petites cartes {where}, une par fin d'année de {years[0]} à {years[-1]}, colorées "
            "selon le taux de logements raccordables de chaque commune : le déploiement progresse "
            "d'une carte à l'autre.",
            maps.small_multiples(frame, years),
            "carte",
        )
    )
    return images


def illustrate(ctx: YearContext, dossier: Dossier) -> Dossier:
    """Add the charts and maps of the document to its sections."""
    if dossier.level == "commune":
        dossier.section("technique").images.append(_progress_image(ctx, dossier, small=True))
        return dossier
    dossier.section("technique").images.append(_progress_image(ctx, dossier))
    if dossier.level == "departement":
        months = ctx.incidents["mois"]["lignes"]
        if months:
            total = sum(m["incidents"] for m in months)
            peak = max(months, key=lambda m: m["incidents"])
            dossier.section("exploitation").images.append(
                Image(
                    f"Incidents du territoire par mois, {ctx.year}",
                    f"Histogramme des {fr_int(total)} incidents ouverts en {ctx.year} sur le "
                    f"territoire, mois par mois (le plus : {peak['groupe']}, {peak['incidents']} "
                    "incidents), avec la part rétablie dans le délai d'engagement.",
                    charts.incidents_chart(months, label="territoire"),
                    "graphique",
                )
            )
        points = ctx.take_up["serie"]["points"]
        if points:
            dossier.section("commercial").images.append(
                Image(
                    "Taux de pénétration et taux national",
                    "Courbe du taux de pénétration (abonnés / raccordables) du territoire à "
                    f"chaque relevé du délégataire, de {fr_date(points[0]['date'])} "
                    f"({fr_value(points[0]['taux_penetration'], '%')}) à "
                    f"{fr_date(points[-1]['date'])} ({fr_value(points[-1]['taux_penetration'], '%')}),"
                    " comparée au taux national publié par l'ARCEP.",
                    charts.take_up_chart(points),
                    "graphique",
                )
            )
    dossier.sections.append(Section("cartes", "Cartes", images=_map_images(ctx, dossier)))
    return dossier


def to_html(dossier: Dossier, ctx: YearContext) -> str:
    template = "fiche.html" if dossier.level == "commune" else "dossier.html"
    sources: list[str] = []
    for section in dossier.sections:
        for figure in section.figures:
            if figure.source not in sources:
                sources.append(figure.source)
    return _env.get_template(template).render(
        d=dossier,
        ctx=ctx,
        sources=sources,
        missing=ctx.missing,
        generated=date.today(),
    )


def to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()  # type: ignore[no-any-return]


def build(ctx: YearContext, level: Level, code: str | None = None, fmt: Format = "pdf") -> bytes:
    """The year's document of the département, an EPCI or a commune, as PDF or HTML bytes."""
    dossier = illustrate(ctx, gather(ctx, level, code))
    html = to_html(dossier, ctx)
    return html.encode() if fmt == "html" else to_pdf(html)
