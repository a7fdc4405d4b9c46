"""Contractual targets of logements raccordables (admin edits, versioned and audited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from geo_service.auth.actor import Actor
from geo_service.edits.common import Fields, record_edit
from geo_service.edits.versioning import changed_fields, check_version
from geo_service.errors import NotFoundError

LEVELS = ("departement", "epci", "commune", "nro", "pm")
_COLUMNS = "id, level, code, target_date, raccordables, source, version"


def list_targets(conn: Connection, territory: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM contract_target WHERE territory_code = :t "
            "ORDER BY level, code, target_date"
        ),
        {"t": territory},
    ).mappings()
    return [dict(r) for r in rows]


def get_target(
    conn: Connection, territory: str, target_id: int, *, lock: bool = False
) -> dict[str, Any]:
    row = (
        conn.execute(
            text(
                f"SELECT {_COLUMNS} FROM contract_target WHERE id = :i AND territory_code = :t"
                + (" FOR UPDATE" if lock else "")
            ),
            {"i": target_id, "t": territory},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"Objectif n° {target_id} introuvable.")
    return dict(row)


def _validated(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    fields = Fields()
    wanted: dict[str, Any] = {}
    if not partial or "target_date" in values:
        wanted["target_date"] = fields.date("target_date", values.get("target_date"), required=True)
    if not partial or "raccordables" in values:
        wanted["raccordables"] = fields.integer(
            "raccordables", values.get("raccordables"), minimum=0, maximum=10_000_000
        )
    if not partial or "source" in values:
        wanted["source"] = fields.text("source", values.get("source"), max_length=300)
    if not partial:
        wanted["level"] = fields.choice("level", values.get("level"), LEVELS)
        wanted["code"] = fields.text("code", values.get("code"), max_length=40, required=True)
    fields.raise_if_any()
    return wanted


def create_target(conn: Connection, actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
    wanted = _validated(values, partial=False)
    target_id = conn.execute(
        text(
            "INSERT INTO contract_target (territory_code, level, code, target_date, raccordables, "
            "source) VALUES (:t, :level, :code, :target_date, :raccordables, :source) RETURNING id"
        ),
        {"t": actor.territory, **wanted},
    ).scalar_one()
    record_edit(
        conn,
        actor,
        table="contract_target",
        object_type="objectif",
        key=str(target_id),
        before=None,
        after=wanted,
        action="creation",
    )
    return get_target(conn, actor.territory, int(target_id))


def update_target(
    conn: Connection, actor: Actor, target_id: int, *, expected_version: int, values: dict[str, Any]
) -> dict[str, Any]:
    wanted = _validated(values, partial=True)
    current = get_target(conn, actor.territory, target_id, lock=True)
    check_version(
        conn,
        actor,
        object_type="objectif",
        object_key=str(target_id),
        current=current,
        expected=expected_version,
        wanted=wanted,
    )
    before, after = changed_fields(current, wanted)
    if after:
        merged = {**current, **wanted}
        conn.execute(
            text(
                "UPDATE contract_target SET target_date = :target_date, raccordables = :raccordables, "
                "source = :source, version = version + 1 WHERE id = :id"
            ),
            merged,
        )
        record_edit(
            conn,
            actor,
            table="contract_target",
            object_type="objectif",
            key=str(target_id),
            before=before,
            after=after,
        )
    return get_target(conn, actor.territory, target_id)
