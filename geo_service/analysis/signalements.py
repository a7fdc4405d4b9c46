"""Citizens' reports of forgotten addresses (signalements) and their follow-up by staff.

The reporter's contact is stored for the staff's answer but never returned by the listing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from geo_service.db.changes import log_change
from geo_service.db.enums import STATUTS_SIGNALEMENT
from geo_service.errors import InvalidParameterError, NotFoundError

PUBLIC_COLUMNS = (
    "id, adresse, insee, description, statut, premise_identifiant, created_at, updated_at"
)


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
    """Record a report; a map point is placed in its commune and matched to a premise within 50 m."""
    if len(adresse.strip()) < 5:
        raise InvalidParameterError("Indiquez l'adresse concernée (au moins 5 caractères).")
    row = (
        conn.execute(
            text(
                "WITH here AS (SELECT CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL ELSE "
                "ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154) END AS g) "
                "INSERT INTO signalement (adresse, insee, description, contact, statut, premise_identifiant, geom) "
                "SELECT :adresse, (SELECT c.insee FROM commune c WHERE c.territory_code = :t AND ST_Contains(c.geom, here.g)), "
                ":description, :contact, 'NOUVEAU', "
                "(SELECT p.identifiant_immeuble FROM premise p WHERE here.g IS NOT NULL AND ST_DWithin(p.geom, here.g, 50) "
                " ORDER BY p.geom <-> here.g LIMIT 1), here.g FROM here "
                f"RETURNING {PUBLIC_COLUMNS}"
            ),
            {
                "adresse": adresse.strip(),
                "description": description,
                "contact": contact,
                "lat": lat,
                "lon": lon,
                "t": territory,
            },
        )
        .mappings()
        .one()
    )
    return dict(row)


def listing(conn: Connection, *, statut: str | None = None) -> list[dict[str, Any]]:
    """Reports without their reporter's contact."""
    rows = conn.execute(
        text(
            f"SELECT {PUBLIC_COLUMNS} FROM signalement WHERE CAST(:s AS text) IS NULL OR statut = :s ORDER BY id"
        ),
        {"s": statut},
    ).mappings()
    return [dict(r) for r in rows]


def update_status(conn: Connection, report_id: int, *, statut: str, user: str) -> dict[str, Any]:
    """Move a report along (NOUVEAU → EN_COURS → RESOLU / REJETE); the change is logged."""
    if statut not in STATUTS_SIGNALEMENT:
        raise InvalidParameterError(
            f"Statut inconnu « {statut} » (attendu : {', '.join(STATUTS_SIGNALEMENT)})."
        )
    before = conn.execute(
        text("SELECT statut FROM signalement WHERE id = :i"), {"i": report_id}
    ).scalar_one_or_none()
    if before is None:
        raise NotFoundError(f"Signalement n° {report_id} introuvable.")
    row = (
        conn.execute(
            text(
                f"UPDATE signalement SET statut = :s, updated_at = now() WHERE id = :i RETURNING {PUBLIC_COLUMNS}"
            ),
            {"s": statut, "i": report_id},
        )
        .mappings()
        .one()
    )
    log_change(
        conn,
        table="signalement",
        key=str(report_id),
        user=user,
        before={"statut": before},
        after={"statut": statut},
    )
    return dict(row)
