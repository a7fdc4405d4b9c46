"""Staff edits of a PM (armoire): its planned date (shown by the public « quand ? ») and its
DOE state; history in asset_change, audit in audit_log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from geo_service.auth.actor import Actor
from geo_service.db.enums import ETATS_DOE
from geo_service.edits.common import Fields, record_edit
from geo_service.edits.versioning import changed_fields, check_version
from geo_service.errors import NotFoundError

EDITABLE = ("date_prevue", "doe_etat")


def get_pm(
    conn: Connection, territory: str, reference: str, *, lock: bool = False
) -> dict[str, Any]:
    row = (
        conn.execute(
            text(
                "SELECT reference, nro_code, code_zone, etat, date_installation, date_prevue, "
                "doe_etat, nb_logements_prevus, amii, version FROM pm "
                "WHERE reference = :r AND territory_code = :t" + (" FOR UPDATE" if lock else "")
            ),
            {"r": reference, "t": territory},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"PM inconnu dans le territoire : « {reference[:60]} ».")
    return dict(row)


def update_pm(
    conn: Connection,
    actor: Actor,
    reference: str,
    *,
    expected_version: int,
    values: dict[str, Any],
) -> dict[str, Any]:
    """Set a PM's planned date and/or DOE state (only the fields given)."""
    fields = Fields()
    wanted: dict[str, Any] = {}
    if "date_prevue" in values:
        wanted["date_prevue"] = fields.date("date_prevue", values["date_prevue"])
    if "doe_etat" in values:
        wanted["doe_etat"] = fields.choice("doe_etat", values["doe_etat"], ETATS_DOE)
    fields.raise_if_any()
    current = get_pm(conn, actor.territory, reference, lock=True)
    check_version(
        conn,
        actor,
        object_type="pm",
        object_key=reference,
        current=current,
        expected=expected_version,
        wanted=wanted,
    )
    before, after = changed_fields(current, wanted)
    if after:
        conn.execute(
            text(
                "UPDATE pm SET date_prevue = :date_prevue, doe_etat = :doe_etat, "
                "version = version + 1 WHERE reference = :r"
            ),
            {
                "date_prevue": wanted.get("date_prevue", current["date_prevue"]),
                "doe_etat": wanted.get("doe_etat", current["doe_etat"]),
                "r": reference,
            },
        )
        record_edit(
            conn,
            actor,
            table="pm",
            object_type="pm",
            key=reference,
            before=before,
            after=after,
        )
    return get_pm(conn, actor.territory, reference)
