"""Montée en débit (MED): the cabinets' milestones as a dated lifecycle, the commercial opening
(réception Orange + 12 weeks unless given), and the lists and indicators as of any date."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
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

# The extension of the electrical network is only needed where no supply is at hand.
MED_LIFECYCLE = Lifecycle(
    (
        Stage("ALIMENTATION", "date_alimentation", "extension électrique"),
        Stage("BRANCHE_ENEDIS", "date_enedis", "branchement Enedis"),
        Stage("DALLE_RECUE", "date_reception_dalle", "réception de dalle"),
        Stage("ARMOIRE_POSEE", "date_pose_armoire", "pose de l'armoire"),
        Stage("RECETTE", "date_recette", "recette"),
        Stage("RECU_ORANGE", "date_reception_orange", "réception Orange"),
        Stage("OUVERT", "date_ouverture", "ouverture commerciale"),
    ),
    optional=frozenset({"date_alimentation"}),
)
# before any milestone the cabinet is a project of the programme
PROJET = "PROJET"
ETATS_MED = (PROJET, *(s.state for s in MED_LIFECYCLE.stages))
OPENING_DELAY = timedelta(weeks=12)
MED_FIELDS = tuple(s.field for s in MED_LIFECYCLE.stages)


def opening(row: Mapping[str, Any]) -> tuple[date | None, bool]:
    """The commercial opening and whether it is computed: the given `date_ouverture`, else
    réception Orange + 12 weeks (a computed date in the future is a planned opening)."""
    given = row.get("date_ouverture")
    if given is not None and not row.get("ouverture_calculee"):
        return given, False
    received = row.get("date_reception_orange")
    return (received + OPENING_DELAY, True) if received is not None else (None, False)


def check_med(
    row: Mapping[str, Any], today: date, *, optional: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """The broken milestone rules of a cabinet as (field, French reason): none skipped without a
    date, none done in the future, in order. A computed opening is not checked as "in the
    future" (it is planned). `optional` adds milestones not to require (absent from a file)."""
    lifecycle = replace(MED_LIFECYCLE, optional=MED_LIFECYCLE.optional | optional)
    values = dict(row)
    if values.get("ouverture_calculee"):
        values["date_ouverture"] = None
    return check(lifecycle, values, today)


def med_state(row: Mapping[str, Any], as_of: date) -> str:
    """The state on `as_of` from the milestones (PROJET before the first one)."""
    return state_as_of(MED_LIFECYCLE, row, as_of) or PROJET


_SITES = f"""
SELECT m.code, m.nom, m.insee, c.nom AS commune, c.epci_siren AS epci, m.nra, m.foyers,
       {", ".join("m." + f for f in MED_FIELDS)}, m.ouverture_calculee, m.cause_blocage,
       COALESCE({state_sql(MED_LIFECYCLE, "m")}, '{PROJET}') AS etat,
       ST_X(ST_Transform(m.geom, 4326)) AS longitude, ST_Y(ST_Transform(m.geom, 4326)) AS latitude
FROM med_site m JOIN commune c ON c.insee = m.insee
"""


def _shape(row: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    site = dict(row)
    opened = site["date_ouverture"]
    site["ouverture_prevue"] = opened is not None and opened > as_of
    site["bloque"] = bool(site["cause_blocage"]) and not (opened is not None and opened <= as_of)
    return site


def med_sites(
    conn: Connection,
    territory: str,
    *,
    as_of: date,
    insee: str | None = None,
    epci: str | None = None,
    etat: str | None = None,
    departement: str | None = None,
) -> list[dict[str, Any]]:
    """The territory's MED cabinets (optionally of one commune / EPCI / state as of `as_of`), each
    with its milestones, its state on `as_of`, its opening (`ouverture_calculee`: réception +
    12 weeks; `ouverture_prevue`: still to come on `as_of`), its blocking cause and `bloque`
    (a cause recorded and not open on `as_of`), and its WGS84 position."""
    where, params = list_filter("c", insee=insee, epci=epci, departement=departement)
    rows = conn.execute(
        text(_SITES + f" WHERE {where} ORDER BY m.code"), {"t": territory, "as_of": as_of, **params}
    ).mappings()
    sites = [_shape(dict(r), as_of) for r in rows]
    return [s for s in sites if etat is None or s["etat"] == etat]


def med_site(conn: Connection, territory: str, code: str, *, as_of: date) -> dict[str, Any] | None:
    """One cabinet as in `med_sites`, with its recorded history up to `as_of` (who, when, which
    import) and `etat_historique`, its state on `as_of` from the record known then; None when
    the territory has no such cabinet."""
    row = (
        conn.execute(
            text(_SITES + " WHERE c.territory_code = :t AND m.code = :code"),
            {"t": territory, "as_of": as_of, "code": code},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    site = _shape(dict(row), as_of)
    site["historique"] = history(conn, "med_site", code, as_of=as_of)
    known = recorded_as_of(conn, "med_site", code, as_of)
    site["etat_historique"] = (
        None if known is None else med_state({f: as_date(known.get(f)) for f in MED_FIELDS}, as_of)
    )
    return site


_INDICATORS = """
SELECT count(*) AS sites, COALESCE(sum(m.foyers), 0) AS foyers,
       count(*) FILTER (WHERE m.date_pose_armoire <= :as_of) AS installes,
       count(*) FILTER (WHERE m.date_reception_orange <= :as_of) AS receptionnes,
       count(*) FILTER (WHERE m.date_ouverture <= :as_of) AS ouverts,
       COALESCE(sum(m.foyers) FILTER (WHERE m.date_ouverture <= :as_of), 0) AS foyers_desservis
FROM med_site m JOIN commune c ON c.insee = m.insee
"""


def med_indicators(
    conn: Connection,
    territory: str,
    *,
    as_of: date,
    level: str = "departement",
    code: str | None = None,
) -> dict[str, Any]:
    """MED figures on `as_of` for the département, an EPCI or a commune: cabinets, installed
    (armoire posée), accepted (réception Orange), open (ouverture, given or computed), foyers
    of all cabinets and foyers served by the open ones, cabinets per state, and the blocked
    cabinets (a blocking cause, not open) with their cause."""
    where, params = commune_filter("c", level=level, code=code)
    bound = {"t": territory, "as_of": as_of, **params}
    figures = dict(conn.execute(text(_INDICATORS + f" WHERE {where}"), bound).mappings().one())
    states = conn.execute(
        text(
            f"SELECT COALESCE({state_sql(MED_LIFECYCLE, 'm')}, '{PROJET}') AS etat, count(*) AS n"
            f" FROM med_site m JOIN commune c ON c.insee = m.insee WHERE {where} GROUP BY 1"
        ),
        bound,
    ).all()
    blocked = conn.execute(
        text(
            "SELECT m.code, m.nom, m.insee, c.nom AS commune, m.cause_blocage AS cause"
            " FROM med_site m JOIN commune c ON c.insee = m.insee"
            f" WHERE {where} AND COALESCE(m.cause_blocage, '') <> ''"
            " AND (m.date_ouverture IS NULL OR m.date_ouverture > :as_of) ORDER BY m.code"
        ),
        bound,
    ).mappings()
    per_state = {s: 0 for s in ETATS_MED}
    per_state.update({r.etat: int(r.n) for r in states})
    return {
        "as_of": as_of.isoformat(),
        "niveau": level,
        "code": code,
        **{k: int(v) for k, v in figures.items()},
        "par_etat": per_state,
        "bloques": [dict(r) for r in blocked],
    }
