"""Figures of the operating registers (issue #14): restoration delays against the commitments,
PM conformity controls against the campaign's objective, take-up (abonnés / raccordables as of
the same date, beside ARCEP's national rate) and border exchanges.

Every answer says which perimeter it covers: the territory's own rows (`perimetre` = its code)
or the délégataire's figures for its whole DSP ('dsp'); the two are never added together. The
territory's share of a DSP figure is only given by `territory_estimate`, labelled as such.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Any, Literal

from sqlalchemy import Connection, text

from geo_service.data.operations import Engagements, load_engagements
from geo_service.errors import InvalidParameterError
from geo_service.ingest.operations_cells import PARIS

Grouping = Literal["total", "categorie", "commune", "epci", "pm", "mois"]
# what each grouping groups by: constants, never text from a request
_GROUPS: dict[str, str] = {
    "total": "'total'",
    "categorie": "s.categorie",
    "commune": "s.insee",
    "epci": "c.epci_siren",
    "pm": "s.pm_reference",
    "mois": "to_char(s.ouverture AT TIME ZONE 'Europe/Paris', 'YYYY-MM')",
}


def check_perimetre(territory: str, perimetre: str | None) -> str:
    """'dsp' or the territory's own code (the default)."""
    if perimetre in (None, "", territory):
        return territory
    if perimetre == "dsp":
        return "dsp"
    raise InvalidParameterError(f"Périmètre inconnu : {perimetre} (attendu : dsp ou {territory}).")


def perimetre_label(perimetre: str, engagements: Engagements | None = None) -> str:
    """The French label of a perimeter, for every answer."""
    if perimetre == "dsp":
        return f"toute la DSP ({(engagements or load_engagements()).dsp_nom})"
    return f"territoire {perimetre}"


def _window(year: int | None, as_of: date | None) -> tuple[dt.datetime | None, dt.datetime]:
    """[since, until) in Paris time: the year (if any), cut at the end of `as_of` (if any)."""
    ends = []
    if as_of is not None:
        ends.append(min(as_of, date(9998, 12, 31)) + dt.timedelta(days=1))
    if year is not None:
        ends.append(date(year + 1, 1, 1))
    end = min(ends) if ends else date.today() + dt.timedelta(days=1)
    until = dt.datetime.combine(end, dt.time(), PARIS)
    since = dt.datetime.combine(date(year, 1, 1), dt.time(), PARIS) if year is not None else None
    return since, until


def _names(conn: Connection, territory: str) -> dict[tuple[str, str], str]:
    rows = conn.execute(
        text(
            "SELECT 'commune' AS level, insee AS code, nom FROM commune WHERE territory_code = :t"
            " UNION ALL SELECT 'epci', siren, nom FROM epci WHERE territory_code = :t"
        ),
        {"t": territory},
    )
    return {(r.level, r.code): r.nom for r in rows}


def percent(part: float, whole: float) -> float | None:
    """100 × part / whole rounded to 0.01, None when whole is 0."""
    return round(100.0 * part / whole, 2) if whole else None


# --- incidents ------------------------------------------------------------------------------


def restoration_delays(
    conn: Connection,
    *,
    territory: str,
    perimetre: str | None = None,
    year: int | None = None,
    as_of: date | None = None,
    by: Grouping = "total",
    engagements: Engagements | None = None,
) -> dict[str, Any]:
    """Incidents opened in the year (as known at the end of `as_of`), grouped `by` total,
    category, commune, EPCI, PM or month of opening: how many, how many restored, how many
    within the category's commitment, their share of the restored ones (%), the mean delay
    (hours) and how many are still open. The commitments come from engagements.toml."""
    if by not in _GROUPS:
        raise InvalidParameterError(
            f"Regroupement inconnu : {by} (attendu : {', '.join(_GROUPS)})."
        )
    scope = check_perimetre(territory, perimetre)
    commitments = engagements or load_engagements()
    since, until = _window(year, as_of)
    rows = conn.execute(
        text(
            "WITH engagement AS (SELECT * FROM unnest(CAST(:codes AS text[]),"
            " CAST(:hours AS float8[])) AS e(categorie, delai_heures)),"
            " s AS (SELECT i.*, e.delai_heures, CASE WHEN i.retablissement < :until THEN"
            " extract(epoch FROM i.retablissement - i.ouverture) / 3600.0 END AS heures"
            " FROM incident i LEFT JOIN engagement e USING (categorie)"
            " WHERE i.territory_code = :t AND i.perimetre = :p AND i.ouverture < :until"
            " AND (CAST(:since AS timestamptz) IS NULL OR i.ouverture >= :since))"
            f" SELECT {_GROUPS[by]} AS groupe, count(*) AS incidents, count(s.heures) AS retablis,"
            " count(*) FILTER (WHERE s.heures <= s.delai_heures) AS dans_engagement,"
            " avg(s.heures) AS delai_moyen FROM s LEFT JOIN commune c"
            " ON c.insee = s.insee AND c.territory_code = s.territory_code"
            " GROUP BY 1 ORDER BY 1 NULLS LAST"
        ),
        {
            "codes": list(commitments.categories),
            "hours": [c.delai_heures for c in commitments.categories.values()],
            "t": territory,
            "p": scope,
            "since": since,
            "until": until,
        },
    )
    names = _names(conn, territory)
    lines = []
    for r in rows:
        label = {"commune": "commune", "epci": "epci"}.get(by)
        category = commitments.categories.get(r.groupe) if by == "categorie" else None
        lines.append(
            {
                "groupe": r.groupe,
                "nom": (
                    names.get((label, r.groupe), r.groupe)
                    if label
                    else category.libelle
                    if category
                    else r.groupe
                ),
                "incidents": int(r.incidents),
                "retablis": int(r.retablis),
                "en_cours": int(r.incidents - r.retablis),
                "dans_engagement": int(r.dans_engagement),
                "part_dans_engagement": percent(r.dans_engagement, r.retablis),
                "delai_moyen_heures": None
                if r.delai_moyen is None
                else round(float(r.delai_moyen), 2),
                **({"engagement_heures": category.delai_heures} if category else {}),
            }
        )
    return {
        "perimetre": scope,
        "perimetre_libelle": perimetre_label(scope, commitments),
        "annee": year,
        "au": (as_of or (until - dt.timedelta(days=1)).date()).isoformat(),
        "regroupement": by,
        "engagements": commitments.statut,
        "engagements_source": commitments.source,
        "lignes": lines,
    }


def list_incidents(
    conn: Connection,
    *,
    territory: str,
    perimetre: str | None = None,
    year: int | None = None,
    as_of: date | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The incidents themselves (staff only: they name places and causes), newest first."""
    scope = check_perimetre(territory, perimetre)
    since, until = _window(year, as_of)
    rows = conn.execute(
        text(
            "SELECT reference, perimetre, pm_reference, insee, categorie, ouverture,"
            " CASE WHEN retablissement < :until THEN retablissement END AS retablissement,"
            " cause, source FROM incident WHERE territory_code = :t AND perimetre = :p"
            " AND ouverture < :until AND (CAST(:since AS timestamptz) IS NULL"
            " OR ouverture >= :since) ORDER BY ouverture DESC, reference LIMIT :l OFFSET :o"
        ),
        {"t": territory, "p": scope, "since": since, "until": until, "l": limit, "o": offset},
    ).mappings()
    return [
        {
            **r,
            "ouverture": r["ouverture"].astimezone(PARIS).isoformat(),
            "retablissement": r["retablissement"].astimezone(PARIS).isoformat()
            if r["retablissement"]
            else None,
        }
        for r in rows
    ]


# --- PM conformity controls ------------------------------------------------------------------


def control_progress(
    conn: Connection,
    *,
    territory: str,
    campagne: int,
    perimetre: str | None = None,
    as_of: date | None = None,
    engagements: Engagements | None = None,
) -> dict[str, Any]:
    """PM controlled in the campaign (by `as_of`), by result, against the campaign's objective:
    from engagements.toml when it states one, else every PM of the territory (or of the DSP)."""
    scope = check_perimetre(territory, perimetre)
    commitments = engagements or load_engagements()
    row = conn.execute(
        text(
            "SELECT count(DISTINCT pm_reference) AS controles,"
            " count(*) FILTER (WHERE resultat = 'CONFORME') AS conformes,"
            " count(*) FILTER (WHERE resultat = 'NON CONFORME') AS non_conformes,"
            " count(*) FILTER (WHERE resultat = 'RESERVES') AS reserves FROM controle_pm"
            " WHERE territory_code = :t AND perimetre = :p AND campagne = :c"
            " AND (CAST(:d AS date) IS NULL OR date_controle <= :d)"
        ),
        {"t": territory, "p": scope, "c": campagne, "d": as_of},
    ).one()
    stated = commitments.objectifs.get(scope, {}).get(campagne)
    if stated is not None:
        objective, source = stated, commitments.source
    elif scope == "dsp":
        objective, source = commitments.dsp_pm, "tous les PM de la DSP (engagements.toml)"
    else:
        objective = int(
            conn.execute(
                text("SELECT count(*) FROM pm WHERE territory_code = :t AND NOT amii"),
                {"t": territory},
            ).scalar_one()
        )
        source = "tous les PM du territoire (hypothèse)"
    return {
        "perimetre": scope,
        "perimetre_libelle": perimetre_label(scope, commitments),
        "campagne": campagne,
        "au": as_of.isoformat() if as_of else None,
        "controles": int(row.controles),
        "conformes": int(row.conformes),
        "non_conformes": int(row.non_conformes),
        "reserves": int(row.reserves),
        "objectif": objective,
        "objectif_source": source,
        "avancement": percent(row.controles, objective),
        "reste": max(objective - int(row.controles), 0),
    }


def list_controls(
    conn: Connection, *, territory: str, campagne: int | None = None, perimetre: str | None = None
) -> list[dict[str, Any]]:
    """The controls themselves (staff only), by campaign and PM."""
    scope = check_perimetre(territory, perimetre)
    rows = conn.execute(
        text(
            "SELECT campagne, perimetre, pm_reference, date_controle, resultat, remarques"
            " FROM controle_pm WHERE territory_code = :t AND perimetre = :p"
            " AND (CAST(:c AS int) IS NULL OR campagne = :c) ORDER BY campagne, pm_reference"
        ),
        {"t": territory, "p": scope, "c": campagne},
    ).mappings()
    return [{**r, "date_controle": r["date_controle"].isoformat()} for r in rows]


def territory_estimate(
    value: float, *, territory: str, engagements: Engagements | None = None
) -> dict[str, Any]:
    """An ESTIMATE of the territory's share of a DSP-wide figure, proportional to its PM
    (assumption of LOT_FACTS: 412 of 1 308 for the Lot); only for callers that ask for it."""
    commitments = engagements or load_engagements()
    pm = commitments.pm_territoire.get(territory)
    if pm is None:
        raise InvalidParameterError(
            f"Nombre de PM du territoire {territory} absent de {commitments.source}."
        )
    share = pm / commitments.dsp_pm
    return {
        "valeur_dsp": value,
        "estimation_territoire": round(value * share, 1),
        "part": round(share, 4),
        "estimation": True,
        "hypothese": f"part proportionnelle aux PM ({pm} / {commitments.dsp_pm})",
    }
