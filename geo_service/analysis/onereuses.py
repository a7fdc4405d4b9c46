"""Prises onéreuses: an explained cost estimate for every address not yet raccordable, the
per-commune equity view, and the comparison with the operator's own expensive list."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service.analysis.costs import CostParameters, load_costs
from geo_service.sql import statements


def _prepare(conn: Connection, territory: str, day: date) -> None:
    conn.execute(text("DROP TABLE IF EXISTS est_state, est_deployed"))
    sql = statements("onereuses")
    for key in ("state", "index_state", "deployed", "index_deployed"):
        conn.execute(text(sql[key]), {"d": day, "t": territory})
    conn.execute(text("ANALYZE est_state"))
    conn.execute(text("ANALYZE est_deployed"))


def _is_current(conn: Connection, day: date) -> bool:
    """Whether the state as of `day` is the premises' current state (no change after `day`)."""
    newest = conn.execute(text("SELECT max(valid_from) FROM premise_history")).scalar()
    return newest is not None and day >= newest


def explain(row: dict[str, Any], costs: CostParameters) -> dict[str, Any]:
    """Add the cost columns and their explanation to one estimated address."""
    distance = float(row["distance_reseau_m"]) if row["distance_reseau_m"] is not None else math.inf
    if math.isinf(distance):
        distance = costs.distance_genie_civil_m * 4  # no network anywhere near yet
    route = distance * costs.facteur_detour
    genie_civil = route > costs.distance_genie_civil_m
    rate = costs.cout_metre_genie_civil if genie_civil else costs.cout_metre_reutilisation
    isole = int(row["voisins"]) == 0
    logements = max(int(row["logements"]), 1)
    total = (
        costs.cout_fixe_prise * logements
        + route * rate
        + (costs.majoration_isolement if isole else 0)
    )
    per_logement = total / logements
    reasons = []
    if genie_civil:
        reasons.append(f"génie civil neuf sur {route:.0f} m")
    elif route > 0:
        reasons.append(f"{route:.0f} m de réseau en réutilisation d'appuis")
    if isole:
        reasons.append(f"habitat isolé (aucun voisin à moins de {costs.rayon_voisinage_m:.0f} m)")
    return {
        **row,
        "distance_reseau_m": round(distance, 1),
        "distance_route_m": round(route, 1),
        "isole": isole,
        "genie_civil": genie_civil,
        "cout_estime": round(total, 0),
        "cout_par_logement": round(per_logement, 0),
        "explication": "; ".join(reasons) or "à proximité immédiate du réseau",
    }


def estimate(
    conn: Connection,
    *,
    territory: str,
    as_of: date | None = None,
    insee: str | None = None,
    costs: CostParameters | None = None,
) -> list[dict[str, Any]]:
    """Every not-yet-raccordable address with its explained cost, most expensive first."""
    costs = costs or load_costs()
    day = as_of or date.today()
    sql = statements("onereuses")
    params: dict[str, Any] = {"rayon": costs.rayon_voisinage_m, "insee": insee}
    if _is_current(conn, day):  # no temporary tables: the premises' own spatial index
        params["insees"] = list(
            conn.execute(
                text("SELECT insee FROM commune WHERE territory_code = :t"), {"t": territory}
            ).scalars()
        )
        rows = conn.execute(text(sql["estimate_current"]), params).mappings()
    else:
        _prepare(conn, territory, day)
        rows = conn.execute(text(sql["estimate"]), params).mappings()
    out = [explain(dict(r), costs) for r in rows]
    out.sort(key=lambda r: (-r["cout_par_logement"], r["identifiant_immeuble"]))
    return out


def onereuses(
    conn: Connection,
    *,
    territory: str,
    as_of: date | None = None,
    threshold: float | None = None,
    insee: str | None = None,
    costs: CostParameters | None = None,
) -> list[dict[str, Any]]:
    """The addresses whose estimated cost per logement is above the threshold."""
    costs = costs or load_costs()
    seuil = costs.seuil_onereux if threshold is None else threshold
    return [
        r
        for r in estimate(conn, territory=territory, as_of=as_of, insee=insee, costs=costs)
        if r["cout_par_logement"] > seuil
    ]


def equity(
    conn: Connection, *, territory: str, as_of: date | None = None, threshold: float | None = None
) -> list[dict[str, Any]]:
    """Per commune: share of its logements that are expensive (the equity view)."""
    costs = load_costs()
    expensive = onereuses(conn, territory=territory, as_of=as_of, threshold=threshold, costs=costs)
    by_commune: dict[str, int] = {}
    for row in expensive:
        by_commune[row["insee"]] = by_commune.get(row["insee"], 0) + int(row["logements"])
    totals = conn.execute(
        text(statements("onereuses")["commune_logements"]),
        {"t": territory, "d": as_of or date.today()},
    ).mappings()
    out = []
    for unit in totals:
        n = by_commune.get(unit["insee"], 0)
        logements = int(unit["logements"])
        out.append(
            {
                "insee": unit["insee"],
                "nom": unit["nom"],
                "logements": logements,
                "logements_onereux": n,
                "part_onereuse": round(100.0 * n / logements, 2) if logements else 0.0,
            }
        )
    out.sort(key=lambda r: (-r["part_onereuse"], r["insee"]))
    return out


# A row of the operator's list belongs to the territory its import named (as the importer
# judges it when a new list replaces that date's); a row without an import counts everywhere.
OWN_LIST = (
    "NOT EXISTS (SELECT 1 FROM import_journal j WHERE j.id = o.import_id "
    "AND j.territory_code <> :t)"
)


def _newest_list(conn: Connection, territory: str) -> date | None:
    """The date of the territory's newest operator list (another territory's is not its)."""
    return conn.execute(  # type: ignore[no-any-return]
        text(f"SELECT max(o.list_date) FROM operator_expensive o WHERE {OWN_LIST}"),
        {"t": territory},
    ).scalar_one()


def compare_with_operator(
    conn: Connection,
    *,
    territory: str,
    list_date: date | None = None,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Agreement between our estimate and the operator's expensive list (as of the list's date),
    and the operator-listed addresses we find cheap: the syndicat's negotiation argument."""
    day = list_date or _newest_list(conn, territory)
    if day is None:
        return {"date_liste": None, "immeubles_listes": 0, "accord": None, "jugees_peu_cheres": []}
    costs = load_costs()
    seuil = costs.seuil_onereux if threshold is None else threshold
    ours = {
        r["identifiant_immeuble"]: r
        for r in estimate(conn, territory=territory, as_of=day, costs=costs)
    }
    listed = (
        conn.execute(
            text(
                "SELECT identifiant_immeuble, logements, motif, cout_estime FROM operator_expensive o "
                f"WHERE list_date = :d AND {OWN_LIST}"
            ),
            {"d": day, "t": territory},
        )
        .mappings()
        .all()
    )
    agree = 0
    cheap = []
    for item in listed:
        mine = ours.get(item["identifiant_immeuble"])
        if mine is not None and mine["cout_par_logement"] > seuil:
            agree += 1
        elif mine is not None:
            cheap.append(
                {
                    **mine,
                    "motif_operateur": item["motif"],
                    "cout_operateur": float(item["cout_estime"])
                    if item["cout_estime"] is not None
                    else None,
                }
            )
    ours_expensive = sum(1 for r in ours.values() if r["cout_par_logement"] > seuil)
    cheap.sort(key=lambda r: r["cout_par_logement"])
    return {
        "date_liste": day.isoformat(),
        "seuil": seuil,
        "immeubles_listes": len(listed),
        "logements_listes": sum(int(i["logements"]) for i in listed),
        "immeubles_onereux_selon_nous": ours_expensive,
        "accord": round(100.0 * agree / len(listed), 1) if listed else None,
        "jugees_peu_cheres": cheap,
    }


def operator_list_pending(
    conn: Connection, *, territory: str, as_of: date | None = None, list_date: date | None = None
) -> dict[str, Any]:
    """Logements of the operator's expensive list still not raccordable as of a date (the
    « logements avec surcoût en attente »), split by state."""
    day = as_of or date.today()
    listed = list_date or _newest_list(conn, territory)
    rows = (
        conn.execute(
            text(
                "SELECT h.etat, count(*) AS immeubles, sum(h.logements) AS logements "
                "FROM operator_expensive o JOIN premise p ON p.identifiant_immeuble = o.identifiant_immeuble "
                "JOIN commune c ON c.insee = p.insee AND c.territory_code = :t "
                "JOIN premise_history h ON h.premise_id = p.id AND h.valid_from <= :d "
                "AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed "
                "WHERE o.list_date = :l GROUP BY h.etat"
            ),
            {"t": territory, "d": day, "l": listed},
        )
        .mappings()
        .all()
    )
    by_state = {r["etat"]: int(r["logements"]) for r in rows}
    pending = sum(v for k, v in by_state.items() if k not in ("DEPLOYE", "ABANDONNE"))
    return {
        "as_of": day.isoformat(),
        "date_liste": listed.isoformat() if listed else None,
        "logements_listes": sum(by_state.values()),
        "logements_en_attente": pending,
        "par_etat": by_state,
    }
