"""Links between our mobile sites and ANFR stations, and the service date they give.

A New Deal site without a link from ARCEP's sites file (`id_station_anfr`) is linked to the
nearest ANFR station of one of the operators it hosts, within a distance (500 m by default,
`GEO_SERVICE_DISTANCE_LIEN_ANFR_M`). "In service since" is then the earliest service date of
the linked stations' emitters, unless the register gives one."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service.analysis.lifecycle import state_as_of
from geo_service.analysis.mobile import MOBILE_LIFECYCLE
from geo_service.db.changes import log_change

log = logging.getLogger(__name__)

_IN_TERRITORY = "JOIN commune c ON c.insee = s.insee AND c.territory_code = :t"
# the operators hosted by site s include the station's operator a (names compared in capitals)
_HOSTED = (
    "EXISTS (SELECT 1 FROM unnest(string_to_array(s.operateurs, ',')) o"
    " WHERE upper(trim(o)) = upper(trim(a.exploitant)))"
)
_NEAREST = f"""
SELECT s.code, n.sta_nm_anfr, n.distance_m
FROM mobile_site s {_IN_TERRITORY}
CROSS JOIN LATERAL (
    SELECT a.sta_nm_anfr, ST_Distance(p.geom, s.geom) AS distance_m
    FROM anfr_station a
    JOIN anfr_station_support sp ON sp.sta_nm_anfr = a.sta_nm_anfr
    JOIN anfr_support p ON p.sup_id = sp.sup_id
    WHERE ST_DWithin(p.geom, s.geom, :d) AND {_HOSTED}
    ORDER BY p.geom <-> s.geom, a.sta_nm_anfr LIMIT 1
) n
WHERE s.programme = 'NEW_DEAL' AND s.operateurs IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM mobile_site_station l
                  WHERE l.site_code = s.code AND l.methode IN ('ARCEP', 'REGISTRE'))
"""
# earliest service of each linked site's stations: their emitters' dates from the arrêté on
# (an older emitter of a shared support predates the site), else the station's own date
_SERVICE = f"""
SELECT s.code, min(COALESCE(m.first_service, CASE WHEN a.date_en_service
                   >= COALESCE(s.date_arrete, '-infinity'::date) THEN a.date_en_service END)) AS depuis
FROM mobile_site s {_IN_TERRITORY}
JOIN mobile_site_station l ON l.site_code = s.code
JOIN anfr_station a ON a.sta_nm_anfr = l.sta_nm_anfr
LEFT JOIN LATERAL (
    SELECT min(e.date_service) AS first_service FROM anfr_emetteur e
    WHERE e.sta_nm_anfr = a.sta_nm_anfr
      AND e.date_service >= COALESCE(s.date_arrete, '-infinity'::date)
) m ON true
WHERE s.date_mise_en_service IS NULL OR s.source_mise_en_service IN ('ANFR', 'DCC')
GROUP BY s.code
"""
_SITE_DATES = ", ".join(MOBILE_LIFECYCLE.fields)


def default_distance_m() -> float:
    """The proximity distance of the settings (GEO_SERVICE_DISTANCE_LIEN_ANFR_M, default 500)."""
    from geo_service.settings import Settings

    return float(Settings().distance_lien_anfr_m)


def _import_user(conn: Connection, import_id: int | None) -> str:
    if import_id is not None:
        name = conn.execute(
            text("SELECT user_name FROM import_journal WHERE id = :j"), {"j": import_id}
        ).scalar()
        if name:
            return str(name)
    from geo_service.ingest.journal import current_user

    return current_user()


def link_sites(
    conn: Connection,
    territory: str,
    *,
    import_id: int | None,
    max_distance_m: float | None = None,
    user: str | None = None,
    today: date | None = None,
) -> int:
    """Link the territory's New Deal sites without an ARCEP (or register) link to the nearest
    ANFR station of a hosted operator within `max_distance_m` (method PROXIMITE, with the
    distance), then date the service of linked sites from ANFR where the register gives no
    date (history in asset_change). Returns the number of proximity links created or changed."""
    distance = default_distance_m() if max_distance_m is None else float(max_distance_m)
    user = user or _import_user(conn, import_id)
    nearest = {r.code: r for r in conn.execute(text(_NEAREST), {"t": territory, "d": distance})}
    current = {
        (r.site_code, r.sta_nm_anfr): r.distance_m
        for r in conn.execute(
            text(
                "SELECT l.site_code, l.sta_nm_anfr, l.distance_m FROM mobile_site_station l"
                f" JOIN mobile_site s ON s.code = l.site_code {_IN_TERRITORY}"
                " WHERE l.methode = 'PROXIMITE'"
            ),
            {"t": territory},
        )
    }
    wanted = {(code, r.sta_nm_anfr): r.distance_m for code, r in nearest.items()}
    stale = [key for key in current if key not in wanted]
    for site_code, station in stale:
        _log_link(conn, site_code, station, current[site_code, station], None, user, import_id)
        conn.execute(
            text(
                "DELETE FROM mobile_site_station WHERE site_code = :s AND sta_nm_anfr = :a"
                " AND methode = 'PROXIMITE'"
            ),
            {"s": site_code, "a": station},
        )
    changed = 0
    for (site_code, station), metres in wanted.items():
        if (site_code, station) in current and abs(current[site_code, station] - metres) < 0.01:
            continue
        conn.execute(
            text(
                "INSERT INTO mobile_site_station (site_code, sta_nm_anfr, methode, distance_m,"
                " import_id) VALUES (:s, :a, 'PROXIMITE', :m, :j) ON CONFLICT (site_code,"
                " sta_nm_anfr) DO UPDATE SET methode = 'PROXIMITE', distance_m = EXCLUDED.distance_m,"
                " import_id = EXCLUDED.import_id"
            ),
            {"s": site_code, "a": station, "m": metres, "j": import_id},
        )
        _log_link(
            conn, site_code, station, current.get((site_code, station)), metres, user, import_id
        )
        changed += 1
    dated = date_service_from_anfr(conn, territory, import_id=import_id, user=user, today=today)
    log.debug("liens ANFR : %s lien(s) de proximité, %s date(s) de mise en service", changed, dated)
    return changed


def _log_link(
    conn: Connection,
    site_code: str,
    station: str,
    before: float | None,
    after: float | None,
    user: str,
    import_id: int | None,
) -> None:
    """History of a proximity link (created, moved or removed)."""
    log_change(
        conn,
        table="mobile_site_station",
        key=f"{site_code}/{station}",
        user=user,
        before=None if before is None else {"methode": "PROXIMITE", "distance_m": before},
        after={} if after is None else {"methode": "PROXIMITE", "distance_m": after},
        import_id=import_id,
    )


def date_service_from_anfr(
    conn: Connection,
    territory: str,
    *,
    import_id: int | None,
    user: str,
    today: date | None = None,
) -> int:
    """Set date_mise_en_service (source ANFR) and the current state of the territory's linked
    sites whose service date is unknown or came from ANFR or the DCC file; returns how many
    sites changed (each change in asset_change)."""
    today = today or date.today()
    found = {
        r.code: r.depuis
        for r in conn.execute(text(_SERVICE), {"t": territory})
        if r.depuis is not None and r.depuis <= today
    }
    if not found:
        return 0
    rows = conn.execute(
        text(
            f"SELECT code, etat, source_mise_en_service, {_SITE_DATES} FROM mobile_site"
            " WHERE code = ANY(:codes)"
        ),
        {"codes": list(found)},
    ).mappings()
    changed = 0
    for row in rows:
        before: dict[str, Any] = dict(row)
        if before["date_mise_en_service"] == found[row["code"]]:
            continue
        after = {**before, "date_mise_en_service": found[row["code"]]}
        after["source_mise_en_service"] = "ANFR"
        building = before["date_construction"]
        if building is not None and building > after["date_mise_en_service"]:
            after["date_construction"] = None  # a start "at the latest" that ANFR contradicts
        after["etat"] = state_as_of(MOBILE_LIFECYCLE, after, today) or before["etat"]
        conn.execute(
            text(
                "UPDATE mobile_site SET date_mise_en_service = :d, source_mise_en_service = 'ANFR',"
                " date_construction = :b, etat = :e WHERE code = :c"
            ),
            {
                "d": after["date_mise_en_service"],
                "b": after["date_construction"],
                "e": after["etat"],
                "c": row["code"],
            },
        )
        keys = ("etat", "date_construction", "date_mise_en_service", "source_mise_en_service")
        log_change(
            conn,
            table="mobile_site",
            key=row["code"],
            user=user,
            before={k: before[k] for k in keys},
            after={k: after[k] for k in keys},
            valid_from=after["date_mise_en_service"],
            import_id=import_id,
        )
        changed += 1
    return changed
