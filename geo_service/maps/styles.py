"""Colours and French labels shared by every map (colour-blind safe palettes: Okabe-Ito)."""

from __future__ import annotations

COMMUNE_STYLE = {"color": "#555555", "weight": 0.6, "fillColor": "#56B4E9", "fillOpacity": 0.15}
EPCI_STYLE = {"color": "#0072B2", "weight": 2.2, "fill": False}
AMII_STYLE = {"color": "#E69F00", "weight": 1, "fillColor": "#E69F00", "fillOpacity": 0.25}

BASE_TILES = {
    "OpenStreetMap": {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "© contributeurs OpenStreetMap",
    },
    "PlanIGN": {
        "url": "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&FORMAT=image/png"
        "&TILEMATRIXSET=PM&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
        "attribution": "© IGN Plan IGN",
    },
}


def base_tiles(name: str) -> dict[str, str]:
    """The base map (name from the registry, or a custom URL template with {z}/{x}/{y})."""
    if name in BASE_TILES:
        return BASE_TILES[name]
    return {"url": name, "attribution": "Fond de carte"}


# --- Élu pages and technical map -------------------------------------------------------------
# Completion bands of PM zones (geo_service.analysis.progress.BANDS), Okabe-Ito, light → dark.
BAND_COLORS = {
    "< 50 %": "#E69F00",
    "50-95 %": "#F0E442",
    "> 95 %": "#56B4E9",
    "100 %": "#0072B2",
}
BAND_LABELS = {
    "< 50 %": "Zone à moins de 50 % raccordable",
    "50-95 %": "Zone raccordable de 50 à 95 %",
    "> 95 %": "Zone raccordable à plus de 95 %",
    "100 %": "Zone terminée (100 %)",
}
NO_LOGEMENT_COLOR = "#DDDDDD"
NO_LOGEMENT_LABEL = "Zone sans logement dans le fichier de l'opérateur"
ZONE_OUTLINE = {"color": "#444444", "weight": 0.8, "fillOpacity": 0.45}

# Premises (IPE EtatImmeuble) drawn as small circles on élu pages.
PREMISE_STATE_COLORS = {
    "DEPLOYE": "#009E73",
    "EN COURS DE DEPLOIEMENT": "#E69F00",
    "SIGNE": "#E69F00",
    "CIBLE": "#999999",
    "RACCORDABLE DEMANDE": "#CC79A7",
    "RAD EN COURS DE DEPLOIEMENT": "#CC79A7",
    "ABANDONNE": "#000000",
}
PREMISE_STATE_LABELS = {
    "DEPLOYE": "raccordable",
    "EN COURS DE DEPLOIEMENT": "travaux en cours",
    "SIGNE": "convention signée",
    "CIBLE": "déploiement prévu",
    "RACCORDABLE DEMANDE": "raccordable à la demande",
    "RAD EN COURS DE DEPLOIEMENT": "à la demande, travaux en cours",
    "ABANDONNE": "abandonné",
}
PREMISE_LEGEND = [
    ("#009E73", "Immeuble raccordable"),
    ("#E69F00", "Immeuble en travaux / convention signée"),
    ("#999999", "Immeuble au déploiement prévu"),
    ("#CC79A7", "Immeuble raccordable à la demande"),
    ("#000000", "Immeuble abandonné"),
]

# Point layers (colour, French legend label).
ONEREUSE_COLOR = "#D55E00"
RAD_COLOR = "#CC79A7"
OUBLIE_COLOR = "#000000"
MOBILE_COLOR = "#332288"
WIFI_COLOR = "#117733"
MED_COLOR = "#8C510A"
LATE_COLOR = "#CC3311"  # a mobile site past its legal deadline
PARK_COLOR = "#999933"  # the regional natural park's outline
# ARCEP cross-check categories (Tol's muted scheme, readable by colour-blind users)
ARCEP_COLORS = {
    "absent_ipe": "#CC6677",
    "absent_arcep": "#332288",
    "etat_different": "#DDCC77",
    "pm_different": "#117733",
    "position_ecart": "#88CCEE",
}
ARCEP_LABELS = {
    "absent_ipe": "ARCEP seul (absent de l'IPE)",
    "absent_arcep": "IPE seul (absent d'ARCEP)",
    "etat_different": "État différent",
    "pm_different": "PM différent",
    "position_ecart": "Position éloignée",
}


def arcep_legend() -> list[tuple[str, str]]:
    """(colour, label) of each ARCEP cross-check category."""
    return [(ARCEP_COLORS[k], f"Écart ARCEP : {v}") for k, v in ARCEP_LABELS.items()]


NRO_COLOR = "#000000"
LAYER_LABELS = {
    "zones": "Zones arrière des PM (armoires)",
    "prises": "Immeubles par état",
    "onereuses": "Prises onéreuses",
    "rad": "Raccordables à la demande",
    "oublies": "Oubliés",
    "mobile": "Sites mobiles (pylônes)",
    "wifi": "Bornes WiFi (rayon couvert)",
    "med": "Montée en débit (MED)",
    "nro": "NRO",
    "rejeu": "Déploiement trimestre par trimestre",
    "echanges": "Échanges frontaliers",
}
# Border exchanges (technical map): direction of service, link status (Paul Tol's vibrant).
BORDER_SECTOR_COLOR = "#000000"
BORDER_SENS_COLORS = {"SERVI_PAR_VOISIN": "#EE3377", "SERVI_PAR_DELEGATAIRE": "#33BBEE"}
BORDER_SENS_LABELS = {
    "SERVI_PAR_VOISIN": "du territoire servi par le réseau voisin",
    "SERVI_PAR_DELEGATAIRE": "extérieur servi par le délégataire",
}
BORDER_LINK_COLORS = {
    "A CREER": "#EE7733",
    "EN TRAVAUX": "#CC3311",
    "EXISTANT": "#009988",
    "EN SERVICE": "#009988",
    "ABANDONNE": "#BBBBBB",
}
BORDER_LINK_UNKNOWN = "#555555"
BORDER_STATUS_LABELS = {
    "A CREER": "à créer",
    "EN TRAVAUX": "en travaux",
    "EXISTANT": "existant",
    "EN SERVICE": "en service",
    "ABANDONNE": "abandonné",
}
BORDER_MODE_LABELS = {"AERIEN": "aérien", "SOUTERRAIN": "souterrain"}
DOE_LABELS = {
    "NON_DU": "non dû",
    "A_DEPOSER": "à déposer",
    "DEPOSE": "déposé",
    "VALIDE": "validé",
    "REFUSE": "refusé",
}
MOBILE_STATE_LABELS = {
    "ZONE_SIGNALEE": "zone signalée",
    "CARENCE_CONFIRMEE": "carence confirmée",
    "RETENU": "retenu par l'équipe-projet",
    "ARRETE": "arrêté pris",
    "EN_CONSTRUCTION": "en construction",
    "EN_SERVICE": "en service",
    "ABANDONNE": "abandonné",
}
BORNE_STATE_LABELS = {
    "DELIBERATION_RECUE": "délibération reçue",
    "PROGRAMMEE": "programmée",
    "INSTALLEE": "installée",
    "EN_SERVICE": "en service",
    "RETIREE": "retirée",
}
MED_STATE_LABELS = {
    "PROJET": "en projet",
    "ALIMENTATION": "extension électrique faite",
    "BRANCHE_ENEDIS": "branchée par Enedis",
    "DALLE_RECUE": "dalle réceptionnée",
    "ARMOIRE_POSEE": "armoire posée",
    "RECETTE": "recette faite",
    "RECU_ORANGE": "réceptionnée par Orange",
    "OUVERT": "ouverte à la commercialisation",
}
MOBILE_PROGRAMME_LABELS = {
    "NEW_DEAL": "New Deal (couverture ciblée)",
    "CENTRE_BOURG": "centre-bourg (2004-2006)",
    "TDF_IRU": "site TDF (IRU)",
    "AUTRE": "autre",
}
RAD_STEP_LABELS = {
    "CANDIDAT": "candidat",
    "LISTE_AVENANT": "inscrit à l'avenant",
    "DEMANDE": "demandé",
    "CONSTRUIT": "construit",
}
