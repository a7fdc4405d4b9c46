-- Mapbox vector tiles of the public map, one statement per layer (resolved by a registry,
-- never from the URL). Each statement takes :z, :x, :y (tile), :t (territory), :margin (tile
-- buffer as a fraction of the tile: the same 64/4096 that ST_AsMVTGeom keeps) and :tol (half a
-- pixel in metres, to simplify polygons before encoding). The tile envelope is densified before
-- it is projected to Lambert-93 (its straight Mercator edges curve there), so the bounding-box
-- filter `&&` on the GiST-indexed 2154 column never misses a feature near an edge.
--
-- Each layer statement below is the tail of a WITH: it is run as `WITH bounds AS (<bounds>),
-- <layer>` (composed in geo_service.analysis.tiles from these fixed texts only).
--
-- Tile statements run serially: a parallel worker must first load PostGIS (tens of ms), more
-- than a whole tile costs, and the planner picks parallel plans for dense tiles.
-- name: serial
SET LOCAL max_parallel_workers_per_gather = 0
-- ;
-- name: bounds
SELECT env, ST_Transform(ST_Segmentize(ST_TileEnvelope(:z, :x, :y, margin => :margin),
                                       (ST_XMax(env) - ST_XMin(env)) / 16), 2154) AS env2154
FROM (SELECT ST_TileEnvelope(:z, :x, :y) AS env) AS tile
-- ;
-- Every layer aggregates in a fixed order, so the same data always gives the same bytes (and
-- the same ETag), whatever plan PostgreSQL picks. ST_AsMVT skips the rows whose ST_AsMVTGeom is
-- NULL (outside the buffered tile); filtering them in SQL would compute ST_AsMVTGeom twice.
--
-- Premises one by one (z >= 12): no personal data, only the building's identifier and state;
-- the premise's internal id is the feature id (for client-side feature state), not a property.
-- name: prises
features AS (
    SELECT p.id, p.identifiant_immeuble AS identifiant, p.etat, p.logements,
           p.pm_reference AS pm, p.insee, p.amii,
           ST_AsMVTGeom(ST_Transform(p.geom, 3857), b.env, 4096, 64, true) AS geom
    FROM premise p, bounds b
    WHERE p.geom && b.env2154 AND p.removed_on IS NULL
      AND p.insee IN (SELECT insee FROM commune WHERE territory_code = :t)
)
SELECT ST_AsMVT(features, 'prises', 4096, 'geom', 'id' ORDER BY features.id)
FROM features
-- ;
-- Premises aggregated per commune (z < 12): one point (mairie, else a point inside the
-- commune) with the counts of immeubles, logements and raccordables (logements DEPLOYE).
-- name: prises_communes
communes AS (
    SELECT c.insee, c.nom, c.amii, COALESCE(c.mairie, ST_PointOnSurface(c.geom)) AS point
    FROM commune c, bounds b
    WHERE c.territory_code = :t AND c.geom && b.env2154
), places AS (
    SELECT cm.insee, cm.nom, cm.amii, cm.point
    FROM communes cm, bounds b
    WHERE cm.point && b.env2154
), counts AS (
    SELECT p.insee, count(*) AS immeubles, sum(p.logements) AS logements,
           COALESCE(sum(p.logements) FILTER (WHERE p.etat = 'DEPLOYE'), 0) AS raccordables
    FROM premise p
    WHERE p.removed_on IS NULL AND p.insee IN (SELECT insee FROM places)
    GROUP BY p.insee
), features AS (
    SELECT pl.insee, pl.nom, pl.amii, k.immeubles, k.logements, k.raccordables,
           ST_AsMVTGeom(ST_Transform(pl.point, 3857), b.env, 4096, 64, true) AS geom
    FROM places pl JOIN counts k ON k.insee = pl.insee, bounds b
)
SELECT ST_AsMVT(features, 'prises', 4096, 'geom' ORDER BY features.insee)
FROM features
-- ;
-- PM zones (zones arrière) with their current roll-out: logements, raccordables and the share
-- raccordable (%), computed from the premises' current state.
-- name: zones
features AS (
    SELECT pm.reference, pm.nro_code AS nro, pm.etat, pm.amii,
           CAST(pm.date_prevue AS text) AS date_prevue,
           k.logements, k.raccordables,
           CAST(round(100.0 * k.raccordables / NULLIF(k.logements, 0), 1) AS double precision)
               AS taux_raccordables,
           ST_AsMVTGeom(
               ST_Transform(ST_SimplifyPreserveTopology(pm.zone, :tol), 3857),
               b.env, 4096, 64, true
           ) AS geom
    FROM pm
    CROSS JOIN bounds b
    LEFT JOIN LATERAL (
        SELECT COALESCE(sum(p.logements), 0) AS logements,
               COALESCE(sum(p.logements) FILTER (WHERE p.etat = 'DEPLOYE'), 0) AS raccordables
        FROM premise p
        WHERE p.pm_reference = pm.reference AND p.removed_on IS NULL
    ) k ON true
    WHERE pm.territory_code = :t AND pm.zone && b.env2154
)
SELECT ST_AsMVT(features, 'zones', 4096, 'geom' ORDER BY features.reference)
FROM features
-- ;
-- Communes of the territory (INSEE code and name).
-- name: communes
features AS (
    SELECT c.insee, c.nom,
           ST_AsMVTGeom(
               ST_Transform(ST_SimplifyPreserveTopology(c.geom, :tol), 3857),
               b.env, 4096, 64, true
           ) AS geom
    FROM commune c, bounds b
    WHERE c.territory_code = :t AND c.geom && b.env2154
)
SELECT ST_AsMVT(features, 'communes', 4096, 'geom' ORDER BY features.insee)
FROM features
-- ;
-- PM zones as they were on :d (the roll-out replay of the public page and the élu pages):
-- logements and raccordables from the state cube's spans alive on :d.
-- name: zones_as_of
cube AS (
    SELECT q.pm_reference, sum(q.logements) AS logements,
           COALESCE(sum(q.logements) FILTER (WHERE q.etat = 'DEPLOYE'), 0) AS raccordables
    FROM state_cube q
    WHERE q.territory_code = :t AND q.valid_from <= :d AND (q.valid_to IS NULL OR q.valid_to > :d)
    GROUP BY q.pm_reference
), features AS (
    SELECT pm.reference, pm.nro_code AS nro, pm.amii, CAST(:d AS text) AS as_of,
           COALESCE(k.logements, 0) AS logements, COALESCE(k.raccordables, 0) AS raccordables,
           CAST(COALESCE(round(100.0 * k.raccordables / NULLIF(k.logements, 0), 1), 0)
                AS double precision) AS taux_raccordables,
           ST_AsMVTGeom(
               ST_Transform(ST_SimplifyPreserveTopology(pm.zone, :tol), 3857),
               b.env, 4096, 64, true
           ) AS geom
    FROM pm
    CROSS JOIN bounds b
    LEFT JOIN cube k ON k.pm_reference = pm.reference
    WHERE pm.territory_code = :t AND pm.zone && b.env2154
)
SELECT ST_AsMVT(features, 'zones', 4096, 'geom' ORDER BY features.reference)
FROM features
