"""« Quand ? » : the state of fibre at an address (or a map point) in plain French, with the
nearby MED, WiFi and mobile facts and the satellite-aid hint. Never returns personal data."""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, TextClause, text

from geo_service.analysis.cuivre import copper_for_quand
from geo_service.analysis.lifecycle import state_sql
from geo_service.analysis.med import MED_LIFECYCLE
from geo_service.analysis.mobile import DEADLINE_SQL, LATE_SQL
from geo_service.analysis.mobile import STATE_SQL as SITE_STATE
from geo_service.analysis.street_index import street_index
from geo_service.analysis.wifi import STATE_SQL as BORNE_STATE
from geo_service.errors import InvalidParameterError, NotFoundError
from geo_service.sql import statements

MAX_DISTANCE_M = 300  # beyond this, the nearest premise is not "here"
SATELLITE_HORIZON = timedelta(days=730)


CANDIDATE_STREETS = 10
STREETS_WALKED = (
    50  # nearest streets read from the trigram index (ties at the edge rarely exceed it)
)
SIMILARITY_THRESHOLD = 0.25
NEAR_BEST = 0.9  # a street scoring at least 90 % of the best one may hold the typed number
# "12", "12 bis", "12b", "12, " at the start of the query; a complement is compared on its first
# letter (b/bis, t/ter, q/quater, or a letter such as "a").
_HOUSE_NUMBER = re.compile(
    r"^(\d{1,4})\s*(bis|ter|quater|quinquies|[a-z](?![a-zà-ÿ'-]))?[\s,]+(.*)$", re.IGNORECASE
)
_POSTCODE = re.compile(r"(?<!\d)\d{5}(?!\d)")
# the typed street as the search compares it (PostgreSQL's unaccent), and the street table's
# last id (the in-memory index is read again when the table has grown)
_SPELLED = text("SELECT lower(unaccent(CAST(:q AS text))), (SELECT max(id) FROM address_street)")


# The nearest premise of the territory to the point `here.g` (at a border, a neighbouring
# territory's premise is not this service's to answer for), with the day it became raccordable for the last
# time (the first DEPLOYE of its history after its last other state).
_NEAREST = """
SELECT p.id, p.identifiant_immeuble, p.etat, p.amii, p.pm_reference,
       concat_ws(' ', p.numero, p.complement, p.type_voie, p.nom_voie) AS adresse,
       p.logements, ST_Distance(p.geom, here.g) AS distance_m,
       ST_X(ST_Transform(p.geom, 4326)) AS lon, ST_Y(ST_Transform(p.geom, 4326)) AS lat,
       (SELECT min(h.valid_from) FROM premise_history h
        WHERE h.premise_id = p.id AND h.etat = 'DEPLOYE' AND NOT h.removed
          AND h.valid_from > COALESCE((SELECT max(o.valid_from) FROM premise_history o
                                       WHERE o.premise_id = p.id AND o.etat <> 'DEPLOYE'),
                                      '0001-01-01')) AS depuis
FROM (
    SELECT * FROM premise p
    WHERE p.removed_on IS NULL
      AND p.insee IN (SELECT c.insee FROM commune c WHERE c.territory_code = :t)
    ORDER BY p.geom <-> here.g LIMIT 1
) p
"""

MED_STATE = state_sql(MED_LIFECYCLE, "m")
# Nearby programmes, in the territory and as they stand today: the MED cabinet of the commune,
# the nearest borne in service (covering the point or not), the nearest mobile site with its
# stage and legal deadline.
_FACTS = f"""
WITH here AS (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154) AS g)
SELECT
  (SELECT json_build_object('nom', m.nom, 'distance_m', round(ST_Distance(m.geom, here.g)),
          'foyers', m.foyers, 'etat', COALESCE({MED_STATE}, 'PROJET'),
          'ouverture', m.date_ouverture, 'ouverture_prevue', m.date_ouverture > :as_of)
     FROM med_site m JOIN commune mc ON mc.insee = m.insee AND mc.territory_code = :t
     WHERE ST_Contains(mc.geom, here.g) ORDER BY m.geom <-> here.g LIMIT 1) AS med,
  (SELECT json_build_object('nom', b.nom, 'distance_m', round(ST_Distance(b.geom, here.g)),
          'rayon_m', b.rayon_m, 'couvert', ST_DWithin(b.geom, here.g, b.rayon_m))
     FROM wifi_borne b JOIN commune bc ON bc.insee = b.insee AND bc.territory_code = :t
     WHERE {BORNE_STATE} = 'EN_SERVICE' ORDER BY b.geom <-> here.g LIMIT 1) AS wifi,
  (SELECT json_build_object('nom', s.nom, 'distance_m', round(ST_Distance(s.geom, here.g)),
          'etat', {SITE_STATE}, 'programme', s.programme,
          'mise_en_service', s.date_mise_en_service, 'echeance', {DEADLINE_SQL},
          'en_retard', COALESCE({LATE_SQL}, false))
     FROM mobile_site s JOIN commune sc ON sc.insee = s.insee AND sc.territory_code = :t
     WHERE {SITE_STATE} IS NOT NULL AND {SITE_STATE} <> 'ABANDONNE'
     ORDER BY s.geom <-> here.g LIMIT 1) AS mobile,
  (SELECT json_build_object('insee', c.insee, 'nom', c.nom, 'amii', c.amii, 'territoire', c.territory_code)
     FROM commune c WHERE ST_Contains(c.geom, here.g) LIMIT 1) AS commune,
  (SELECT json_build_object('reference', pm.reference, 'date_prevue', pm.date_prevue, 'etat', pm.etat)
     FROM pm WHERE ST_Contains(pm.zone, here.g) LIMIT 1) AS zone,
  p.*
FROM here
LEFT JOIN LATERAL ({_NEAREST}) p ON true
"""

# A BAN address at the point (a suggestion picked) that the operator's file lacks, as the
# oubliés judge it: no premise with its address code, its number and street, or within 5 m.
BAN_AT_M = 2.0
BAN_KNOWN_M = 5.0
# A BAN address the operator's file lacks: the nearest reference address within BAN_AT_M of
# the point, then (a second query: one with the nearest search inside cost ~36 ms of planning on
# every call) no premise within BAN_KNOWN_M of it, none filed under its id, none at the same
# number and street.
_BAN_NEAREST = """
SELECT a.id, a.insee, COALESCE(a.numero, '') AS numero,
       lower(unaccent(COALESCE(a.nom_voie, ''))) AS voie,
       concat_ws(' ', a.numero, a.rep, a.nom_voie) AS adresse,
       ST_X(ST_Transform(a.geom, 4326)) AS lon, ST_Y(ST_Transform(a.geom, 4326)) AS lat
FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154) AS g) q
CROSS JOIN LATERAL (SELECT * FROM reference_address a ORDER BY a.geom <-> q.g LIMIT 1) a
WHERE ST_DWithin(a.geom, q.g, :at)
"""
_BAN_KNOWN = """
SELECT EXISTS (
    SELECT 1 FROM premise p, reference_address a
    WHERE a.id = :id AND p.removed_on IS NULL AND ST_DWithin(p.geom, a.geom, :known)
) OR EXISTS (SELECT 1 FROM premise p WHERE p.code_adresse = :id AND p.removed_on IS NULL)
OR EXISTS (
    SELECT 1 FROM premise p
    WHERE p.insee = :insee AND p.removed_on IS NULL AND COALESCE(p.numero, '') = :numero
      AND lower(unaccent(COALESCE(p.type_voie || ' ', '') || COALESCE(p.nom_voie, ''))) = :voie
)
"""


# compiled once: text() parses its bind parameters with a regular expression on every call
_FACTS_SQL = text(_FACTS)
_BAN_NEAREST_SQL = text(_BAN_NEAREST)
_BAN_KNOWN_SQL = text(_BAN_KNOWN)


@cache
def _search_statement(source: str) -> TextClause:
    """The address search with its streets from `source` (a statement of address_search.sql)."""
    sql = statements("address_search")
    return text(f"WITH {sql[source]},\n{sql['premises']}")


def _ban_only_address(conn: Connection, lat: float, lon: float) -> dict[str, Any] | None:
    """The BAN address at this point when no premise of the operator's file stands for it."""
    found = (
        conn.execute(_BAN_NEAREST_SQL, {"lat": lat, "lon": lon, "at": BAN_AT_M}).mappings().first()
    )
    if found is None:
        return None
    params = {k: found[k] for k in ("id", "insee", "numero", "voie")} | {"known": BAN_KNOWN_M}
    if conn.execute(_BAN_KNOWN_SQL, params).scalar():
        return None
    return dict(found)


def quarter(day: date) -> str:
    """« 3e trimestre 2025 »."""
    q = (day.month - 1) // 3 + 1
    return f"{'1er' if q == 1 else f'{q}e'} trimestre {day.year}"


def _fr(day: date | None) -> str:
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]  # fmt: skip
    return f"{day.day} {months[day.month - 1]} {day.year}" if day else ""


def _answer(
    premise: dict[str, Any] | None,
    zone: dict[str, Any] | None,
    commune: dict[str, Any],
) -> dict[str, Any]:
    today = date.today()
    planned = None
    if zone and zone.get("date_prevue"):
        planned = date.fromisoformat(str(zone["date_prevue"]))
    if commune.get("amii") or (premise and premise["amii"]):
        if premise and premise["etat"] == "DEPLOYE":
            text_ = "Zone AMII : la fibre y est déployée par Orange sur ses fonds propres, hors réseau public. Cette adresse est raccordable : contactez le fournisseur d'accès de votre choix."
        else:
            text_ = "Zone AMII : la fibre y est déployée par Orange sur ses fonds propres, hors réseau public. Renseignez-vous auprès d'Orange sur le calendrier."
        return {"statut": "AMII", "reponse": text_, "fibre_prevue_sous_2_ans": True}
    if premise is None:
        return {
            "statut": "NON_COUVERT",
            "reponse": "Aucun immeuble connu du réseau public à cet endroit. S'il y a une habitation ici, signalez-la au syndicat : elle a peut-être été oubliée.",
            "fibre_prevue_sous_2_ans": False,
        }
    etat = premise["etat"]
    if etat == "DEPLOYE":
        since = premise["depuis"]
        return {
            "statut": "RACCORDABLE",
            "depuis": since,
            "reponse": f"Raccordable à la fibre depuis le {_fr(since)}. Vous pouvez souscrire un abonnement auprès du fournisseur d'accès de votre choix.",
            "fibre_prevue_sous_2_ans": True,
        }
    if etat in ("RACCORDABLE DEMANDE", "RAD EN COURS DE DEPLOIEMENT"):
        suite = (
            " Le raccordement a été demandé et il est en cours de construction."
            if etat == "RAD EN COURS DE DEPLOIEMENT"
            else ""
        )
        return {
            "statut": "A_LA_DEMANDE",
            "reponse": "Raccordable à la demande : cette adresse, coûteuse à desservir, est construite quand quelqu'un le demande. Demandez un abonnement fibre à un fournisseur d'accès : il déclenchera la construction (plusieurs mois de délai)."
            + suite,
            "fibre_prevue_sous_2_ans": True,
        }
    if etat == "ABANDONNE":
        return {
            "statut": "ABANDONNE",
            "reponse": "Cette adresse ne figure plus dans le programme de déploiement de l'opérateur. Contactez le syndicat pour connaître les solutions.",
            "fibre_prevue_sous_2_ans": False,
        }
    when = (
        f" La zone est prévue pour le {quarter(planned)}."
        if planned
        else " La date de la zone n'est pas encore fixée."
    )
    label = (
        "Travaux en cours" if etat in ("SIGNE", "EN COURS DE DEPLOIEMENT") else "Déploiement prévu"
    )
    soon = planned is not None and planned <= today + SATELLITE_HORIZON
    return {
        "statut": "EN_COURS" if etat != "CIBLE" else "PREVU",
        "trimestre_prevu": quarter(planned) if planned else None,
        "reponse": f"{label} : la fibre n'est pas encore disponible à cette adresse.{when}",
        "fibre_prevue_sous_2_ans": soon,
    }


def quand_point(conn: Connection, *, lat: float, lon: float, territory: str) -> dict[str, Any]:
    """The answer for a point of the map (nearest premise within 300 m)."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidParameterError(
            "Coordonnées invalides : latitude entre -90 et 90, longitude entre -180 et 180."
        )
    row = dict(
        conn.execute(_FACTS_SQL, {"lat": lat, "lon": lon, "t": territory, "as_of": date.today()})
        .mappings()
        .one()
    )
    commune = row["commune"]
    if commune is None or commune.get("territoire") != territory:
        raise NotFoundError("Ce point est hors du territoire couvert par ce service.")
    facts = {k: row[k] for k in ("med", "wifi", "mobile", "zone")}
    premise = None if row["id"] is None else {k: row[k] for k in row if k not in facts}
    if premise is not None and float(premise["distance_m"]) > MAX_DISTANCE_M:
        premise = None
    zone = facts.pop("zone")
    answer = _answer(premise, zone, commune)
    hint = None
    if not answer["fibre_prevue_sous_2_ans"]:
        hint = "Si votre débit actuel est inférieur à 2 Mbit/s, vous pouvez demander l'aide à l'équipement satellite : la fibre n'est pas prévue chez vous dans les deux ans."
    result = {
        "commune": {"insee": commune["insee"], "nom": commune["nom"]},
        "adresse": premise["adresse"] if premise else None,
        "immeuble": premise["identifiant_immeuble"] if premise else None,
        "logements": premise["logements"] if premise else None,
        "distance_m": round(float(premise["distance_m"]), 1) if premise else None,
        "position": {"lat": float(premise["lat"]), "lon": float(premise["lon"])}
        if premise
        else {"lat": lat, "lon": lon},
        "zone_pm": zone["reference"] if zone else (premise["pm_reference"] if premise else None),
        **answer,
        "aide_satellite": hint,
        "a_proximite": {"med": facts["med"], "wifi": facts["wifi"], "mobile": facts["mobile"]},
    }
    ban = _ban_only_address(conn, lat, lon)
    if ban is not None:
        result = _ban_only(result, dict(ban))
    result["cuivre"] = copper_for_quand(
        conn,
        territory,
        premise_id=None if ban is not None or premise is None else int(premise["id"]),
        insee=commune["insee"],
    )
    return result


def _ban_only(result: dict[str, Any], ban: dict[str, Any]) -> dict[str, Any]:
    """The answer at a BAN address the operator's file lacks: said so, with the state of the
    nearest premise (its address and building id are not this one's)."""
    nearest = (
        f" Au local connu le plus proche (à {round(result['distance_m'])} m) : {result['reponse']}"
        " S'il y a une habitation à cette adresse, signalez-la au syndicat : elle a peut-être été"
        " oubliée."
        if result["immeuble"]
        else f" {result['reponse']}"
    )
    return {
        **result,
        "adresse": ban["adresse"],
        "immeuble": None,
        "logements": None,
        "position": {"lat": float(ban["lat"]), "lon": float(ban["lon"])},
        "local_connu": False,
        "reponse": "Pas de local connu de l'opérateur à cette adresse." + nearest,
    }


def split_address(query: str) -> tuple[int | None, str, str]:
    """(house number, complement's first letter or "", the rest) of a typed address; a postcode is
    dropped, it is not part of the street names searched."""
    cleaned = " ".join(query.split())
    match = _HOUSE_NUMBER.match(cleaned)
    numero, complement, rest = None, "", cleaned
    if match and match.group(3).strip():
        numero, complement, rest = int(match.group(1)), (match.group(2) or "")[:1], match.group(3)
    street = " ".join(_POSTCODE.sub(" ", rest).split())
    return numero, complement.lower(), street or rest


def search_addresses(
    conn: Connection, query: str, *, territory: str, limit: int = 5
) -> list[dict[str, Any]]:
    """Addresses of the premises matching a free-text query (accents, case and typos tolerated;
    a leading house number picks that number on the best streets)."""
    cleaned = " ".join(query.split())
    if len(cleaned) < 3:
        raise InvalidParameterError("Adresse trop courte : tapez au moins 3 caractères.")
    numero, complement, street = split_address(cleaned)
    params: dict[str, Any] = {
        "numero": numero,
        "complement": complement,
        "t": territory,
        "n": limit,
        "streets": CANDIDATE_STREETS,
        "near": NEAR_BEST,
    }
    spelled, max_id = conn.execute(_SPELLED, {"q": street}).one()
    index = street_index(conn, territory, int(max_id or 0))
    if index is None:  # too many streets for memory, or being read: the search in PostgreSQL
        source = "streets_sql"
        params |= {"q": street, "scan": STREETS_WALKED, "threshold": SIMILARITY_THRESHOLD}
    else:
        # a few more than needed: a street gone from the table (restored database) is skipped
        best = index.best(spelled, threshold=SIMILARITY_THRESHOLD, count=3 * CANDIDATE_STREETS)
        source = "streets_given"
        params |= {"ids": [i for i, _ in best], "scores": [s for _, s in best]}
    rows = conn.execute(_search_statement(source), params).mappings().all()
    return [
        {
            "adresse": f"{r['adresse']}, {r['commune_nom']}",
            "score": round(float(r["score"]), 3),
            "lat": float(r["lat"]),
            "lon": float(r["lon"]),
        }
        for r in rows
    ]


def quand_address(conn: Connection, query: str, *, territory: str) -> dict[str, Any]:
    """The answer for the best match of a typed address, with the other candidates."""
    matches = search_addresses(conn, query, territory=territory)
    if not matches:
        raise NotFoundError(
            f"Adresse introuvable : « {query} ». Vérifiez l'orthographe ou cliquez sur la carte."
        )
    best = matches[0]
    answer = quand_point(conn, lat=best["lat"], lon=best["lon"], territory=territory)
    return {**answer, "recherche": query, "autres_adresses": matches[1:]}
