"""GraceTHD value lists (the standard's l_* tables) read by the importer: a cell may hold the
code (2.0.x and 3.x deliverables) or the label (as IPE files and older deliveries write it)."""

from __future__ import annotations

import unicodedata

# The standard's value lists we read, code → label(s), as published in GraceTHD-MCD 2.0.1
# (db_shpcsv/l_*.csv) and in the 3.x lists; a cell may hold the code or the label.
L_SRO_ETAT: dict[
    str, tuple[str, ...]
] = {  # also l_nro_etat; the labels are our PM states (ETATS_PM)
    "PL": ("PLANIFIE",),
    "EC": ("EN COURS DE DEPLOIEMENT",),
    "DP": ("DEPLOYE",),
    "AB": ("ABANDONNE",),
}
L_SITE_EMISSION_TYPE: dict[str, tuple[str, ...]] = {
    "RADIO": ("RADIODIFFUSION",),
    "TEL": ("RADIO TELEPHONIE",),
    "BLR": ("BOUCLE LOCALE RADIO",),
    "FH": ("FAISCEAU HERTZIEN",),
    "WIFI": ("WIFI",),
    "WIMAX": ("WIMAX",),
    "TV": (),  # accepted by this importer before it read the standard's list
    "AUTRE": (),
}
L_SITE_TYPE_LOG: dict[
    str, tuple[str, ...]
] = {  # 2.0.x, then the two types of 3.x (NRO and SRO are then told by the zones)
    "NRA": ("NOEUD RACCORDEMENT D ABONNES",),
    "NRAHD": ("NOEUD RACCORDEMENT D ABONNES - HAUT DEBIT",),
    "NRAMED": ("NOEUD RACCORDEMENT D ABONNES - MONTEE EN DEBIT",),
    "NRAZO": ("NOEUD RACCORDEMENT D ABONNES - ZONE D OMBRE",),
    "SRP": ("SOUS-REPARTITEUR CUIVRE PRIMAIRE",),
    "SRS": ("SOUS-REPARTITEUR CUIVRE SECONDAIRE",),
    "SRT": ("SOUS-REPARTITEUR CUIVRE TERTIAIRE",),
    "NRO": ("NOEUD RACCORDEMENT OPTIQUE",),
    "SRO": ("SOUS-REPARTITEUR OPTIQUE", "PM"),  # PM: accepted before
    "BRASSAGE": ("SITE DE BRASSAGE",),
    "CLIENT": ("SITE CLIENT", "SITES HEBERGEANT DES UTILISATEURS"),
    "HEBERG": ("SITE HEBERGEMENT",),
    "RESEAU": (
        "SITE UTILISE UNIQUEMENT POUR HEBERGER UN/DES EQUIPEMENTS(S) PASSIF(S) ET/OU ACTIF(S)",
    ),
}


def _norm(value: str) -> str:
    """Upper case without accents, Œ as OE, apostrophes, hyphens and underscores as spaces."""
    text_ = value.replace("Œ", "OE").replace("œ", "oe")
    text_ = unicodedata.normalize("NFKD", text_).encode("ascii", "ignore").decode("ascii").upper()
    for sep in ("'", "-", "_"):
        text_ = text_.replace(sep, " ")
    return " ".join(text_.split())


def _index(values: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out = {_norm(label): code for code, labels in values.items() for label in labels}
    return out | {_norm(code): code for code in values}


LISTS = {
    "l_sro_etat": _index(L_SRO_ETAT),
    "l_site_emission_type": _index(L_SITE_EMISSION_TYPE),
    "l_site_type_log": _index(L_SITE_TYPE_LOG),
}
_EXPECTED: dict[str, dict[str, tuple[str, ...]]] = {
    "l_sro_etat": L_SRO_ETAT,
    "l_site_emission_type": L_SITE_EMISSION_TYPE,
    "l_site_type_log": L_SITE_TYPE_LOG,
}


def code_of(list_name: str, cell: str) -> str | None:
    """The standard's code for a cell holding a code or a label of `list_name`, else None."""
    return LISTS[list_name].get(_norm(cell))


def expected(list_name: str) -> str:
    """The codes of a list, for a refusal message."""
    return ", ".join(c for c, labels in _EXPECTED[list_name].items() if labels)
