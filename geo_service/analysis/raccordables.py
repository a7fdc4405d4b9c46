"""Raccordables per unit (PM, NRO, commune, EPCI, département) as of any date.

Level `departement` is the whole territory (historically one département; its code is the
territory's); `departement_membre` is each département of a territory of several, and is only
given for such a territory (for one of a single département it would repeat `departement`)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from sqlalchemy import Connection, text

from geo_service.errors import InvalidParameterError
from geo_service.reference.territory_config import member_departements
from geo_service.sql import statements

Level = Literal["pm", "nro", "commune", "epci", "departement_membre", "departement"]
LEVELS: tuple[Level, ...] = ("pm", "nro", "commune", "epci", "departement_membre", "departement")
COUNT_KEYS = (
    "logements",
    "raccordables",
    "raccordables_demande",
    "en_cours",
    "cibles",
    "abandonnes",
    "immeubles",
    "immeubles_raccordables",
    "locaux_pro",
)


def _names(conn: Connection, territory: str) -> dict[tuple[str, str], str]:
    rows = conn.execute(
        text(
            "SELECT 'commune' AS level, insee AS code, nom FROM commune WHERE territory_code = :t "
            "UNION ALL SELECT 'epci', siren, nom FROM epci WHERE territory_code = :t "
            "UNION ALL SELECT 'departement', code, nom FROM territory WHERE code = :t "
            "UNION ALL SELECT 'departement_membre', d.code, d.code "
            "FROM territory, unnest(departements) AS d(code) WHERE territory.code = :t "
            "UNION ALL SELECT 'nro', code, COALESCE(nom, code) FROM nro WHERE territory_code = :t "
            "UNION ALL SELECT 'pm', reference, reference FROM pm WHERE territory_code = :t"
        ),
        {"t": territory},
    )
    return {(r.level, r.code): r.nom for r in rows}


def default_levels(conn: Connection, territory: str) -> tuple[Level, ...]:
    """Every level, the member départements only for a territory of several."""
    if len(member_departements(conn, territory)) > 1:
        return LEVELS
    return tuple(lv for lv in LEVELS if lv != "departement_membre")


def raccordables(
    conn: Connection,
    *,
    territory: str,
    as_of: date | None = None,
    levels: tuple[Level, ...] | None = None,
    include_amii: bool = False,
) -> list[dict[str, Any]]:
    """One row per unit: logements, raccordables, à la demande, en cours, ciblés, taux (%)."""
    day = as_of or date.today()
    return raccordables_series(
        conn, territory=territory, dates=[day], levels=levels, include_amii=include_amii
    )[day]


def raccordables_series(
    conn: Connection,
    *,
    territory: str,
    dates: list[date],
    levels: tuple[Level, ...] | None = None,
    include_amii: bool = False,
) -> dict[date, list[dict[str, Any]]]:
    """`raccordables` as of each of `dates`, in one query (a progress chart's quarters)."""
    wanted = levels or default_levels(conn, territory)
    unknown = [lv for lv in wanted if lv not in LEVELS]
    if unknown:
        raise InvalidParameterError(
            f"Niveau inconnu : {', '.join(unknown)} (attendu : {', '.join(LEVELS)})."
        )
    rows = conn.execute(
        text(statements("raccordables")["by_level"]),
        {"dates": dates, "t": territory, "amii": include_amii},
    ).mappings()
    names = _names(conn, territory)
    out: dict[date, list[dict[str, Any]]] = {day: [] for day in dates}
    for row in rows:
        level = row["level"]
        if level not in wanted:
            continue
        code = territory if level == "departement" else row["code"]
        if code is None:
            continue  # premises without PM / NRO yet
        record: dict[str, Any] = {
            "level": level,
            "code": code,
            "nom": names.get((level, code), code),
        }
        for key in COUNT_KEYS:
            record[key] = int(row[key] or 0)
        record["taux"] = (
            round(100.0 * record["raccordables"] / record["logements"], 2)
            if record["logements"]
            else 0.0
        )
        record["as_of"] = row["day"].isoformat()
        out[row["day"]].append(record)
    order = {lv: i for i, lv in enumerate(LEVELS)}
    for records in out.values():
        records.sort(key=lambda r: (order[r["level"]], r["code"]))
    return out
