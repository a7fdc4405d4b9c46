-- Logements by state per unit, as of :d (from the state cube), RIP only unless :amii.
-- One scan, rolled up with GROUPING SETS to PM, NRO, commune, EPCI and département.
-- name: by_level
WITH state AS (
    SELECT q.etat, q.immeubles, q.logements, q.locaux_pro, q.pm_reference, q.insee, c.epci_siren,
           pm.nro_code
    FROM state_cube q
    JOIN commune c ON c.insee = q.insee
    LEFT JOIN pm ON pm.reference = q.pm_reference
    WHERE q.as_of = (SELECT max(as_of) FROM state_cube WHERE as_of <= :d)
      AND c.territory_code = :t AND (:amii OR NOT q.amii)
)
SELECT CASE
           WHEN GROUPING(pm_reference) = 0 THEN 'pm'
           WHEN GROUPING(nro_code) = 0 THEN 'nro'
           WHEN GROUPING(insee) = 0 THEN 'commune'
           WHEN GROUPING(epci_siren) = 0 THEN 'epci'
           ELSE 'departement'
       END AS level,
       COALESCE(pm_reference, nro_code, insee, epci_siren) AS code,
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
GROUP BY GROUPING SETS ((pm_reference), (nro_code), (insee), (epci_siren), ())
