"""Raccordables per unit (PM, NRO, commune, EPCI, département) as of any date.

Level `departement` is the whole territory (historically one département; its code is the
territory's); `departement_membre` is each département of a territory of several, and is only
given for such a territory (for one of a single département it would repeat `departement`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from sqlalchemy import Connection, text

from geo_service.errors import InvalidParameterError
from geo_service.reference.territory_config import member_departements
from geo_service.sql import statements

Level = Literal["pm", "nro", "commune", "epci", "departement_membre", "departement"]
LEVELS: tuple[Level, ...] = ("pm", "nro", "commune", "epci", "departement_membre", "departement")


# the cube column each level groups on (None: the whole territory)
_GROUPED: dict[str, str | None] = {
    "pm": "pm_reference",
    "nro": "nro_code",
    "commune": "insee",
    "epci": "epci_siren",
    "departement_membre": "departement",
    "departement": None,
}


# the name of a unit of these levels, and where it comes from (a PM's, a member département's:
# its code)
_NAME_JOINS = {
    "commune": ("r.commune_nom", ""),
    "epci": ("e.nom", "LEFT JOIN epci e ON r.level = 'epci' AND e.siren = r.code"),
    "nro": ("n.nom", "LEFT JOIN nro n ON r.level = 'nro' AND n.code = r.code"),
    "departement": ("t.nom", "LEFT JOIN territory t ON r.level = 'departement' AND t.code = :t"),
}


# the rate (%), rounded half away from zero to two decimals: the same figure in every output
_TAUX = "CASE WHEN {l} > 0 THEN round(100.0 * {r} / {l}, 2)::float8 ELSE 0.0 END"


def _by_level_sql(levels: tuple[str, ...]) -> str:
    """The cube query with the grouping sets of these levels only (each set costs a pass of
    the aggregation: a national as-of total need not group 15 000 PMs and 35 000 communes)."""
    columns = [c for lv in LEVELS if lv in levels and (c := _GROUPED[lv]) is not None]
    sets = [f"(as_of, {c}, commune_nom)" if c == "insee" else f"(as_of, {c})" for c in columns]
    sets += ["(as_of)"] if "departement" in levels else []
    names = {c: lv for lv, c in _GROUPED.items() if c is not None}
    cases = " ".join(f"WHEN GROUPING({c}) = 0 THEN '{names[c]}'" for c in columns)
    level = f"CASE {cases} ELSE 'departement' END" if columns else "'departement'"
    code = f"COALESCE({', '.join(columns)})" if columns else "NULL"
    with_nro = "nro_code" in columns
    named = [lv for lv in _NAME_JOINS if lv in levels]
    name = " ".join(f"WHEN '{lv}' THEN {_NAME_JOINS[lv][0]}" for lv in named)
    return statements("raccordables")["by_level"].format(
        taux=_TAUX.format(l="r.logements", r="COALESCE(r.raccordables, 0)"),
        nro_column=", pm.nro_code" if with_nro else "",
        pm_join="LEFT JOIN pm ON pm.reference = q.pm_reference" if with_nro else "",
        level=level,
        code=code,
        commune_nom="commune_nom" if "insee" in columns else "NULL",
        sets=", ".join(sets),
        name=f"CASE r.level {name} END" if named else "NULL",
        name_joins="\n".join(_NAME_JOINS[lv][1] for lv in named),
    )


_STORED = (
    "immeubles",
    "immeubles_raccordables",
    "logements",
    "raccordables",
    "raccordables_demande",
    "en_cours",
    "cibles",
    "abandonnes",
    "locaux_pro",
)
_ROLLUP_RIP, _ROLLUP = (
    statements("raccordables")["from_rollup"].format(columns=", ".join(columns), group_by=group_by)
    for columns, group_by in (
        (
            [
                "r.nom",
                *(f"r.{c}" for c in _STORED),
                _TAUX.format(l="r.logements", r="r.raccordables"),
            ],
            "",
        ),
        (
            [
                "min(r.nom)",
                *(f"sum(r.{c})::bigint" for c in _STORED),
                _TAUX.format(l="sum(r.logements)", r="sum(r.raccordables)"),
            ],
            "GROUP BY s.day, r.level, r.code",
        ),
    )
)
_FROM_ROLLUP_RIP, _FROM_ROLLUP = text(_ROLLUP_RIP), text(_ROLLUP)
_JSON_RIP, _JSON = (
    text(statements("raccordables")["as_json"].format(rows=rows)) for rows in (_ROLLUP_RIP, _ROLLUP)
)


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
    codes: tuple[str, ...] | list[str] | None = None,
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
        codes=codes,
    )[day]


def _ordered_levels(
    conn: Connection, territory: str, levels: tuple[Level, ...] | None
) -> list[Level]:
    """The levels asked for (default: every level of the territory), in the order of LEVELS."""
    wanted = levels or default_levels(conn, territory)
    unknown = [lv for lv in wanted if lv not in LEVELS]
    if unknown:
        raise InvalidParameterError(
            f"Niveau inconnu : {', '.join(unknown)} (attendu : {', '.join(LEVELS)})."
        )
    return [lv for lv in LEVELS if lv in wanted]


def raccordables_json(
    conn: Connection,
    *,
    territory: str,
    as_of: date | None = None,
    levels: tuple[Level, ...] | None = None,
    include_amii: bool = False,
    codes: tuple[str, ...] | list[str] | None = None,
) -> str:
    """`raccordables` of whole units as the JSON text of its list, built by PostgreSQL (what
    the API sends: no Python object per unit)."""
    params = {
        "dates": [as_of or date.today()],
        "t": territory,
        "amii": include_amii,
        "levels": _ordered_levels(conn, territory, levels),
        "codes": list(codes) if codes is not None else None,
    }
    return str(conn.execute(_JSON if include_amii else _JSON_RIP, params).scalar_one())


def raccordables_series(
    conn: Connection,
    *,
    territory: str,
    dates: list[date],
    levels: tuple[Level, ...] | None = None,
    include_amii: bool = False,
    insees: tuple[str, ...] | list[str] | None = None,
    codes: tuple[str, ...] | list[str] | None = None,
) -> dict[date, list[dict[str, Any]]]:
    """`raccordables` as of each of `dates`, in one query (a progress chart's quarters), in
    the order of LEVELS then of the units' codes. `codes` keeps these units only. `insees`
    counts only the premises of these communes: the rows of a unit made of them (commune, EPCI,
    member département) are exact, the others are not asked for then."""
    ordered = _ordered_levels(conn, territory, levels)
    params = {"dates": dates, "t": territory, "amii": include_amii}
    out: dict[date, list[dict[str, Any]]] = {day: [] for day in dates}
    kept = list(codes) if codes is not None else None
    if insees is None:  # whole units: their stored sums
        rows: Sequence[Any] = conn.execute(
            _FROM_ROLLUP if include_amii else _FROM_ROLLUP_RIP,
            {**params, "levels": ordered, "codes": kept},
        ).all()
    else:  # the units of some communes only: grouped from the cube
        rows = conn.execute(
            text(_by_level_sql(tuple(ordered))), {**params, "insees": list(insees)}
        ).all()
        rows = rows if kept is None else [r for r in rows if r[2] in kept]
    # each (date, level) in the order of the codes (the statements sort them), levels in order
    isoformat = {day: day.isoformat() for day in dates}
    records: dict[tuple[date, str], list[dict[str, Any]]] = {
        (day, lv): [] for day in dates for lv in ordered
    }
    for (
        day,
        level,
        code,
        nom,
        imm,
        imm_racc,
        logs,
        racc,
        demande,
        cours,
        cib,
        aband,
        pro,
        taux,
    ) in rows:
        records[day, level].append(
            {
                "level": level,
                "code": code,
                "nom": nom,
                "immeubles": imm,
                "immeubles_raccordables": imm_racc,
                "logements": logs,
                "raccordables": racc,
                "raccordables_demande": demande,
                "en_cours": cours,
                "cibles": cib,
                "abandonnes": aband,
                "locaux_pro": pro,
                "taux": taux,
                "as_of": isoformat[day],
            }
        )
    for day in dates:
        out[day] = [r for lv in ordered for r in records[day, lv]]
    return out
