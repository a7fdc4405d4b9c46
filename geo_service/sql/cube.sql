-- The state cube of territory :t: logements by state per (PM, commune) at each date a state of
-- one of its premises changed. Another territory's rows are neither read nor rewritten. fill and
-- fill_current give the rows (territory_code, as_of, pm_reference, insee, amii, etat, immeubles,
-- logements, locaux_pro) that geo_service.ingest.cube stages, then writes to the cube and sums
-- per unit.
-- name: clear
DELETE FROM state_cube WHERE territory_code = :t AND as_of >= :from_date
-- ;
-- name: fill
-- Every change date on or after :from_date, from the periods' starts and ends rather than by
-- testing every period against every date (that cost dates × periods: a territory imported
-- fortnightly for years has a hundred dates). Each period alive at or after :from_date adds its
-- counts to its key (PM, commune, AMII, state) where it starts and takes them off where it ends;
-- a key's running sum holds from one of its change points to the next, and each date falls in
-- one such span.
WITH periods AS (  -- read once: the dates are their starts, removals included
    SELECT h.valid_from, greatest(h.valid_from, :from_date) AS starts, h.valid_to AS ends,
           h.removed, h.pm_reference, p.insee, p.amii, h.etat, h.logements, h.locaux_pro
    FROM premise_history h
    JOIN premise p ON p.id = h.premise_id
    JOIN commune c ON c.insee = p.insee AND c.territory_code = :t
    WHERE h.valid_to IS NULL OR h.valid_to > :from_date
), dates AS (
    SELECT DISTINCT valid_from AS as_of FROM periods WHERE valid_from >= :from_date
), changes AS (
    SELECT at, pm_reference, insee, amii, etat, sum(n) AS n, sum(logements) AS logements,
           sum(locaux_pro) AS locaux_pro
    FROM (SELECT starts AS at, pm_reference, insee, amii, etat, 1 AS n, logements, locaux_pro
          FROM periods WHERE NOT removed
          UNION ALL
          SELECT ends, pm_reference, insee, amii, etat, -1, -logements, -locaux_pro
          FROM periods WHERE NOT removed AND ends IS NOT NULL) e
    GROUP BY at, pm_reference, insee, amii, etat
), running AS (
    SELECT at, lead(at) OVER w AS next_at, pm_reference, insee, amii, etat,
           sum(n) OVER w AS n, sum(logements) OVER w AS logements,
           sum(locaux_pro) OVER w AS locaux_pro
    FROM changes
    WINDOW w AS (PARTITION BY pm_reference, insee, amii, etat ORDER BY at)
)
SELECT CAST(:t AS varchar) AS territory_code, d.as_of, r.pm_reference, r.insee, r.amii, r.etat,
       r.n AS immeubles, r.logements, r.locaux_pro
FROM running r
JOIN dates d ON d.as_of >= r.at AND (r.next_at IS NULL OR d.as_of < r.next_at)
WHERE r.n > 0
-- ;
-- name: fill_current
-- The newest date only: the open periods are the premises' current state, no history scan.
SELECT CAST(:t AS varchar) AS territory_code, CAST(:from_date AS date) AS as_of,
       p.pm_reference, p.insee, p.amii, p.etat, count(*) AS immeubles,
       sum(p.logements) AS logements, sum(p.locaux_pro) AS locaux_pro
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
-- ;
-- name: rollup_clear
DELETE FROM state_rollup WHERE territory_code = :t AND as_of >= :from_date
-- ;
-- name: rollup_fill
-- {cube}: state_cube, or the rows just staged for it (their own statistics: the cube's do not
-- know the new date yet, and would make the planner take its rows for one).
-- The cube's rows on or after :from_date summed per unit (PM, NRO, commune, EPCI, member
-- département, the whole territory), at each date, RIP and AMII apart, with today's PM → NRO
-- and commune → EPCI / département mapping and the units' names. Units without a code
-- (premises without PM yet, a commune without EPCI) are left out, as the cube query does.
INSERT INTO state_rollup
    (territory_code, as_of, level, code, nom, amii, immeubles, immeubles_raccordables,
     logements, raccordables, raccordables_demande, en_cours, cibles, abandonnes, locaux_pro)
SELECT :t, r.as_of, r.level, r.code,
       COALESCE(CASE r.level WHEN 'commune' THEN r.commune_nom WHEN 'epci' THEN e.nom
                             WHEN 'nro' THEN n.nom WHEN 'departement' THEN t.nom END, r.code),
       r.amii, r.immeubles, r.immeubles_raccordables, r.logements, r.raccordables,
       r.raccordables_demande, r.en_cours, r.cibles, r.abandonnes, r.locaux_pro
FROM (
    SELECT as_of, amii,
           CASE WHEN GROUPING(pm_reference) = 0 THEN 'pm'
                WHEN GROUPING(nro_code) = 0 THEN 'nro'
                WHEN GROUPING(insee) = 0 THEN 'commune'
                WHEN GROUPING(epci_siren) = 0 THEN 'epci'
                WHEN GROUPING(departement) = 0 THEN 'departement_membre'
                ELSE 'departement' END AS level,
           CASE WHEN GROUPING(pm_reference) = 0 THEN pm_reference
                WHEN GROUPING(nro_code) = 0 THEN nro_code
                WHEN GROUPING(insee) = 0 THEN insee
                WHEN GROUPING(epci_siren) = 0 THEN epci_siren
                WHEN GROUPING(departement) = 0 THEN departement
                ELSE :t END AS code,
           commune_nom,
           sum(immeubles) AS immeubles,
           COALESCE(sum(immeubles) FILTER (WHERE etat = 'DEPLOYE'), 0) AS immeubles_raccordables,
           sum(logements) AS logements,
           COALESCE(sum(logements) FILTER (WHERE etat = 'DEPLOYE'), 0) AS raccordables,
           COALESCE(sum(logements) FILTER (WHERE etat IN ('RACCORDABLE DEMANDE',
                                                          'RAD EN COURS DE DEPLOIEMENT')), 0)
               AS raccordables_demande,
           COALESCE(sum(logements) FILTER (WHERE etat IN ('SIGNE', 'EN COURS DE DEPLOIEMENT')), 0)
               AS en_cours,
           COALESCE(sum(logements) FILTER (WHERE etat = 'CIBLE'), 0) AS cibles,
           COALESCE(sum(logements) FILTER (WHERE etat = 'ABANDONNE'), 0) AS abandonnes,
           sum(locaux_pro) AS locaux_pro
    FROM (SELECT q.as_of, q.amii, q.etat, q.immeubles, q.logements, q.locaux_pro,
                 q.pm_reference, pm.nro_code, q.insee, c.nom AS commune_nom, c.epci_siren,
                 c.departement
          FROM {cube} q
          JOIN commune c ON c.insee = q.insee AND c.territory_code = :t
          LEFT JOIN pm ON pm.reference = q.pm_reference
          WHERE q.territory_code = :t AND q.as_of >= :from_date) s
    GROUP BY GROUPING SETS ((as_of, amii, pm_reference), (as_of, amii, nro_code),
                            (as_of, amii, insee, commune_nom), (as_of, amii, epci_siren),
                            (as_of, amii, departement), (as_of, amii))
) r
LEFT JOIN epci e ON r.level = 'epci' AND e.siren = r.code AND e.territory_code = :t
LEFT JOIN nro n ON r.level = 'nro' AND n.code = r.code
LEFT JOIN territory t ON r.level = 'departement' AND t.code = :t
WHERE r.code IS NOT NULL
