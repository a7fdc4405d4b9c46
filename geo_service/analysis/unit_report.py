"""Figures of a commune or an EPCI beside the département's, and its progress series: what the
élu pages show (no FastAPI here, so the CLI and tests call the same functions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import Connection, text

from geo_service.analysis import oublies as oub
from geo_service.analysis.costs import load_costs
from geo_service.analysis.onereuses import onereuses
from geo_service.analysis.raccordables import raccordables, raccordables_series
from geo_service.analysis.rad import RAD_STATES, rad_list
from geo_service.cache import once
from geo_service.errors import NotFoundError
from geo_service.reference import sources
from geo_service.reference.territory_config import member_departements

UnitLevel = Literal["commune", "epci", "departement_membre"]
SERIES_START = date(2018, 3, 31)
ReferenceKind = Literal["contractuel", "departement_objectif", "departement_rythme"]


@dataclass(frozen=True)
class Unit:
    """A commune, an EPCI or (in a territory of several) a département of the territory, with
    its member communes."""

    level: UnitLevel
    code: str
    nom: str
    insees: tuple[str, ...]
    amii_insees: tuple[str, ...]
    population: int
    epci_siren: str | None = None
    epci_nom: str | None = None

    @property
    def amii(self) -> bool:
        """The whole unit is in the AMII (fibred by Orange on its own funds)."""
        return bool(self.insees) and set(self.insees) == set(self.amii_insees)

    @property
    def label(self) -> str:
        if self.level == "commune":
            return f"Commune de {self.nom}"
        if self.level == "departement_membre":
            return f"{self.nom} ({self.code})"
        return self.nom


@dataclass
class ProgressSeries:
    """Quarterly raccordables of the unit and of the département, and the reference curve."""

    dates: list[date]
    raccordables: list[int]
    logements: list[int]
    departement_raccordables: list[int]
    departement_logements: list[int]
    reference: list[tuple[date, int]]
    reference_kind: ReferenceKind
    reference_label: str


@dataclass
class UnitReport:
    """Everything an élu page shows except the geometries (see unit_layers)."""

    unit: Unit
    departement: str
    as_of: date
    figures: dict[str, dict[str, Any]]
    series: ProgressSeries
    onereuses: list[dict[str, Any]] = field(default_factory=list)
    rad: list[dict[str, Any]] = field(default_factory=list)
    oublies: list[dict[str, Any]] = field(default_factory=list)
    seuil_onereux: float = 0.0


def commune_unit(conn: Connection, territory: str, insee: str) -> Unit:
    """The commune `insee` of the territory, or NotFoundError (HTTP 404) in French."""
    row = conn.execute(
        text(
            "SELECT c.insee, c.nom, c.population, c.amii, c.epci_siren, e.nom AS epci_nom "
            "FROM commune c LEFT JOIN epci e ON e.territory_code = c.territory_code "
            "AND e.siren = c.epci_siren WHERE c.insee = :i AND c.territory_code = :t"
        ),
        {"i": insee, "t": territory},
    ).first()
    if row is None:
        raise NotFoundError(f"Commune inconnue sur ce territoire : code INSEE « {insee} ».")
    return Unit(
        level="commune",
        code=row.insee,
        nom=row.nom,
        insees=(row.insee,),
        amii_insees=(row.insee,) if row.amii else (),
        population=int(row.population or 0),
        epci_siren=row.epci_siren,
        epci_nom=row.epci_nom,
    )


def epci_unit(conn: Connection, territory: str, siren: str) -> Unit:
    """The EPCI `siren` clipped to the territory, or NotFoundError (HTTP 404) in French."""
    rows = conn.execute(
        text(
            "SELECT e.nom, c.insee, c.population, c.amii FROM epci e "
            "JOIN commune c ON c.territory_code = e.territory_code AND c.epci_siren = e.siren "
            "WHERE e.siren = :s AND e.territory_code = :t ORDER BY c.insee"
        ),
        {"s": siren, "t": territory},
    ).all()
    if not rows:
        raise NotFoundError(f"EPCI inconnu sur ce territoire : SIREN « {siren} ».")
    return Unit(
        level="epci",
        code=siren,
        nom=rows[0].nom,
        insees=tuple(r.insee for r in rows),
        amii_insees=tuple(r.insee for r in rows if r.amii),
        population=sum(int(r.population or 0) for r in rows),
        epci_siren=siren,
        epci_nom=rows[0].nom,
    )


def departement_unit(conn: Connection, territory: str, code: str) -> Unit:
    """The département `code` of a territory of several, or NotFoundError (HTTP 404) in French
    (a one-département territory has its own page: the territory's)."""
    members = member_departements(conn, territory)
    if len(members) < 2 or code not in members:
        raise NotFoundError(f"Département inconnu sur ce territoire : « {code} ».")
    rows = conn.execute(
        text(
            "SELECT insee, population, amii FROM commune "
            "WHERE territory_code = :t AND departement = :d ORDER BY insee"
        ),
        {"t": territory, "d": code},
    ).all()
    return Unit(
        level="departement_membre",
        code=code,
        nom=sources.departement(code).nom,
        insees=tuple(r.insee for r in rows),
        amii_insees=tuple(r.insee for r in rows if r.amii),
        population=sum(int(r.population or 0) for r in rows),
    )


def quarter_ends(start: date = SERIES_START, today: date | None = None) -> list[date]:
    """Every quarter end from `start` to `today`, then `today` itself when it is not one."""
    end = today or date.today()
    out: list[date] = []
    year, quarter = start.year, (start.month - 1) // 3
    while True:
        month = 3 * quarter + 3
        day = date(year, month, 31 if month in (3, 12) else 30)
        if day > end:
            break
        if day >= start:
            out.append(day)
        year, quarter = (year + 1, 0) if quarter == 3 else (year, quarter + 1)
    if not out or out[-1] != end:
        out.append(end)
    return out


def _pick(rows: list[dict[str, Any]], level: str, code: str) -> dict[str, Any]:
    for row in rows:
        if row["level"] == level and row["code"] == code:
            return row
    return {"logements": 0, "raccordables": 0, "raccordables_demande": 0, "taux": 0.0}


def _unit_and_departement(
    conn: Connection, territory: str, unit: Unit, dates: list[date]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The unit's and the département's raccordables rows as of each date (RIP; an AMII
    commune is counted with its AMII premises, as it has no others): the unit's from its own
    communes' cube rows, the territory's total in a query of its own (one grouping set each,
    not the territory's every PM and commune)."""
    whole = once(
        raccordables_series, conn, territory=territory, dates=dates, levels=("departement",)
    )
    mine = once(
        raccordables_series,
        conn,
        territory=territory,
        dates=dates,
        levels=(unit.level,),
        include_amii=unit.amii and unit.level == "commune",
        insees=unit.insees,
    )
    return [
        (_pick(mine[day], unit.level, unit.code), _pick(whole[day], "departement", territory))
        for day in dates
    ]


def _targets(conn: Connection, territory: str, level: str, code: str) -> list[tuple[date, int]]:
    rows = conn.execute(
        text(
            "SELECT target_date, raccordables FROM contract_target "
            "WHERE territory_code = :t AND level = :l AND code = :c ORDER BY target_date"
        ),
        {"t": territory, "l": level, "c": code},
    )
    return [(r.target_date, int(r.raccordables)) for r in rows]


def progress_series(
    conn: Connection, territory: str, unit: Unit, *, today: date | None = None
) -> ProgressSeries:
    """Quarterly raccordables 2018 → today (state cube, every quarter in one query) and the
    reference: the unit's contractual targets if any, else the département's scaled."""
    dates = quarter_ends(today=today)
    pairs = _unit_and_departement(conn, territory, unit, dates)
    unit_rows, dept_rows = [mine for mine, _ in pairs], [dept for _, dept in pairs]
    series = ProgressSeries(
        dates=dates,
        raccordables=[int(r["raccordables"]) for r in unit_rows],
        logements=[int(r["logements"]) for r in unit_rows],
        departement_raccordables=[int(r["raccordables"]) for r in dept_rows],
        departement_logements=[int(r["logements"]) for r in dept_rows],
        reference=[],
        reference_kind="departement_rythme",
        reference_label="",
    )
    own = _targets(conn, territory, unit.level, unit.code)
    if own:
        series.reference = own
        series.reference_kind = "contractuel"
        series.reference_label = "Objectif contractuel"
        return series
    # a territory without premises yet (reference geography only) has no logements to share
    share = (
        series.logements[-1] / series.departement_logements[-1]
        if dates and series.departement_logements[-1]
        else 0.0
    )
    whole = {"commune": "de la commune", "epci": "de l'EPCI"}.get(unit.level, "du département")
    dept_targets = _targets(conn, territory, "departement", territory)
    if dept_targets:
        series.reference = [(d, round(n * share)) for d, n in dept_targets]
        series.reference_kind = "departement_objectif"
        series.reference_label = f"Objectif du département rapporté aux logements {whole}"
        return series
    series.reference = [
        (d, round(r / lg * own_lg) if lg else 0)
        for d, r, lg, own_lg in zip(
            dates,
            series.departement_raccordables,
            series.departement_logements,
            series.logements,
            strict=True,
        )
    ]
    series.reference_label = f"Au rythme du département (taux départemental × logements {whole})"
    return series


def _site_counts(conn: Connection, territory: str) -> dict[str, dict[str, int]]:
    """Per commune, today: MED sites (and foyers), WiFi bornes in service, mobile sites that
    exist (neither planned only nor abandoned) and those in service."""
    from geo_service.analysis.mobile import STATE_SQL as SITE_STATE
    from geo_service.analysis.wifi import STATE_SQL as BORNE_STATE

    rows = conn.execute(
        text(
            "SELECT k.kind, k.insee, k.n, k.extra FROM ("
            " SELECT 'med' AS kind, insee, count(*) AS n, sum(foyers) AS extra "
            " FROM med_site GROUP BY insee"
            " UNION ALL SELECT 'wifi', b.insee, count(*), 0 FROM wifi_borne b"
            f" WHERE {BORNE_STATE} = 'EN_SERVICE' GROUP BY b.insee"
            " UNION ALL SELECT 'mobile', s.insee, count(*), "
            f" count(*) FILTER (WHERE {SITE_STATE} = 'EN_SERVICE') FROM mobile_site s"
            f" WHERE {SITE_STATE} IS NOT NULL AND {SITE_STATE} <> 'ABANDONNE' GROUP BY s.insee"
            ") k JOIN commune c ON c.insee = k.insee AND c.territory_code = :t"
        ),
        {"t": territory, "as_of": date.today()},
    )
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        counts = out.setdefault(r.insee, {})
        counts[r.kind] = int(r.n)
        counts[f"{r.kind}_detail"] = int(r.extra or 0)
    return out


def _figures(
    racc: dict[str, Any],
    onereux: list[dict[str, Any]],
    zones: list[dict[str, Any]],
    missing: list[dict[str, Any]],
    sites: list[dict[str, int]],
) -> dict[str, Any]:
    def total(key: str) -> int:
        return sum(s.get(key, 0) for s in sites)

    return {
        "logements": int(racc["logements"]),
        "raccordables": int(racc["raccordables"]),
        "taux": float(racc["taux"]),
        "raccordables_demande": int(racc["raccordables_demande"]),
        "onereuses_logements": sum(int(r["logements"]) for r in onereux),
        "onereuses_immeubles": len(onereux),
        "oublies": len(zones) + len(missing),
        "oublies_zones": len(zones),
        "oublies_absents": len(missing),
        "med": total("med"),
        "med_foyers": total("med_detail"),
        "wifi": total("wifi"),
        "mobile": total("mobile"),
        "mobile_en_service": total("mobile_detail"),
    }


def unit_report(
    conn: Connection, territory: str, unit: Unit, *, today: date | None = None
) -> UnitReport:
    """Key figures of the unit and of the département, the progress series, and the lists
    (onéreuses, RAD, oubliés) the map draws; the cost estimate runs once, territory-wide."""
    day = today or date.today()
    series = progress_series(conn, territory, unit, today=day)
    racc_unit, racc_dept = _unit_and_departement(conn, territory, unit, [day])[0]
    costs = load_costs()
    # territory-wide: computed once for all the pages of a `cache warm` (geo_service.cache.once)
    expensive = once(onereuses, conn, territory=territory, as_of=day, costs=costs)
    in_zones = once(oub.in_finished_zones, conn, territory=territory, as_of=day)
    missing = once(oub.missing_from_operator, conn, territory=territory)
    sites = once(_site_counts, conn, territory)
    mine = set(unit.insees)

    def of_unit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r["insee"] in mine]

    figures = {
        "unite": _figures(
            racc_unit,
            of_unit(expensive),
            of_unit(in_zones),
            of_unit(missing),
            [sites[i] for i in mine if i in sites],
        ),
        "departement": _figures(racc_dept, expensive, in_zones, missing, list(sites.values())),
    }
    rad_rows = [
        r
        for r in once(rad_list, conn, territory=territory, as_of=day)
        if r["insee"] in mine and r["etat"] in RAD_STATES
    ]
    return UnitReport(
        unit=unit,
        departement=territory,
        as_of=day,
        figures=figures,
        series=series,
        onereuses=of_unit(expensive),
        rad=rad_rows,
        oublies=of_unit(in_zones) + of_unit(missing),
        seuil_onereux=costs.seuil_onereux,
    )


def index_rows(
    conn: Connection, territory: str, *, today: date | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every commune and EPCI of the territory with its logements, raccordables and taux."""
    members = member_departements(conn, territory)
    several = len(members) > 1
    levels: tuple[Any, ...] = ("commune", "epci") + (("departement_membre",) if several else ())
    rows = raccordables(conn, territory=territory, as_of=today, levels=levels)
    by_key = {(r["level"], r["code"]): r for r in rows}
    communes = conn.execute(
        text(
            "SELECT c.insee, c.nom, c.amii, c.epci_siren, e.nom AS epci_nom FROM commune c "
            "JOIN epci e ON e.territory_code = c.territory_code AND e.siren = c.epci_siren "
            "WHERE c.territory_code = :t ORDER BY c.nom, c.insee"
        ),
        {"t": territory},
    ).all()
    epcis = conn.execute(
        text(
            "SELECT e.siren, e.nom, count(c.insee) AS communes FROM epci e "
            "JOIN commune c ON c.territory_code = e.territory_code AND c.epci_siren = e.siren "
            "WHERE e.territory_code = :t GROUP BY e.siren, e.nom ORDER BY e.nom"
        ),
        {"t": territory},
    ).all()

    def counts(level: str, code: str) -> dict[str, Any]:
        row = by_key.get((level, code), {})
        return {k: row.get(k, 0) for k in ("logements", "raccordables", "taux")}

    return {
        "communes": [
            {
                "code": c.insee,
                "nom": c.nom,
                "amii": bool(c.amii),
                "epci_siren": c.epci_siren,
                "epci_nom": c.epci_nom,
                **counts("commune", c.insee),
            }
            for c in communes
        ],
        "epci": [
            {"code": e.siren, "nom": e.nom, "communes": int(e.communes), **counts("epci", e.siren)}
            for e in epcis
        ],
        # a territory of several départements: one page each (none for a single one)
        "departements": [
            {
                "code": d,
                "nom": sources.departement(d).nom,
                **counts("departement_membre", d),
            }
            for d in (members if several else [])
        ],
    }
