"""The non-public part of an élu page (addresses of onéreuses, RAD and oubliés; signalements),
added for staff and for the élu of the area; the notice the public sees instead; and the
technical map's centring on an object linked from the console."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from geo_service.analysis.unit_report import UnitReport
from geo_service.maps.elus import OUBLI_MOTIFS, oubli_address
from geo_service.maps.svg_chart import french_number

LIMIT = 500

PUBLIC_NOTICE = (
    '<section class="no-print" aria-labelledby="titre-listes" style="padding:8px 16px">'
    '<h2 id="titre-listes">Listes détaillées</h2><p>Les adresses des prises onéreuses, des '
    "raccordables à la demande, des oubliés et les signalements sont réservées aux élus de la "
    'commune ou de l\'EPCI et aux agents du syndicat : <a href="/connexion">se connecter</a>.'
    "</p></section>"
)


def _table(caption: str, headers: list[str], rows: list[list[Any]], table_id: str) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if c is None else str(c))}</td>" for c in row) + "</tr>"
        for row in rows[:LIMIT]
    )
    more = f" ({LIMIT} premières lignes sur {len(rows)})" if len(rows) > LIMIT else ""
    if not rows:
        return f"<h3 id='{table_id}'>{escape(caption)}</h3><p>Aucune.</p>"
    return (
        f"<h3 id='{table_id}'>{escape(caption)} : {french_number(len(rows))}{more}</h3>"
        f'<div style="overflow-x:auto"><table aria-labelledby="{table_id}"><thead><tr>{head}'
        f"</tr></thead><tbody>{body}</tbody></table></div>"
    )


def private_lists(report: UnitReport, reports: list[dict[str, Any]]) -> str:
    """The lists behind the counts of the figures table (addresses, never a contact)."""
    parts = [
        _table(
            "Prises onéreuses",
            ["Adresse", "Logements", "Coût par logement (€)", "Explication"],
            [
                [
                    r.get("adresse"),
                    r.get("logements"),
                    french_number(r.get("cout_par_logement") or 0),
                    r.get("explication"),
                ]
                for r in report.onereuses
            ],
            "liste-onereuses",
        ),
        _table(
            "Raccordables à la demande",
            ["Adresse", "Commune", "Logements", "Étape"],
            [
                [r.get("adresse"), r.get("commune_nom"), r.get("logements"), r.get("etape")]
                for r in report.rad
            ],
            "liste-rad",
        ),
        _table(
            "Oubliés",
            ["Adresse", "Motif"],
            [
                [oubli_address(r), OUBLI_MOTIFS.get(r.get("motif", ""), r.get("motif"))]
                for r in report.oublies
            ],
            "liste-oublies",
        ),
        _table(
            "Signalements des habitants",
            ["N°", "Adresse", "Statut", "Reçu le"],
            [[r["id"], r["adresse"], r["statut"], f"{r['created_at']:%d/%m/%Y}"] for r in reports],
            "liste-signalements",
        ),
    ]
    return (
        '<section class="listes-privees" aria-labelledby="titre-listes" style="padding:8px 16px">'
        '<h2 id="titre-listes">Listes non publiques (réservées aux élus et au syndicat)</h2>'
        + "".join(parts)
        + "</section>"
    )


def focus_script(map_name: str) -> str:
    """Centre the map on ?lat=&lon=&zoom= when the page is opened from a console link."""
    name = json.dumps(map_name)
    return (
        "<script>window.addEventListener('load', function () {"
        "var q = new URLSearchParams(window.location.search);"
        "var lat = parseFloat(q.get('lat')), lon = parseFloat(q.get('lon'));"
        "var z = parseInt(q.get('zoom') || '17', 10);"
        f"var m = window[{name}];"
        "if (m && isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {"
        "m.setView([lat, lon], Math.min(Math.max(z, 5), 19));"
        "L.circleMarker([lat, lon], {radius: 12, color: '#d55e00', weight: 3, fill: false})"
        ".addTo(m);}});</script>"
    )
