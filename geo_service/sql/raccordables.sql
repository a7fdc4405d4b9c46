-- Logements by state per unit, as of :d (premise_history periods), RIP only unless :amii.
-- One scan, rolled up with GROUPING SETS to PM, NRO, commune, EPCI and département.
-- name: by_level
WITH state AS (
    SELECT h.etat, h.logements, h.locaux_pro, h.pm_reference, p.insee, c.epci_siren,
           pm.nro_code
    FROM premise_history h
    JOIN premise p ON p.id = h.premise_id
    JOIN commune c ON c.insee = p.insee
    LEFT JOIN pm ON pm.reference = h.pm_reference
    WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed
      AND c.territory_code = :t AND (:amii OR NOT p.amii)
)
SELECT CASE
           WHEN GROUPING(pm_reference) = 0 THEN 'pm'
           WHEN GROUPING(nro_code) = 0 THEN 'nro'
           WHEN GROUPING(insee) = 0 THEN 'commune'
           WHEN GROUPING(epci_siren) = 0 THEN 'epci'
           ELSE 'departement'
       END AS level,
       COALESCE(pm_reference, nro_code, insee, epci_siren) AS code,
       count(*) AS immeubles,
       count(*) FILTER (WHERE etat = 'DEPLOYE') AS immeubles_raccordables,
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
