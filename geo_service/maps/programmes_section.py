"""The élu page's section on the programmes beside fibre: mobile sites (late ones with their
delay), WiFi bornes and the share of logements they cover, MED cabinets and their state — the
unit beside the département. Formats `analysis.programmes.programme_indicators`; decides
nothing."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from geo_service.maps import styles as st
from geo_service.maps.svg_chart import french_number

SECTION_CSS = (
    ".programmes { grid-column: 1 / -1; padding: 0.4rem 1rem; }"
    ".programmes .colonnes { display: grid; gap: 1rem;"
    " grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); }"
    ".programmes table { width: 100%; } .programmes h3 { margin: 0.6rem 0 0.3rem; }"
)


def _day(value: Any) -> str:
    if value is None or value == "":
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day:%d/%m/%Y}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{french_number(value * 100, 1)}\u00a0%"


def _row(label: str, unit: Any, dept: Any) -> str:
    cells = "".join(f'<td class="nombre">{escape(str(v))}</td>' for v in (unit, dept))
    return f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>'


def _table(caption: str, head: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p>{escape(empty)}</p>"
    th = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{th}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _headline(figures: dict[str, Any], column: str) -> str:
    own, dept = figures["resume"], figures["departement"] or figures["resume"]
    rows = [
        _row(
            "Sites mobiles en service",
            own["sites_mobiles_en_service"],
            dept["sites_mobiles_en_service"],
        ),
        _row(
            "Sites mobiles en retard",
            own["sites_mobiles_en_retard"],
            dept["sites_mobiles_en_retard"],
        ),
        _row(
            "Bornes WiFi en service", own["bornes_wifi_en_service"], dept["bornes_wifi_en_service"]
        ),
        _row(
            "Logements couverts par une borne WiFi",
            _share(own["part_logements_couverts_wifi"]),
            _share(dept["part_logements_couverts_wifi"]),
        ),
        _row(
            "Armoires MED ouvertes",
            f"{own['sites_med_ouverts']} / {own['sites_med']}",
            f"{dept['sites_med_ouverts']} / {dept['sites_med']}",
        ),
        _row(
            "Foyers desservis par la MED",
            french_number(own["foyers_med_desservis"]),
            french_number(dept["foyers_med_desservis"]),
        ),
    ]
    return (
        f'<table class="chiffres-programmes"><caption>Programmes au {_day(figures["as_of"])}'
        f'</caption><thead><tr><th scope="col">Indicateur</th><th scope="col" class="nombre">'
        f'{escape(column)}</th><th scope="col" class="nombre">Département</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _mobile(figures: dict[str, Any], sites: list[dict[str, Any]]) -> str:
    late = figures["mobile"]["en_retard"]
    late_rows = [
        [s["nom"], s.get("commune") or "", _day(s["echeance"]), f"{s['mois_retard']} mois"]
        for s in late
    ]
    site_rows = [
        [
            s["nom"],
            st.MOBILE_PROGRAMME_LABELS.get(s["programme"], s["programme"]),
            st.MOBILE_STATE_LABELS.get(s["etat"], s["etat"]),
            _day(s.get("echeance")),
            ", ".join(sorted(s.get("technologies") or {})),
        ]
        for s in sites
    ]
    return (
        "<div><h3>Téléphonie mobile</h3>"
        + _table(
            "Sites en retard sur l'échéance légale (arrêté + 24 mois)",
            ["Site", "Commune", "Échéance", "Retard"],
            late_rows,
            "Aucun site en retard.",
        )
        + _table(
            "Sites mobiles",
            ["Site", "Programme", "État", "Échéance", "Technologies"],
            site_rows,
            "Aucun site mobile.",
        )
        + "</div>"
    )


def _wifi(bornes: list[dict[str, Any]]) -> str:
    rows = [
        [
            b["nom"],
            st.BORNE_STATE_LABELS.get(b["etat"], b["etat"]),
            str(b["emplacement"]).lower(),
            f"{b['rayon_m']} m",
        ]
        for b in bornes
    ]
    return (
        "<div><h3>WiFi public</h3>"
        + _table("Bornes WiFi", ["Borne", "État", "Emplacement", "Rayon"], rows, "Aucune borne.")
        + "</div>"
    )


def _med(cabinets: list[dict[str, Any]]) -> str:
    rows = [
        [
            m["nom"],
            st.MED_STATE_LABELS.get(m["etat"], m["etat"]),
            french_number(m["foyers"]),
            _day(m.get("date_ouverture")) + (" (prévue)" if m.get("ouverture_prevue") else ""),
            m.get("cause_blocage") or "" if m.get("bloque") else "",
        ]
        for m in cabinets
    ]
    return (
        "<div><h3>Montée en débit (MED)</h3>"
        + _table(
            "Armoires de montée en débit",
            ["Armoire", "État", "Foyers", "Ouverture", "Blocage"],
            rows,
            "Aucune armoire de montée en débit.",
        )
        + "</div>"
    )


def _copper(communes: list[dict[str, Any]]) -> str:
    if not communes:
        return (
            "<div><h3>Fermeture du réseau cuivre</h3>"
            "<p>Aucune fermeture du réseau cuivre n'est encore annoncée.</p></div>"
        )
    rows = [
        [
            c["nom"],
            ", ".join(c["lots"]) or "—",
            _day(c.get("premiere_fermeture_commerciale")),
            _day(c.get("premiere_fermeture_technique")),
            f"{french_number(c['immeubles_fermes_techniquement'])} / {french_number(c['immeubles'])}",
        ]
        for c in communes
    ]
    return (
        "<div><h3>Fermeture du réseau cuivre</h3>"
        + _table(
            "Calendrier de fermeture du cuivre (ARCEP)",
            [
                "Commune",
                "Lots",
                "Fin de commercialisation",
                "Fermeture technique",
                "Immeubles fermés",
            ],
            rows,
            "",
        )
        + "</div>"
    )


def programmes_section(figures: dict[str, Any], *, column: str) -> str:
    """The section from `analysis.programmes.unit_programmes`: headline figures beside the
    département's, then one block per programme with the unit's lists."""
    lists = figures["listes"]
    return (
        f'<section class="programmes no-print" aria-labelledby="titre-programmes">'
        f"<style>{SECTION_CSS}</style>"
        '<h2 id="titre-programmes">Mobile, WiFi, montée en débit et cuivre</h2>'
        + _headline(figures, column)
        + '<div class="colonnes">'
        + _mobile(figures, lists["mobiles"])
        + _wifi(lists["bornes"])
        + _med(lists["med"])
        + _copper(figures.get("cuivre", []))
        + "</div></section>"
    )
