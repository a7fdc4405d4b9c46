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


_NAMES = {
    "commune": "SELECT 'commune' AS level, insee AS code, nom FROM commune WHERE territory_code = :t",
    "epci": "SELECT 'epci', siren, nom FROM epci WHERE territory_code = :t",
    "departement": "SELECT 'departement', code, nom FROM territory WHERE code = :t",
    "departement_membre": "SELECT 'departement_membre', d.code, d.code "
    "FROM territory, unnest(departements) AS d(code) WHERE territory.code = :t",
    "nro": "SELECT 'nro', code, COALESCE(nom, code) FROM nro WHERE territory_code = :t",
    "pm": "SELECT 'pm', reference, reference FROM pm WHERE territory_code = :t",
}
UNNAMED = ("pm", "departement_membre")  # their name is their code
# the cube column each level groups on (None: the whole territory)
_GROUPED: dict[str, str | None] = {
    "pm": "pm_reference",
    "nro": "nro_code",
    "commune": "insee",
    "epci": "epci_siren",
    "departement_membre": "departement",
    "departement": None,
}


def _names(
    conn: Connection, territory: str, levels: tuple[str, ...] = LEVELS
) -> dict[tuple[str, str], str]:
    """Names of the units of these levels (only those: a national territory has 35 000
    communes and 15 000 PMs)."""
    if not levels:
        return {}
    sql = " UNION ALL ".join(_NAMES[lv] for lv in levels)
    return {(r[0], r[1]): r[2] for r in conn.execute(text(sql), {"t": territory})}


def _by_level_sql(levels: tuple[str, ...]) -> str:
    """The cube query with the grouping sets of these levels only (each set costs a pass of
    the aggregation: a national as-of total need not group 15 000 PMs and 35 000 communes)."""
    columns = [c for lv in LEVELS if lv in levels and (c := _GROUPED[lv]) is not None]
    sets = [f"(as_of, {c})" for c in columns] + (["(as_of)"] if "departement" in levels else [])
    names = {c: lv for lv, c in _GROUPED.items() if c is not None}
    cases = " ".join(f"WHEN GROUPING({c}) = 0 THEN '{names[c]}'" for c in columns)
    level = f"CASE {cases} ELSE 'departement' END" if columns else "'departement'"
    code = f"COALESCE({', '.join(columns)})" if columns else "NULL"
    with_nro = "nro_code" in columns
    return statements("raccordables")["by_level"].format(
        nro_column=", pm.nro_code" if with_nro else "",
        pm_join="LEFT JOIN pm ON pm.reference = q.pm_reference" if with_nro else "",
        level=level,
        code=code,
        sets=", ".join(sets),
    )


_FROM_ROLLUP = text(statements("raccordables")["from_rollup"])


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
    insees: tuple[str, ...] | list[str] | None = None,
) -> list[dict[str, Any]]:
    """One row per unit: logements, raccordables, à la demande, en cours, ciblés, taux (%)."""
    day = as_of or date.today()
    return raccordables_series(
        conn,
        territory=territory,
        dates=[day],
        levels=levels,
        include_amii=include_amii,
        insees=insees,
    )[day]


def raccordables_series(
    conn: Connection,
    *,
    territory: str,
    dates: list[date],
    levels: tuple[Level, ...] | None = None,
    include_amii: bool = False,
    insees: tuple[str, ...] | list[str] | None = None,
) -> dict[date, list[dict[str, Any]]]:
    """`raccordables` as of each of `dates`, in one query (a progress chart's quarters).
    `insees` counts only the premises of these communes: the rows of a unit made of them
    (commune, EPCI, member département) are exact, the others are not asked for then."""
    wanted = levels or default_levels(conn, territory)
    unknown = [lv for lv in wanted if lv not in LEVELS]
    if unknown:
        raise InvalidParameterError(
            f"Niveau inconnu : {', '.join(unknown)} (attendu : {', '.join(LEVELS)})."
        )
    params = {"dates": dates, "t": territory, "amii": include_amii}
    if insees is None:  # whole units: their stored sums
        result = conn.execute(_FROM_ROLLUP, {**params, "levels": list(wanted)})
    else:  # some communes of them: from the cube
        result = conn.execute(
            text(_by_level_sql(tuple(wanted))), {**params, "insees": list(insees)}
        )
    at = {key: i for i, key in enumerate(result.keys())}
    counts = [(key, at[key]) for key in COUNT_KEYS]
    i_day, i_level, i_code = at["day"], at["level"], at["code"]
    i_logements, i_raccordables = at["logements"], at["raccordables"]
    rows = result.all()
    # a PM's and a member département's name is their code: no need to read them
    names = _names(conn, territory, tuple(lv for lv in wanted if lv not in UNNAMED))
    out: dict[date, list[dict[str, Any]]] = {day: [] for day in dates}
    isoformat: dict[date, str] = {}
    for row in rows:
        level = row[i_level]
        code = territory if level == "departement" else row[i_code]
        if code is None:
            continue  # premises without PM / NRO yet
        day = row[i_day]
        logements = row[i_logements] or 0
        record: dict[str, Any] = {
            "level": level,
            "code": code,
            "nom": names.get((level, code), code),
        }
        for key, i in counts:
            record[key] = int(row[i] or 0)
        record["taux"] = (
            round(100.0 * int(row[i_raccordables] or 0) / int(logements), 2) if logements else 0.0
        )
        record["as_of"] = isoformat.get(day) or isoformat.setdefault(day, day.isoformat())
        out[day].append(record)
    order = {lv: i for i, lv in enumerate(LEVELS)}
    for records in out.values():
        records.sort(key=lambda r: (order[r["level"]], r["code"]))
    return out
