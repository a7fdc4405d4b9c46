-- The state cube: logements by state per (PM, commune) at each date a state changed.
-- name: clear
DELETE FROM state_cube WHERE as_of >= :from_date
-- ;
-- name: fill
INSERT INTO state_cube (as_of, pm_reference, insee, amii, etat, immeubles, logements, locaux_pro)
SELECT d.as_of, h.pm_reference, p.insee, p.amii, h.etat, count(*), sum(h.logements),
       sum(h.locaux_pro)
FROM (SELECT DISTINCT valid_from AS as_of FROM premise_history WHERE valid_from >= :from_date) d
JOIN premise_history h
  ON h.valid_from <= d.as_of AND (h.valid_to IS NULL OR h.valid_to > d.as_of) AND NOT h.removed
JOIN premise p ON p.id = h.premise_id
GROUP BY d.as_of, h.pm_reference, p.insee, p.amii, h.etat
-- ;
-- name: fill_current
-- The newest date only: the open periods are the premises' current state, no history scan.
INSERT INTO state_cube (as_of, pm_reference, insee, amii, etat, immeubles, logements, locaux_pro)
SELECT :from_date, p.pm_reference, p.insee, p.amii, p.etat, count(*), sum(p.logements),
       sum(p.locaux_pro)
FROM premise p
WHERE p.removed_on IS NULL
GROUP BY p.pm_reference, p.insee, p.amii, p.etat
