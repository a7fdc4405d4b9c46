-- The street table behind the address search: one row per (commune, type, name, commune name)
-- of the premises, removed ones included (the table only grows; the search skips removed
-- premises). Statements are separated by a line holding only a dash-dash-semicolon marker.

-- name: refresh
-- All premises: distinct streets first (one hash pass over premise), then those the table
-- lacks; EXCEPT compares NULLs as equal, like the table's unique index. Nothing new: no write.
INSERT INTO address_street (insee, type_voie, nom_voie, commune_nom, search_text)
SELECT n.insee, n.type_voie, n.nom_voie, n.commune_nom,
       lower(unaccent(concat_ws(' ', n.type_voie, n.nom_voie, n.commune_nom)))
FROM (
    (SELECT DISTINCT insee, type_voie, nom_voie, commune_nom FROM premise)
    EXCEPT ALL
    SELECT insee, type_voie, nom_voie, commune_nom FROM address_street
) n
ORDER BY n.insee, n.type_voie, n.nom_voie, n.commune_nom
ON CONFLICT DO NOTHING
-- ;
-- name: refresh_staged
-- Only the lines an IPE import staged (stage_ipe): a new street always comes with a new or
-- changed line. The unique index skips the streets already known (no lookup of the table being
-- written, whose statistics may still describe it empty).
INSERT INTO address_street (insee, type_voie, nom_voie, commune_nom, search_text)
SELECT s.insee, s.type_voie, s.nom_voie, s.commune,
       lower(unaccent(concat_ws(' ', s.type_voie, s.nom_voie, s.commune)))
FROM (SELECT DISTINCT insee, type_voie, nom_voie, commune FROM stage_ipe) s
ORDER BY s.insee, s.type_voie, s.nom_voie, s.commune
ON CONFLICT DO NOTHING
