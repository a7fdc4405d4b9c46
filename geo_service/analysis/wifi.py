"""WiFi territorial: the bornes' dated lifecycle, their lists as of any date, and the syndicat's
indicators (communes served, bornes in service, users per month, service kept after the first
contract, share of each commune's logements inside a coverage disc)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service.analysis.lifecycle import Lifecycle, Stage, check, state_as_of, state_sql
from geo_service.analysis.programme_common import (
    as_date,
    commune_filter,
    history,
    list_filter,
    recorded_as_of,
)

BORNE_LIFECYCLE = Lifecycle(
    (
        Stage("DELIBERATION_RECUE", "date_deliberation", "délibération reçue"),
        Stage("PROGRAMMEE", "date_programmation", "programmation"),
        Stage("INSTALLEE", "date_installation", "installation"),
        Stage("EN_SERVICE", "date_mise_en_service", "mise en service"),
    ),
    end=Stage("RETIREE", "date_retrait", "retrait"),
)
DEFAULT_RADIUS_M = 150
BORNE_FIELDS = BORNE_LIFECYCLE.fields
STATE_SQL = state_sql(BORNE_LIFECYCLE, "b")


def check_borne(
    row: Mapping[str, Any], today: date, *, optional: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """The broken rules of a borne as (field, French reason): stages in order, none skipped
    without a date, none done in the future, the contract not ending before the service
    started. `optional` adds stages not to require (their column is absent from a file)."""
    lifecycle = replace(BORNE_LIFECYCLE, optional=BORNE_LIFECYCLE.optional | optional)
    problems = check(lifecycle, row, today)
    ends, started = row.get("date_fin_contrat"), row.get("date_mise_en_service")
    if isinstance(ends, date) and isinstance(started, date) and ends < started:
        problems.append(
            (
                "date_fin_contrat",
                f"fin de contrat ({ends:%d/%m/%Y}) avant la mise en service ({started:%d/%m/%Y})",
            )
        )
    return problems


def borne_state(row: Mapping[str, Any], as_of: date) -> str | None:
    """The state on `as_of` from the dates (None before the délibération: no borne yet)."""
    return state_as_of(BORNE_LIFECYCLE, row, as_of)


_BORNES = f"""
SELECT b.code, b.nom, b.insee, c.nom AS commune, c.epci_siren AS epci, b.adresse, b.emplacement,
       b.rayon_m, b.operateur, b.contrat, {", ".join("b." + f for f in BORNE_FIELDS)},
       b.date_fin_contrat, {STATE_SQL} AS etat,
       ST_X(ST_Transform(b.geom, 4326)) AS longitude, ST_Y(ST_Transform(b.geom, 4326)) AS latitude
FROM wifi_borne b JOIN commune c ON c.insee = b.insee
"""


def wifi_bornes(
    conn: Connection,
    territory: str,
    *,
    as_of: date,
    insee: str | None = None,
    epci: str | None = None,
    etat: str | None = None,
    departement: str | None = None,
) -> list[dict[str, Any]]:
    """The bornes that existed on `as_of` (délibération reached), optionally of one commune /
    EPCI / state, each with its dates, its state on `as_of`, its radius in metres and its WGS84
    position."""
    where, params = list_filter("c", insee=insee, epci=epci, departement=departement)
    rows = conn.execute(
        text(_BORNES + f" WHERE {where} AND {STATE_SQL} IS NOT NULL ORDER BY b.code"),
        {"t": territory, "as_of": as_of, **params},
    ).mappings()
    return [dict(r) for r in rows if etat is None or r["etat"] == etat]


def wifi_borne(
    conn: Connection, territory: str, code: str, *, as_of: date
) -> dict[str, Any] | None:
    """One borne as in `wifi_bornes` (its state None before its délibération), with its history
    up to `as_of` (who, when, which import), `etat_historique` (its state on `as_of` from the
    record known then) and its monthly usage up to `as_of`; None when the territory has no such
    borne."""
    row = (
        conn.execute(
            text(_BORNES + " WHERE c.territory_code = :t AND b.code = :code"),
            {"t": territory, "as_of": as_of, "code": code},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    borne = dict(row)
    borne["historique"] = history(conn, "wifi_borne", code, as_of=as_of)
    known = recorded_as_of(conn, "wifi_borne", code, as_of)
    borne["etat_historique"] = (
        None
        if known is None
        else borne_state({f: as_date(known.get(f)) for f in BORNE_FIELDS}, as_of)
    )
    usage = conn.execute(
        text(
            "SELECT mois, sessions, utilisateurs FROM wifi_usage"
            " WHERE borne_code = :code AND mois <= :as_of ORDER BY mois"
        ),
        {"code": code, "as_of": as_of},
    ).mappings()
    borne["usage"] = [dict(u) for u in usage]
    return borne


# Logements as of :as_of are those of the operator's file at its last snapshot on or before that
# date (the first snapshot when the date precedes them all): totals per commune from the state
# cube, and the premises near a borne read through premise's spatial index then their period of
# that snapshot. Without any IPE snapshot, the premise table as it is.
_COVERAGE = f"""
WITH snap AS (
    SELECT COALESCE(  -- the cube's latest change on or before the date, else its first
        greatest(
            (SELECT max(q.valid_from) FROM state_cube q
             WHERE q.territory_code = :t AND q.valid_from <= :as_of),
            (SELECT max(q.valid_to) FROM state_cube q
             WHERE q.territory_code = :t AND q.valid_to <= :as_of)),
        (SELECT min(q.valid_from) FROM state_cube q WHERE q.territory_code = :t)) AS d
),
in_service AS (
    SELECT b.geom, b.rayon_m FROM wifi_borne b JOIN commune cb ON cb.insee = b.insee
    WHERE cb.territory_code = :t AND {STATE_SQL} = 'EN_SERVICE'
),
near AS (
    SELECT DISTINCT p.id, p.insee, p.logements, p.removed_on FROM in_service b
    JOIN premise p ON ST_DWithin(p.geom, b.geom, b.rayon_m)
),
totals AS (
    SELECT q.insee, sum(q.logements) AS logements FROM state_cube q
    JOIN snap s ON q.valid_from <= s.d AND (q.valid_to IS NULL OR q.valid_to > s.d)
    WHERE q.territory_code = :t
    GROUP BY q.insee
    UNION ALL
    SELECT p.insee, sum(p.logements) FROM premise p JOIN snap s ON s.d IS NULL
    WHERE p.removed_on IS NULL GROUP BY p.insee
),
covered AS (
    SELECT n.insee, sum(h.logements) AS logements FROM near n CROSS JOIN snap s
    JOIN LATERAL (  -- one period at most is valid on a date: LIMIT keeps this per premise
        SELECT h.logements FROM premise_history h
        WHERE h.premise_id = n.id AND h.valid_from <= s.d
          AND (h.valid_to IS NULL OR h.valid_to > s.d) AND NOT h.removed LIMIT 1
    ) h ON true
    GROUP BY n.insee
    UNION ALL
    SELECT n.insee, sum(n.logements) FROM near n JOIN snap s ON s.d IS NULL
    WHERE n.removed_on IS NULL GROUP BY n.insee
)
SELECT c.insee, c.nom, COALESCE(t.logements, 0) AS logements,
       COALESCE(v.logements, 0) AS logements_couverts, (SELECT d FROM snap) AS date_logements
FROM commune c
LEFT JOIN totals t ON t.insee = c.insee
LEFT JOIN covered v ON v.insee = c.insee
WHERE {{where}}
ORDER BY c.insee
"""


def coverage(
    conn: Connection,
    territory: str,
    *,
    as_of: date,
    level: str = "departement",
    code: str | None = None,
) -> list[dict[str, Any]]:
    """Per commune of the unit: its logements (those of the operator's IPE at its last snapshot
    on or before `as_of` — the first one before them all; `date_logements` names it), those
    inside a coverage disc (`rayon_m` metres, in Lambert-93, around a borne in service on
    `as_of`, whatever the borne's commune) and their share (0-1, None without logements)."""
    where, params = commune_filter("c", level=level, code=code)
    sql = _COVERAGE.replace("{where}", where)
    rows = conn.execute(text(sql), {"t": territory, "as_of": as_of, **params}).mappings()
    out = []
    for r in rows:
        total, inside = int(r["logements"]), int(r["logements_couverts"])
        out.append(
            {
                "insee": r["insee"],
                "nom": r["nom"],
                "logements": total,
                "logements_couverts": inside,
                "part_couverte": inside / total if total else None,
                "date_logements": r["date_logements"],
            }
        )
    return out


_KEPT = f"""
SELECT DISTINCT b.insee FROM wifi_borne b JOIN commune c ON c.insee = b.insee
WHERE {{where}} AND {STATE_SQL} = 'EN_SERVICE'
  AND (b.date_fin_contrat <= :as_of
       OR EXISTS (SELECT 1 FROM asset_change a
                  WHERE a.table_name = 'wifi_borne' AND a.object_key = b.code
                    AND CAST(a.after->>'date_fin_contrat' AS date) <= :as_of)
       OR (SELECT count(DISTINCT a.after->>'contrat') FROM asset_change a
           WHERE a.table_name = 'wifi_borne' AND a.object_key = b.code
             AND a.valid_from <= :as_of AND a.after->>'contrat' IS NOT NULL) > 1)
ORDER BY b.insee
"""


def wifi_indicators(
    conn: Connection,
    territory: str,
    *,
    as_of: date,
    level: str = "departement",
    code: str | None = None,
) -> dict[str, Any]:
    """WiFi figures on `as_of` for the département, an EPCI or a commune: bornes in service,
    communes with a borne in service, sessions and users per month (months up to `as_of`),
    communes that kept the service after their first contract (a borne in service on `as_of`
    although a contract of it had ended by then — its end date as stored or as once recorded —
    or whose contract changed in its history by then, i.e. was renewed), and
    the coverage of each commune's logements (see `coverage`) with the unit's overall share."""
    where, params = commune_filter("c", level=level, code=code)
    bound = {"t": territory, "as_of": as_of, **params}
    in_service = conn.execute(
        text(
            "SELECT count(*) AS bornes, count(DISTINCT b.insee) AS communes FROM wifi_borne b"
            f" JOIN commune c ON c.insee = b.insee WHERE {where} AND {STATE_SQL} = 'EN_SERVICE'"
        ),
        bound,
    ).one()
    months = conn.execute(
        text(
            "SELECT u.mois, sum(u.sessions) AS sessions, sum(u.utilisateurs) AS utilisateurs"
            " FROM wifi_usage u JOIN wifi_borne b ON b.code = u.borne_code"
            f" JOIN commune c ON c.insee = b.insee WHERE {where} AND u.mois <= :as_of"
            " GROUP BY u.mois ORDER BY u.mois"
        ),
        bound,
    ).mappings()
    kept = [r[0] for r in conn.execute(text(_KEPT.replace("{where}", where)), bound)]
    communes = coverage(conn, territory, as_of=as_of, level=level, code=code)
    total = sum(c["logements"] for c in communes)
    inside = sum(c["logements_couverts"] for c in communes)
    return {
        "as_of": as_of.isoformat(),
        "niveau": level,
        "code": code,
        "bornes_en_service": int(in_service.bornes),
        "communes_avec_borne": int(in_service.communes),
        "utilisateurs_par_mois": [
            {
                "mois": m["mois"],
                "sessions": int(m["sessions"]),
                "utilisateurs": int(m["utilisateurs"]),
            }
            for m in months
        ],
        "communes_service_maintenu": kept,
        "logements": total,
        "logements_couverts": inside,
        "part_logements_couverts": inside / total if total else None,
        "couverture_par_commune": communes,
    }
