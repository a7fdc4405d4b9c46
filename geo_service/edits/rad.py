"""The procedure step of a raccordable-à-la-demande address (candidate → listed in the contract
amendment → requested → built), edited by staff with a version, history and audit."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service import audit
from geo_service.auth.actor import Actor
from geo_service.db.changes import log_change
from geo_service.db.enums import ETATS_RAD
from geo_service.edits.common import Fields
from geo_service.edits.versioning import changed_fields, check_version
from geo_service.errors import NotFoundError

FIELDS = ("etape", "date_avenant", "date_demande", "date_construction", "commentaire")


def get_rad(conn: Connection, territory: str, identifiant: str) -> dict[str, Any]:
    """A premise's RAD record (version 0 and step CANDIDAT when never edited)."""
    premise = (
        conn.execute(
            text(
                "SELECT p.identifiant_immeuble, p.insee, p.etat, "
                "concat_ws(' ', p.numero, p.type_voie, p.nom_voie) AS adresse, p.commune_nom "
                "FROM premise p JOIN commune c ON c.insee = p.insee "
                "WHERE p.identifiant_immeuble = :i AND c.territory_code = :t"
            ),
            {"i": identifiant, "t": territory},
        )
        .mappings()
        .first()
    )
    if premise is None:
        raise NotFoundError(f"Immeuble inconnu : « {identifiant[:80]} ».")
    record = (
        conn.execute(
            text(
                "SELECT etape, date_avenant, date_demande, date_construction, commentaire, "
                "updated_by, updated_at, version FROM rad_procedure WHERE identifiant_immeuble = :i"
            ),
            {"i": identifiant},
        )
        .mappings()
        .first()
    )
    base: dict[str, Any] = {
        "etape": "CANDIDAT",
        "date_avenant": None,
        "date_demande": None,
        "date_construction": None,
        "commentaire": None,
        "updated_by": None,
        "updated_at": None,
        "version": 0,
    }
    return {**dict(premise), **(dict(record) if record else base)}


def set_rad_step(
    conn: Connection,
    actor: Actor,
    identifiant: str,
    *,
    expected_version: int,
    values: dict[str, Any],
) -> dict[str, Any]:
    """Record the procedure step of a RAD address (the whole record is replaced)."""
    fields = Fields()
    wanted = {
        "etape": fields.choice("etape", values.get("etape"), ETATS_RAD),
        "date_avenant": fields.date("date_avenant", values.get("date_avenant")),
        "date_demande": fields.date("date_demande", values.get("date_demande")),
        "date_construction": fields.date("date_construction", values.get("date_construction")),
        "commentaire": fields.text("commentaire", values.get("commentaire"), max_length=2000),
    }
    fields.raise_if_any()
    current = get_rad(conn, actor.territory, identifiant)
    if current["version"]:
        conn.execute(
            text("SELECT 1 FROM rad_procedure WHERE identifiant_immeuble = :i FOR UPDATE"),
            {"i": identifiant},
        )
        current = get_rad(conn, actor.territory, identifiant)
    check_version(
        conn,
        actor,
        object_type="rad",
        object_key=identifiant,
        current={k: current[k] for k in (*FIELDS, "version")},
        expected=expected_version,
        wanted=wanted,
    )
    inserted = conn.execute(
        text(
            "INSERT INTO rad_procedure (identifiant_immeuble, etape, date_avenant, date_demande, "
            "date_construction, commentaire, updated_by, version) "
            "VALUES (:i, :etape, :date_avenant, :date_demande, :date_construction, :commentaire, :u, 1) "
            "ON CONFLICT (identifiant_immeuble) DO UPDATE SET etape = EXCLUDED.etape, "
            "date_avenant = EXCLUDED.date_avenant, date_demande = EXCLUDED.date_demande, "
            "date_construction = EXCLUDED.date_construction, commentaire = EXCLUDED.commentaire, "
            "updated_by = EXCLUDED.updated_by, updated_at = now(), "
            "version = rad_procedure.version + 1 "
            "WHERE rad_procedure.version = :v RETURNING version"
        ),
        {"i": identifiant, "u": actor.name, "v": expected_version, **wanted},
    ).first()
    if inserted is None:  # a concurrent first write won the race
        check_version(
            conn,
            actor,
            object_type="rad",
            object_key=identifiant,
            current=get_rad(conn, actor.territory, identifiant),
            expected=-1,
            wanted=wanted,
        )
    before, after = changed_fields(current, wanted)
    log_change(
        conn,
        table="rad_procedure",
        key=identifiant,
        user=actor.name,
        before=before or None,
        after=after or wanted,
        valid_from=date.today(),
    )
    audit.record(
        conn,
        actor,
        action="modification",
        object_type="rad",
        object_key=identifiant,
        before=before,
        after=after,
    )
    return get_rad(conn, actor.territory, identifiant)
