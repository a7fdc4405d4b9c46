-- The address search (suggestions of the public search box, « quand ? » by address): streets by
-- trigrams first (`streets_sql` in PostgreSQL, or `streets_given` when chosen in memory), then
-- their current premises (`premises`): the statement is WITH <streets>, <premises>. Statements
-- are separated by a line holding only a dash-dash-semicolon marker.

-- name: streets_sql
-- Streets: the :scan streets nearest to the typed text by trigram distance (the GiST index walks
-- the streets in that order, no similarity computed on the others), then the :streets best of
-- them in the territory scoring at least :threshold, by score then id. Trigram distance is
-- 1 - similarity, so every street scoring more than the last one walked is among them: the
-- result is exact when the best scores (or :threshold when fewer streets reach it) are above
-- that last score. Otherwise (many streets tied at the edge) the exact search over all streets
-- runs instead; a one-time filter skips whichever branch is not needed.
q AS MATERIALIZED (SELECT lower(unaccent(:q)) AS s),
walked AS MATERIALIZED (
    SELECT a.id, a.insee, a.type_voie, a.nom_voie, a.commune_nom, a.premise_ids,
           similarity(a.search_text, q.s) AS score
    FROM q
    CROSS JOIN LATERAL (
        SELECT * FROM address_street a ORDER BY a.search_text <-> q.s LIMIT :scan
    ) a
),
best AS MATERIALIZED (
    SELECT w.*
    FROM walked w
    JOIN commune c ON c.insee = w.insee AND c.territory_code = :t
    WHERE w.score >= :threshold
    ORDER BY w.score DESC, w.id
    LIMIT :streets
),
exact AS MATERIALIZED (
    SELECT (SELECT count(*) FROM walked) < :scan
           OR (SELECT CASE WHEN count(*) = :streets THEN min(score) ELSE :threshold END FROM best)
              > (SELECT min(score) FROM walked) AS ok
),
street AS (
    SELECT * FROM best WHERE (SELECT ok FROM exact)
    UNION ALL
    (
        SELECT a.id, a.insee, a.type_voie, a.nom_voie, a.commune_nom, a.premise_ids,
               similarity(a.search_text, q.s) AS score
        FROM q
        JOIN address_street a ON similarity(a.search_text, q.s) >= :threshold
        JOIN commune c ON c.insee = a.insee AND c.territory_code = :t
        WHERE NOT (SELECT ok FROM exact)
        ORDER BY score DESC, a.id
        LIMIT :streets
    )
)
-- ;
-- name: streets_given
-- The streets chosen in memory (geo_service.analysis.street_index): ids and scores in order of
-- merit, the first :streets of them still in the table.
street AS (
    SELECT a.id, a.insee, a.type_voie, a.nom_voie, a.commune_nom, a.premise_ids, g.score
    FROM unnest(CAST(:ids AS bigint[]), CAST(:scores AS float8[])) WITH ORDINALITY
         AS g (id, score, rank)
    JOIN address_street a ON a.id = g.id
    ORDER BY g.rank
    LIMIT :streets
)
-- ;
-- name: premises
-- The premises of the chosen streets (after either street source, which defines `street`): the
-- typed house number (and complement) wins on the streets scoring close to the
-- best one, then the street's score, then the numbers nearest the typed one (or in order when
-- none was typed).
-- the current premises of those streets, by id from the street's list (a premise listed there
-- may have moved to another street since: the same street as the unique index sees it is kept)
premises AS (
    SELECT b.id AS street_id, b.score, p.id, p.identifiant_immeuble, p.geom, p.numero,
           p.complement, p.type_voie, p.nom_voie, p.commune_nom, p.insee, 0 AS source,
           CASE WHEN num.n IS DISTINCT FROM CAST(:numero AS integer) THEN 0
                WHEN num.c = :complement THEN 2 ELSE 1 END AS number_match,
           abs(num.n - CAST(:numero AS integer)) AS gap, num.n, num.c
    FROM street b
    CROSS JOIN LATERAL unnest(b.premise_ids) AS listed (premise_id)
    JOIN premise p ON p.id = listed.premise_id
    CROSS JOIN LATERAL (
        SELECT CAST(substring(p.numero FROM '^[0-9]{1,9}') AS integer) AS n,
               left(lower(coalesce(p.complement, '')), 1) AS c
    ) num
    WHERE p.removed_on IS NULL AND p.insee = b.insee
      AND coalesce(p.type_voie, '') = coalesce(b.type_voie, '')
      AND coalesce(p.nom_voie, '') = coalesce(b.nom_voie, '')
      AND coalesce(p.commune_nom, '') = coalesce(b.commune_nom, '')
    UNION ALL
    -- the BAN addresses filed under those streets by the BAN import (by index), so that an
    -- address missing from the operator's file is found too (source 1)
    SELECT b.id, b.score, NULL, NULL, r.geom, r.numero, r.rep, NULL, r.nom_voie, r.nom_commune,
           r.insee, 1,
           CASE WHEN num.n IS DISTINCT FROM CAST(:numero AS integer) THEN 0
                WHEN num.c = :complement THEN 2 ELSE 1 END,
           abs(num.n - CAST(:numero AS integer)), num.n, num.c
    FROM street b
    JOIN reference_address r ON r.street_id = b.id
    CROSS JOIN LATERAL (
        SELECT CAST(substring(r.numero FROM '^[0-9]{1,9}') AS integer) AS n,
               left(lower(coalesce(r.rep, '')), 1) AS c
    ) num
),
-- each street's first premises: the typed number first, then the nearest numbers
ranked AS (
    SELECT r.*, row_number() OVER (
               PARTITION BY r.street_id
               ORDER BY r.number_match DESC, r.gap, r.n, r.c, r.identifiant_immeuble, r.numero
           ) AS rank
    FROM premises r
),
-- each listed address spelled without accents, case, spaces or signs (a BAN address has no
-- street type apart: both read "type name")
top AS MATERIALIZED (
    SELECT r.*, regexp_replace(lower(unaccent(concat_ws(' ', r.type_voie, r.nom_voie))),
                               '[^a-z0-9]', '', 'g') AS spelled
    FROM ranked r WHERE r.rank <= :n
),
-- a BAN address that is also one of the premises listed is shown once, as the premise (same
-- commune, number, complement and spelling)
kept AS (
    SELECT t.* FROM top t
    WHERE t.source = 0 OR NOT EXISTS (
        SELECT 1 FROM top p
        WHERE p.source = 0 AND p.insee = t.insee AND p.spelled = t.spelled
          AND p.n IS NOT DISTINCT FROM t.n AND p.c = t.c
    )
)
SELECT r.id, r.identifiant_immeuble, r.score, r.source,
       ST_X(ST_Transform(r.geom, 4326)) AS lon, ST_Y(ST_Transform(r.geom, 4326)) AS lat,
       concat_ws(' ', r.numero, r.complement, r.type_voie, r.nom_voie) AS adresse, r.commune_nom
FROM kept r
-- the number counts on the streets (with premises or addresses) scoring near the best one
ORDER BY CASE WHEN r.score >= :near * max(r.score) OVER () THEN r.number_match ELSE 0 END DESC,
         r.score DESC, r.street_id, r.gap, r.n, r.c, r.identifiant_immeuble, r.numero
LIMIT :n
