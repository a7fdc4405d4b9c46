-- Logements by state per unit, as of each of :dates (from the state cube: its spans alive at
-- each date), RIP only unless :amii. One scan, rolled up with GROUPING SETS to the
-- levels asked for — PM, NRO, commune, EPCI, each member département, the whole territory
-- ('departement') — for every date at once. The braces are filled by
-- geo_service.analysis.raccordables from a fixed list (never from input): {pm_join} joins the
-- PMs only when the NRO level is asked, {level} and {code} name each set's level and unit,
-- {sets} are the grouping sets (a commune's with its name), {name} and {name_joins} the names of
-- the units of the levels asked (a PM's, a member département's: its code); :insees keeps the
-- cube rows of some communes only. Whole units read their stored sums instead: from_rollup.
-- name: by_level
WITH snapshot AS (  -- the territory's latest change on or before each date
    SELECT d.day,
           greatest((SELECT max(valid_from) FROM state_cube
                     WHERE territory_code = :t AND valid_from <= d.day),
                    (SELECT max(valid_to) FROM state_cube
                     WHERE territory_code = :t AND valid_to <= d.day)) AS as_of
    FROM unnest(CAST(:dates AS date[])) AS d(day)
), state AS (  -- each snapshot once, however many of the dates fall on it
    SELECT s.as_of, q.etat, q.immeubles, q.logements, q.locaux_pro, q.pm_reference, q.insee,
           c.epci_siren, c.departement, c.nom AS commune_nom{nro_column}
    FROM (SELECT DISTINCT as_of FROM snapshot WHERE as_of IS NOT NULL) s
    JOIN state_cube q ON q.territory_code = :t AND q.valid_from <= s.as_of
                     AND (q.valid_to IS NULL OR q.valid_to > s.as_of)
    JOIN commune c ON c.insee = q.insee
    {pm_join}
    WHERE c.territory_code = :t AND (:amii OR NOT q.amii)
      AND q.insee = ANY(CAST(:insees AS text[]))
), rolled AS (
    SELECT as_of, {level} AS level, {code} AS code, {commune_nom} AS commune_nom,
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
SELECT s.day, r.level, COALESCE(r.code, :t) AS code, COALESCE({name}, r.code, :t) AS nom,
       COALESCE(r.immeubles, 0)::bigint, COALESCE(r.immeubles_raccordables, 0)::bigint,
       COALESCE(r.logements, 0)::bigint, COALESCE(r.raccordables, 0)::bigint,
       COALESCE(r.raccordables_demande, 0)::bigint, COALESCE(r.en_cours, 0)::bigint,
       COALESCE(r.cibles, 0)::bigint, COALESCE(r.abandonnes, 0)::bigint,
       COALESCE(r.locaux_pro, 0)::bigint, {taux} AS taux
FROM snapshot s JOIN rolled r ON r.as_of = s.as_of
{name_joins}
WHERE r.code IS NOT NULL OR r.level = 'departement'
ORDER BY r.code COLLATE "C"
-- ;
-- name: from_rollup
-- The same figures read from the stored sums per unit (state_rollup, written with the cube):
-- the rows of :levels alive at each date (of units :codes only, unless NULL), in the order
-- of their code. geo_service.analysis.raccordables fills the braces: RIP only, one stored row per
-- unit ({columns} the stored values, no {group_by}); with :amii, its rows added to RIP's. The
-- rate (taux, %) is rounded half away from zero to two decimals, here and in by_level.
SELECT s.day, r.level, r.code, {columns}
FROM unnest(CAST(:dates AS date[])) AS s(day)
JOIN state_rollup r ON r.territory_code = :t AND r.valid_from <= s.day
                   AND (r.valid_to IS NULL OR r.valid_to > s.day)
WHERE r.level = ANY(CAST(:levels AS text[])) AND (:amii OR NOT r.amii)
  AND (CAST(:codes AS text[]) IS NULL OR r.code = ANY(CAST(:codes AS text[])))
{group_by}
ORDER BY r.code COLLATE "C"
-- ;
-- name: as_json
-- The rows of from_rollup ({rows}) for one date as the JSON array the API sends, built here
-- (51 000 units of a national territory: building as many Python dicts costs more): the keys,
-- their order and the rows' order of geo_service.analysis.raccordables' records. A row made
-- JSON whole (json_agg of the row) costs less than json_build_object of its fields.
SELECT COALESCE(json_agg(j ORDER BY w.o, w.c COLLATE "C"), '[]')::text
FROM (SELECT array_position(CAST(:levels AS text[]), u.level) AS o, u.code AS c, u.*
      FROM ({rows}) u (as_of, level, code, nom, immeubles, immeubles_raccordables, logements,
                       raccordables, raccordables_demande, en_cours, cibles, abandonnes,
                       locaux_pro, taux)) w
CROSS JOIN LATERAL (
    SELECT w.level, w.code, w.nom, w.immeubles, w.immeubles_raccordables, w.logements,
           w.raccordables, w.raccordables_demande, w.en_cours, w.cibles, w.abandonnes,
           w.locaux_pro, w.taux, w.as_of) j
