"""The border-exchange register: the co-signed technical sheets, one per sector, as one CSV with
one line per building served across the border (by a neighbouring network, or by the délégataire
outside the territory), its PM, PB and link (length, aérien/souterrain, status). Format in the
README."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from geo_service.db.enums import MODES_LIEN, SENS_ECHANGE, STATUTS_LIEN
from geo_service.ingest import journal
from geo_service.ingest.common import problem
from geo_service.ingest.operations_cells import (
    day,
    label,
    length_m,
    optional_label,
    optional_text,
    required_text,
)
from geo_service.ingest.operations_common import (
    Column,
    Context,
    Register,
    Row,
    duplicates,
    import_register,
    read_table,
)

SENS_ALIASES = {
    "SERVI PAR VOISIN": "SERVI_PAR_VOISIN",
    "SERVI PAR LE VOISIN": "SERVI_PAR_VOISIN",
    "VOISIN": "SERVI_PAR_VOISIN",
    "SERVI PAR DELEGATAIRE": "SERVI_PAR_DELEGATAIRE",
    "SERVI PAR LE DELEGATAIRE": "SERVI_PAR_DELEGATAIRE",
    "DELEGATAIRE": "SERVI_PAR_DELEGATAIRE",
}
MODE_ALIASES = {"AERIENNE": "AERIEN", "SOUTERRAINE": "SOUTERRAIN", "A": "AERIEN", "S": "SOUTERRAIN"}
# GraceTHD's l_avancement codes are accepted too
STATUT_ALIASES = {
    "E": "EXISTANT",
    "C": "A CREER",
    "T": "EN TRAVAUX",
    "S": "EN SERVICE",
    "A": "ABANDONNE",
    "TRAVAUX": "EN TRAVAUX",
}
LINK_FIELDS = ("longueur_m", "mode", "statut_lien")

COLUMNS = [
    Column("secteur", required_text(120)),
    Column("voisin", required_text(120), aliases=("reseau_voisin",)),
    Column("sens", label(SENS_ECHANGE, "sens", SENS_ALIASES)),
    Column(
        "identifiant_immeuble", required_text(80), aliases=("imb_id", "immeuble", "identifiant")
    ),
    Column("adresse", optional_text(300), required=False),
    Column("code_insee", optional_text(5), required=False, aliases=("insee", "commune")),
    Column("pm", optional_text(40), required=False, aliases=("pm_reference",)),
    Column("pb", optional_text(40), required=False, aliases=("pb_reference",)),
    Column("lien", optional_text(80), required=False),
    Column("longueur_m", length_m, required=False, aliases=("longueur",)),
    Column("mode", optional_label(MODES_LIEN, "mode", MODE_ALIASES), required=False),
    Column(
        "statut",
        optional_label(STATUTS_LIEN, "statut", STATUT_ALIASES),
        required=False,
        aliases=("statut_lien",),
    ),
    Column("date_cosignature", day, required=False, aliases=("date_signature",)),
]


def read_exchanges(path: Path, context: Context) -> tuple[list[Row], list[dict[str, Any]]]:
    """Valid building rows and the problems found, line by line."""
    rows, problems, names = read_table(path, COLUMNS)
    file = path.name
    kept: list[Row] = []
    links: dict[tuple[str, str], tuple[int, tuple[Any, ...]]] = {}
    for line, v in rows:
        bad = []
        sens = v["sens"]
        insee = v["code_insee"]
        if sens == "SERVI_PAR_VOISIN" and (not insee or insee not in context.insee):
            # a building of the territory served by a neighbour: it must be one of ours
            bad.append(
                problem(
                    file,
                    line,
                    names.get("code_insee", "code_insee"),
                    insee,
                    "commune du territoire obligatoire pour un immeuble servi par un voisin",
                )
            )
        row = {
            "secteur": v["secteur"],
            "voisin": v["voisin"],
            "sens": sens,
            "identifiant_immeuble": v["identifiant_immeuble"],
            "adresse": v["adresse"],
            "insee": insee,
            "pm_reference": v["pm"],
            "pb_reference": v["pb"],
            "lien": v["lien"],
            "longueur_m": v["longueur_m"],
            "mode": v["mode"],
            "statut_lien": v["statut"],
            "date_cosignature": v["date_cosignature"],
        }
        if v["lien"]:
            described = tuple(row[f] for f in LINK_FIELDS)
            first = links.setdefault((v["secteur"], v["lien"]), (line, described))
            if first[1] != described:
                bad.append(
                    problem(
                        file,
                        line,
                        names["lien"],
                        v["lien"],
                        f"lien décrit autrement ligne {first[0]} (longueur, mode ou statut)",
                    )
                )
        if bad:
            problems += bad
            continue
        kept.append((line, row))
    key = ("secteur", "identifiant_immeuble")
    kept, doubled = duplicates(
        file, kept, key, "identifiant_immeuble", names["identifiant_immeuble"]
    )
    return kept, problems + doubled


ECHANGES_FRONTALIERS = Register(
    kind="echanges-frontaliers",
    table="echange_frontalier",
    key=("secteur", "identifiant_immeuble"),
    columns=(
        "secteur",
        "voisin",
        "sens",
        "identifiant_immeuble",
        "adresse",
        "insee",
        "pm_reference",
        "pb_reference",
        "lien",
        "longueur_m",
        "mode",
        "statut_lien",
        "date_cosignature",
    ),
    read=read_exchanges,
)


def import_echanges_frontaliers(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """Import a border-exchange file in one transaction (refused whole unless `skip_invalid`)."""
    return import_register(
        engine,
        ECHANGES_FRONTALIERS,
        path,
        territory=territory,
        user=user,
        snapshot_date=snapshot_date,
        skip_invalid=skip_invalid,
    )
