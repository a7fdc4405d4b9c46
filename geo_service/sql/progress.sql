-- name: armoires
-- Each PM of the territory as of :d: state, installation date, logements and raccordables.
WITH pm_state AS (
    SELECT DISTINCT ON (h.pm_reference) h.pm_reference, h.etat, h.date_installation
    FROM pm_history h
    WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d)
    ORDER BY h.pm_reference, h.valid_from DESC
), counts AS (
    SELECT h.pm_reference, sum(h.logements) AS logements,
           COALESCE(sum(h.logements) FILTER (WHERE h.etat = 'DEPLOYE'), 0) AS raccordables,
           count(*) FILTER (WHERE h.etat = 'DEPLOYE') AS immeubles_raccordables
    FROM premise_history h
    WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed
    GROUP BY h.pm_reference
)
SELECT pm.reference, pm.nro_code, pm.doe_etat, pm.date_prevue, pm.amii,
       s.etat, s.date_installation,
       COALESCE(c.logements, 0) AS logements, COALESCE(c.raccordables, 0) AS raccordables,
       COALESCE(c.immeubles_raccordables, 0) AS immeubles_raccordables
FROM pm
LEFT JOIN pm_state s ON s.pm_reference = pm.reference
LEFT JOIN counts c ON c.pm_reference = pm.reference
WHERE pm.territory_code = :t AND (:amii OR NOT pm.amii)
ORDER BY pm.reference
-- ;
-- name: monthly
-- Logements raccordables of one unit at each month end, from the state cube.
WITH months AS (
    SELECT (date_trunc('month', m) + interval '1 month - 1 day')::date AS day
    FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 month') AS m
)
SELECT s.day,
       COALESCE(sum(q.logements) FILTER (WHERE q.etat = 'DEPLOYE'), 0) AS raccordables,
       COALESCE(sum(q.logements), 0) AS logements
FROM months s
LEFT JOIN state_cube q ON q.territory_code = :t AND q.valid_from <= s.day
                      AND (q.valid_to IS NULL OR q.valid_to > s.day) AND NOT q.amii
LEFT JOIN commune c ON c.insee = q.insee
LEFT JOIN pm ON pm.reference = q.pm_reference
WHERE q.id IS NULL OR (c.territory_code = :t AND (
      (:level = 'departement')
   OR (:level = 'commune' AND q.insee = :code)
   OR (:level = 'epci' AND c.epci_siren = :code)
   OR (:level = 'pm' AND q.pm_reference = :code)
   OR (:level = 'nro' AND pm.nro_code = :code)))
GROUP BY s.day ORDER BY s.day
