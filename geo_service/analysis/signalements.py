"""Citizens' reports of forgotten addresses (signalements) and their follow-up by staff.

The reporter's contact is stored for the staff's answer and never returned by any listing;
the public sees counts per commune only."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, text

from geo_service.auth.actor import Actor
from geo_service.db.enums import STATUTS_SIGNALEMENT
from geo_service.edits.common import Fields, record_edit
from geo_service.edits.versioning import changed_fields, check_version
from geo_service.errors import NotFoundError

STAFF_COLUMNS = (
    "id, adresse, insee, description, statut, premise_identifiant, assigned_to, reponse, "
    "closed_at, version, created_at, updated_at"
)
ADDRESS_MAX, DESCRIPTION_MAX, CONTACT_MAX, ANSWER_MAX = 300, 2000, 200, 2000
CLOSED = ("RESOLU", "REJETE")


def create(
    conn: Connection,
    *,
    territory: str,
    adresse: str,
    description: str | None = None,
    contact: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> dict[str, Any]:
    """Record a report; a map point is placed in its commune and matched to a premise within
    50 m. Returns only the report's number, commune and status (nothing it was told)."""
    fields = Fields()
    address = fields.text("adresse", adresse, max_length=ADDRESS_MAX, required=True)
    if address is not None and len(address) < 5:
        fields.errors["adresse"] = "au moins 5 caractères"
    text_ = fields.text("description", description, max_length=DESCRIPTION_MAX)
    who = fields.text("contact", contact, max_length=CONTACT_MAX)
    if (lat is None) != (lon is None):
        fields.errors["lat"] = "indiquez la latitude et la longitude, ou aucune"
    for name, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if value is not None and not (math.isfinite(value) and -bound <= value <= bound):
            fields.errors[name] = f"coordonnée hors de [-{bound:g}, {bound:g}]"
    fields.raise_if_any()
    row = (
        conn.execute(
            text(
                "WITH here AS (SELECT CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL ELSE "
                "ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154) END AS g) "
                "INSERT INTO signalement (adresse, insee, description, contact, statut, "
                "premise_identifiant, territory_code, geom) "
                "SELECT :adresse, (SELECT c.insee FROM commune c WHERE c.territory_code = :t "
                "AND ST_Contains(c.geom, here.g)), :description, :contact, 'NOUVEAU', "
                "(SELECT p.identifiant_immeuble FROM premise p WHERE here.g IS NOT NULL "
                " AND ST_DWithin(p.geom, here.g, 50) ORDER BY p.geom <-> here.g LIMIT 1), :t, here.g "
                "FROM here RETURNING id, insee, statut, created_at"
            ),
            {
                "adresse": address,
                "description": text_,
                "contact": who,
                "lat": lat,
                "lon": lon,
                "t": territory,
            },
        )
        .mappings()
        .one()
    )
    return dict(row)


def listing(
    conn: Connection,
    *,
    territory: str,
    statut: str | None = None,
    insees: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Reports of the territory (of these communes when given), without the reporter's contact."""
    rows = conn.execute(
        text(
            f"SELECT {STAFF_COLUMNS} FROM signalement WHERE territory_code = :t "
            "AND (CAST(:s AS text) IS NULL OR statut = :s) "
            "AND (CAST(:all AS boolean) OR insee = ANY(:insees)) ORDER BY id"
        ),
        {"t": territory, "s": statut, "all": insees is None, "insees": sorted(insees or [])},
    ).mappings()
    return [dict(r) for r in rows]


def get(conn: Connection, territory: str, report_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = (
        conn.execute(
            text(
                f"SELECT {STAFF_COLUMNS} FROM signalement WHERE id = :i AND territory_code = :t"
                + (" FOR UPDATE" if lock else "")
            ),
            {"i": report_id, "t": territory},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"Signalement n° {report_id} introuvable.")
    return dict(row)


def contact_of(conn: Connection, territory: str, report_id: int) -> str | None:
    """The reporter's contact, for the staff member answering (never listed)."""
    return conn.execute(
        text("SELECT contact FROM signalement WHERE id = :i AND territory_code = :t"),
        {"i": report_id, "t": territory},
    ).scalar_one_or_none()


def update(
    conn: Connection,
    actor: Actor,
    report_id: int,
    *,
    expected_version: int,
    values: dict[str, Any],
) -> dict[str, Any]:
    """Assign, answer, move along (NOUVEAU → EN_COURS → RESOLU / REJETE) or close a report."""
    fields = Fields()
    wanted: dict[str, Any] = {}
    if "statut" in values:
        wanted["statut"] = fields.choice("statut", values["statut"], STATUTS_SIGNALEMENT)
    if "assigned_to" in values:
        wanted["assigned_to"] = fields.text("assigned_to", values["assigned_to"], max_length=80)
    if "reponse" in values:
        wanted["reponse"] = fields.text("reponse", values["reponse"], max_length=ANSWER_MAX)
    fields.raise_if_any()
    current = get(conn, actor.territory, report_id, lock=True)
    check_version(
        conn,
        actor,
        object_type="signalement",
        object_key=str(report_id),
        current=current,
        expected=expected_version,
        wanted=wanted,
    )
    before, after = changed_fields(current, wanted)
    if after:
        statut = wanted.get("statut", current["statut"])
        conn.execute(
            text(
                "UPDATE signalement SET statut = CAST(:s AS text), assigned_to = :a, reponse = :r, "
                "closed_at = CASE WHEN CAST(:s AS text) IN ('RESOLU', 'REJETE') THEN COALESCE(closed_at, now()) "
                "ELSE NULL END, updated_at = now(), version = version + 1 WHERE id = :i"
            ),
            {
                "s": statut,
                "a": wanted.get("assigned_to", current["assigned_to"]),
                "r": wanted.get("reponse", current["reponse"]),
                "i": report_id,
            },
        )
        record_edit(
            conn,
            actor,
            table="signalement",
            object_type="signalement",
            key=str(report_id),
            before=before,
            after=after,
        )
    return get(conn, actor.territory, report_id)


def counts_by_commune(conn: Connection, *, territory: str) -> list[dict[str, Any]]:
    """What the public may see: the number of reports per commune and status."""
    rows = conn.execute(
        text(
            "SELECT s.insee, c.nom, count(*) AS signalements, "
            "count(*) FILTER (WHERE s.statut IN ('NOUVEAU', 'EN_COURS')) AS ouverts, "
            "count(*) FILTER (WHERE s.statut IN ('RESOLU', 'REJETE')) AS clos "
            "FROM signalement s LEFT JOIN commune c ON c.insee = s.insee "
            "WHERE s.territory_code = :t GROUP BY s.insee, c.nom ORDER BY s.insee NULLS LAST"
        ),
        {"t": territory},
    ).mappings()
    return [dict(r) for r in rows]
