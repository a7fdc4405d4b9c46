"""Page shells of the élu pages, the index and the technical map: header, figures table, chart,
embedded Folium maps and a print stylesheet (A4 landscape, one page per commune)."""

from __future__ import annotations

import math
import unicodedata
from html import escape
from typing import Any

import folium
from branca.element import Element, Figure

from geo_service.analysis.unit_report import UnitReport
from geo_service.maps.assets import localize
from geo_service.maps.page import VIEWPORT, render_page
from geo_service.maps.svg_chart import french_number

BASE_CSS = """
html body { height: auto !important; font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1a1a1a; background: #ffffff; line-height: 1.35; }
a { color: #0b5394; }
a:focus, button:focus, input:focus { outline: 3px solid #E69F00; outline-offset: 2px; }
.entete { padding: 0.6rem 1rem 0.3rem; border-bottom: 3px solid #0072B2; }
.entete h1 { font-size: 1.55rem; margin: 0 0 0.2rem; }
.entete p { margin: 0.1rem 0; color: #444444; }
.entete nav a { margin-right: 1rem; }
section { padding: 0.4rem 1rem; }
h2 { font-size: 1.1rem; margin: 0.4rem 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #dddddd; padding: 0.22rem 0.4rem; text-align: left;
  vertical-align: top; }
.chiffres-cles th[scope="row"] { width: 58%; }
td.nombre, th.nombre { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.detail { display: block; color: #555555; font-size: 0.82rem; }
.note { background: #FFF6DA; border-left: 4px solid #E69F00; padding: 0.3rem 0.6rem;
  margin: 0.4rem 0; }
.graphique-progression { width: 100%; height: auto; max-height: 320px; }
.legende-carte { background: #ffffff; padding: 6px 8px; border-radius: 4px; font-size: 12px;
  box-shadow: 0 0 4px rgba(0,0,0,0.35); max-width: 260px; }
.legende-carte ul { list-style: none; margin: 4px 0 0; padding: 0; }
.legende-carte li { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.pastille { display: inline-block; width: 14px; height: 14px; flex: none; }
.pastille.fill { background: var(--c); opacity: 0.8; border: 1px solid #444444; }
.pastille.circle { background: var(--c); border-radius: 50%; width: 10px; height: 10px; }
.pastille.ring { border: 2px solid var(--c); border-radius: 50%; width: 10px; height: 10px; }
.symbole, .symbole-carte { font-size: 15px; line-height: 15px; width: 14px; text-align: center; }
.symbole-carte { text-shadow: 0 0 2px #ffffff, 0 0 2px #ffffff; }
.marqueur-symbole { background: transparent; border: none; }
.visuellement-cache { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
"""

UNIT_CSS = """
html body { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 7fr);
  grid-template-areas: "entete entete" "chiffres carte" "graphique carte"
  "rejeu-titre rejeu-titre" "curseur curseur" "rejeu rejeu" "pied pied"; }
.entete { grid-area: entete; } .chiffres { grid-area: chiffres; }
.graphique { grid-area: graphique; } .rejeu-titre { grid-area: rejeu-titre; }
[id^="slider_"] { grid-area: curseur; padding: 0 1rem; }
footer { grid-area: pied; padding: 0.6rem 1rem; color: #555555; font-size: 0.85rem; }
#{main} { grid-area: carte; height: 640px !important; width: auto !important;
  margin: 0.4rem 1rem 0 0; }
#{rollout} { grid-area: rejeu; height: 520px !important; width: auto !important;
  margin: 0 1rem; }
@media (max-width: 900px) {
  html body { grid-template-columns: 100%; grid-template-areas: "entete" "chiffres" "carte"
    "graphique" "rejeu-titre" "curseur" "rejeu" "pied"; }
  #{main} { margin: 0 0.5rem; height: 480px !important; }
}
@page { size: A4 landscape; margin: 8mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  html body { width: 281mm; font-size: 8.5pt; grid-template-columns: 112mm 1fr;
    grid-template-areas: "entete entete" "chiffres carte" "graphique carte"; }
  .entete { padding: 0 0 1mm; } .entete h1 { font-size: 14pt; }
  section { padding: 1mm 2mm 0 0; } h2 { font-size: 10pt; margin: 1mm 0; }
  table { font-size: 8pt; } th, td { padding: 0.4mm 1mm; }
  .detail { font-size: 7pt; }
  #{main} { height: 166mm !important; margin: 1mm 0 0 !important; }
  .legende-carte { font-size: 7pt; padding: 1mm 2mm; max-width: 62mm; }
  .legende-carte li { margin: 0; } .pastille { width: 9px; height: 9px; }
  .graphique-progression { max-height: 64mm; }
  nav, button, details, footer, .rejeu-titre, [id^="slider_"], #{rollout},
  .leaflet-control-zoom, .leaflet-control-layers, .no-print { display: none !important; }
}
"""

INDEX_JS = """
(function () {
  var input = document.getElementById('recherche');
  var status = document.getElementById('resultats');
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr[data-recherche]'));
  function plain(s) { return s.normalize('NFD').replace(/[\\u0300-\\u036f]/g, '').toLowerCase(); }
  function filter() {
    var q = plain(input.value.trim()); var shown = 0;
    rows.forEach(function (row) {
      var match = !q || row.getAttribute('data-recherche').indexOf(q) !== -1;
      row.hidden = !match; if (match) { shown += 1; }
    });
    status.textContent = shown + (shown > 1 ? ' résultats' : ' résultat');
  }
  input.addEventListener('input', filter);
  filter();
})();
"""

# folium's time slider (TimeSliderChoropleth) draws a bare <input type="range"> and an <output>:
# give the slider a name, and have it announce the date shown rather than its position.
ROLLOUT_SLIDER_JS = """
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('[id^="slider_"]').forEach(function (box) {
    var input = box.querySelector('input[type="range"]');
    var output = box.querySelector('output');
    if (!input) { return; }
    input.setAttribute('aria-label', 'Date affichée sur la carte du déploiement');
    if (!output) { return; }
    function sayDate() { input.setAttribute('aria-valuetext', output.textContent); }
    new MutationObserver(sayDate).observe(output, {childList: true, characterData: true, subtree: true});
    sayDate();
  });
});
"""


def percent(value: float) -> str:
    """A rate rounded down to 0.1 (99.99 % shows 99,9 %, never a premature 100 %)."""
    return f"{french_number(math.floor(round(value * 10, 6)) / 10, 1)}\u00a0%"


def _row(key: str, label: str, unit: Any, dept: Any, *, detail: str = "", pct: bool = False) -> str:
    def cell(value: Any) -> str:
        shown = percent(float(value)) if pct else french_number(float(value))
        return f'<td class="nombre" data-valeur="{value}">{shown}</td>'

    extra = f'<span class="detail">{escape(detail)}</span>' if detail else ""
    return (
        f'<tr data-indicateur="{key}"><th scope="row">{escape(label)}{extra}</th>'
        f"{cell(unit)}{cell(dept)}</tr>"
    )


def figures_table(report: UnitReport, dept_name: str, whole: str = "département") -> str:
    """The key figures of the unit beside the département's (data-valeur holds raw numbers)."""
    u, d = report.figures["unite"], report.figures["departement"]
    seuil = french_number(report.seuil_onereux)
    rows = [
        _row("logements", "Logements à raccorder", u["logements"], d["logements"]),
        _row("raccordables", "Logements raccordables", u["raccordables"], d["raccordables"]),
        _row("taux", "Taux de raccordables", u["taux"], d["taux"], pct=True),
        _row(
            "raccordables_demande",
            "Raccordables à la demande (logements)",
            u["raccordables_demande"],
            d["raccordables_demande"],
        ),
        _row(
            "onereuses",
            "Prises onéreuses (logements)",
            u["onereuses_logements"],
            d["onereuses_logements"],
            detail=f"coût estimé au-delà de {seuil} € par logement",
        ),
        _row(
            "oublies",
            "Oubliés (adresses)",
            u["oublies"],
            d["oublies"],
            detail=f"dont {u['oublies_zones']} dans des zones terminées, "
            f"{u['oublies_absents']} absentes du fichier de l'opérateur",
        ),
        _row(
            "med",
            "Sites de montée en débit (MED)",
            u["med"],
            d["med"],
            detail=f"{french_number(u['med_foyers'])} foyers concernés",
        ),
        _row("wifi", "Bornes WiFi publiques en service", u["wifi"], d["wifi"]),
        _row(
            "mobile",
            "Sites mobiles",
            u["mobile"],
            d["mobile"],
            detail=f"dont {u['mobile_en_service']} en service",
        ),
    ]
    name = escape(report.unit.nom)
    column = {"commune": name, "epci": "EPCI"}.get(report.unit.level, "Département")
    return (
        '<table class="chiffres-cles"><caption class="visuellement-cache">Chiffres clés de '
        f'{name} et du {whole}</caption><thead><tr><th scope="col">Indicateur</th>'
        f'<th scope="col" class="nombre">{column}</th>'
        f'<th scope="col" class="nombre">{escape(dept_name)} ({whole})</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _compose(
    main: folium.Map, *, css: str, parts: list[str], title: str, extra_maps: tuple[folium.Map, ...]
) -> str:
    """One HTML document holding the maps and the page parts (placed by CSS grid areas)."""
    figure = main.get_root()
    assert isinstance(figure, Figure)
    for other in extra_maps:
        other.add_to(figure)
    for i, part in enumerate(parts):
        figure.html.add_child(Element(part), name=f"geo_part_{i}")
    localize(main)
    page = render_page(main, title=escape(title, quote=False))
    # Last in <head>, so that it wins over Leaflet's and Bootstrap's stylesheets.
    return page.replace("</head>", f"<style>{BASE_CSS}{css}</style>\n</head>", 1)


def unit_page(
    report: UnitReport,
    *,
    main_map: folium.Map,
    rollout_map: folium.Map,
    chart_svg: str,
    chart_table: str,
    dept_name: str,
    map_note: str | None = None,
    whole: str = "département",
) -> str:
    """The élu page of a commune or an EPCI (printable on one A4 landscape page)."""
    unit = report.unit
    day = report.as_of.strftime("%d/%m/%Y")
    title = f"{unit.label} — fibre, mobile et WiFi : où en est-on ?"
    if unit.level == "commune" and unit.epci_siren:
        context = (
            f'<p>Membre de <a href="/epci/{escape(unit.epci_siren)}">'
            f"{escape(unit.epci_nom or unit.epci_siren)}</a> · code INSEE {escape(unit.code)}"
            f" · {french_number(unit.population)} habitants</p>"
        )
    elif unit.level == "departement_membre":
        context = (
            f"<p>{len(unit.insees)} communes · département {escape(unit.code)} du territoire"
            f" · {french_number(unit.population)} habitants</p>"
        )
    else:
        context = (
            f"<p>{len(unit.insees)} communes dans le département · SIREN {escape(unit.code)}"
            f" · {french_number(unit.population)} habitants</p>"
        )
    notes = []
    if unit.amii:
        notes.append(
            "Commune de la zone AMII : Orange y déploie la fibre sur ses fonds propres. Les "
            "chiffres sont ceux du fichier de l'opérateur, hors réseau public du département."
        )
    elif unit.amii_insees:
        notes.append(
            f"{len(unit.amii_insees)} communes de l'EPCI sont en zone AMII (réseau d'Orange) : "
            "elles ne sont pas comptées dans ces chiffres."
        )
    if map_note:
        notes.append(map_note)
    header = (
        f'<header class="entete"><h1>{escape(unit.label)}</h1>{context}'
        f"<p>Situation au {day}, comparée à l'ensemble du {whole} ({escape(dept_name)}).</p>"
        '<nav aria-label="Navigation"><a href="/communes">Toutes les communes et EPCI</a>'
        '<a href="/">Carte publique</a><a href="/technique">Carte technique</a></nav></header>'
    )
    figures = (
        '<section class="chiffres" aria-labelledby="titre-chiffres">'
        '<h2 id="titre-chiffres">Chiffres clés</h2>'
        f"{figures_table(report, dept_name, whole)}"
        + "".join(f'<p class="note">{escape(n)}</p>' for n in notes)
        + "</section>"
    )
    chart = (
        '<section class="graphique" aria-labelledby="titre-graphique">'
        '<h2 id="titre-graphique">Progression des logements raccordables</h2>'
        f"{chart_svg}<details><summary>Données du graphique</summary>{chart_table}</details>"
        "</section>"
    )
    replay = (
        '<section class="rejeu-titre no-print" aria-labelledby="titre-rejeu">'
        '<h2 id="titre-rejeu">Le déploiement, trimestre par trimestre</h2>'
        "<p>Faites glisser le curseur (ou utilisez les flèches du clavier) pour revoir "
        "l'avancement de chaque zone arrière de PM depuis 2018.</p></section>"
    )
    footer = (
        "<footer>Sources : fichiers IPE de l'opérateur, registres du syndicat (sites mobiles, "
        "bornes WiFi, MED), géographie IGN/INSEE. Les logements sont comptés sur le réseau "
        "public (hors AMII). "
        '<button type="button" onclick="window.print()">Imprimer cette page</button></footer>'
    )
    css = UNIT_CSS.replace("{main}", main_map.get_name()).replace(
        "{rollout}", rollout_map.get_name()
    )
    return _compose(
        main_map,
        css=css,
        parts=[header, figures, chart, replay, footer, f"<script>{ROLLOUT_SLIDER_JS}</script>"],
        title=title,
        extra_maps=(rollout_map,),
    )


def _taux_cell(row: dict[str, Any]) -> str:
    if row.get("amii") and not row["logements"]:
        return '<td class="nombre">zone AMII</td>'
    return f'<td class="nombre" data-valeur="{row["taux"]}">{percent(float(row["taux"]))}</td>'


def index_page(rows: dict[str, list[dict[str, Any]]], *, dept_name: str) -> str:
    """Every EPCI and commune of the territory with its rate, filtered by a search box."""
    epci_rows = "".join(
        f'<tr class="epci" data-recherche="{escape(_plain_search(e["nom"], e["code"]))}">'
        f'<th scope="row"><a href="/epci/{escape(e["code"])}">{escape(e["nom"])}</a></th>'
        f'<td class="nombre">{e["communes"]}</td>'
        f'<td class="nombre">{french_number(e["logements"])}</td>{_taux_cell(e)}</tr>'
        for e in rows["epci"]
    )
    commune_rows = "".join(
        f'<tr class="commune" data-recherche="'
        f'{escape(_plain_search(c["nom"], c["code"], c["epci_nom"]))}">'
        f'<th scope="row"><a href="/communes/{escape(c["code"])}">{escape(c["nom"])}</a></th>'
        f"<td>{escape(c['code'])}</td><td>{escape(c['epci_nom'])}</td>"
        f'<td class="nombre">{french_number(c["logements"])}</td>{_taux_cell(c)}</tr>'
        for c in rows["communes"]
    )
    title = f"Communes et EPCI — {dept_name}"
    departements = rows.get("departements") or []
    dep_rows = "".join(
        f'<tr class="departement" data-recherche="{escape(_plain_search(d["nom"], d["code"]))}">'
        f'<th scope="row"><a href="/departements/{escape(d["code"])}">{escape(d["nom"])}</a></th>'
        f"<td>{escape(d['code'])}</td>"
        f'<td class="nombre">{french_number(d["logements"])}</td>{_taux_cell(d)}</tr>'
        for d in departements
    )
    dep_section = (
        f"<section><h2>Départements ({len(departements)})</h2><table><thead><tr>"
        '<th scope="col">Département</th><th scope="col">Code</th>'
        '<th scope="col" class="nombre">Logements</th><th scope="col" class="nombre">Taux de '
        f"raccordables</th></tr></thead><tbody>{dep_rows}</tbody></table></section>\n"
        if departements
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f"{VIEWPORT}\n"
        f"<title>{escape(title, quote=False)}</title>\n<style>{BASE_CSS}"
        "main { max-width: 1100px; margin: 0 auto; } label { font-weight: 600; }"
        "input[type=search] { font-size: 1rem; padding: 0.3rem; width: min(100%, 28rem); }"
        "</style>\n</head>\n<body>\n"
        f'<header class="entete"><h1>{escape(title)}</h1>'
        "<p>Une page par commune et par EPCI : chiffres clés, progression, carte.</p>"
        '<nav aria-label="Navigation"><a href="/">Carte publique</a>'
        '<a href="/technique">Carte technique</a></nav></header>\n<main>\n'
        '<section role="search"><label for="recherche">Rechercher une commune, un EPCI ou un '
        'code INSEE</label><br><input type="search" id="recherche" autocomplete="off" '
        'aria-describedby="resultats"> <span id="resultats" aria-live="polite"></span></section>\n'
        f"{dep_section}"
        f'<section><h2>EPCI ({len(rows["epci"])})</h2><table><thead><tr><th scope="col">EPCI</th>'
        '<th scope="col" class="nombre">Communes</th><th scope="col" class="nombre">Logements'
        '</th><th scope="col" class="nombre">Taux de raccordables</th></tr></thead>'
        f"<tbody>{epci_rows}</tbody></table></section>\n"
        f"<section><h2>Communes ({len(rows['communes'])})</h2><table><thead><tr>"
        '<th scope="col">Commune</th><th scope="col">Code INSEE</th><th scope="col">EPCI</th>'
        '<th scope="col" class="nombre">Logements</th><th scope="col" class="nombre">Taux de '
        f"raccordables</th></tr></thead><tbody>{commune_rows}</tbody></table></section>\n"
        f"</main>\n<script>{INDEX_JS}</script>\n</body>\n</html>\n"
    )


def _plain_search(*parts: str) -> str:
    """Lower-case, unaccented search text (matches the inline JS normalisation)."""
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


TECHNIQUE_CSS = """
html body { display: grid; grid-template-rows: auto 1fr; height: 100vh !important; }
#{main} { height: 100% !important; min-height: 480px; }
.entete nav a, .exports a { margin-right: 0.9rem; }
.exports { margin: 0.2rem 0; }
@page { size: A4 landscape; margin: 8mm; }
@media print { nav, .exports, .leaflet-control-zoom, .leaflet-control-layers { display: none; }
  html body { height: 190mm !important; } }
"""


def technique_page(
    fmap: folium.Map, *, dept_name: str, exports: list[tuple[str, str]], day: str
) -> str:
    """The staff's technical map under a header linking to the CSV / GeoJSON exports."""
    title = f"Carte technique — {dept_name}"
    links = "".join(
        f'<a href="{escape(url)}" download>{escape(label)}</a>' for label, url in exports
    )
    header = (
        f'<header class="entete"><h1>{escape(title)}</h1>'
        f"<p>Situation au {escape(day)} : zones arrière des PM par avancement, NRO, prises "
        "onéreuses, oubliés, sites mobiles, bornes WiFi et MED (menu des couches en haut à "
        f'droite).</p><p class="exports">Exports : {links}</p>'
        '<nav aria-label="Navigation"><a href="/communes">Communes et EPCI</a>'
        '<a href="/">Carte publique</a></nav></header>'
    )
    css = TECHNIQUE_CSS.replace("{main}", fmap.get_name())
    return _compose(fmap, css=css, parts=[header], title=title, extra_maps=())
