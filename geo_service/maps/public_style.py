"""Styles and French legend of the public map (Okabe-Ito colours, readable by colour-blind users)."""

from __future__ import annotations

import json

ETAT_COLOURS = {
    "DEPLOYE": "#009E73",
    "EN COURS DE DEPLOIEMENT": "#E69F00",
    "SIGNE": "#E69F00",
    "CIBLE": "#999999",
    "RACCORDABLE DEMANDE": "#CC79A7",
    "RAD EN COURS DE DEPLOIEMENT": "#CC79A7",
    "ABANDONNE": "#000000",
}
ETAT_LABELS = {
    "#009E73": "Raccordable",
    "#E69F00": "Travaux en cours",
    "#999999": "Déploiement prévu",
    "#CC79A7": "Raccordable à la demande",
    "#000000": "Abandonné",
}
ZONE_BANDS = [  # (minimum taux, colour, label)
    (100.0, "#0072B2", "Zone terminée (100 %)"),
    (95.0, "#56B4E9", "Zone presque terminée (> 95 %)"),
    (50.0, "#B3DCF2", "Zone en cours (50 à 95 %)"),
    (0.01, "#F0E442", "Zone commencée (< 50 %)"),
    (0.0, "#DDDDDD", "Zone prévue"),
]
AMII_COLOUR = "#D55E00"
MED_COLOUR = "#8C510A"
MOBILE_COLOUR = "#332288"
WIFI_COLOUR = "#117733"
LATE_COLOUR = "#CC3311"  # a late mobile site (Tol's vibrant red, apart from the AMII orange)
PARK_COLOUR = "#999933"  # the natural park's dashed outline


def zones_style_js() -> str:
    """VectorGrid style function of the `zones` layer: colour by completion band."""
    bands = json.dumps([[b[0], b[1]] for b in ZONE_BANDS])
    return (
        "function(p, zoom) { var t = p.taux_raccordables || 0; var bands = " + bands + ";"
        " var c = bands[bands.length - 1][1];"
        " for (var i = 0; i < bands.length; i++) { if (t >= bands[i][0]) { c = bands[i][1]; break; } }"
        " if (p.amii) { c = '" + AMII_COLOUR + "'; }"
        " return {fill: true, fillColor: c, fillOpacity: 0.35, color: '#444444', weight: 0.6}; }"
    )


def prises_style_js() -> str:
    """VectorGrid style function of the `prises` layer (points, or per-commune counts)."""
    colours = json.dumps(ETAT_COLOURS)
    return (
        "function(p, zoom) { var colours = " + colours + ";"
        " if (p.etat === undefined) {"
        "   var r = Math.max(3, Math.min(14, Math.sqrt(p.logements || 1) / 2));"
        "   var share = p.logements ? p.raccordables / p.logements : 0;"
        "   return {radius: r, fill: true, fillOpacity: 0.8, weight: 1, color: '#333333',"
        "           fillColor: share > 0.95 ? '#009E73' : (share > 0.5 ? '#56B4E9' : '#E69F00')}; }"
        " var c = p.amii ? '" + AMII_COLOUR + "' : (colours[p.etat] || '#999999');"
        " return {radius: zoom >= 15 ? 5 : 3, fill: true, fillOpacity: 0.9, weight: 0.5,"
        "         color: '#ffffff', fillColor: c}; }"
    )


def legend_items() -> list[tuple[str, str, str]]:
    """(shape, colour, label) lines of the legend."""
    items = [("cercle", colour, label) for colour, label in ETAT_LABELS.items()]
    items += [("carre", colour, label) for _t, colour, label in ZONE_BANDS]
    items += [
        ("carre", AMII_COLOUR, "Zone AMII (réseau d'Orange, hors réseau public)"),
        ("cercle", MED_COLOUR, "Montée en débit (cuivre)"),
        ("cercle", MOBILE_COLOUR, "Site mobile"),
        ("cercle", LATE_COLOUR, "Site mobile en retard sur son échéance légale"),
        ("cercle", WIFI_COLOUR, "Borne WiFi publique (zone couverte)"),
    ]
    return items
