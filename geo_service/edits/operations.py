"""Staff entries of the four operating registers (incidents, PM controls, abonnés, border
exchanges): list, add, correct, delete. One path for the console (and any other caller): read
the fields with the importers' rules (edits.operations_rules), check the version, write,
history and audit, in the caller's transaction.

History goes to asset_change under the key the importers use (`<territory>/<key values>`), so
an entry's page shows its imports and its edits together; the as-of answers of
analysis.operations / take_up read the rows' own dates, which an edit changes like an import.
An entry's key (e.g. an incident's perimeter and reference) is set at creation: to change it,
delete the entry and add it again. Its version is a digest of the stored row, so a re-import
that changed it also makes a stale edit fail with 409."""

from __future__ import annotations

import json
import zlib
from typing import Any

from sqlalchemy import Connection, text

from geo_service.auth.actor import Actor
from geo_service.edits.common import record_edit
from geo_service.edits.operations_rules import LINK_FIELDS, RULES, RegisterRules
from geo_service.edits.versioning import changed_fields, check_version
from geo_service.errors import FieldValidationError, NotFoundError
from geo_service.ingest.operations_common import load_context

LIST_LIMIT = 1000


def rules(kind: str) -> RegisterRules:
    found = RULES.get(kind)
    if found is None:
        raise NotFoundError(f"Registre inconnu « {kind[:30]} ».")
    return found


def history_key(territory: str, spec: RegisterRules, row: dict[str, Any]) -> str:
    """The asset_change key of an entry, as operations_common.write_rows writes it."""
    return "/".join([territory, *(str(row[c]) for c in spec.register.key)])[:80]


def _version(spec: RegisterRules, row: dict[str, Any]) -> int:
    stored = {c: row[c] for c in (*spec.register.columns, "import_id")}
    payload = json.dumps(stored, sort_keys=True, default=str).encode()
    return zlib.crc32(payload) % 1_000_000_000


def _select(spec: RegisterRules) -> str:
    # the table and columns come from the register definitions, never from the request
    return f"SELECT id, import_id, {', '.join(spec.register.columns)} FROM {spec.register.table}"


def get_entry(
    conn: Connection, territory: str, kind: str, entry_id: int, *, lock: bool = False
) -> dict[str, Any]:
    """One entry of the territory with its `version` and history `cle` (404 otherwise)."""
    spec = rules(kind)
    row = (
        conn.execute(
            text(
                _select(spec)
                + " WHERE id = :id AND territory_code = :t"
                + (" FOR UPDATE" if lock else "")
            ),
            {"id": entry_id, "t": territory},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"{spec.entry_label} n° {entry_id} inconnu sur ce territoire.")
    found = dict(row)
    found["version"] = _version(spec, found)
    found["cle"] = history_key(territory, spec, found)
    return found


def list_entries(
    conn: Connection, territory: str, kind: str, *, perimetre: str | None = None
) -> list[dict[str, Any]]:
    """The register's entries of the territory (newest first where they are dated)."""
    spec = rules(kind)
    scoped = "perimetre" in spec.register.columns and perimetre is not None
    rows = conn.execute(
        text(
            _select(spec)
            + " WHERE territory_code = :t"
            + (" AND perimetre = :p" if scoped else "")
            + f" ORDER BY {spec.order_by}, id LIMIT :l"
        ),
        {"t": territory, "p": perimetre, "l": LIST_LIMIT},
    ).mappings()
    return [dict(r) for r in rows]


def count_entries(conn: Connection, territory: str, kind: str) -> int:
    spec = rules(kind)
    return int(
        conn.execute(
            text(f"SELECT count(*) FROM {spec.register.table} WHERE territory_code = :t"),
            {"t": territory},
        ).scalar_one()
    )


def _read(
    conn: Connection, territory: str, spec: RegisterRules, values: dict[str, Any]
) -> dict[str, Any]:
    """The row the typed values make, or a 422 with a French reason per field."""
    known = {f.name for f in spec.fields}
    errors = {str(k)[:40]: "champ inconnu" for k in values if k not in known}
    typed = {k: ("" if v is None else str(v).strip()) for k, v in values.items() if k in known}
    row, field_errors = spec.read(typed, load_context(conn, territory))
    errors.update(field_errors)
    if errors:
        raise FieldValidationError(errors)
    return row


def _link_conflict(
    conn: Connection, territory: str, row: dict[str, Any], *, exclude: int | None = None
) -> dict[str, Any] | None:
    """Another building of the same link of the sector, described otherwise (or None)."""
    if not row.get("lien"):
        return None
    others = conn.execute(
        text(
            "SELECT identifiant_immeuble, longueur_m, mode, statut_lien FROM echange_frontalier"
            " WHERE territory_code = :t AND secteur = :s AND lien = :l"
            " AND (CAST(:x AS bigint) IS NULL OR id <> :x) ORDER BY identifiant_immeuble"
        ),
        {"t": territory, "s": row["secteur"], "l": row["lien"], "x": exclude},
    ).mappings()
    for other in others:
        if any(other[f] != row[f] for f in LINK_FIELDS):
            return dict(other)
    return None


def create_entry(
    conn: Connection, actor: Actor, kind: str, *, values: dict[str, Any]
) -> dict[str, Any]:
    """Add an entry (422 with French reasons, nothing written, when a field or rule fails or
    an entry with the same key exists)."""
    spec = rules(kind)
    row = _read(conn, actor.territory, spec, values)
    if spec.kind == "echanges-frontaliers":
        other = _link_conflict(conn, actor.territory, row)
        if other is not None:
            raise FieldValidationError(
                {
                    "lien": f"lien déjà décrit autrement pour l'immeuble "
                    f"{other['identifiant_immeuble']} (longueur, mode ou statut) : reprenez sa "
                    "description, ou corrigez le lien depuis l'une de ses fiches"
                }
            )
    columns = spec.register.columns
    created = conn.execute(
        text(
            f"INSERT INTO {spec.register.table} (territory_code, {', '.join(columns)})"
            f" VALUES (:territory_code, {', '.join(':' + c for c in columns)})"
            f" ON CONFLICT (territory_code, {', '.join(spec.register.key)}) DO NOTHING"
            " RETURNING id"
        ),
        {**row, "territory_code": actor.territory},
    ).scalar()
    if created is None:
        typed = [k for k in spec.key_fields if str(values.get(k) or "").strip()]
        shown = (typed or list(spec.key_fields))[-1]
        raise FieldValidationError({shown: "une entrée de même clé existe déjà : modifiez-la"})
    record_edit(
        conn,
        actor,
        table=spec.register.table,
        object_type=spec.register.table,
        key=history_key(actor.territory, spec, row),
        before=None,
        after=row,
        action="creation",
    )
    return get_entry(conn, actor.territory, kind, int(created))


def update_entry(
    conn: Connection,
    actor: Actor,
    kind: str,
    entry_id: int,
    *,
    expected_version: int,
    values: dict[str, Any],
) -> dict[str, Any]:
    """Correct an entry: the values given replace the form's (its key is kept; a key field
    given another value is refused); the whole row must keep the register's rules."""
    spec = rules(kind)
    current = get_entry(conn, actor.territory, kind, entry_id, lock=True)
    stored = spec.form(current)
    changed_keys = {
        k: "fait partie de la clé de l'entrée : supprimez-la et ajoutez-la de nouveau"
        for k in spec.key_fields
        if k in values and str(values[k] or "").strip() != stored[k]
    }
    if changed_keys:
        raise FieldValidationError(changed_keys)
    row = _read(conn, actor.territory, spec, {**stored, **values})
    check_version(
        conn,
        actor,
        object_type=spec.register.table,
        object_key=current["cle"],
        current=current,
        expected=expected_version,
        wanted=row,
    )
    before, after = changed_fields(current, row)
    if after:
        _write(conn, actor, spec, entry_id, current["cle"], before, after)
    if spec.kind == "echanges-frontaliers" and row["lien"]:
        _spread_link(conn, actor, spec, entry_id, row)
    return get_entry(conn, actor.territory, kind, entry_id)


def _write(
    conn: Connection,
    actor: Actor,
    spec: RegisterRules,
    entry_id: int,
    key: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    assignments = ", ".join(f"{name} = :{name}" for name in after)
    conn.execute(
        text(f"UPDATE {spec.register.table} SET {assignments} WHERE id = :id"),
        {**after, "id": entry_id},
    )
    record_edit(
        conn,
        actor,
        table=spec.register.table,
        object_type=spec.register.table,
        key=key,
        before=before,
        after=after,
    )


def _spread_link(
    conn: Connection, actor: Actor, spec: RegisterRules, entry_id: int, row: dict[str, Any]
) -> None:
    """The other buildings of the same link of the sector take its new description."""
    others = conn.execute(
        text(
            _select(spec) + " WHERE territory_code = :t AND secteur = :s AND lien = :l"
            " AND id <> :id ORDER BY id FOR UPDATE"
        ),
        {"t": actor.territory, "s": row["secteur"], "l": row["lien"], "id": entry_id},
    ).mappings()
    for other in [dict(o) for o in others]:
        before, after = changed_fields(other, {f: row[f] for f in LINK_FIELDS})
        if after:
            key = history_key(actor.territory, spec, other)
            _write(conn, actor, spec, int(other["id"]), key, before, after)


def delete_entry(
    conn: Connection, actor: Actor, kind: str, entry_id: int, *, expected_version: int
) -> dict[str, Any]:
    """Delete an entry typed or imported by mistake; its history and audit keep what it was.
    Returns the entry as it was."""
    spec = rules(kind)
    current = get_entry(conn, actor.territory, kind, entry_id, lock=True)
    check_version(
        conn,
        actor,
        object_type=spec.register.table,
        object_key=current["cle"],
        current=current,
        expected=expected_version,
        wanted={},
    )
    conn.execute(text(f"DELETE FROM {spec.register.table} WHERE id = :id"), {"id": entry_id})
    record_edit(
        conn,
        actor,
        table=spec.register.table,
        object_type=spec.register.table,
        key=current["cle"],
        before={c: current[c] for c in spec.register.columns},
        after={},
        action="suppression",
    )
    return current
