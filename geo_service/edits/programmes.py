"""Staff edits of a mobile site, a WiFi borne or a MED cabinet: stage dates and the fields no
public file holds. One path for the API, the console and the CLI: validate each field, check
the lifecycle rules on the whole record (no stage skipped, none in the future, in order), check
the version, write, history (asset_change, read by the as-of answers) and audit.

The version of these objects is a digest of their stored record, so that an import changing
a row (ANFR, DCC, register) also makes a stale edit fail with 409 instead of overwriting it."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service.analysis.lifecycle import Lifecycle, check, state_as_of
from geo_service.analysis.med import MED_LIFECYCLE, check_med, opening
from geo_service.analysis.mobile import mobile_lifecycle
from geo_service.analysis.wifi import BORNE_LIFECYCLE, check_borne
from geo_service.auth.actor import Actor
from geo_service.edits.common import Fields, record_edit
from geo_service.edits.versioning import changed_fields, check_version
from geo_service.errors import FieldValidationError, NotFoundError


@dataclass(frozen=True)
class Editable:
    """What staff may change on one kind of object, and how each field is read."""

    table: str
    label: str
    dates: tuple[str, ...]
    texts: dict[str, int]  # field → maximum length
    integers: dict[str, tuple[int, int]]  # field → (minimum, maximum)
    lifecycle: Callable[[dict[str, Any]], Lifecycle]
    check: Callable[[dict[str, Any], date], list[tuple[str, str]]]

    @property
    def fields(self) -> tuple[str, ...]:
        return (*self.dates, *self.texts, *self.integers)


KINDS: dict[str, Editable] = {
    "sites-mobiles": Editable(
        "mobile_site",
        "Site mobile",
        (*mobile_lifecycle("NEW_DEAL").fields, "date_fin_iru", "date_dernier_controle"),
        {"renouvellement_iru": 200, "opposition": 1000, "proprietaire": 120},
        {},
        lambda row: mobile_lifecycle(row.get("programme")),
        lambda row, day: check(mobile_lifecycle(row.get("programme")), row, day),
    ),
    "bornes-wifi": Editable(
        "wifi_borne",
        "Borne WiFi",
        (*BORNE_LIFECYCLE.fields, "date_fin_contrat"),
        {"contrat": 120, "operateur": 120, "adresse": 300},
        {"rayon_m": (1, 300)},
        lambda _row: BORNE_LIFECYCLE,
        check_borne,
    ),
    "med": Editable(
        "med_site",
        "Site de montée en débit",
        MED_LIFECYCLE.fields,
        {"cause_blocage": 500},
        {"foyers": (0, 100_000)},
        lambda _row: MED_LIFECYCLE,
        check_med,
    ),
}
_EXTRA = {"mobile_site": ["programme", "etat"], "wifi_borne": ["etat"], "med_site": []}
_STATE_FIELD = {"mobile_site": "etat", "wifi_borne": "etat"}


def editable(kind: str) -> Editable:
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFoundError(f"Type d'objet inconnu « {kind[:30]} ».")
    return spec


def _version(row: dict[str, Any]) -> int:
    payload = json.dumps(row, sort_keys=True, default=str).encode()
    return zlib.crc32(payload) % 1_000_000_000


def get_object(
    conn: Connection, territory: str, kind: str, code: str, *, lock: bool = False
) -> dict[str, Any]:
    """The object's editable fields (and its code, name, commune) with its `version`."""
    spec = editable(kind)
    columns = ["code", "nom", "insee", *_EXTRA[spec.table], *spec.fields]
    if spec.table == "med_site":
        columns.append("ouverture_calculee")
    # column names come from the definitions above, never from the request
    row = (
        conn.execute(
            text(
                f"SELECT {', '.join('o.' + c for c in columns)} FROM {spec.table} o"
                " JOIN commune c ON c.insee = o.insee AND c.territory_code = :t"
                " WHERE o.code = :code" + (" FOR UPDATE OF o" if lock else "")
            ),
            {"t": territory, "code": code},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"{spec.label} « {code[:40]} » inconnu sur ce territoire.")
    found = dict(row)
    found["version"] = _version(found)
    return found


def _read(spec: Editable, values: dict[str, Any]) -> dict[str, Any]:
    fields = Fields()
    wanted: dict[str, Any] = {}
    unknown = sorted(set(values) - set(spec.fields))
    for name in unknown:
        fields.errors[str(name)[:40]] = "champ non modifiable"
    for name in spec.dates:
        if name in values:
            wanted[name] = fields.date(name, values[name])
    for name, length in spec.texts.items():
        if name in values:
            wanted[name] = fields.text(name, values[name], max_length=length)
    for name, (low, high) in spec.integers.items():
        if name in values:
            wanted[name] = fields.integer(name, values[name], minimum=low, maximum=high)
    fields.raise_if_any()
    return wanted


def update_object(
    conn: Connection,
    actor: Actor,
    kind: str,
    code: str,
    *,
    expected_version: int,
    values: dict[str, Any],
    today: date | None = None,
) -> dict[str, Any]:
    """Change the given fields of one object; the whole record must then keep the lifecycle
    rules (422 with a French reason per field otherwise), and the stored state follows the
    dates. Returns the object as stored."""
    spec = editable(kind)
    wanted = _read(spec, values)
    current = get_object(conn, actor.territory, kind, code, lock=True)
    day = today or date.today()
    merged = {**current, **wanted}
    if spec.table == "med_site" and {"date_ouverture", "date_reception_orange"} & set(wanted):
        if "date_ouverture" in wanted:  # a date typed is given; emptied, it is computed again
            merged["ouverture_calculee"] = wanted["date_ouverture"] is None
        merged["date_ouverture"], merged["ouverture_calculee"] = opening(merged)
        wanted["date_ouverture"] = merged["date_ouverture"]
        wanted["ouverture_calculee"] = merged["ouverture_calculee"]
    rules = spec.check(merged, day)
    if rules:
        raise FieldValidationError(dict(reversed(rules)))
    state_field = _STATE_FIELD.get(spec.table)
    if state_field:
        state = state_as_of(spec.lifecycle(merged), merged, day)
        if state is not None:
            wanted[state_field] = state
    check_version(
        conn,
        actor,
        object_type=spec.table,
        object_key=code,
        current=current,
        expected=expected_version,
        wanted=wanted,
    )
    before, after = changed_fields(current, wanted)
    if after:
        assignments = ", ".join(f"{name} = :{name}" for name in after)
        conn.execute(
            text(f"UPDATE {spec.table} SET {assignments} WHERE code = :code"),
            {**after, "code": code},
        )
        if spec.table == "mobile_site" and "date_mise_en_service" in after:
            # a date given by staff is the register's: ANFR no longer overwrites it
            conn.execute(
                text("UPDATE mobile_site SET source_mise_en_service = NULL WHERE code = :code"),
                {"code": code},
            )
        record_edit(
            conn,
            actor,
            table=spec.table,
            object_type=spec.table,
            key=code,
            before=before,
            after=after,
        )
    return get_object(conn, actor.territory, kind, code)
