"""The staff's technical map: every layer of the territory (pure builder: data in, folium.Map)."""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd

from geo_service.maps import styles as st
from geo_service.maps.border_layer import add_border_exchanges, border_legend
from geo_service.maps.elus import (
    OUBLI_MOTIFS,
    Legend,
    add_park,
    add_points,
    add_sites,
    add_zones,
    base_map,
    fit,
    oubli_address,
    site_legend,
    zone_legend,
)
from geo_service.maps.svg_chart import french_number

EXPENSIVE_LIMIT = 2_000
ARCEP_LIMIT = 5_000  # buildings drawn per layer; the API and CSV give them all


def build_technique_map(
    zones: gpd.GeoDataFrame,
    *,
    nro: list[dict[str, Any]],
    expensive: list[dict[str, Any]],
    oublies: list[dict[str, Any]],
    sites: dict[str, list[dict[str, Any]]],
    seuil: float,
    tiles: str = "OpenStreetMap",
    park: gpd.GeoDataFrame | None = None,
    arcep: list[dict[str, Any]] | None = None,
    border: dict[str, Any] | None = None,
) -> folium.Map:
    """PM zones by band (popups), NRO, the most expensive addresses (above the threshold in
    vermillion, below in grey), oubliés, mobile / WiFi / MED layers, the border exchanges
    (analysis.border_layer) and a French legend."""
    fmap = base_map(tiles)
    add_zones(fmap, zones)
    add_points(
        fmap,
        [
            {
                **r,
                "cout": f"{french_number(r['cout_par_logement'])} €",
                "onereuse": "oui" if r["cout_par_logement"] > seuil else "non",
            }
            for r in expensive[:EXPENSIVE_LIMIT]
        ],
        name=f"{st.LAYER_LABELS['onereuses']} ({french_number(EXPENSIVE_LIMIT)} plus chères)",
        fields=[
            "adresse",
            "commune_nom",
            "etat",
            "logements",
            "pm_reference",
            "cout",
            "onereuse",
            "explication",
        ],
        aliases=[
            "Adresse",
            "Commune",
            "État",
            "Logements",
            "Armoire (PM)",
            "Coût estimé par logement",
            "Au-delà du seuil",
            "Pourquoi",
        ],
        colour=lambda p: st.ONEREUSE_COLOR if p.get("onereuse") == "oui" else "#999999",
        radius=5,
        show=True,
    )
    add_points(
        fmap,
        [
            {
                **r,
                "adresse": oubli_address(r),
                "commune": r.get("commune_nom") or r.get("nom_commune") or r.get("insee"),
                "motif_texte": OUBLI_MOTIFS.get(r["motif"], r["motif"]),
            }
            for r in oublies
        ],
        name=st.LAYER_LABELS["oublies"],
        fields=["adresse", "commune", "motif_texte", "pm_reference"],
        aliases=["Adresse", "Commune", "Motif", "Armoire (PM)"],
        colour=st.OUBLIE_COLOR,
        radius=6,
        hollow=True,
    )
    add_points(
        fmap,
        [{**n, "pm_texte": f"{n['pm']} armoires"} for n in nro],
        name=st.LAYER_LABELS["nro"],
        fields=["code", "nom", "pm_texte", "date_installation"],
        aliases=["NRO", "Nom", "Armoires desservies", "Installé le"],
        colour=st.NRO_COLOR,
        radius=7,
    )
    add_sites(fmap, sites)
    add_park(fmap, park)
    if arcep:
        add_points(
            fmap,
            arcep[:ARCEP_LIMIT],
            name=f"Écarts avec ARCEP ({french_number(min(len(arcep), ARCEP_LIMIT))})",
            fields=[
                "libelle",
                "imb_id",
                "adresse",
                "commune",
                "etat_arcep",
                "etat_ipe",
                "categorie",
            ],
            aliases=["Écart", "Immeuble", "Adresse", "Commune", "État ARCEP", "État IPE", "Code"],
            colour=lambda p: st.ARCEP_COLORS.get(p.get("categorie", ""), "#555555"),
            radius=4,
            hollow=True,
            show=False,
        )
    if border:
        add_border_exchanges(fmap, border)
    legend = [
        *zone_legend(),
        ("circle", st.NRO_COLOR, "NRO"),
        ("circle", st.ONEREUSE_COLOR, "Prise onéreuse (au-delà du seuil)"),
        ("circle", "#999999", "Adresse chère, sous le seuil"),
        ("ring", st.OUBLIE_COLOR, "Oublié"),
        *site_legend(),
        *([("ring", colour, label) for colour, label in st.arcep_legend()] if arcep else []),
        *border_legend(border),
        *(
            [("ring", st.PARK_COLOR, "Parc naturel régional")]
            if park is not None and not park.empty
            else []
        ),
    ]
    Legend(legend).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fit(fmap, zones)
    return fmap
