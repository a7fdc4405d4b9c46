"""What staff may type in the four operating registers (incidents, PM controls, abonnés, border
exchanges): the fields of each form, read by the importers' own cell parsers, then the same row
rules as the importers (PM and communes of the territory, restoration after opening, one of
INSEE or PM…), with a French reason per field. Used by geo_service.edits.operations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from geo_service.data.operations import load_engagements
from geo_service.db.enums import MODES_LIEN, RESULTATS_CONTROLE, SENS_ECHANGE, STATUTS_LIEN
from geo_service.edits.common import EARLIEST, LATEST
from geo_service.ingest import abonnes, controles_pm, echanges_frontaliers, incidents
from geo_service.ingest.operations_cells import PARIS, perimetre
from geo_service.ingest.operations_common import Column, Context, Register

MAX_COUNT = 100_000_000  # abonnés / raccordables: the column is a 32-bit integer


@dataclass(frozen=True)
class FormField:
    """One field of a register's form: its name (the import file's column), French label, input
    type, choices (code, label) and whether it is part of the entry's key (set at creation)."""

    name: str
    label: str
    kind: str = "text"  # text, textarea, date, datetime-local, number, select
    key: bool = False
    required: bool = False
    maxlength: int | None = None
    help: str | None = None
    choices: Callable[[str], list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class RegisterRules:
    """A register's form and rules: `read` turns the typed values into the table's row (or
    field errors); `form` gives the form's values of a stored row; `summary` the list columns."""

    kind: str
    label: str
    entry_label: str
    register: Register
    fields: tuple[FormField, ...]
    read: Callable[[dict[str, str], Context], tuple[dict[str, Any], dict[str, str]]]
    form: Callable[[dict[str, Any]], dict[str, str]]
    summary: tuple[tuple[str, str], ...]
    order_by: str
    notes: tuple[str, ...] = field(default=())

    @property
    def key_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.key)


def _perimetres(territory: str) -> list[tuple[str, str]]:
    return [(territory, f"territoire {territory}"), ("dsp", "toute la DSP (délégataire)")]


def _parsers(columns: list[Column]) -> dict[str, Callable[[str], Any]]:
    return {c.name: c.parse for c in columns}


class _Cells:
    """Reads typed values with the importers' parsers, collecting one French reason per field."""

    def __init__(self, values: dict[str, str], parsers: dict[str, Callable[[str], Any]]) -> None:
        self.values = values
        self.parsers = parsers
        self.errors: dict[str, str] = {}

    def get(self, name: str, *, required: str | None = None) -> Any:
        raw = self.values.get(name, "")
        if "\x00" in raw:
            self.errors[name] = "caractère nul interdit"
            return None
        try:
            value = self.parsers[name](raw)
        except ValueError as exc:
            self.errors[name] = str(exc)
            return None
        if required and value in (None, ""):
            self.errors[name] = required
        if isinstance(value, dt.datetime | dt.date):
            day = value.date() if isinstance(value, dt.datetime) else value
            if not EARLIEST <= day <= LATEST:
                self.errors[name] = f"date hors de la plage {EARLIEST:%Y}-{LATEST:%Y}"
                return None
        return value

    def scope(self, territory: str) -> str:
        try:
            return perimetre(self.values.get("perimetre", ""), territory)
        except ValueError as exc:
            self.errors["perimetre"] = str(exc)
            return territory

    def fail(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, reason)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _moment(value: Any) -> str:
    """A stored timestamp as the value of a datetime-local input (Paris time)."""
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


def _future(cells: _Cells, name: str, value: Any) -> None:
    now = dt.datetime.now(PARIS)
    if isinstance(value, dt.datetime) and value > now + dt.timedelta(minutes=5):
        cells.fail(name, "dans le futur")
    elif type(value) is dt.date and value > now.date():
        cells.fail(name, "dans le futur")


# --- incidents ------------------------------------------------------------------------------


def _categories(_territory: str) -> list[tuple[str, str]]:
    return [(code, c.libelle) for code, c in load_engagements().categories.items()]


def _read_incident(
    values: dict[str, str], context: Context
) -> tuple[dict[str, Any], dict[str, str]]:
    cells = _Cells(values, _parsers(incidents._columns()))
    scope = cells.scope(context.territory)
    reference = cells.get("reference")
    pm = cells.get("pm")
    insee = cells.get("code_insee")
    categorie = cells.get("categorie")
    opened = cells.get("ouverture", required="horodatage obligatoire")
    restored = cells.get("retablissement")
    if not pm and not insee and "pm" not in cells.errors:
        cells.fail("pm", "PM ou code INSEE obligatoire")
    if scope != "dsp":
        if pm and pm not in context.pms:
            cells.fail("pm", "PM inconnu du territoire")
        if insee and insee not in context.insee:
            cells.fail("code_insee", "commune inconnue du territoire")
        if not insee and pm:
            insee = context.pms.get(pm)
    if opened and restored and restored < opened:
        cells.fail("retablissement", "rétablissement antérieur à l'ouverture")
    _future(cells, "ouverture", opened)
    _future(cells, "retablissement", restored)
    row = {
        "perimetre": scope,
        "reference": reference,
        "pm_reference": pm,
        "insee": insee,
        "categorie": categorie,
        "ouverture": opened,
        "retablissement": restored,
        "cause": cells.get("cause"),
        "source": cells.get("source"),
    }
    return row, cells.errors


def _incident_form(row: dict[str, Any]) -> dict[str, str]:
    return {
        "perimetre": _text(row["perimetre"]),
        "reference": _text(row["reference"]),
        "pm": _text(row["pm_reference"]),
        "code_insee": _text(row["insee"]),
        "categorie": _text(row["categorie"]),
        "ouverture": _moment(row["ouverture"]),
        "retablissement": _moment(row["retablissement"]),
        "cause": _text(row["cause"]),
        "source": _text(row["source"]),
    }


INCIDENT_RULES = RegisterRules(
    kind="incidents",
    label="Incidents (pannes)",
    entry_label="Incident",
    register=incidents.INCIDENTS,
    fields=(
        FormField("perimetre", "Périmètre", "select", key=True, choices=_perimetres),
        FormField("reference", "Référence (n° de ticket)", key=True, required=True, maxlength=60),
        FormField("pm", "Armoire (PM)", maxlength=40, help="PM ou code INSEE : au moins l'un."),
        FormField(
            "code_insee",
            "Code INSEE de la commune",
            maxlength=5,
            help="Vide : la commune du PM.",
        ),
        FormField("categorie", "Catégorie", "select", required=True, choices=_categories),
        FormField(
            "ouverture",
            "Ouverture (heure de Paris)",
            "datetime-local",
            required=True,
            help="AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM.",
        ),
        FormField(
            "retablissement",
            "Rétablissement (heure de Paris)",
            "datetime-local",
            help="Vide : incident en cours.",
        ),
        FormField("cause", "Cause", maxlength=300),
        FormField(
            "source",
            "Source",
            "select",
            required=True,
            choices=lambda _t: [("DELEGATAIRE", "délégataire"), ("SIGNALEMENT", "signalement")],
        ),
    ),
    read=_read_incident,
    form=_incident_form,
    summary=(
        ("reference", "Référence"),
        ("perimetre", "Périmètre"),
        ("categorie", "Catégorie"),
        ("pm_reference", "PM"),
        ("insee", "Commune"),
        ("ouverture", "Ouverture"),
        ("retablissement", "Rétablissement"),
    ),
    order_by="ouverture DESC, reference",
)

# --- PM conformity controls ------------------------------------------------------------------


def _read_control(
    values: dict[str, str], context: Context
) -> tuple[dict[str, Any], dict[str, str]]:
    cells = _Cells(values, _parsers(controles_pm.COLUMNS))
    scope = cells.scope(context.territory)
    campagne = cells.get("campagne")
    pm = cells.get("pm")
    day = cells.get("date_controle")
    if scope != "dsp" and pm and pm not in context.pms:
        cells.fail("pm", "PM inconnu du territoire")
    if day and campagne and day.year not in (campagne, campagne + 1):
        cells.fail("date_controle", f"date hors de la campagne {campagne}")
    _future(cells, "date_controle", day)
    row = {
        "perimetre": scope,
        "campagne": campagne,
        "pm_reference": pm,
        "date_controle": day,
        "resultat": cells.get("resultat"),
        "remarques": cells.get("remarques"),
    }
    return row, cells.errors


CONTROL_RULES = RegisterRules(
    kind="controles-pm",
    label="Contrôles de conformité des PM",
    entry_label="Contrôle",
    register=controles_pm.CONTROLES_PM,
    fields=(
        FormField("perimetre", "Périmètre", "select", key=True, choices=_perimetres),
        FormField("campagne", "Campagne (année)", "number", key=True, required=True),
        FormField("pm", "Armoire (PM)", key=True, required=True, maxlength=40),
        FormField(
            "date_controle",
            "Date du contrôle",
            "date",
            required=True,
            help="Dans l'année de la campagne ou la suivante.",
        ),
        FormField(
            "resultat",
            "Résultat",
            "select",
            required=True,
            choices=lambda _t: [
                (r, r.lower().replace("reserves", "réserves")) for r in RESULTATS_CONTROLE
            ],
        ),
        FormField("remarques", "Remarques", "textarea", maxlength=2000),
    ),
    read=_read_control,
    form=lambda row: {
        "perimetre": _text(row["perimetre"]),
        "campagne": _text(row["campagne"]),
        "pm": _text(row["pm_reference"]),
        "date_controle": _text(row["date_controle"]),
        "resultat": _text(row["resultat"]),
        "remarques": _text(row["remarques"]),
    },
    summary=(
        ("campagne", "Campagne"),
        ("perimetre", "Périmètre"),
        ("pm_reference", "PM"),
        ("date_controle", "Date"),
        ("resultat", "Résultat"),
    ),
    order_by="campagne DESC, pm_reference",
)

# --- take-up ------------------------------------------------------------------------------------


def _read_take_up(
    values: dict[str, str], context: Context
) -> tuple[dict[str, Any], dict[str, str]]:
    cells = _Cells(values, _parsers(abonnes.COLUMNS))
    scope = cells.scope(context.territory)
    day = cells.get("date")
    insee = cells.get("code_insee")
    pm = cells.get("pm")
    count = cells.get("abonnes")
    declared = cells.get("raccordables")
    if insee and pm:
        cells.fail("pm", "code INSEE et PM : un seul des deux")
    if scope != "dsp":
        if insee and insee not in context.insee:
            cells.fail("code_insee", "commune inconnue du territoire")
        if pm and pm not in context.pms:
            cells.fail("pm", "PM inconnu du territoire")
    for name, number in (("abonnes", count), ("raccordables", declared)):
        if number is not None and number > MAX_COUNT:
            cells.fail(name, "nombre invraisemblable")
    if count is not None and declared is not None and count > declared:
        cells.fail("abonnes", f"plus d'abonnés que de raccordables ({declared})")
    _future(cells, "date", day)
    row = {
        "perimetre": scope,
        "date_releve": day,
        "maille": "commune" if insee else "pm" if pm else "total",
        "code": insee or pm or "",
        "abonnes": count,
        "raccordables_declares": declared,
        "fai": cells.get("fai") or [],
    }
    return row, cells.errors


TAKE_UP_RULES = RegisterRules(
    kind="abonnes",
    label="Abonnés (relevés du délégataire)",
    entry_label="Relevé d'abonnés",
    register=abonnes.ABONNES,
    fields=(
        FormField("perimetre", "Périmètre", "select", key=True, choices=_perimetres),
        FormField("date", "Date du relevé", "date", key=True, required=True),
        FormField(
            "code_insee",
            "Code INSEE de la commune",
            key=True,
            maxlength=5,
            help="Commune ou PM, un seul des deux ; ni l'un ni l'autre : ligne de total.",
        ),
        FormField("pm", "Armoire (PM)", key=True, maxlength=40),
        FormField("abonnes", "Abonnés", "number", required=True),
        FormField("raccordables", "Raccordables déclarés par le délégataire", "number"),
        FormField("fai", "FAI présents", help="Séparés par « | », p. ex. Orange | SFR."),
    ),
    read=_read_take_up,
    form=lambda row: {
        "perimetre": _text(row["perimetre"]),
        "date": _text(row["date_releve"]),
        "code_insee": _text(row["code"]) if row["maille"] == "commune" else "",
        "pm": _text(row["code"]) if row["maille"] == "pm" else "",
        "abonnes": _text(row["abonnes"]),
        "raccordables": _text(row["raccordables_declares"]),
        "fai": " | ".join(row["fai"] or []),
    },
    summary=(
        ("date_releve", "Date"),
        ("perimetre", "Périmètre"),
        ("maille", "Maille"),
        ("code", "Code"),
        ("abonnes", "Abonnés"),
        ("raccordables_declares", "Raccordables déclarés"),
    ),
    order_by="date_releve DESC, maille, code",
)

# --- border exchanges ----------------------------------------------------------------------------

LINK_FIELDS = echanges_frontaliers.LINK_FIELDS  # one description per link of a sector
SENS_LABELS = {
    "SERVI_PAR_VOISIN": "servi par le voisin (immeuble du territoire)",
    "SERVI_PAR_DELEGATAIRE": "servi par le délégataire (immeuble extérieur)",
}
STATUT_LABELS = {
    s: s.lower().replace("a creer", "à créer").replace("abandonne", "abandonné")
    for s in STATUTS_LIEN
}
MODE_LABELS = {"AERIEN": "aérien", "SOUTERRAIN": "souterrain"}


def _read_exchange(
    values: dict[str, str], context: Context
) -> tuple[dict[str, Any], dict[str, str]]:
    cells = _Cells(values, _parsers(echanges_frontaliers.COLUMNS))
    sens = cells.get("sens")
    insee = cells.get("code_insee")
    if sens == "SERVI_PAR_VOISIN" and (not insee or insee not in context.insee):
        cells.fail(
            "code_insee", "commune du territoire obligatoire pour un immeuble servi par un voisin"
        )
    signed = cells.get("date_cosignature")
    _future(cells, "date_cosignature", signed)
    row = {
        "secteur": cells.get("secteur"),
        "voisin": cells.get("voisin"),
        "sens": sens,
        "identifiant_immeuble": cells.get("identifiant_immeuble"),
        "adresse": cells.get("adresse"),
        "insee": insee,
        "pm_reference": cells.get("pm"),
        "pb_reference": cells.get("pb"),
        "lien": cells.get("lien"),
        "longueur_m": cells.get("longueur_m"),
        "mode": cells.get("mode"),
        "statut_lien": cells.get("statut"),
        "date_cosignature": signed,
    }
    return row, cells.errors


EXCHANGE_RULES = RegisterRules(
    kind="echanges-frontaliers",
    label="Échanges frontaliers",
    entry_label="Immeuble d'échange frontalier",
    register=echanges_frontaliers.ECHANGES_FRONTALIERS,
    fields=(
        FormField("secteur", "Secteur (fiche technique)", key=True, required=True, maxlength=120),
        FormField(
            "identifiant_immeuble",
            "Identifiant de l'immeuble",
            key=True,
            required=True,
            maxlength=80,
        ),
        FormField("voisin", "Réseau voisin", required=True, maxlength=120),
        FormField(
            "sens", "Sens", "select", required=True, choices=lambda _t: list(SENS_LABELS.items())
        ),
        FormField("adresse", "Adresse", maxlength=300),
        FormField(
            "code_insee",
            "Code INSEE de la commune",
            maxlength=5,
            help="Obligatoire et du territoire pour un immeuble servi par le voisin.",
        ),
        FormField("pm", "Armoire (PM)", maxlength=40),
        FormField("pb", "Point de branchement (PB)", maxlength=40),
        FormField("lien", "Lien", maxlength=80, help="P. ex. PB27650-PB27668."),
        FormField("longueur_m", "Longueur du lien (m)", "number"),
        FormField(
            "mode",
            "Mode",
            "select",
            choices=lambda _t: [("", "—"), *MODE_LABELS.items()],
        ),
        FormField(
            "statut",
            "Statut du lien",
            "select",
            choices=lambda _t: [("", "—"), *STATUT_LABELS.items()],
        ),
        FormField("date_cosignature", "Fiche co-signée le", "date"),
    ),
    read=_read_exchange,
    form=lambda row: {
        "secteur": _text(row["secteur"]),
        "identifiant_immeuble": _text(row["identifiant_immeuble"]),
        "voisin": _text(row["voisin"]),
        "sens": _text(row["sens"]),
        "adresse": _text(row["adresse"]),
        "code_insee": _text(row["insee"]),
        "pm": _text(row["pm_reference"]),
        "pb": _text(row["pb_reference"]),
        "lien": _text(row["lien"]),
        "longueur_m": "" if row["longueur_m"] is None else f"{row['longueur_m']:g}",
        "mode": _text(row["mode"]),
        "statut": _text(row["statut_lien"]),
        "date_cosignature": _text(row["date_cosignature"]),
    },
    summary=(
        ("secteur", "Secteur"),
        ("identifiant_immeuble", "Immeuble"),
        ("voisin", "Voisin"),
        ("sens", "Sens"),
        ("lien", "Lien"),
        ("mode", "Mode"),
        ("statut_lien", "Statut"),
    ),
    order_by="secteur, identifiant_immeuble",
    notes=(
        "Un lien d'un secteur a une seule description : corriger sa longueur, son mode ou son "
        "statut sur une fiche corrige aussi les autres immeubles du même lien.",
    ),
)

RULES: dict[str, RegisterRules] = {
    r.kind: r for r in (INCIDENT_RULES, CONTROL_RULES, TAKE_UP_RULES, EXCHANGE_RULES)
}
# every field name a form may post (the console's form model reads them all)
ALL_FIELDS = tuple(sorted({f.name for r in RULES.values() for f in r.fields}))
assert set(MODES_LIEN) == set(MODE_LABELS) and set(SENS_ECHANGE) == set(SENS_LABELS)
