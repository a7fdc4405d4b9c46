"""The border-exchange layer of the technical map: one symbol per sector (its co-signed sheet's
counts, neighbouring network, links), the buildings served across the border (coloured by
direction) and the PM → building links (dashed when aerial, coloured by status). Formats
analysis.border_layer.border_exchange_layer; decides nothing."""

from __future__ import annotations

from typing import Any

import folium

from geo_service.maps import styles as st
from geo_service.maps.elus import LegendItem, _popup, _symbol, feature_collection

SECTOR_SYMBOL = "⇄"


def _sens_text(sens: str) -> str:
    return st.BORDER_SENS_LABELS.get(sens, sens)


def add_border_exchanges(fmap: folium.Map, layer: dict[str, Any]) -> None:
    """One layer « Échanges frontaliers » (shown) holding sectors, buildings and links."""
    sectors = [s for s in layer["secteurs"] if s["lon"] is not None]
    if not sectors and not layer["immeubles"]:
        return
    group = folium.FeatureGroup(
        name=f"{st.LAYER_LABELS['echanges']} ({len(layer['secteurs'])} secteurs)", show=True
    )
    for line in layer["liens"]:
        status = line.get("statut_lien") or ""
        length = line.get("longueur_m")
        folium.PolyLine(
            line["coords"],
            color=st.BORDER_LINK_COLORS.get(status, st.BORDER_LINK_UNKNOWN),
            weight=3,
            dash_array="8 6" if line.get("mode") == "AERIEN" else None,
            popup=_popup(
                f"Lien {line['lien']}",
                [
                    ("Secteur", line["secteur"]),
                    ("Réseau voisin", line["voisin"]),
                    ("Mode", st.BORDER_MODE_LABELS.get(line.get("mode") or "", "non renseigné")),
                    ("Statut", st.BORDER_STATUS_LABELS.get(status, "non renseigné")),
                    ("Longueur", f"{length:g} m" if length is not None else ""),
                ],
            ),
        ).add_to(group)
    buildings = [
        {**b, "sens_texte": _sens_text(b["sens"]), "etat": b["sens"]} for b in layer["immeubles"]
    ]
    shown = [
        "secteur",
        "voisin",
        "sens_texte",
        "commune",
        "immeubles",
        "identifiants",
        "pm_reference",
        "placement",
    ]
    data = feature_collection(buildings, [*shown, "etat"])
    if data["features"]:
        folium.GeoJson(
            data,
            name="Immeubles des échanges frontaliers",
            marker=folium.CircleMarker(radius=6),
            style_function=lambda f: {
                "color": "#222222",
                "weight": 1,
                "fill": True,
                "fillColor": st.BORDER_SENS_COLORS.get(f["properties"]["etat"], "#777777"),
                "fillOpacity": 0.9,
            },
            popup=folium.GeoJsonPopup(
                fields=shown,
                aliases=[
                    "Secteur",
                    "Réseau voisin",
                    "Sens",
                    "Commune",
                    "Immeubles",
                    "Identifiants",
                    "Armoire (PM)",
                    "Position",
                ],
                localize=False,
            ),
        ).add_to(group)
    for s in sectors:
        folium.Marker(
            [s["lat"], s["lon"]],
            icon=_symbol(SECTOR_SYMBOL, st.BORDER_SECTOR_COLOR, f"Secteur {s['secteur']}"),
            popup=_popup(
                f"Échange frontalier : {s['secteur']}",
                [
                    ("Réseau voisin", s["voisin"]),
                    ("Fiche co-signée le", s["cosignature"]),
                    ("Immeubles du territoire servis par le voisin", s["servis_par_voisin"]),
                    ("Immeubles extérieurs servis par le délégataire", s["servis_par_delegataire"]),
                    ("Dont non placés sur la carte", s["non_places"] or ""),
                    ("Armoires (PM)", s["pm"]),
                    ("Liens", s["liens"]),
                ],
            ),
        ).add_to(group)
    group.add_to(fmap)


def border_legend(layer: dict[str, Any] | None) -> list[LegendItem]:
    """Legend items of the layer (none when there is no exchange)."""
    if not layer or not (layer["secteurs"] or layer["immeubles"]):
        return []
    statuses = sorted({line.get("statut_lien") or "" for line in layer["liens"]})
    return [
        (f"symbol:{SECTOR_SYMBOL}", st.BORDER_SECTOR_COLOR, "Échange frontalier (secteur)"),
        *(
            ("circle", st.BORDER_SENS_COLORS[sens], f"Immeuble {label}")
            for sens, label in st.BORDER_SENS_LABELS.items()
        ),
        ("symbol:┅", "#444444", "Lien aérien"),
        ("symbol:━", "#444444", "Lien souterrain"),
        *(
            (
                "symbol:━",
                st.BORDER_LINK_COLORS.get(s, st.BORDER_LINK_UNKNOWN),
                f"Lien {st.BORDER_STATUS_LABELS.get(s, 'de statut non renseigné')}",
            )
            for s in statuses
        ),
    ]
