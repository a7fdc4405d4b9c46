"""Load a territory's communes and EPCI into PostGIS (idempotent, one transaction)."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
from sqlalchemy import Connection, text

from geo_service.db.base import SRID
from geo_service.errors import ReferenceDataError
from geo_service.ingest.cube import refresh_rollup
from geo_service.reference import sources
from geo_service.reference.territory_config import read_config, territory_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReferenceSummary:
    departement: str  # the territory's code
    nom: str
    departements: tuple[str, ...]
    communes: int
    epci: int
    population: int
    amii_communes: int
    changed_rows: int


def read_amii_communes(path: Path) -> set[str]:
    """INSEE codes of the AMII communes listed in a territory's `amii_communes.csv` (insee;nom)."""
    if not path.exists():
        return set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["insee"].strip() for row in csv.DictReader(handle, delimiter=";")}


_STAGE = """
CREATE TEMP TABLE stage_commune (
    insee text, nom text, population int, epci_siren text, epci_nom text, epci_type text,
    mairie_wkb text, geom_wkb text, amii boolean
) ON COMMIT DROP
"""

_UPSERT_TERRITORY = """
INSERT INTO territory (code, nom, departements, srid, source, source_version, licence, geom)
SELECT :code, :nom, CAST(:departements AS varchar[]), :srid, :source, :version, :licence,
       ST_Multi(ST_Union(ST_GeomFromWKB(decode(geom_wkb, 'hex'), :srid)))
FROM stage_commune
ON CONFLICT (code) DO UPDATE SET
    nom = EXCLUDED.nom, departements = EXCLUDED.departements, srid = EXCLUDED.srid, source = EXCLUDED.source,
    source_version = EXCLUDED.source_version, licence = EXCLUDED.licence, geom = EXCLUDED.geom,
    loaded_at = now()
WHERE (territory.nom, territory.departements, territory.source_version, territory.licence,
       territory.geom)
      IS DISTINCT FROM (EXCLUDED.nom, EXCLUDED.departements, EXCLUDED.source_version,
       EXCLUDED.licence, EXCLUDED.geom)
"""

# EPCI geometry = union of its member communes *inside the territory* (clipped by construction).
_UPSERT_EPCI = """
INSERT INTO epci (territory_code, siren, nom, type, geom)
SELECT :code, epci_siren, min(epci_nom), min(epci_type),
       ST_Multi(ST_Union(ST_GeomFromWKB(decode(geom_wkb, 'hex'), :srid)))
FROM stage_commune GROUP BY epci_siren
ON CONFLICT (territory_code, siren) DO UPDATE SET
    nom = EXCLUDED.nom, type = EXCLUDED.type, geom = EXCLUDED.geom
WHERE (epci.nom, epci.type, epci.geom) IS DISTINCT FROM (EXCLUDED.nom, EXCLUDED.type, EXCLUDED.geom)
"""

_UPSERT_COMMUNE = """
INSERT INTO commune (insee, nom, population, epci_siren, territory_code, amii, mairie, geom)
SELECT insee, nom, population, epci_siren, :code, amii,
       ST_GeomFromWKB(decode(mairie_wkb, 'hex'), :srid),
       ST_Multi(ST_GeomFromWKB(decode(geom_wkb, 'hex'), :srid))
FROM stage_commune
ON CONFLICT (insee) DO UPDATE SET
    nom = EXCLUDED.nom, population = EXCLUDED.population, epci_siren = EXCLUDED.epci_siren,
    territory_code = EXCLUDED.territory_code, amii = EXCLUDED.amii, mairie = EXCLUDED.mairie,
    geom = EXCLUDED.geom
WHERE (commune.nom, commune.population, commune.epci_siren, commune.territory_code,
       commune.amii, commune.mairie, commune.geom)
      IS DISTINCT FROM (EXCLUDED.nom, EXCLUDED.population, EXCLUDED.epci_siren,
       EXCLUDED.territory_code, EXCLUDED.amii, EXCLUDED.mairie, EXCLUDED.geom)
"""


def load_reference(conn: Connection, code: str, *, territory_dir: Path) -> ReferenceSummary:
    """Upsert the territory (its départements from `territoire.toml`, one by default), its EPCI
    (clipped) and communes; unchanged rows are left untouched. A commune belongs to one
    territory: one already loaded under another code is refused, not moved."""
    config = read_config(code, territory_dir)
    communes = sources.read_communes(config.departements)
    amii = config.amii if config.amii is not None else read_amii_communes(config.amii_file)
    unknown = amii - set(communes["insee"])
    if unknown:
        where = config.source if config.amii is not None else config.amii_file
        raise ReferenceDataError(
            f"{where} : communes AMII absentes du territoire "
            f"{code} ({', '.join(config.departements)}) : {', '.join(sorted(unknown))}"
        )
    taken = conn.execute(
        text(
            "SELECT territory_code, count(*), min(insee) FROM commune "
            "WHERE insee = ANY(:codes) AND territory_code <> :t GROUP BY territory_code"
        ),
        {"codes": communes["insee"].tolist(), "t": code},
    ).all()
    if taken:
        other = ", ".join(f"« {t} » ({n} communes, dont {first})" for t, n, first in taken)
        raise ReferenceDataError(
            f"Territoire « {code} » : des communes appartiennent déjà au territoire {other} ; "
            "une commune n'appartient qu'à un territoire (supprimez l'autre ou changez ses "
            "départements)."
        )
    projected = communes.to_crs(SRID)
    mairies = gpd.GeoSeries(communes["mairie"], crs="EPSG:4326").to_crs(SRID).set_precision(0.001)
    # Round-trip through WKB at millimetre precision so re-loads compare equal.
    geoms = projected.geometry.set_precision(0.001)
    rows = [
        (
            r.insee,
            r.nom,
            int(r.population),
            r.epci_siren,
            r.epci_nom,
            r.epci_type,
            None if m is None or m.is_empty else m.wkb_hex,
            g.wkb_hex,
            r.insee in amii,
        )
        for r, m, g in zip(communes.itertuples(), mairies, geoms, strict=True)
    ]
    conn.execute(text("DROP TABLE IF EXISTS stage_commune"))
    conn.execute(text(_STAGE))
    raw = conn.connection.driver_connection
    with raw.cursor().copy("COPY stage_commune FROM STDIN") as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)
    nom = territory_name(config)
    params = {
        "code": code,
        "nom": nom,
        "departements": list(config.departements),
        "srid": SRID,
        "source": sources.SOURCE_NAME,
        "version": sources.source_version(),
        "licence": sources.SOURCE_LICENCE,
    }
    changed = conn.execute(text(_UPSERT_TERRITORY), params).rowcount
    changed += conn.execute(text(_UPSERT_EPCI), params).rowcount
    changed += conn.execute(text(_UPSERT_COMMUNE), params).rowcount
    if changed:  # a commune may have changed EPCI, the territory its départements
        refresh_rollup(conn, code)
    changed += load_targets(conn, code, config.objectifs_file)
    conn.execute(text("ANALYZE commune; ANALYZE epci"))
    log.info("Référentiel %s chargé (%s lignes modifiées)", code, changed)
    return ReferenceSummary(
        departement=code,
        nom=nom,
        departements=config.departements,
        communes=len(communes),
        epci=communes["epci_siren"].nunique(),
        population=int(communes["population"].sum()),
        amii_communes=len(amii),
        changed_rows=changed,
    )


def load_targets(conn: Connection, departement: str, path: Path) -> int:
    """Replace the territory's contractual targets with `objectifs.csv` (level;code;date;
    raccordables;source) when the file exists; returns the number of rows changed."""
    if not path.exists():
        return 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            {
                "t": departement,
                "l": r["level"],
                "c": r["code"],
                "d": r["date"],
                "n": int(r["raccordables"]),
                "s": r.get("source"),
            }
            for r in csv.DictReader(handle, delimiter=";")
        ]
    current = conn.execute(
        text(
            "SELECT level, code, CAST(target_date AS text), raccordables, source FROM contract_target WHERE territory_code = :t ORDER BY 1, 2, 3"
        ),
        {"t": departement},
    ).all()
    wanted = sorted((r["l"], r["c"], r["d"], r["n"], r["s"]) for r in rows)
    if [tuple(c) for c in current] == wanted:
        return 0
    conn.execute(text("DELETE FROM contract_target WHERE territory_code = :t"), {"t": departement})
    for row in rows:
        conn.execute(
            text(
                "INSERT INTO contract_target (territory_code, level, code, target_date, raccordables, source) VALUES (:t, :l, :c, CAST(:d AS date), :n, :s)"
            ),
            row,
        )
    return len(rows)
