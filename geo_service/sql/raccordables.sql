-- Logements by state per unit, as of each of :dates (from the state cube: its newest snapshot
-- on or before each date), RIP only unless :amii. One scan, rolled up with GROUPING SETS to the
-- levels asked for — PM, NRO, commune, EPCI, each member département, the whole territory
-- ('departement') — for every date at once. The braces are filled by
-- geo_service.analysis.raccordables from a fixed list (never from input): {pm_join} joins the
-- PMs only when the NRO level is asked, {level} and {code} name each set's level and unit,
-- {sets} are the grouping sets; :insees keeps the cube rows of some communes only (whole units
-- read their stored sums instead: from_rollup below).
-- name: by_level
WITH snapshot AS (
    SELECT d.day,
           (SELECT max(as_of) FROM state_cube WHERE territory_code = :t AND as_of <= d.day)
               AS as_of
    FROM unnest(CAST(:dates AS date[])) AS d(day)
), state AS (  -- each snapshot once, however many of the dates fall on it
    SELECT q.as_of, q.etat, q.immeubles, q.logements, q.locaux_pro, q.pm_reference, q.insee,
           c.epci_siren, c.departement{nro_column}
    FROM (SELECT DISTINCT as_of FROM snapshot WHERE as_of IS NOT NULL) s
    JOIN state_cube q ON q.territory_code = :t AND q.as_of = s.as_of
    JOIN commune c ON c.insee = q.insee
    {pm_join}
    WHERE c.territory_code = :t AND (:amii OR NOT q.amii)
      AND q.insee = ANY(CAST(:insees AS text[]))
), rolled AS (
    SELECT as_of, {level} AS level, {code} AS code,
           sum(immeubles) AS immeubles,
           sum(immeubles) FILTER (WHERE etat = 'DEPLOYE') AS immeubles_raccordables,
           sum(logements) AS logements,
           sum(logements) FILTER (WHERE etat = 'DEPLOYE') AS raccordables,
           sum(logements) FILTER (WHERE etat IN ('RACCORDABLE DEMANDE',
                                                 'RAD EN COURS DE DEPLOIEMENT'))
               AS raccordables_demande,
           sum(logements) FILTER (WHERE etat IN ('SIGNE', 'EN COURS DE DEPLOIEMENT')) AS en_cours,
           sum(logements) FILTER (WHERE etat = 'CIBLE') AS cibles,
           sum(logements) FILTER (WHERE etat = 'ABANDONNE') AS abandonnes,
           sum(locaux_pro) AS locaux_pro
    FROM state
    GROUP BY GROUPING SETS ({sets})
)
SELECT s.day, r.level, r.code, r.immeubles, r.immeubles_raccordables, r.logements,
       r.raccordables, r.raccordables_demande, r.en_cours, r.cibles, r.abandonnes, r.locaux_pro
FROM snapshot s JOIN rolled r ON r.as_of = s.as_of
-- ;
-- name: from_rollup
-- The same figures read from the stored sums per unit (state_rollup, written with the cube):
-- the rows of :levels at each date's snapshot, AMII added to RIP when :amii.
WITH snapshot AS (
    SELECT d.day,
           (SELECT max(as_of) FROM state_cube WHERE territory_code = :t AND as_of <= d.day)
               AS as_of
    FROM unnest(CAST(:dates AS date[])) AS d(day)
)
SELECT s.day, r.level, r.code, sum(r.immeubles) AS immeubles,
       sum(r.immeubles_raccordables) AS immeubles_raccordables, sum(r.logements) AS logements,
       sum(r.raccordables) AS raccordables, sum(r.raccordables_demande) AS raccordables_demande,
       sum(r.en_cours) AS en_cours, sum(r.cibles) AS cibles, sum(r.abandonnes) AS abandonnes,
       sum(r.locaux_pro) AS locaux_pro
FROM snapshot s
JOIN state_rollup r ON r.territory_code = :t AND r.as_of = s.as_of
WHERE r.level = ANY(CAST(:levels AS text[])) AND (:amii OR NOT r.amii)
GROUP BY s.day, r.level, r.code
