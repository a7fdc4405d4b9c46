"""Two territories in one database (issue #15): the demos of the Lot (46) and of the
Lozère (48) loaded into the same PostGIS, in either order, give each territory the
figures of a database holding it alone — through the analysis functions and through the API of
an app set to that territory — and no row of one shows in the other's answers."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from geo_service.analysis import (
    controle_arcep,
    cuivre,
    med,
    mobile,
    onereuses,
    operations,
    oublies,
    progress,
    quand,
    rad,
    take_up,
    unit_report,
    wifi,
)
from geo_service.analysis.programmes import programme_indicators
from geo_service.analysis.raccordables import raccordables
from geo_service.api.deps import get_session
from geo_service.auth import users
from geo_service.auth.actor import cli_actor
from geo_service.cache import territory_results
from geo_service.db.session import make_engine
from geo_service.errors import GeoServiceError
from geo_service.ingest.batch import load_folder
from geo_service.main import create_app
from geo_service.reference.load import load_reference
from geo_service.settings import Settings
from tests.conftest import (
    STAFF_PASSWORD,
    clear_shared_cache,
    copy_database,
    create_scratch_database,
    demo_files,
    drop_database,
)

pytestmark = [pytest.mark.slow, pytest.mark.long]

TERRITORIES = ("46", "48")
PAST = date(2021, 12, 31)  # a date of the roll-out, for the "as of" figures
TODAY = date.today()
ALONE, FIRST_46, FIRST_48 = "seul", "46 puis 48", "48 puis 46"
# what a database draws from its sequences and its clock (identifiers, the time a row was
# written): they depend on when and in which order the files were loaded, not on the data
SEQUENCE_KEYS = {"id", "premise_id", "import_id", "journal_id", "version", "changed_at"}

Figures = dict[str, Any]


@dataclasses.dataclass
class Study:
    """What each territory was asked about (picked in its own database), and the figures of
    each territory per database: alone, 46 then 48, 48 then 46."""

    samples: dict[str, dict[str, Any]]
    figures: dict[str, dict[str, Figures]]


# --- loading --------------------------------------------------------------------------------


def load_territory(url: str, code: str) -> None:
    """The territory's reference geography and its demo files, through the regular importers,
    as `reference load` then `demo load --departement` do."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            load_reference(conn, code, territory_dir=Settings().territory_dir(code))
        load_folder(engine, demo_files(code), territory=code, user="tests")
    finally:
        engine.dispose()


# --- what is compared -----------------------------------------------------------------------


def portable(value: Any) -> Any:
    """The value as plain data, comparable across databases: dataclasses as dicts, dates as
    text, floats rounded, without the identifiers drawn from the database's sequences."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): portable(v) for k, v in value.items() if k not in SEQUENCE_KEYS}
    if isinstance(value, list | tuple):
        return [portable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(repr(portable(v)) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return round(float(value), 6)
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a (Geo)DataFrame
        return portable(value.drop(columns=["geometry"], errors="ignore").to_dict("records"))
    return value


def answer(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The function's result, or the French message of the domain error it raised."""
    try:
        return portable(func(*args, **kwargs))
    except GeoServiceError as error:
        return {"erreur": type(error).__name__, "detail": str(error)}


def sample(conn: Connection, code: str) -> dict[str, Any]:
    """Addresses, points, communes, EPCI and objects of a territory to ask about, picked in its
    own database: one premise per state (RIP and AMII), a few reference addresses, the first
    and last communes and EPCI, the codes of its PM, programme sites and bornes."""
    premises = conn.execute(
        text(
            "SELECT DISTINCT ON (p.etat, p.amii) p.identifiant_immeuble, p.commune_nom, "
            "concat_ws(' ', p.numero, p.type_voie, p.nom_voie) AS voie, "
            "ST_Y(ST_Transform(p.geom, 4326)) AS lat, ST_X(ST_Transform(p.geom, 4326)) AS lon "
            "FROM premise p JOIN commune c ON c.insee = p.insee "
            "WHERE c.territory_code = :t AND p.removed_on IS NULL AND p.numero IS NOT NULL "
            "ORDER BY p.etat, p.amii, p.identifiant_immeuble"
        ),
        {"t": code},
    ).all()
    ban = conn.execute(
        text(
            "SELECT concat_ws(' ', a.numero, a.rep, a.nom_voie) AS voie, a.nom_commune AS commune_nom, "
            "ST_Y(ST_Transform(a.geom, 4326)) AS lat, ST_X(ST_Transform(a.geom, 4326)) AS lon "
            "FROM reference_address a JOIN commune c ON c.insee = a.insee "
            "WHERE c.territory_code = :t ORDER BY a.id LIMIT 3"
        ),
        {"t": code},
    ).all()
    communes = conn.execute(
        text("SELECT insee FROM commune WHERE territory_code = :t ORDER BY insee"), {"t": code}
    ).scalars()
    epcis = conn.execute(
        text("SELECT siren FROM epci WHERE territory_code = :t ORDER BY siren"), {"t": code}
    ).scalars()

    def codes(table: str, key: str) -> list[str]:
        return list(
            conn.execute(
                text(
                    f"SELECT min(x.{key}), max(x.{key}) FROM {table} x "
                    "JOIN commune c ON c.insee = x.insee WHERE c.territory_code = :t"
                ),
                {"t": code},
            ).one()
        )

    commune_list, epci_list = list(communes), list(epcis)
    return {
        "adresses": [f"{r.voie} {r.commune_nom}" for r in [*premises, *ban]],
        "points": [(float(r.lat), float(r.lon)) for r in [*premises, *ban]],
        "communes": [commune_list[0], commune_list[len(commune_list) // 2], commune_list[-1]],
        "epci": [epci_list[0], epci_list[-1]],
        "pm": list(
            conn.execute(
                text("SELECT min(reference), max(reference) FROM pm WHERE territory_code = :t"),
                {"t": code},
            ).one()
        ),
        "sites-mobiles": codes("mobile_site", "code"),
        "bornes-wifi": codes("wifi_borne", "code"),
        "med": codes("med_site", "code"),
    }


def python_figures(conn: Connection, code: str, samples: dict[str, dict[str, Any]]) -> Figures:
    """What a user relies on, from the analysis functions, for territory `code`; the samples
    of both territories are asked (the other's must be answered as outside this one)."""
    t = code
    out: Figures = {}
    for day in (None, PAST):
        when = day.isoformat() if day else "aujourd'hui"
        on = day or TODAY
        out[f"raccordables {when}"] = answer(raccordables, conn, territory=t, as_of=day)
        out[f"raccordables avec AMII {when}"] = answer(
            raccordables, conn, territory=t, as_of=day, levels=("departement",), include_amii=True
        )
        out[f"armoires {when}"] = answer(progress.armoires, conn, territory=t, as_of=day)
        out[f"armoires résumé {when}"] = answer(
            progress.armoires_summary, conn, territory=t, as_of=day
        )
        out[f"onéreuses {when}"] = answer(onereuses.onereuses, conn, territory=t, as_of=day)
        out[f"liste opérateur en attente {when}"] = answer(
            onereuses.operator_list_pending, conn, territory=t, as_of=day
        )
        out[f"oubliés zones terminées {when}"] = answer(
            oublies.in_finished_zones, conn, territory=t, as_of=day
        )
        out[f"RAD {when}"] = answer(rad.rad_list, conn, territory=t, as_of=day)
        out[f"RAD par EPCI {when}"] = answer(
            rad.rad_counts, conn, territory=t, level="epci", as_of=day
        )
        out[f"programmes {when}"] = answer(programme_indicators, conn, t, as_of=on)
        out[f"sites mobiles {when}"] = answer(mobile.mobile_sites, conn, t, as_of=on)
        out[f"bornes WiFi {when}"] = answer(wifi.wifi_bornes, conn, t, as_of=on)
        out[f"couverture WiFi {when}"] = answer(wifi.coverage, conn, t, as_of=on)
        out[f"MED {when}"] = answer(med.med_sites, conn, t, as_of=on)
        out[f"taux de souscription {when}"] = answer(take_up.take_up, conn, territory=t, as_of=day)
        out[f"échanges frontaliers {when}"] = answer(
            take_up.border_exchanges, conn, territory=t, as_of=day
        )
        out[f"délais de rétablissement {when}"] = answer(
            operations.restoration_delays, conn, territory=t, as_of=day
        )
    out["oubliés absents du fichier opérateur"] = answer(
        oublies.missing_from_operator, conn, territory=t
    )
    out["comparaison liste opérateur"] = answer(onereuses.compare_with_operator, conn, territory=t)
    out["équité"] = answer(onereuses.equity, conn, territory=t)
    out["avancement département"] = answer(
        progress.progress, conn, territory=t, level="departement", code=t
    )
    out["incidents"] = answer(operations.list_incidents, conn, territory=t)
    out["contrôles PM"] = answer(operations.list_controls, conn, territory=t)
    out["cuivre par commune"] = answer(cuivre.copper_by_commune, conn, t)
    out["écarts ARCEP"] = answer(controle_arcep.arcep_differences, conn, t)
    out["index des élus"] = answer(unit_report.index_rows, conn, t, today=TODAY)
    out["comptes"] = portable(
        conn.execute(
            text(
                "SELECT (SELECT count(*) FROM premise p JOIN commune c ON c.insee = p.insee "
                "        WHERE c.territory_code = :t AND p.removed_on IS NULL) AS immeubles, "
                "       (SELECT count(*) FROM pm WHERE territory_code = :t) AS pm, "
                "       (SELECT count(*) FROM nro WHERE territory_code = :t) AS nro"
            ),
            {"t": t},
        )
        .mappings()
        .one()
    )
    with territory_results():  # the territory-wide lists computed once for all the pages
        for each in samples.values():
            for insee in each["communes"]:
                out[f"page élu commune {insee}"] = answer(
                    lambda i: unit_report.unit_report(
                        conn, t, unit_report.commune_unit(conn, t, i), today=TODAY
                    ),
                    insee,
                )
            for siren in each["epci"]:
                out[f"page élu EPCI {siren}"] = answer(
                    lambda s: unit_report.unit_report(
                        conn, t, unit_report.epci_unit(conn, t, s), today=TODAY
                    ),
                    siren,
                )
    for each in samples.values():
        for lat, lon in each["points"]:
            out[f"quand ? au point {lat:.6f},{lon:.6f}"] = answer(
                quand.quand_point, conn, lat=lat, lon=lon, territory=t
            )
        for typed in each["adresses"]:
            out[f"quand ? à « {typed} »"] = answer(quand.quand_address, conn, typed, territory=t)
        for code_site in each["sites-mobiles"]:
            out[f"site mobile {code_site}"] = answer(
                mobile.mobile_site, conn, t, code_site, as_of=TODAY
            )
        for code_borne in each["bornes-wifi"]:
            out[f"borne {code_borne}"] = answer(wifi.wifi_borne, conn, t, code_borne, as_of=TODAY)
        for code_med in each["med"]:
            out[f"MED {code_med}"] = answer(med.med_site, conn, t, code_med, as_of=TODAY)
    return out


def page_values(html: str) -> list[str]:
    """The figures an élu page carries (indicator names and raw values), in page order."""
    return re.findall(r'data-(?:indicateur|valeur)="([^"]*)"', html)


def api_figures(
    client: TestClient, headers: dict[str, str], code: str, samples: dict[str, dict[str, Any]]
) -> Figures:
    """The same questions through the public API of an app set to territory `code`."""
    out: Figures = {}

    def get(path: str, auth: bool = False, **params: Any) -> Any:
        response = client.get(path, params=params, headers=headers if auth else None)
        kind = response.headers.get("content-type", "")
        if kind.startswith("application/json") or kind.startswith("application/geo+json"):
            return [response.status_code, portable(response.json())]
        if kind.startswith("text/html"):
            return [response.status_code, page_values(response.text)]
        return [response.status_code, response.text]

    for day in (None, PAST.isoformat()):
        when = day or "aujourd'hui"
        extra = {"as_of": day} if day else {}
        for level in ("departement", "epci", "commune", "pm", "nro"):
            out[f"stats/raccordables {level} {when}"] = get(
                "/api/v1/stats/raccordables", level=level, **extra
            )
        out[f"stats/armoires {when}"] = get("/api/v1/stats/armoires", **extra)
        out[f"stats/programmes {when}"] = get("/api/v1/stats/programmes", **extra)
        out[f"sites-mobiles {when}"] = get("/api/v1/sites-mobiles", **extra)
        out[f"bornes-wifi {when}"] = get("/api/v1/bornes-wifi", **extra)
        out[f"med {when}"] = get("/api/v1/med", **extra)
        out[f"prises/oublies {when}"] = get("/api/v1/prises/oublies", auth=True, **extra)
        out[f"prises/rad {when}"] = get("/api/v1/prises/rad", auth=True, **extra)
        out[f"prises/rad communes {when}"] = get("/api/v1/prises/rad", level="commune", **extra)
        out[f"prises/onereuses/operateur {when}"] = get(
            "/api/v1/prises/onereuses/operateur", **extra
        )
    out["prises/onereuses"] = get("/api/v1/prises/onereuses", auth=True)
    out["stats/progress"] = get("/api/v1/stats/progress")
    out["communes (index des élus)"] = get("/communes")
    for owner, each in samples.items():
        # a page is rendered (with its maps) for one commune of its own; the other
        # territory's communes and EPCI are asked too (unknown here)
        pages = [f"/communes/{i}" for i in each["communes"]]
        pages += [f"/epci/{s}" for s in each["epci"]]
        for page in pages[:1] if owner == code else pages:
            out[page] = get(page)
        for insee in each["communes"]:
            out[f"stats/programmes commune {insee}"] = get(
                "/api/v1/stats/programmes", level="commune", code=insee
            )
        for lat, lon in each["points"]:
            out[f"quand ? au point {lat:.6f},{lon:.6f}"] = get("/api/v1/quand", lat=lat, lon=lon)
        for typed in each["adresses"]:
            out[f"quand ? à « {typed} »"] = get("/api/v1/quand", adresse=typed)
        for kind in ("sites-mobiles", "bornes-wifi", "med"):
            for object_code in each[kind]:
                out[f"{kind}/{object_code}"] = get(f"/api/v1/{kind}/{object_code}")
        for reference in each["pm"]:
            out[f"pm/{reference}"] = get(f"/api/v1/pm/{reference}", auth=True)
    return out


def sample_of(url: str, code: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return sample(conn, code)
    finally:
        engine.dispose()


def figures_of(url: str, code: str, samples: dict[str, dict[str, Any]]) -> Figures:
    """Python and API figures of territory `code` in the database at `url` (nothing kept: the
    staff account the non-public lists need is rolled back)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            operator = cli_actor("tests", code)
            nom = f"technicien-{code}"
            users.add_user(
                conn, operator, nom, role="technicien", territory=code, password=STAFF_PASSWORD
            )
            headers = {"Authorization": f"Bearer {users.issue_token(conn, operator, nom)}"}
            out = {f"python {k}": v for k, v in python_figures(conn, code, samples).items()}
            clear_shared_cache(url)
            app = create_app(Settings(database_url=url, departement=code))
            session = Session(bind=conn, join_transaction_mode="create_savepoint")
            app.dependency_overrides[get_session] = lambda: session
            with TestClient(app) as client:
                api = api_figures(client, headers, code, samples)
            session.close()
            trans.rollback()
    finally:
        engine.dispose()
    return out | {f"api {k}": v for k, v in api.items()}


# --- the databases --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def study(demo_url: str, copy_of_demo: Callable[[str], str]) -> Iterator[Study]:
    """Each territory's figures alone, after 46 then 48, and after 48 then 46. The Lot alone is
    the suite's demo database; the 48-alone database then receives the Lot (48 then 46), while
    a copy of the demo database receives 48 (two loads at a time: PostgreSQL does the work)."""
    first_48 = create_scratch_database("t48", territories=())
    first_46 = copy_of_demo("t46")
    demo_files("48")  # written once, before both loads read it
    only_48 = None
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            alone_48 = pool.submit(load_territory, first_48, "48")
            both = pool.submit(load_territory, first_46, "48")
            samples = {"46": sample_of(demo_url, "46")}
            alone_48.result()
            # 48 alone is read on a copy while the Lot is loaded after it
            only_48 = copy_database(first_48, "t48seul")
            then_46 = pool.submit(load_territory, first_48, "46")
            samples["48"] = sample_of(only_48, "48")
            result: dict[str, dict[str, Figures]] = {
                ALONE: {
                    "46": figures_of(demo_url, "46", samples),
                    "48": figures_of(only_48, "48", samples),
                }
            }
            both.result()
            asked = {
                (FIRST_46, c): pool.submit(figures_of, first_46, c, samples) for c in TERRITORIES
            }
            then_46.result()
            asked |= {
                (FIRST_48, c): pool.submit(figures_of, first_48, c, samples) for c in TERRITORIES
            }
            for (order, code), future in asked.items():
                result.setdefault(order, {})[code] = future.result()
        yield Study(samples, result)
    finally:
        for url in (first_48, first_46, only_48):
            if url is not None:
                drop_database(url)


@pytest.mark.parametrize("order", [FIRST_46, FIRST_48])
@pytest.mark.parametrize("code", TERRITORIES)
def test_each_territory_keeps_the_figures_it_has_alone(study: Study, order: str, code: str) -> None:
    alone, together = study.figures[ALONE][code], study.figures[order][code]
    assert sorted(together) == sorted(alone)
    differing = sorted(k for k in alone if together[k] != alone[k])
    shown = {k: (repr(alone[k])[:300], repr(together[k])[:300]) for k in differing[:5]}
    assert differing == [], shown


@pytest.mark.parametrize("code", TERRITORIES)
def test_the_figures_compared_are_not_empty(study: Study, code: str) -> None:
    """The comparison means something: each territory has premises, PM and NRO, raccordables
    per commune, expensive and forgotten premises, mobile sites, and answers « quand ? » at its
    own points (the other territory's are outside it)."""
    alone = study.figures[ALONE][code]
    counts = alone["python comptes"]
    assert min(counts["immeubles"], counts["pm"], counts["nro"]) > 0
    dept = alone["python raccordables aujourd'hui"]
    assert [r["code"] for r in dept if r["level"] == "departement"] == [code]
    assert min(len(alone[f"python {k} aujourd'hui"]) for k in ("onéreuses", "sites mobiles")) > 0
    assert len(alone["python oubliés zones terminées 2021-12-31"]) > 0
    status, communes = alone["api stats/raccordables commune aujourd'hui"]
    assert status == 200 and len(communes) > 0
    statuses = {
        owner: {alone[f"api quand ? au point {lat:.6f},{lon:.6f}"][0] for lat, lon in s["points"]}
        for owner, s in study.samples.items()
    }
    other = next(t for t in TERRITORIES if t != code)
    assert statuses[code] == {200} and statuses[other] == {404}


def insees_in(value: Any) -> set[str]:
    """Every INSEE code an answer names: values of the `insee`/`code_insee` keys and the codes
    of commune rows, anywhere in it."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("insee", "code_insee") and isinstance(item, str):
                found.add(item)
            elif key == "code" and value.get("level") == "commune" and isinstance(item, str):
                found.add(item)
            else:
                found |= insees_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= insees_in(item)
    return found


@pytest.mark.parametrize("order", [FIRST_46, FIRST_48])
@pytest.mark.parametrize("code", TERRITORIES)
def test_no_row_of_the_other_territory_shows(study: Study, order: str, code: str) -> None:
    together = study.figures[order][code]
    named = insees_in(list(together.values()))
    assert len(named) > 10
    assert sorted(i for i in named if not i.startswith(code)) == []
    # the other territory's communes, EPCI, PM and programme objects are unknown to this
    # territory's API, and its points are outside it
    other = study.samples[next(t for t in TERRITORIES if t != code)]
    asked = [f"api /communes/{i}" for i in other["communes"]]
    asked += [f"api /epci/{s}" for s in other["epci"]]
    asked += [f"api pm/{r}" for r in other["pm"]]
    asked += [f"api {k}/{c}" for k in ("sites-mobiles", "bornes-wifi", "med") for c in other[k]]
    asked += [f"api quand ? au point {lat:.6f},{lon:.6f}" for lat, lon in other["points"]]
    assert {together[k][0] for k in asked} == {404}
