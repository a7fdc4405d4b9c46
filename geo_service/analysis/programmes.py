"""The three programmes beside fibre side by side for one unit (commune, EPCI or département),
each compared with the département: what the API's /stats/programmes, the CLI and the élu pages
show."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service.analysis.med import med_indicators
from geo_service.analysis.mobile import LEVELS, mobile_indicators
from geo_service.analysis.wifi import wifi_indicators
from geo_service.errors import InvalidParameterError, NotFoundError
from geo_service.reference import sources

_UNIT = {
    "commune": "SELECT nom FROM commune WHERE territory_code = :t AND insee = :c",
    "departement_membre": "SELECT d FROM territory, unnest(departements) AS d"
    " WHERE code = :t AND d = :c",
    "epci": "SELECT e.nom FROM epci e WHERE e.siren = :c AND EXISTS (SELECT 1 FROM commune c"
    " WHERE c.epci_siren = e.siren AND c.territory_code = :t)",
}


def unit_name(conn: Connection, territory: str, level: str, code: str | None) -> str | None:
    """The unit's name (None for the département); NotFoundError when it is not in the territory."""
    if level not in LEVELS:
        raise InvalidParameterError(f"Niveau inconnu « {level} » (attendu : {', '.join(LEVELS)}).")
    if level == "departement":
        return None
    if not code:
        raise InvalidParameterError(f"Le niveau « {level} » demande un code.")
    name = conn.execute(text(_UNIT[level]), {"t": territory, "c": code}).scalar_one_or_none()
    if name is None:
        what = {"commune": "Commune", "epci": "EPCI"}.get(level, "Département")
        raise NotFoundError(f"{what} « {code} » inconnu(e) sur ce territoire.")
    if level == "departement_membre":
        return sources.departement(str(name)).nom
    return str(name)


def summary(figures: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of one unit's indicators (for the comparison with the département)."""
    mob, wf, md = figures["mobile"], figures["wifi"], figures["med"]
    return {
        "sites_mobiles": mob["sites"],
        "sites_mobiles_en_service": mob["pipeline"].get("EN_SERVICE", 0),
        "sites_mobiles_en_retard": len(mob["en_retard"]),
        "bornes_wifi_en_service": wf["bornes_en_service"],
        "communes_avec_borne": wf["communes_avec_borne"],
        "part_logements_couverts_wifi": wf["part_logements_couverts"],
        "sites_med": md["sites"],
        "sites_med_ouverts": md["ouverts"],
        "foyers_med_desservis": md["foyers_desservis"],
    }


def _of(
    conn: Connection, territory: str, as_of: date, level: str, code: str | None
) -> dict[str, Any]:
    scope = {"as_of": as_of, "level": level, "code": code}
    return {
        "mobile": mobile_indicators(conn, territory, **scope),  # type: ignore[arg-type]
        "wifi": wifi_indicators(conn, territory, **scope),  # type: ignore[arg-type]
        "med": med_indicators(conn, territory, **scope),  # type: ignore[arg-type]
    }


def programme_indicators(
    conn: Connection,
    territory: str,
    *,
    as_of: date,
    level: str = "departement",
    code: str | None = None,
) -> dict[str, Any]:
    """{as_of, niveau, code, nom, mobile, wifi, med, resume, departement}: the unit's mobile,
    WiFi and MED indicators on `as_of`, their headline numbers, and the département's headline
    numbers to compare with (None when the unit is the département)."""
    name = unit_name(conn, territory, level, code)
    own = _of(conn, territory, as_of, level, code)
    whole = (
        None
        if level == "departement"
        else summary(_of(conn, territory, as_of, "departement", None))
    )
    return {
        "as_of": as_of,
        "niveau": level,
        "code": code or territory,
        "nom": name,
        **own,
        "resume": summary(own),
        "departement": whole,
    }


def unit_programmes(
    conn: Connection,
    territory: str,
    *,
    level: str,
    code: str,
    as_of: date,
    insees: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """`programme_indicators` of a commune or EPCI plus its lists on `as_of` (mobile sites,
    bornes, MED cabinets) under `listes`, and the copper switch-off calendar of its communes
    (`insees`) under `cuivre`, for the élu page."""
    from geo_service.analysis.cuivre import copper_by_commune
    from geo_service.analysis.med import med_sites
    from geo_service.analysis.mobile import mobile_sites
    from geo_service.analysis.wifi import wifi_bornes

    figures = programme_indicators(conn, territory, as_of=as_of, level=level, code=code)
    insee = code if level == "commune" else None
    epci = code if level == "epci" else None
    dep = code if level == "departement_membre" else None
    figures["listes"] = {
        "mobiles": mobile_sites(
            conn, territory, as_of=as_of, insee=insee, epci=epci, departement=dep
        ),
        "bornes": wifi_bornes(
            conn, territory, as_of=as_of, insee=insee, epci=epci, departement=dep
        ),
        "med": med_sites(conn, territory, as_of=as_of, insee=insee, epci=epci, departement=dep),
    }
    wanted = set(insees) or {code}
    figures["cuivre"] = [c for c in copper_by_commune(conn, territory) if c["insee"] in wanted]
    return figures
