-- Logements by state per unit, as of each of :dates (from the state cube: its newest snapshot
-- on or before each date), RIP only unless :amii. One scan, rolled up with GROUPING SETS to PM,
-- NRO, commune, EPCI, each member département and the whole territory ('departement'), for every
-- date at once.
-- name: by_level
WITH snapshot AS (
    SELECT d.day,
           (SELECT max(as_of) FROM state_cube WHERE territory_code = :t AND as_of <= d.day)
               AS as_of
    FROM unnest(CAST(:dates AS date[])) AS d(day)
), state AS (
    SELECT s.day, q.etat, q.immeubles, q.logements, q.locaux_pro, q.pm_reference, q.insee,
           c.epci_siren, c.departement, pm.nro_code
    FROM snapshot s
    JOIN state_cube q ON q.territory_code = :t AND q.as_of = s.as_of
    JOIN commune c ON c.insee = q.insee
    LEFT JOIN pm ON pm.reference = q.pm_reference
    WHERE c.territory_code = :t AND (:amii OR NOT q.amii)
)
SELECT day, CASE
           WHEN GROUPING(pm_reference) = 0 THEN 'pm'
           WHEN GROUPING(nro_code) = 0 THEN 'nro'
           WHEN GROUPING(insee) = 0 THEN 'commune'
           WHEN GROUPING(epci_siren) = 0 THEN 'epci'
           WHEN GROUPING(departement) = 0 THEN 'departement_membre'
           ELSE 'departement'
       END AS level,
       COALESCE(pm_reference, nro_code, insee, epci_siren, departement) AS code,
       sum(immeubles) AS immeubles,
       sum(immeubles) FILTER (WHERE etat = 'DEPLOYE') AS immeubles_raccordables,
       sum(logements) AS logements,
       sum(logements) FILTER (WHERE etat = 'DEPLOYE') AS raccordables,
       sum(logements) FILTER (WHERE etat IN ('RACCORDABLE DEMANDE', 'RAD EN COURS DE DEPLOIEMENT'))
           AS raccordables_demande,
       sum(logements) FILTER (WHERE etat IN ('SIGNE', 'EN COURS DE DEPLOIEMENT')) AS en_cours,
       sum(logements) FILTER (WHERE etat = 'CIBLE') AS cibles,
       sum(logements) FILTER (WHERE etat = 'ABANDONNE') AS abandonnes,
       sum(locaux_pro) AS locaux_pro
FROM state
GROUP BY GROUPING SETS ((day, pm_reference), (day, nro_code), (day, insee), (day, epci_siren),
                        (day, departement), (day))
