"""The syndicat's three registers (mobile sites, WiFi bornes, MED cabinets): their columns, the
cell parsers and the lifecycle rules each row must keep (analysis.lifecycle through the
programmes' own definitions). The reading and writing is `ingest.registers`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from geo_service.analysis.lifecycle import check, state_as_of
from geo_service.analysis.med import check_med, opening
from geo_service.analysis.mobile import mobile_lifecycle
from geo_service.analysis.wifi import DEFAULT_RADIUS_M, borne_state, check_borne
from geo_service.db.enums import EMPLACEMENTS_BORNE, ETATS_SITE_MOBILE, PROGRAMMES_MOBILE
from geo_service.ingest.common import parse_date

Parser = Callable[[str], Any]
# (field, French reason) of one broken rule
Broken = list[tuple[str, str]]


def _text(value: str) -> str | None:
    return value.strip() or None


def _int(value: str) -> int | None:
    if not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError as exc:
        raise ValueError("nombre entier attendu") from exc
    if number < 0:
        raise ValueError("nombre négatif")
    return number


def _date(value: str) -> date | None:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise ValueError("date illisible (attendu AAAA-MM-JJ ou JJ/MM/AAAA)") from exc


def _one_of(values: tuple[str, ...]) -> Parser:
    def parse(value: str) -> str | None:
        if not value.strip():
            return None
        if value.strip().upper() not in values:
            raise ValueError(f"valeur inconnue (attendu : {', '.join(values)})")
        return value.strip().upper()

    return parse


def _radius(value: str) -> int | None:
    if not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError as exc:
        raise ValueError("nombre entier attendu") from exc
    if not 0 < number <= 300:
        raise ValueError("rayon hors de 1-300 m")
    return number


@dataclass(frozen=True)
class Register:
    """One register: its table, its columns (file name → parser; `code_insee` is stored as
    `insee`), the columns every file must have (the older formats' core), the cells a new row
    must fill, the fields an empty cell does not blank on an existing row (what public files
    fill), and the rule check that also derives the computed fields (state, opening)."""

    kind: str
    table: str
    columns: dict[str, Parser]
    required: tuple[str, ...]
    mandatory_cells: tuple[str, ...]
    kept_when_empty: frozenset[str]
    derive: Callable[[dict[str, Any], frozenset[str], date], Broken]

    @property
    def fields(self) -> list[str]:
        """The table columns the register writes (besides the position)."""
        names = ["insee" if c == "code_insee" else c for c in self.columns]
        return names + [f for f in _DERIVED.get(self.kind, ()) if f not in names]


_DERIVED = {"sites": ("etat",), "bornes": ("etat",), "med": ("ouverture_calculee",)}


def _later(state: str | None, other: str | None) -> bool:
    """Whether lifecycle state `state` comes after `other` (an abandon ends any of them)."""
    if state is None or other is None or other == "ABANDONNE":
        return False
    return state == "ABANDONNE" or ETATS_SITE_MOBILE.index(state) > ETATS_SITE_MOBILE.index(other)


def _derive_site(row: dict[str, Any], absent: frozenset[str], today: date) -> Broken:
    """Lifecycle rules of the site's programme. `etat` is derived from the dates when not
    given; a given `etat` must not lag behind the register's own dates, and gives way to a
    later stage dated by a public file (ARCEP, ANFR) since the register was written."""
    lifecycle = mobile_lifecycle(row.get("programme"))
    lifecycle = replace(lifecycle, optional=lifecycle.optional | absent)
    broken = check(lifecycle, row, today)
    dated = state_as_of(lifecycle, row, today)
    declared = row.get("etat_declare")
    if declared is None:
        if dated is None and row.get("etat") is None:
            broken.append(("etat", "état absent et aucune date d'étape : état impossible à dire"))
        row["etat"] = dated or row.get("etat")
        return broken
    own = {f: row.get(f) if f in row.get("own", ()) else None for f in lifecycle.fields}
    own_dated = state_as_of(lifecycle, own, today)
    if _later(own_dated, declared):
        broken.append(
            ("etat", f"état {declared} contredit les dates (état {own_dated} d'après elles)")
        )
    row["etat"] = dated if _later(dated, declared) else declared
    return broken


def _derive_borne(row: dict[str, Any], absent: frozenset[str], today: date) -> Broken:
    """Borne rules; radius 150 m when empty; `etat` from the dates. A register of the older
    format (no `date_mise_en_service` column) knew only bornes installed and in service."""
    if row.get("rayon_m") is None:
        row["rayon_m"] = DEFAULT_RADIUS_M
    if "date_mise_en_service" in absent and row.get("date_mise_en_service") is None:
        row["date_mise_en_service"] = row.get("date_installation")
    broken = check_borne(row, today, optional=absent)
    row["etat"] = borne_state(row, today)
    if row["etat"] is None and not broken:
        broken.append(
            (
                "date_deliberation",
                "aucune étape datée (délibération, installation…) à la date du fichier",
            )
        )
    return broken


def _derive_med(row: dict[str, Any], absent: frozenset[str], today: date) -> Broken:
    """Milestone rules; the opening is réception Orange + 12 weeks unless a date is given."""
    row["foyers"] = row.get("foyers") or 0
    if row.get("ouverture_donnee"):
        row["ouverture_calculee"] = False
    row["date_ouverture"], row["ouverture_calculee"] = opening(row)
    return check_med(row, today, optional=absent)


REGISTERS = {
    "sites": Register(
        "sites",
        "mobile_site",
        {
            "code": _text,
            "nom": _text,
            "code_insee": _text,
            "programme": _one_of(PROGRAMMES_MOBILE),
            "etat": _one_of(ETATS_SITE_MOBILE),
            "operateurs": _text,
            "date_signalement": _date,
            "date_carence": _date,
            "date_retenue": _date,
            "date_arrete": _date,
            "num_arrete": _text,
            "date_construction": _date,
            "date_mise_en_service": _date,
            "date_abandon": _date,
            "anfr": _text,
            "proprietaire": _text,
            "date_fin_iru": _date,
            "renouvellement_iru": _text,
            "date_dernier_controle": _date,
            "opposition": _text,
        },
        required=("code", "nom", "programme", "longitude", "latitude"),
        mandatory_cells=("nom", "programme"),
        # filled by the public files (ARCEP DCC, ANFR): an empty register cell keeps them
        kept_when_empty=frozenset(
            {
                "nom",
                "insee",
                "programme",
                "operateurs",
                "date_arrete",
                "num_arrete",
                "date_mise_en_service",
                "anfr",
                "proprietaire",
            }
        ),
        derive=_derive_site,
    ),
    "bornes": Register(
        "bornes",
        "wifi_borne",
        {
            "code": _text,
            "nom": _text,
            "code_insee": _text,
            "adresse": _text,
            "emplacement": _one_of(EMPLACEMENTS_BORNE),
            "rayon_m": _radius,
            "operateur": _text,
            "contrat": _text,
            "date_deliberation": _date,
            "date_programmation": _date,
            "date_installation": _date,
            "date_mise_en_service": _date,
            "date_fin_contrat": _date,
            "date_retrait": _date,
            "connexions_mois": _int,  # older format: monthly figures now come from wifi-stats
        },
        required=("code", "nom", "longitude", "latitude"),
        mandatory_cells=("nom", "emplacement"),
        kept_when_empty=frozenset({"nom", "insee", "emplacement"}),
        derive=_derive_borne,
    ),
    "med": Register(
        "med",
        "med_site",
        {
            "code": _text,
            "nom": _text,
            "code_insee": _text,
            "nra": _text,
            "foyers": _int,
            "date_alimentation": _date,
            "date_enedis": _date,
            "date_reception_dalle": _date,
            "date_pose_armoire": _date,
            "date_recette": _date,
            "date_reception_orange": _date,
            "date_ouverture": _date,
            "cause_blocage": _text,
        },
        required=("code", "nom", "longitude", "latitude"),
        mandatory_cells=("nom",),
        kept_when_empty=frozenset({"nom", "insee"}),
        derive=_derive_med,
    ),
}
