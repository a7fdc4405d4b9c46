"""Mobile sites (pylônes): their dated lifecycle per programme, the New Deal legal deadline and
late flag, and the indicators as of any date (pipeline, sites put in service per year, late
sites, sites per commune / EPCI, share inside the regional natural park, technologies)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, text

from geo_service.analysis.lifecycle import Lifecycle, Stage, state_sql
from geo_service.errors import InvalidParameterError

DEADLINE_MONTHS = 24  # the operators have 24 months after the arrêté's publication
PARK_LAYER = "pnr"  # the named layer of the regional natural park

MOBILE_STAGES = (
    Stage("ZONE_SIGNALEE", "date_signalement", "zone signalée"),
    Stage("CARENCE_CONFIRMEE", "date_carence", "carence confirmée"),
    Stage("RETENU", "date_retenue", "retenue par l'équipe-projet"),
    Stage("ARRETE", "date_arrete", "arrêté"),
    Stage("EN_CONSTRUCTION", "date_construction", "en construction"),
    Stage("EN_SERVICE", "date_mise_en_service", "mise en service"),
)
ABANDON = Stage("ABANDONNE", "date_abandon", "abandon")
_BEFORE_ARRETE = frozenset({"date_signalement", "date_carence", "date_retenue"})

# A New Deal site needs its arrêté before its service; the steps before the arrêté are the
# syndicat's (absent from ARCEP's file) and the construction start is seldom known.
MOBILE_LIFECYCLE = Lifecycle(
    MOBILE_STAGES, optional=_BEFORE_ARRETE | {"date_construction"}, end=ABANDON
)
# A legacy centre-bourg pylon (2005), a TDF site used under IRU or another site: only its
# service date is expected.
_SERVICE_ONLY = Lifecycle(
    MOBILE_STAGES,
    optional=frozenset(s.field for s in MOBILE_STAGES if s.state != "EN_SERVICE"),
    end=ABANDON,
)
LIFECYCLES = {
    "NEW_DEAL": MOBILE_LIFECYCLE,
    "CENTRE_BOURG": _SERVICE_ONLY,
    "TDF_IRU": _SERVICE_ONLY,
    "AUTRE": _SERVICE_ONLY,
}


def mobile_lifecycle(programme: str | None) -> Lifecycle:
    """The lifecycle rules of a programme's sites (for `lifecycle.check` at import and edit)."""
    return LIFECYCLES.get(programme or "", _SERVICE_ONLY)


def deadline(date_arrete: date | None) -> date | None:
    """The legal deadline: the arrêté's publication + 24 months (None without an arrêté)."""
    return None if date_arrete is None else date_arrete + relativedelta(months=DEADLINE_MONTHS)


def months_late(row: dict[str, Any], as_of: date) -> int | None:
    """Whole months past the deadline on `as_of` when the site is late then, else None: late =
    deadline passed, not in service and not abandoned on that date."""
    due = deadline(row.get("date_arrete"))
    if due is None or due >= as_of:
        return None
    for field, state in (("date_mise_en_service", "EN_SERVICE"), ("date_abandon", "ABANDONNE")):
        done = row.get(field)
        if (done is not None and done <= as_of) or (done is None and row.get("etat") == state):
            return None  # in service or abandoned by then (or recorded so without a date)
    gap = relativedelta(as_of, due)
    return gap.years * 12 + gap.months


_ANY_DATE = "COALESCE(" + ", ".join(f"s.{f}" for f in MOBILE_LIFECYCLE.fields) + ")"
# the state on :as_of from the dates; a site with no date at all keeps its recorded state
STATE_SQL = (
    f"(CASE WHEN {_ANY_DATE} IS NULL THEN s.etat ELSE {state_sql(MOBILE_LIFECYCLE, 's')} END)"
)
DEADLINE_SQL = f"(s.date_arrete + interval '{DEADLINE_MONTHS} months')::date"
LATE_SQL = (
    f"({DEADLINE_SQL} < :as_of"
    " AND NOT COALESCE(s.date_mise_en_service <= :as_of, s.etat = 'EN_SERVICE')"
    " AND NOT COALESCE(s.date_abandon <= :as_of, s.etat = 'ABANDONNE'))"
)
MONTHS_LATE_SQL = (
    f"CASE WHEN {LATE_SQL} THEN (extract(year FROM age(:as_of, {DEADLINE_SQL})) * 12"
    f" + extract(month FROM age(:as_of, {DEADLINE_SQL})))::int END"
)
IN_PARK_SQL = (
    "EXISTS (SELECT 1 FROM named_layer n WHERE n.territory_code = :t AND n.nom = :park"
    " AND ST_Covers(n.geom, s.geom))"
)

_SITES = f"""
SELECT s.code, s.nom, s.programme, s.etat AS etat_enregistre, {STATE_SQL} AS etat,
       s.insee, c.nom AS commune, c.epci_siren AS epci, e.nom AS epci_nom,
       s.operateurs, s.op_leader, s.nom_zone, s.nom_site_operateurs, s.num_arrete,
       s.date_signalement, s.date_carence, s.date_retenue, s.date_arrete, s.date_construction,
       s.date_mise_en_service, s.source_mise_en_service, s.date_abandon,
       {DEADLINE_SQL} AS echeance, COALESCE({LATE_SQL}, false) AS en_retard,
       {MONTHS_LATE_SQL} AS mois_retard, {IN_PARK_SQL} AS dans_le_parc,
       s.proprietaire, s.date_fin_iru, s.renouvellement_iru, s.date_dernier_controle,
       s.opposition, s.import_id, ST_X(s.geom) AS x, ST_Y(s.geom) AS y,
       ST_X(ST_Transform(s.geom, 4326)) AS longitude, ST_Y(ST_Transform(s.geom, 4326)) AS latitude
FROM mobile_site s
JOIN commune c ON c.insee = s.insee AND c.territory_code = :t
LEFT JOIN epci e ON e.siren = c.epci_siren
WHERE (CAST(:insee AS text) IS NULL OR s.insee = :insee)
  AND (CAST(:epci AS text) IS NULL OR c.epci_siren = :epci)
  AND (CAST(:departement AS text) IS NULL OR c.departement = :departement)
  AND (CAST(:programme AS text) IS NULL OR s.programme = :programme)
  AND (CAST(:code AS text) IS NULL OR s.code = :code)
"""
_STATIONS = """
SELECT l.site_code, l.sta_nm_anfr, l.methode, l.distance_m, a.exploitant, a.date_en_service
FROM mobile_site_station l LEFT JOIN anfr_station a ON a.sta_nm_anfr = l.sta_nm_anfr
WHERE l.site_code = ANY(:codes) ORDER BY l.site_code, l.sta_nm_anfr
"""
_TECHNOLOGIES = """
SELECT l.site_code, m.technologie, min(m.date_service) AS depuis
FROM mobile_site_station l JOIN anfr_emetteur m ON m.sta_nm_anfr = l.sta_nm_anfr
WHERE l.site_code = ANY(:codes) AND m.date_service <= :as_of
GROUP BY l.site_code, m.technologie ORDER BY l.site_code, m.technologie
"""


def _params(territory: str, as_of: date, **filters: str | None) -> dict[str, Any]:
    base: dict[str, Any] = {
        "insee": None,
        "epci": None,
        "departement": None,
        "programme": None,
        "code": None,
    }
    return {**base, **filters, "t": territory, "as_of": as_of, "park": PARK_LAYER}


def mobile_sites(
    conn: Connection,
    territory: str,
    *,
    as_of: date,
    insee: str | None = None,
    epci: str | None = None,
    etat: str | None = None,
    programme: str | None = None,
    en_retard: bool | None = None,
    departement: str | None = None,
) -> list[dict[str, Any]]:
    """The territory's mobile sites as they stood on `as_of`, one dict per site (sorted by code):
    its fields and dates, `etat` (state on `as_of`, None when the site did not exist yet: such
    sites are left out), `echeance` (arrêté + 24 months), `en_retard` and `mois_retard`,
    `dans_le_parc`, `stations` (ANFR stations linked: number, method, distance, operator) and
    `technologies` ({'4G': first service date, …} of the emitters in service on `as_of`)."""
    params = _params(
        territory, as_of, insee=insee, epci=epci, programme=programme, departement=departement
    )
    rows = [dict(r) for r in conn.execute(text(_SITES + " ORDER BY s.code"), params).mappings()]
    rows = [
        r
        for r in rows
        if r["etat"] is not None
        and (etat is None or r["etat"] == etat)
        and (en_retard is None or r["en_retard"] == en_retard)
    ]
    _attach_stations(conn, rows, as_of)
    return rows


def _attach_stations(conn: Connection, rows: list[dict[str, Any]], as_of: date) -> None:
    by_code = {r["code"]: r for r in rows}
    for r in rows:
        r["stations"], r["technologies"] = [], {}
    if not rows:
        return
    codes = list(by_code)
    for s in conn.execute(text(_STATIONS), {"codes": codes}).mappings():
        by_code[s["site_code"]]["stations"].append({k: v for k, v in s.items() if k != "site_code"})
    for t in conn.execute(text(_TECHNOLOGIES), {"codes": codes, "as_of": as_of}).mappings():
        by_code[t["site_code"]]["technologies"][t["technologie"]] = t["depuis"]


def mobile_site(
    conn: Connection, territory: str, code: str, *, as_of: date
) -> dict[str, Any] | None:
    """One site of the territory as on `as_of` (same fields as `mobile_sites`, even before it
    existed: `etat` is then None) with `historique`: its changes and those of its ANFR links
    ('mobile_site_station', key '<site>/<station>') from asset_change, oldest first (table_name,
    object_key, valid_from, changed_at, changed_by, import_id, before, after); None when the
    territory has no such site."""
    row = conn.execute(text(_SITES), _params(territory, as_of, code=code)).mappings().first()
    if row is None:
        return None
    site = dict(row)
    _attach_stations(conn, [site], as_of)
    site["historique"] = [
        dict(h)
        for h in conn.execute(
            text(
                "SELECT table_name, object_key, valid_from, changed_at, changed_by, import_id,"
                " before, after FROM asset_change WHERE (table_name = 'mobile_site'"
                " AND object_key = :k) OR (table_name = 'mobile_site_station'"
                " AND split_part(object_key, '/', 1) = :k) ORDER BY valid_from, id"
            ),
            {"k": code},
        ).mappings()
    ]
    return site


LEVELS = ("departement", "departement_membre", "epci", "commune")


def mobile_indicators(
    conn: Connection,
    territory: str,
    *,
    as_of: date,
    level: str = "departement",
    code: str | None = None,
) -> dict[str, Any]:
    """The mobile indicators on `as_of` for the territory (level 'departement') or one EPCI
    (SIREN) or commune (INSEE): `sites` (existing then), `par_programme`, `pipeline` (sites per
    state), `mises_en_service` (per year: sites put in service, cumulative, and the New Deal
    ones), `en_retard` (late sites with their months of delay, most late first), `par_commune`
    and `par_epci` (sites and sites in service), `parc` (sites inside the park layer `pnr` and
    their share, None without sites) and `technologies` (sites with each technology in service)."""
    if level not in LEVELS:
        raise InvalidParameterError(
            f"Niveau « {level} » inconnu : attendu departement, departement_membre, epci ou "
            "commune."
        )
    if level != "departement" and not code:
        raise InvalidParameterError(f"Niveau {level} : le code de l'{level} est obligatoire.")
    sites = mobile_sites(
        conn,
        territory,
        as_of=as_of,
        insee=code if level == "commune" else None,
        epci=code if level == "epci" else None,
        departement=code if level == "departement_membre" else None,
    )
    return {
        "as_of": as_of,
        "niveau": level,
        "code": code or territory,
        "sites": len(sites),
        "par_programme": dict(sorted(Counter(s["programme"] for s in sites).items())),
        "pipeline": dict(sorted(Counter(s["etat"] for s in sites).items())),
        "mises_en_service": _per_year(sites, as_of),
        "en_retard": sorted(
            (
                {k: s[k] for k in ("code", "nom", "insee", "commune", "echeance", "mois_retard")}
                for s in sites
                if s["en_retard"]
            ),
            key=lambda s: (-s["mois_retard"], s["code"]),
        ),
        "par_commune": _per_unit(sites, "insee", "commune"),
        "par_epci": _per_unit(sites, "epci", "epci_nom"),
        "parc": _park(sites),
        "technologies": dict(sorted(Counter(t for s in sites for t in s["technologies"]).items())),
    }


def _per_year(sites: list[dict[str, Any]], as_of: date) -> list[dict[str, int]]:
    dated = [s for s in sites if s["date_mise_en_service"] and s["date_mise_en_service"] <= as_of]
    years = Counter(s["date_mise_en_service"].year for s in dated)
    new_deal = Counter(
        s["date_mise_en_service"].year for s in dated if s["programme"] == "NEW_DEAL"
    )
    out, total, total_nd = [], 0, 0
    for year in sorted(years):
        total += years[year]
        total_nd += new_deal[year]
        out.append(
            {
                "annee": year,
                "sites": years[year],
                "cumul": total,
                "new_deal": new_deal[year],
                "cumul_new_deal": total_nd,
            }
        )
    return out


def _per_unit(sites: list[dict[str, Any]], key: str, label: str) -> list[dict[str, Any]]:
    units: dict[str, dict[str, Any]] = {}
    for s in sites:
        unit = units.setdefault(
            s[key], {"code": s[key], "nom": s[label], "sites": 0, "en_service": 0, "en_retard": 0}
        )
        unit["sites"] += 1
        unit["en_service"] += s["etat"] == "EN_SERVICE"
        unit["en_retard"] += bool(s["en_retard"])
    return sorted(units.values(), key=lambda u: u["code"] or "")


def _park(sites: list[dict[str, Any]]) -> dict[str, Any]:
    inside = sum(1 for s in sites if s["dans_le_parc"])
    return {
        "couche": PARK_LAYER,
        "sites": len(sites),
        "dans_le_parc": inside,
        "part": inside / len(sites) if sites else None,
    }
