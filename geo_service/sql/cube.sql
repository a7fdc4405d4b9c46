-- The state cube of territory :t: logements by state per (PM, commune) at each date a state of
-- one of its premises changed. Another territory's rows are neither read nor rewritten.
-- name: clear
DELETE FROM state_cube WHERE territory_code = :t AND as_of >= :from_date
-- ;
-- name: fill
WITH mine AS (
    SELECT p.id, p.insee, p.amii FROM premise p
    JOIN commune c ON c.insee = p.insee AND c.territory_code = :t
)
INSERT INTO state_cube
    (territory_code, as_of, pm_reference, insee, amii, etat, immeubles, logements, locaux_pro)
SELECT :t, d.as_of, h.pm_reference, p.insee, p.amii, h.etat, count(*), sum(h.logements),
       sum(h.locaux_pro)
FROM (SELECT DISTINCT h.valid_from AS as_of FROM premise_history h JOIN mine m ON m.id = h.premise_id
      WHERE h.valid_from >= :from_date) d
JOIN premise_history h
  ON h.valid_from <= d.as_of AND (h.valid_to IS NULL OR h.valid_to > d.as_of) AND NOT h.removed
JOIN mine p ON p.id = h.premise_id
GROUP BY d.as_of, h.pm_reference, p.insee, p.amii, h.etat
-- ;
-- name: fill_current
-- The newest date only: the open periods are the premises' current state, no history scan.
INSERT INTO state_cube
    (territory_code, as_of, pm_reference, insee, amii, etat, immeubles, logements, locaux_pro)
SELECT :t, :from_date, p.pm_reference, p.insee, p.amii, p.etat, count(*), sum(p.logements),
       sum(p.locaux_pro)
FROM premise p
JOIN commune c ON c.insee = p.insee AND c.territory_code = :t
WHERE p.removed_on IS NULL
GROUP BY p.pm_reference, p.insee, p.amii, p.etat
-- ;
-- name: newest
-- (the history's newest date first: in the usual import, the first row read is the territory's)
SELECT h.valid_from FROM premise_history h
JOIN premise p ON p.id = h.premise_id
JOIN commune c ON c.insee = p.insee AND c.territory_code = :t
ORDER BY h.valid_from DESC LIMIT 1
