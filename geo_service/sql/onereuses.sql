-- Cost estimate of every not-yet-raccordable address as of :d (RIP only).
-- name: state
CREATE TEMP TABLE est_state ON COMMIT DROP AS
SELECT p.id, p.identifiant_immeuble, p.insee, p.numero, p.type_voie, p.nom_voie, p.commune_nom,
       h.etat, h.logements, h.pm_reference, p.geom
FROM premise_history h JOIN premise p ON p.id = h.premise_id
JOIN commune c ON c.insee = p.insee
WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed
  AND NOT p.amii AND c.territory_code = :t
-- ;
-- name: index_state
CREATE INDEX ON est_state USING gist (geom)
-- ;
-- name: deployed
CREATE TEMP TABLE est_deployed ON COMMIT DROP AS
SELECT geom FROM est_state WHERE etat = 'DEPLOYE'
-- ;
-- name: index_deployed
CREATE INDEX ON est_deployed USING gist (geom)
-- ;
-- name: analyze
ANALYZE est_state; ANALYZE est_deployed
-- ;
-- name: estimate
SELECT t.identifiant_immeuble, t.insee, t.commune_nom,
       concat_ws(' ', t.numero, t.type_voie, t.nom_voie) AS adresse, t.etat, t.logements,
       t.pm_reference,
       LEAST(COALESCE(nd.dist, 'Infinity'), COALESCE(ST_Distance(pm.geom, t.geom), 'Infinity'))
           AS distance_reseau_m,
       (SELECT count(*) FROM est_state n
         WHERE n.id <> t.id AND ST_DWithin(n.geom, t.geom, :rayon)) AS voisins,
       ST_X(ST_Transform(t.geom, 4326)) AS lon, ST_Y(ST_Transform(t.geom, 4326)) AS lat
FROM est_state t
LEFT JOIN pm ON pm.reference = t.pm_reference
LEFT JOIN LATERAL (
    SELECT ST_Distance(d.geom, t.geom) AS dist FROM est_deployed d
    ORDER BY d.geom <-> t.geom LIMIT 1
) nd ON true
WHERE t.etat NOT IN ('DEPLOYE', 'ABANDONNE')
  AND (CAST(:insee AS text) IS NULL OR t.insee = :insee)
-- ;
-- name: estimate_current
-- The same estimate on the current state (an as-of date on or after the newest change: the open
-- periods are the premises' current state), read through the premises' own spatial index instead
-- of two temporary tables and their indexes. :insees are the territory's communes.
SELECT t.identifiant_immeuble, t.insee, t.commune_nom,
       concat_ws(' ', t.numero, t.type_voie, t.nom_voie) AS adresse, t.etat, t.logements,
       t.pm_reference,
       LEAST(COALESCE(nd.dist, 'Infinity'), COALESCE(ST_Distance(pm.geom, t.geom), 'Infinity'))
           AS distance_reseau_m,
       (SELECT count(*) FROM premise n
         WHERE n.id <> t.id AND ST_DWithin(n.geom, t.geom, :rayon)
           AND n.removed_on IS NULL AND NOT n.amii AND n.insee = ANY(:insees)) AS voisins,
       ST_X(ST_Transform(t.geom, 4326)) AS lon, ST_Y(ST_Transform(t.geom, 4326)) AS lat
FROM premise t
LEFT JOIN pm ON pm.reference = t.pm_reference
LEFT JOIN LATERAL (
    SELECT ST_Distance(d.geom, t.geom) AS dist FROM premise d
    WHERE d.etat = 'DEPLOYE' AND d.removed_on IS NULL AND NOT d.amii AND d.insee = ANY(:insees)
    ORDER BY d.geom <-> t.geom LIMIT 1
) nd ON true
WHERE t.removed_on IS NULL AND NOT t.amii AND t.insee = ANY(:insees)
  AND t.etat NOT IN ('DEPLOYE', 'ABANDONNE')
  AND (CAST(:insee AS text) IS NULL OR t.insee = :insee)
-- ;
-- name: commune_logements
-- Logements per RIP commune as of :d (the premises the estimate looks at, whatever their state).
SELECT c.insee, c.nom, COALESCE(sum(s.logements), 0) AS logements
FROM commune c
LEFT JOIN (
    SELECT p.insee, h.logements
    FROM premise_history h JOIN premise p ON p.id = h.premise_id
    WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed
      AND NOT p.amii
) s ON s.insee = c.insee
WHERE c.territory_code = :t AND NOT c.amii
GROUP BY c.insee, c.nom
ORDER BY c.insee
