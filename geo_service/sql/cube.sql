-- The state cube of territory :t, stored by validity interval: logements by state per (PM,
-- commune, AMII, state) from valid_from until valid_to (NULL: still so), one row per span during
-- which a key's figures did not change. Another territory's rows are neither read nor
-- rewritten. fill and fill_current give the spans starting on or after :from_date (columns
-- territory_code, valid_from, valid_to, pm_reference, insee, amii, etat, immeubles, logements,
-- locaux_pro); rollup_fill sums spans per unit. geo_service.ingest.cube stages them, then writes
-- only the spans that differ from the stored ones.
-- name: fill
-- Every span on or after :from_date, from the periods' starts and ends rather than by testing
-- every period against every date. The periods are first counted per (start, end, key): a
-- national territory has 44 M periods but a few hundred thousand such groups. Each group adds
-- its counts to its key where it starts and takes them off where it ends; a key's running sum
-- holds from one of its change points to the next. A point where nothing changes (a period
-- closed and another opened alike) is dropped, so that spans are as long as they can be.
WITH periods AS (
    SELECT greatest(h.valid_from, CAST(:from_date AS date)) AS starts, h.valid_to AS ends,
           h.pm_reference, p.insee, p.amii, h.etat, count(*) AS n,
           sum(h.logements) AS logements, sum(h.locaux_pro) AS locaux_pro
    FROM premise_history h
    JOIN premise p ON p.id = h.premise_id
    JOIN commune c ON c.insee = p.insee AND c.territory_code = :t
    WHERE (h.valid_to IS NULL OR h.valid_to > :from_date) AND NOT h.removed
    GROUP BY 1, 2, 3, 4, 5, 6
), changes AS (
    SELECT e.at, g.pm_reference, g.insee, g.amii, g.etat, sum(e.sign * g.n) AS n,
           sum(e.sign * g.logements) AS logements, sum(e.sign * g.locaux_pro) AS locaux_pro
    FROM periods g
    CROSS JOIN LATERAL (VALUES (g.starts, 1), (g.ends, -1)) AS e(at, sign)
    WHERE e.at IS NOT NULL
    GROUP BY e.at, g.pm_reference, g.insee, g.amii, g.etat
    HAVING sum(e.sign * g.n) <> 0 OR sum(e.sign * g.logements) <> 0
        OR sum(e.sign * g.locaux_pro) <> 0
), running AS (
    SELECT at, lead(at) OVER w AS next_at, pm_reference, insee, amii, etat,
           sum(n) OVER w AS n, sum(logements) OVER w AS logements,
           sum(locaux_pro) OVER w AS locaux_pro
    FROM changes
    WINDOW w AS (PARTITION BY pm_reference, insee, amii, etat ORDER BY at)
)
SELECT CAST(:t AS varchar) AS territory_code, at AS valid_from, next_at AS valid_to,
       pm_reference, insee, amii, etat, CAST(n AS integer) AS immeubles,
       CAST(logements AS integer) AS logements, CAST(locaux_pro AS integer) AS locaux_pro
FROM running
WHERE n > 0
-- ;
-- name: fill_current
-- From the newest date only: the open periods are the premises' current state, no history scan.
SELECT CAST(:t AS varchar) AS territory_code, CAST(:from_date AS date) AS valid_from,
       CAST(NULL AS date) AS valid_to, p.pm_reference, p.insee, p.amii, p.etat,
       CAST(count(*) AS integer) AS immeubles, CAST(sum(p.logements) AS integer) AS logements,
       CAST(sum(p.locaux_pro) AS integer) AS locaux_pro
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
-- name: rollup_fill
-- {cube}: state_cube, or the spans just staged for it (their own statistics).
-- The cube's spans alive on or after :from_date summed per unit (PM, NRO, commune, EPCI, member
-- département, the whole territory), RIP and AMII apart, as spans again: each cube span adds
-- its figures to its units where it starts and takes them off where it ends (one read of the
-- cube, both ends at once), a unit's running sums hold until its next change, and a point where
-- none of its stored figures changes is dropped. Today's PM → NRO and commune → EPCI /
-- département mapping and the units' names. Units without a code (premises without PM yet, a
-- commune without EPCI) are left out, as the cube query does. {running}: rollup_running, or
-- rollup_current when {cube} holds one date's open spans (nothing to run through), or
-- rollup_onto when it holds what an import changed in the cube (the cube_change spans): each
-- unit's stored open span plus those changes. ends: that stored span, which ends here (NULL in
-- the other two; a unit left without premises keeps a row for it).
WITH deltas AS (
    SELECT e.at, e.sign, q.amii, q.etat, q.immeubles, q.logements, q.locaux_pro,
           q.pm_reference, pm.nro_code, q.insee, c.epci_siren, c.departement
    FROM {cube} q
    JOIN commune c ON c.insee = q.insee AND c.territory_code = :t
    LEFT JOIN pm ON pm.reference = q.pm_reference
    CROSS JOIN LATERAL (VALUES (greatest(q.valid_from, CAST(:from_date AS date)), 1),
                               (q.valid_to, -1)) AS e(at, sign)
    WHERE q.territory_code = :t AND (q.valid_to IS NULL OR q.valid_to > :from_date)
      AND e.at IS NOT NULL
), changes AS (
    SELECT at, amii,
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
           sum(sign * immeubles) AS immeubles,
           COALESCE(sum(sign * immeubles) FILTER (WHERE etat = 'DEPLOYE'), 0)
               AS immeubles_raccordables,
           sum(sign * logements) AS logements,
           COALESCE(sum(sign * logements) FILTER (WHERE etat = 'DEPLOYE'), 0) AS raccordables,
           COALESCE(sum(sign * logements) FILTER (WHERE etat IN ('RACCORDABLE DEMANDE',
                                                   'RAD EN COURS DE DEPLOIEMENT')), 0)
               AS raccordables_demande,
           COALESCE(sum(sign * logements) FILTER (WHERE etat IN ('SIGNE',
                                                   'EN COURS DE DEPLOIEMENT')), 0) AS en_cours,
           COALESCE(sum(sign * logements) FILTER (WHERE etat = 'CIBLE'), 0) AS cibles,
           COALESCE(sum(sign * logements) FILTER (WHERE etat = 'ABANDONNE'), 0) AS abandonnes,
           sum(sign * locaux_pro) AS locaux_pro
    FROM deltas
    GROUP BY GROUPING SETS ((at, amii, pm_reference), (at, amii, nro_code), (at, amii, insee),
                            (at, amii, epci_siren), (at, amii, departement), (at, amii))
), moves AS (
    SELECT * FROM changes
    WHERE code IS NOT NULL
      AND (immeubles <> 0 OR immeubles_raccordables <> 0 OR logements <> 0
           OR raccordables <> 0 OR raccordables_demande <> 0 OR en_cours <> 0 OR cibles <> 0
           OR abandonnes <> 0 OR locaux_pro <> 0)
), running AS ({running})
SELECT CAST(:t AS varchar) AS territory_code, r.at AS valid_from, r.next_at AS valid_to,
       r.level, r.code,
       CAST(COALESCE(CASE r.level WHEN 'commune' THEN cn.nom WHEN 'epci' THEN e.nom
                                  WHEN 'nro' THEN n.nom WHEN 'departement' THEN t.nom END,
                     r.code) AS varchar) AS nom,
       r.amii, CAST(r.immeubles AS bigint) AS immeubles,
       CAST(r.immeubles_raccordables AS bigint) AS immeubles_raccordables,
       CAST(r.logements AS bigint) AS logements, CAST(r.raccordables AS bigint) AS raccordables,
       CAST(r.raccordables_demande AS bigint) AS raccordables_demande,
       CAST(r.en_cours AS bigint) AS en_cours, CAST(r.cibles AS bigint) AS cibles,
       CAST(r.abandonnes AS bigint) AS abandonnes, CAST(r.locaux_pro AS bigint) AS locaux_pro,
       r.ends
FROM running r
LEFT JOIN commune cn ON r.level = 'commune' AND cn.insee = r.code AND cn.territory_code = :t
LEFT JOIN epci e ON r.level = 'epci' AND e.siren = r.code AND e.territory_code = :t
LEFT JOIN nro n ON r.level = 'nro' AND n.code = r.code
LEFT JOIN territory t ON r.level = 'departement' AND t.code = :t
WHERE r.immeubles > 0 OR r.ends IS NOT NULL
-- ;
-- name: rollup_running
SELECT at, lead(at) OVER w AS next_at, level, code, amii,
       sum(immeubles) OVER w AS immeubles,
       sum(immeubles_raccordables) OVER w AS immeubles_raccordables,
       sum(logements) OVER w AS logements, sum(raccordables) OVER w AS raccordables,
       sum(raccordables_demande) OVER w AS raccordables_demande,
       sum(en_cours) OVER w AS en_cours, sum(cibles) OVER w AS cibles,
       sum(abandonnes) OVER w AS abandonnes, sum(locaux_pro) OVER w AS locaux_pro,
       CAST(NULL AS bigint) AS ends
FROM moves
WINDOW w AS (PARTITION BY level, code, amii ORDER BY at)
-- ;
-- name: rollup_current
SELECT at, CAST(NULL AS date) AS next_at, level, code, amii, immeubles,
       immeubles_raccordables, logements, raccordables, raccordables_demande, en_cours, cibles,
       abandonnes, locaux_pro, CAST(NULL AS bigint) AS ends
FROM moves
-- ;
-- name: rollup_onto
SELECT m.at, CAST(NULL AS date) AS next_at, m.level, m.code, m.amii,
       COALESCE(o.immeubles, 0) + m.immeubles AS immeubles,
       COALESCE(o.immeubles_raccordables, 0) + m.immeubles_raccordables
           AS immeubles_raccordables,
       COALESCE(o.logements, 0) + m.logements AS logements,
       COALESCE(o.raccordables, 0) + m.raccordables AS raccordables,
       COALESCE(o.raccordables_demande, 0) + m.raccordables_demande AS raccordables_demande,
       COALESCE(o.en_cours, 0) + m.en_cours AS en_cours,
       COALESCE(o.cibles, 0) + m.cibles AS cibles,
       COALESCE(o.abandonnes, 0) + m.abandonnes AS abandonnes,
       COALESCE(o.locaux_pro, 0) + m.locaux_pro AS locaux_pro, o.id AS ends
FROM moves m
LEFT JOIN state_rollup o ON o.territory_code = :t AND o.valid_to IS NULL AND o.level = m.level
     AND o.code = m.code AND o.amii = m.amii
-- ;
-- name: stored_until
-- The territory's latest stored start or end of a cube span (NULL: none stored).
SELECT greatest((SELECT max(valid_from) FROM state_cube WHERE territory_code = :t),
                (SELECT max(valid_to) FROM state_cube WHERE territory_code = :t))
-- ;
-- name: cube_ended
-- When every stored date precedes :from_date (the usual import): the open spans that do not go
-- on (no staged span continues them) end there.
CREATE TEMP TABLE cube_ended ON COMMIT DROP AS
SELECT o.id FROM state_cube o
WHERE o.territory_code = :t AND o.valid_to IS NULL
  AND NOT EXISTS (SELECT FROM new_cube s WHERE s.prior = o.id)
-- ;
-- name: cube_change
-- What changes in the cube at :from_date, as spans from it: the new ones, and the ended ones
-- with their figures taken off (a rollup_fill {cube}).
SELECT territory_code, valid_from, valid_to, pm_reference, insee, amii, etat, immeubles,
       logements, locaux_pro
FROM new_cube WHERE prior IS NULL
UNION ALL
SELECT o.territory_code, CAST(:from_date AS date), CAST(NULL AS date), o.pm_reference, o.insee,
       o.amii, o.etat, -o.immeubles, -o.logements, -o.locaux_pro
FROM state_cube o JOIN cube_ended e ON e.id = o.id
-- ;
-- name: cube_end
UPDATE state_cube o SET valid_to = :from_date FROM cube_ended e WHERE o.id = e.id
-- ;
-- name: rollup_end
UPDATE state_rollup o SET valid_to = :from_date FROM new_rollup n WHERE o.id = n.ends
-- ;
-- name: glue
-- Writes the spans staged in {staged} (from :from_date on) into {table} of territory :t,
-- touching only what changed. Each staged span starting at :from_date was matched, when staged,
-- to the stored span of the same key and figures alive just before (its id: prior, its end:
-- prior_to): that one is extended instead of a new row written. Spans starting on or after
-- :from_date go; the other stored spans alive then end there; the unmatched staged ones are
-- written.
DELETE FROM {table} WHERE territory_code = :t AND valid_from >= :from_date
-- ;
-- name: glue_extend
UPDATE {table} o SET valid_to = s.valid_to
FROM {staged} s
WHERE o.id = s.prior AND s.prior_to IS DISTINCT FROM s.valid_to
-- ;
-- name: glue_close
UPDATE {table} o SET valid_to = :from_date
WHERE o.territory_code = :t AND o.valid_from < :from_date
  AND (o.valid_to IS NULL OR o.valid_to > :from_date)
  AND NOT EXISTS (SELECT FROM {staged} s WHERE s.prior = o.id)
-- ;
-- name: glue_insert
-- (a staged unit with no premise left only ends its stored span)
INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged}
WHERE prior IS NULL AND immeubles > 0
