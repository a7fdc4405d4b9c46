-- Fast path of the IPE import. The data lines were COPYed one per row into raw_line (text format,
-- no backslash in the file). Each line, unquoted when its quotes only bound cells, gets a
-- fingerprint (hash of the line, seeded with a hash of the header); a line whose fingerprint is
-- the one stored on its premise has the content already imported: only the other lines are
-- split, typed and checked. The checks accept only the canonical forms, so that the typed values
-- are exactly those the thorough reader (ipe_reader.py) would produce; any line outside them
-- sends the whole file to that reader, which writes the line-by-line report.
-- Parameters: :seed (from the header), :p_* 1-based positions of the columns in the header
-- (NULL when absent), :ncols, :t territory code, :etats / :etats_pm allowed states, :max_count,
-- :xmin :ymin :xmax :ymax the territory box in Lambert-93 metres, :padded and :simply_quoted
-- the regular expressions of ipe_stage.py.

-- name: lines
-- Each line, unquoted first: when every quote of the line opens or closes a cell wholly between
-- quotes that holds neither quote nor ';' (:simply_quoted), the quotes go, as every CSV reader
-- reads them; any other line keeps its quotes and goes to the reader (checked below). The
-- fingerprint is that of the unquoted line, so that the same content quoted or not is the same
-- line. Each line comes with its premise, if any (premise_id, so that the merge never looks a
-- premise up by identifier while it inserts). Unchanged lines take their PM columns and operator
-- from their premise, and so does its commune (the file's départements): nothing to split.
CREATE TEMP TABLE ipe_line ON COMMIT DROP AS
SELECT k.identifiant_immeuble, k.source_hash, p.id AS premise_id, d.changed,
       CASE WHEN d.changed THEN k.line END AS line,
       CASE WHEN NOT d.changed THEN p.code_oi END AS code_oi,
       CASE WHEN NOT d.changed THEN p.pm_reference END AS reference_pm,
       CASE WHEN NOT d.changed THEN p.etat_pm END AS etat_pm,
       CASE WHEN NOT d.changed THEN p.date_installation_pm END AS date_installation_pm,
       CASE WHEN NOT d.changed THEN p.insee END AS insee
FROM (
    SELECT NULLIF(split_part(u.line, ';', :p_id), '') AS identifiant_immeuble,
           hashtextextended(u.line, :seed) AS source_hash, u.line
    FROM (SELECT CASE WHEN strpos(line, '"') = 0 THEN line
                      WHEN line ~ :simply_quoted THEN replace(line, '"', '')
                      ELSE line END AS line
          FROM raw_line OFFSET 0) u
) k
LEFT JOIN premise p ON p.identifiant_immeuble = k.identifiant_immeuble
CROSS JOIN LATERAL (
    SELECT p.id IS NULL OR p.removed_on IS NOT NULL
           OR p.source_hash IS DISTINCT FROM k.source_hash AS changed) d
-- ;
-- name: typed
-- Each changed (unquoted) line is split once (innermost query), its cells taken once (middle
-- query; both kept apart by OFFSET 0, else the split would be repeated for every cell), then
-- typed and checked: no quote left, no blank at the edge of a cell (those Python's str.strip()
-- removes, :padded). Canonical forms are checked by round trips (cheaper than regular
-- expressions): a count or a date is accepted only when casting it and printing it back gives
-- the very same text; a coordinate holds only digits, '.' and '-'. A value PostgreSQL cannot
-- cast at all fails the statement, which also sends the file to the reader.
CREATE TEMP TABLE stage_ipe ON COMMIT DROP AS
SELECT NULL::int AS line,
       r.identifiant_immeuble, r.code_adresse, r.insee, r.code_postal, r.commune, r.numero,
       r.complement, r.type_voie, r.nom_voie, r.batiment,
       r.x::float8 AS x,
       r.y::float8 AS y,
       r.logements::int AS logements,
       COALESCE(r.locaux::int, 0) AS locaux_pro,
       r.etat, r.reference_pm, r.etat_pm,
       r.date_signature::date AS date_signature,
       r.date_pm::date AS date_installation_pm,
       r.type_pbo, r.type_racco,
       CASE WHEN r.long IS NULL THEN NULL
            ELSE upper(r.long) IN ('O', 'OUI', '1', 'TRUE', 'T') END AS raccordement_long,
       r.code_oi,
       r.date_mes::date AS date_mes_commerciale,
       r.source_hash, r.premise_id, r.projection,
       (    r.ncols = :ncols
        AND strpos(r.line, '"') = 0
        AND r.line !~ :padded
        AND r.identifiant_immeuble IS NOT NULL
        AND c.insee IS NOT NULL
        AND r.logements::int::text = r.logements
        AND r.logements::int BETWEEN 0 AND :max_count
        AND (r.locaux IS NULL
             OR (r.locaux::int::text = r.locaux AND r.locaux::int BETWEEN 0 AND :max_count))
        AND r.etat = ANY(:etats)
        AND CASE WHEN r.reference_pm IS NULL
                 THEN r.etat = 'CIBLE' AND (r.etat_pm IS NULL OR r.etat_pm = ANY(:etats_pm))
                 ELSE pm.reference IS NOT NULL AND r.etat_pm = ANY(:etats_pm) END
        AND (r.date_signature IS NULL OR r.date_signature::date::text = r.date_signature)
        AND (r.date_pm IS NULL OR r.date_pm::date::text = r.date_pm)
        AND (r.date_mes IS NULL OR r.date_mes::date::text = r.date_mes)
        AND r.x !~ '[^0-9.-]'
        AND r.y !~ '[^0-9.-]'
        AND r.x::float8 BETWEEN :xmin AND :xmax
        AND r.y::float8 BETWEEN :ymin AND :ymax
       ) IS TRUE AS canonical
FROM (
    SELECT f.premise_id, f.source_hash, f.line, cardinality(f.f) AS ncols,
           f.f[:p_id] AS identifiant_immeuble, f.f[:p_adresse] AS code_adresse,
           f.f[:p_insee] AS insee, f.f[:p_cp] AS code_postal, f.f[:p_commune] AS commune,
           f.f[:p_numero] AS numero, f.f[:p_complement] AS complement,
           f.f[:p_type_voie] AS type_voie, f.f[:p_nom_voie] AS nom_voie,
           f.f[:p_batiment] AS batiment, f.f[:p_x] AS x, f.f[:p_y] AS y,
           f.f[:p_logements] AS logements, f.f[:p_locaux] AS locaux, f.f[:p_etat] AS etat,
           f.f[:p_pm] AS reference_pm, f.f[:p_etat_pm] AS etat_pm,
           f.f[:p_date_signature] AS date_signature, f.f[:p_date_pm] AS date_pm,
           f.f[:p_pbo] AS type_pbo, f.f[:p_racco] AS type_racco, f.f[:p_long] AS long,
           f.f[:p_oi] AS code_oi, f.f[:p_date_mes] AS date_mes, f.f[:p_projection] AS projection
    FROM (SELECT l.premise_id, l.source_hash, l.line, string_to_array(l.line, ';', '') AS f
          FROM ipe_line l WHERE l.changed OFFSET 0) f
    OFFSET 0
) r
LEFT JOIN commune c ON c.insee = r.insee AND c.territory_code = :t
LEFT JOIN pm ON pm.reference = r.reference_pm
-- ;
-- name: check
-- Unchanged lines are byte for byte lines a previous import accepted this way: only the changed
-- ones were checked above, and only their length is looked at here.
SELECT (SELECT count(*) FROM ipe_line) AS rows,
       (SELECT count(DISTINCT identifiant_immeuble COLLATE "C") FROM ipe_line) AS identifiers,
       (SELECT max(octet_length(line)) FROM ipe_line WHERE changed) AS longest,
       (SELECT count(*) FROM stage_ipe WHERE NOT canonical) AS outside_canonical_forms,
       (SELECT array_agg(p) FROM (SELECT projection AS p FROM stage_ipe GROUP BY 1) x) AS projections,
       (SELECT array_agg(o) FROM (SELECT code_oi AS o FROM ipe_line WHERE NOT changed
                                  UNION SELECT code_oi FROM stage_ipe) x
        WHERE o IS NOT NULL) AS operators
-- ;
-- name: from_reader
-- The thorough reader's rows, seen as the file's lines (no fingerprint: all compared), with their
-- premise if any.
UPDATE stage_ipe s SET premise_id = p.id FROM premise p
WHERE p.identifiant_immeuble = s.identifiant_immeuble;
CREATE TEMP TABLE ipe_line ON COMMIT DROP AS
SELECT identifiant_immeuble, NULL::bigint AS source_hash, premise_id,
       true AS changed, NULL::text AS line,
       code_oi, reference_pm, etat_pm, date_installation_pm, insee
FROM stage_ipe
