"""Benchmark: raccordables at every level for the full demo, vs an equivalent geopandas sjoin;
a full refresh of the state cube over the demo's history (every snapshot date, rolled back);
and « quand » latency over 1 000 random points (in-process).

    .venv/bin/python bench/aggregate.py [--repeat 5]

Goals (issue): ≥ 10x faster than geopandas and < 100 ms for all levels together; quand p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date

import geopandas as gpd
from _common import bench_database, median, timed
from sqlalchemy import text

from geo_service.analysis.quand import quand_point
from geo_service.analysis.raccordables import raccordables
from geo_service.db.session import make_engine
from geo_service.errors import NotFoundError
from geo_service.ingest.cube import refresh_cube
from geo_service.settings import Settings

AS_OF = date(2021, 12, 31)


def geopandas_all_levels(conn) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The same figures computed the GIS way: read points and polygons, spatial joins, groupby."""
    points = gpd.read_postgis(
        text(
            "SELECT h.etat, h.logements, p.geom FROM premise_history h JOIN premise p ON p.id = h.premise_id "
            "WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed AND NOT p.amii"
        ),
        conn,
        geom_col="geom",
        params={"d": AS_OF},
    )
    points["racc"] = points["logements"].where(points["etat"] == "DEPLOYE", 0)
    zones = gpd.read_postgis(
        "SELECT reference, nro_code, zone FROM pm WHERE NOT amii", conn, geom_col="zone"
    )
    communes = gpd.read_postgis(
        "SELECT insee, epci_siren, geom FROM commune", conn, geom_col="geom"
    )
    by_zone = gpd.sjoin(points, zones, predicate="within")
    by_commune = gpd.sjoin(points, communes, predicate="within")
    out = {
        "pm": len(by_zone.groupby("reference")["racc"].sum()),
        "nro": len(by_zone.groupby("nro_code")["racc"].sum()),
        "commune": len(by_commune.groupby("insee")["racc"].sum()),
        "epci": len(by_commune.groupby("epci_siren")["racc"].sum()),
        "departement": int(points["racc"].sum()),
    }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--points", type=int, default=1000)
    args = parser.parse_args()
    url = bench_database("geo_service_bench_demo")
    engine = make_engine(url, application_name="bench/aggregate")
    # a short transaction of its own: held open, it would block the load below (issue: hang)
    with engine.connect() as conn:
        loaded = conn.execute(
            text(
                "SELECT count(DISTINCT snapshot_date) FROM import_journal WHERE kind = 'ipe' AND status = 'OK'"
            )
        ).scalar_one()
    if loaded < 2:
        from geo_service.ingest.batch import load_folder

        print("Chargement de la démonstration dans la base de benchmark…")
        load_folder(engine, Settings().demo_path("46"), territory="46", user="bench")
    with engine.connect() as conn:
        ours = timed(lambda: raccordables(conn, territory="46", as_of=AS_OF), args.repeat)
        geo = timed(lambda: geopandas_all_levels(conn), max(2, args.repeat // 2))
        rows = raccordables(conn, territory="46", as_of=AS_OF)
        dates = conn.execute(
            text(
                "SELECT count(DISTINCT d) FROM state_cube, LATERAL (VALUES (valid_from), "
                "(valid_to)) v(d) WHERE territory_code = '46'"
            )
        ).scalar_one()

        def full_refresh() -> None:
            refresh_cube(conn, date(2000, 1, 1), "46")
            conn.rollback()

        cube = timed(full_refresh, 3)
        dept_ours = next(r["raccordables"] for r in rows if r["level"] == "departement")
        dept_geo = geopandas_all_levels(conn)["departement"]
        box = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(ST_Transform(geom, 4326)) e FROM territory WHERE code = '46') b"
            )
        ).one()
        rng = random.Random(46)
        latencies = []
        answered = 0
        for _ in range(args.points):
            lon, lat = rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])
            start = time.perf_counter()
            try:
                quand_point(conn, lat=lat, lon=lon, territory="46")
                answered += 1
            except NotFoundError:
                pass
            latencies.append((time.perf_counter() - start) * 1000)
    o, g = median(ours), median(geo)
    print(
        f"Raccordables, tous niveaux ({len(rows)} lignes, au {AS_OF}) : médiane {o * 1000:.1f} ms  {[round(r * 1000, 1) for r in ours]}"
    )
    print(
        f"Même calcul avec geopandas (sjoin + groupby)              : médiane {g * 1000:.1f} ms  {[round(r * 1000, 1) for r in geo]}"
    )
    print(
        f"Rapport geopandas / PostGIS : {g / o:.1f}x (objectif ≥ 10x ; < 100 ms pour tous les niveaux)"
    )
    print(f"Contrôle : département {dept_ours} (PostGIS) = {dept_geo} (geopandas)")
    print(
        f"Cube d'états, rafraîchissement complet ({dates} dates) : médiane "
        f"{median(cube):.2f} s  {[round(r, 2) for r in cube]}"
    )
    q = statistics.quantiles(latencies, n=100)
    print(
        f"« Quand ? » sur {args.points} points aléatoires ({answered} dans le territoire) : p50 {statistics.median(latencies):.2f} ms, p99 {q[98]:.2f} ms (objectif p99 < 20 ms)"
    )
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
