"""Take-up and border exchanges of the operating registers (issue #14): penetration =
abonnés / raccordables as of the same date (geo_service.analysis.raccordables for the
territory's own figures, the délégataire's stated raccordables for DSP-wide ones), beside
ARCEP's national rate; buildings served across the border, by neighbour."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from sqlalchemy import Connection, text

from geo_service.analysis.operations import check_perimetre, percent, perimetre_label
from geo_service.analysis.raccordables import raccordables_series
from geo_service.data.operations import load_national

Maille = Literal["commune", "pm", "total"]


def national_rate(day: date, series: str = "national") -> dict[str, Any] | None:
    """ARCEP's national take-up rate last published on or before `day` (None before the first),
    or the figure the syndicat quotes (series 'cite')."""
    known = [r for r in load_national(series) if r.date <= day]
    if not known:
        return None
    last = known[-1]
    return {"date": last.date.isoformat(), "taux": last.taux, "source": last.source}


def _releve_dates(conn: Connection, territory: str, scope: str) -> list[date]:
    return list(
        conn.execute(
            text(
                "SELECT DISTINCT date_releve FROM abonnes_releve WHERE territory_code = :t"
                " AND perimetre = :p ORDER BY 1"
            ),
            {"t": territory, "p": scope},
        ).scalars()
    )


def _rows_on(conn: Connection, territory: str, scope: str, day: date) -> list[Any]:
    return list(
        conn.execute(
            text(
                "SELECT a.maille, a.code, a.abonnes, a.raccordables_declares, a.fai, c.nom"
                " FROM abonnes_releve a LEFT JOIN commune c ON a.maille = 'commune'"
                " AND c.insee = a.code AND c.territory_code = a.territory_code"
                " WHERE a.territory_code = :t AND a.perimetre = :p AND a.date_releve = :d"
                " ORDER BY a.maille, a.code"
            ),
            {"t": territory, "p": scope, "d": day},
        )
    )


def _total(rows: list[Any]) -> tuple[int, int | None, str]:
    """(abonnés, stated raccordables, from which rows): the 'total' row when there is one, else
    the sum of the communes' rows, else of the PM's (never both, they count the same people)."""
    for maille in ("total", "commune", "pm"):
        chosen = [r for r in rows if r.maille == maille]
        if chosen:
            stated = [r.raccordables_declares for r in chosen]
            declared = sum(stated) if all(s is not None for s in stated) else None
            return sum(r.abonnes for r in chosen), declared, maille
    return 0, None, "total"


def take_up(
    conn: Connection,
    *,
    territory: str,
    as_of: date | None = None,
    perimetre: str | None = None,
    maille: Maille = "commune",
) -> dict[str, Any]:
    """The délégataire's last count on or before `as_of`: abonnés per commune or PM (`maille`)
    and in total, each with raccordables as of that same date and the penetration rate (%),
    the FAI present, and ARCEP's national rate of that time. For the territory, raccordables
    are ours (IPE history, RIP only); for the DSP, the délégataire's stated figure."""
    scope = check_perimetre(territory, perimetre)
    dates = [d for d in _releve_dates(conn, territory, scope) if as_of is None or d <= as_of]
    out: dict[str, Any] = {
        "perimetre": scope,
        "perimetre_libelle": perimetre_label(scope),
        "au": as_of.isoformat() if as_of else None,
        "date_releve": None,
        "maille": maille,
        "lignes": [],
        "total": None,
    }
    if not dates:
        return out
    day = dates[-1]
    rows = _rows_on(conn, territory, scope, day)
    ours: dict[tuple[str, str], int] = {}
    if scope != "dsp":
        for unit in raccordables_series(
            conn, territory=territory, dates=[day], levels=("commune", "pm", "departement")
        )[day]:
            ours[(unit["level"], unit["code"])] = unit["raccordables"]
    lines = []
    for r in rows:
        if r.maille != maille:
            continue
        base = r.raccordables_declares if scope == "dsp" else ours.get((r.maille, r.code), 0)
        lines.append(
            {
                "code": r.code,
                "nom": r.nom or r.code,
                "abonnes": r.abonnes,
                "raccordables": base,
                "taux_penetration": percent(r.abonnes, base or 0),
                "raccordables_declares": r.raccordables_declares,
                "fai": list(r.fai),
            }
        )
    abonnes, declared, source = _total(rows)
    base = declared if scope == "dsp" else ours.get(("departement", territory), 0)
    fai = sorted({f for r in rows for f in r.fai})
    out.update(
        date_releve=day.isoformat(),
        lignes=lines,
        total={
            "abonnes": abonnes,
            "raccordables": base,
            "taux_penetration": percent(abonnes, base or 0),
            "raccordables_declares": declared,
            "somme_de": source,
            "fai": fai,
        },
        national=national_rate(day),
        national_cite=national_rate(day, "cite"),
    )
    return out


def take_up_series(
    conn: Connection, *, territory: str, perimetre: str | None = None
) -> dict[str, Any]:
    """Total abonnés, raccordables as of the same date and penetration (%) at every count of
    the délégataire, with ARCEP's national rate of the time (a take-up chart)."""
    scope = check_perimetre(territory, perimetre)
    dates = _releve_dates(conn, territory, scope)
    ours: dict[date, int] = {}
    if scope != "dsp" and dates:
        for day, units in raccordables_series(
            conn, territory=territory, dates=dates, levels=("departement",)
        ).items():
            ours[day] = sum(u["raccordables"] for u in units)
    points = []
    for day in dates:
        abonnes, declared, source = _total(_rows_on(conn, territory, scope, day))
        base = declared if scope == "dsp" else ours.get(day, 0)
        national = national_rate(day)
        points.append(
            {
                "date": day.isoformat(),
                "abonnes": abonnes,
                "raccordables": base,
                "taux_penetration": percent(abonnes, base or 0),
                "somme_de": source,
                "taux_national": national["taux"] if national else None,
            }
        )
    return {"perimetre": scope, "perimetre_libelle": perimetre_label(scope), "points": points}


# --- border exchanges ------------------------------------------------------------------------


def border_exchanges(
    conn: Connection, *, territory: str, as_of: date | None = None
) -> dict[str, Any]:
    """Per neighbouring network: the territory's buildings it serves, the outside buildings the
    délégataire serves, the sectors and the length of the links (each link counted once); only
    sheets co-signed by `as_of` when a date is given."""
    rows = conn.execute(
        text(
            "WITH s AS (SELECT * FROM echange_frontalier WHERE territory_code = :t"
            " AND (CAST(:d AS date) IS NULL OR date_cosignature <= :d)),"
            " links AS (SELECT voisin, sum(longueur_m) AS metres FROM (SELECT DISTINCT voisin,"
            " secteur, lien, longueur_m FROM s WHERE lien IS NOT NULL) l GROUP BY voisin)"
            " SELECT s.voisin,"
            " count(DISTINCT identifiant_immeuble) FILTER (WHERE sens = 'SERVI_PAR_VOISIN') AS v,"
            " count(DISTINCT identifiant_immeuble) FILTER (WHERE sens = 'SERVI_PAR_DELEGATAIRE')"
            " AS d, count(DISTINCT secteur) AS secteurs, min(links.metres) AS metres"
            " FROM s LEFT JOIN links USING (voisin) GROUP BY s.voisin ORDER BY s.voisin"
        ),
        {"t": territory, "d": as_of},
    )
    lines = [
        {
            "voisin": r.voisin,
            "immeubles_servis_par_voisin": int(r.v),
            "immeubles_servis_par_delegataire": int(r.d),
            "secteurs": int(r.secteurs),
            "longueur_liens_m": round(float(r.metres or 0), 1),
        }
        for r in rows
    ]
    return {
        "perimetre": territory,
        "perimetre_libelle": perimetre_label(territory),
        "au": as_of.isoformat() if as_of else None,
        "lignes": lines,
        "immeubles_servis_par_voisins": sum(x["immeubles_servis_par_voisin"] for x in lines),
        "immeubles_servis_hors_territoire": sum(
            x["immeubles_servis_par_delegataire"] for x in lines
        ),
    }


def list_border_buildings(conn: Connection, *, territory: str) -> list[dict[str, Any]]:
    """The buildings of the co-signed sheets (staff only: addresses), by sector."""
    rows = conn.execute(
        text(
            "SELECT secteur, voisin, sens, identifiant_immeuble, adresse, insee, pm_reference,"
            " pb_reference, lien, longueur_m, mode, statut_lien, date_cosignature"
            " FROM echange_frontalier WHERE territory_code = :t ORDER BY secteur,"
            " identifiant_immeuble"
        ),
        {"t": territory},
    ).mappings()
    return [
        {
            **r,
            "date_cosignature": r["date_cosignature"].isoformat()
            if r["date_cosignature"]
            else None,
        }
        for r in rows
    ]
