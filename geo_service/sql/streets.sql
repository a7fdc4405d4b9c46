-- The street table behind the address search: one row per (commune, type, name, commune name)
-- of the premises, removed ones included, with the ids of every premise written with it (the
-- table and the lists only grow; the search keeps the premises still on the street and not
-- removed). Streets are grouped as the table's unique index sees them (NULL and '' alike).
-- Statements are separated by a line holding only a dash-dash-semicolon marker.

-- name: refresh
-- All premises: the streets (one pass over premise), then those the table lacks or whose list
-- lacks some premise. Nothing new: no write. Returns the number of streets added.
WITH street AS (
    SELECT insee, min(type_voie) AS type_voie, min(nom_voie) AS nom_voie,
           min(commune_nom) AS commune_nom, array_agg(id ORDER BY id) AS premise_ids
    FROM premise
    GROUP BY insee, coalesce(type_voie, ''), coalesce(nom_voie, ''), coalesce(commune_nom, '')
),
missing AS (
    SELECT s.* FROM street s
    WHERE NOT EXISTS (
        SELECT 1 FROM address_street a
        WHERE a.insee = s.insee AND coalesce(a.type_voie, '') = coalesce(s.type_voie, '')
          AND coalesce(a.nom_voie, '') = coalesce(s.nom_voie, '')
          AND coalesce(a.commune_nom, '') = coalesce(s.commune_nom, '')
          AND a.premise_ids @> s.premise_ids
    )
),
written AS (
    INSERT INTO address_street AS a (insee, type_voie, nom_voie, commune_nom, search_text,
                                     premise_ids)
    SELECT m.insee, m.type_voie, m.nom_voie, m.commune_nom,
           lower(unaccent(concat_ws(' ', m.type_voie, m.nom_voie, m.commune_nom))), m.premise_ids
    FROM missing m
    ORDER BY m.insee, m.type_voie, m.nom_voie, m.commune_nom
    ON CONFLICT (insee, (coalesce(type_voie, '')), (coalesce(nom_voie, '')),
                 (coalesce(commune_nom, '')))
    DO UPDATE SET premise_ids = ARRAY(
        SELECT DISTINCT i FROM unnest(a.premise_ids || excluded.premise_ids) i ORDER BY i
    )
    RETURNING xmax = 0 AS added
)
SELECT count(*) FILTER (WHERE added) FROM written
-- ;
-- name: refresh_staged
-- Only the premises of the lines an IPE import staged (stage_ipe, after the merge): a premise
-- comes to a street only with a new or changed line. The street is the staged line's (what the
-- merge stored); the premise, the one found while staging, else (new) looked up by identifier
-- (a staged line with no premise was not stored: its commune is unknown). The unique index finds
-- the streets already known (no lookup of the table being written, whose statistics may still
-- describe it empty); a known street is written only when its list lacks one of these premises.
WITH staged AS (
    SELECT premise_id AS id, insee, type_voie, nom_voie, commune AS commune_nom
    FROM stage_ipe WHERE premise_id IS NOT NULL
    UNION ALL
    SELECT p.id, s.insee, s.type_voie, s.nom_voie, s.commune
    FROM stage_ipe s JOIN premise p ON p.identifiant_immeuble = s.identifiant_immeuble
    WHERE s.premise_id IS NULL
),
street AS (
    SELECT p.insee, min(p.type_voie) AS type_voie, min(p.nom_voie) AS nom_voie,
           min(p.commune_nom) AS commune_nom, array_agg(p.id ORDER BY p.id) AS premise_ids
    FROM staged p
    GROUP BY p.insee, coalesce(p.type_voie, ''), coalesce(p.nom_voie, ''),
             coalesce(p.commune_nom, '')
),
written AS (
    INSERT INTO address_street AS a (insee, type_voie, nom_voie, commune_nom, search_text,
                                     premise_ids)
    SELECT s.insee, s.type_voie, s.nom_voie, s.commune_nom,
           lower(unaccent(concat_ws(' ', s.type_voie, s.nom_voie, s.commune_nom))), s.premise_ids
    FROM street s
    ORDER BY s.insee, s.type_voie, s.nom_voie, s.commune_nom
    ON CONFLICT (insee, (coalesce(type_voie, '')), (coalesce(nom_voie, '')),
                 (coalesce(commune_nom, '')))
    DO UPDATE SET premise_ids = ARRAY(
        SELECT DISTINCT i FROM unnest(a.premise_ids || excluded.premise_ids) i ORDER BY i
    )
    WHERE NOT a.premise_ids @> excluded.premise_ids
    RETURNING xmax = 0 AS added
)
SELECT count(*) FILTER (WHERE added) FROM written
