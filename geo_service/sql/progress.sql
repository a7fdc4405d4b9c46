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
