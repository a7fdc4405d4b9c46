-- Fast path of the IPE import. The file (no quotes, so ';' always separates cells) was COPYed
-- line by line into raw_line. Each line gets a fingerprint (hash of the line, seeded with a hash
-- of the header); a line whose fingerprint is the one stored on its premise is the line already
-- imported, byte for byte: only the other lines are split, typed and checked. The checks accept
-- only the canonical forms, so that the typed values are exactly those the thorough reader
-- (ipe_reader.py) would produce; any line outside them sends the whole file to that reader,
-- which writes the line-by-line report.
-- Parameters: :seed (from the header), :p_* 1-based positions of the columns in the header (NULL when absent),
-- :ncols, :t territory code, :etats / :etats_pm allowed states, :max_count, :xmin :ymin :xmax
-- :ymax the territory box in Lambert-93 metres.

-- name: lines
-- Unchanged lines take their PM columns and operator from their premise: nothing to split.
CREATE TEMP TABLE ipe_line ON COMMIT DROP AS
SELECT k.identifiant_immeuble, k.source_hash, p.id AS premise_id, (p.id IS NULL) AS changed,
       CASE WHEN p.id IS NULL THEN k.line END AS line,
       p.code_oi, p.pm_reference AS reference_pm, p.etat_pm, p.date_installation_pm
FROM (
    SELECT NULLIF(split_part(line, ';', :p_id), '') AS identifiant_immeuble,
           hashtextextended(line, :seed) AS source_hash, line
    FROM raw_line
) k
LEFT JOIN premise p ON p.identifiant_immeuble = k.identifiant_immeuble
                   AND p.source_hash = k.source_hash AND p.removed_on IS NULL
-- ;
-- name: typed
-- Canonical forms are checked by round trips (cheaper than regular expressions): a count or a
-- date is accepted only when casting it and printing it back gives the very same text; a
-- coordinate holds only digits, '.' and '-'. A value PostgreSQL cannot cast at all fails the
-- statement, which also sends the file to the reader.
CREATE TEMP TABLE stage_ipe ON COMMIT DROP AS
SELECT NULL::int AS line,
       r.f[:p_id] AS identifiant_immeuble,
       r.f[:p_adresse] AS code_adresse,
       r.f[:p_insee] AS insee,
       r.f[:p_cp] AS code_postal,
       r.f[:p_commune] AS commune,
       r.f[:p_numero] AS numero,
       r.f[:p_complement] AS complement,
       r.f[:p_type_voie] AS type_voie,
       r.f[:p_nom_voie] AS nom_voie,
       r.f[:p_batiment] AS batiment,
       r.f[:p_x]::float8 AS x,
       r.f[:p_y]::float8 AS y,
       r.f[:p_logements]::int AS logements,
       COALESCE(r.f[:p_locaux]::int, 0) AS locaux_pro,
       r.f[:p_etat] AS etat,
       r.f[:p_pm] AS reference_pm,
       r.f[:p_etat_pm] AS etat_pm,
       r.f[:p_date_signature]::date AS date_signature,
       r.f[:p_date_pm]::date AS date_installation_pm,
       r.f[:p_pbo] AS type_pbo,
       r.f[:p_racco] AS type_racco,
       CASE WHEN r.f[:p_long] IS NULL THEN NULL
            ELSE upper(r.f[:p_long]) IN ('O', 'OUI', '1', 'TRUE', 'T') END AS raccordement_long,
       r.f[:p_oi] AS code_oi,
       r.f[:p_date_mes]::date AS date_mes_commerciale,
       r.source_hash,
       r.f[:p_projection] AS projection,
       (    cardinality(r.f) = :ncols
        AND r.f[:p_id] IS NOT NULL
        AND c.insee IS NOT NULL
        AND r.f[:p_logements]::int::text = r.f[:p_logements]
        AND r.f[:p_logements]::int BETWEEN 0 AND :max_count
        AND (r.f[:p_locaux] IS NULL
             OR (r.f[:p_locaux]::int::text = r.f[:p_locaux]
                 AND r.f[:p_locaux]::int BETWEEN 0 AND :max_count))
        AND r.f[:p_etat] = ANY(:etats)
        AND CASE WHEN r.f[:p_pm] IS NULL
                 THEN r.f[:p_etat] = 'CIBLE'
                      AND (r.f[:p_etat_pm] IS NULL OR r.f[:p_etat_pm] = ANY(:etats_pm))
                 ELSE pm.reference IS NOT NULL AND r.f[:p_etat_pm] = ANY(:etats_pm) END
        AND (r.f[:p_date_signature] IS NULL
             OR r.f[:p_date_signature]::date::text = r.f[:p_date_signature])
        AND (r.f[:p_date_pm] IS NULL OR r.f[:p_date_pm]::date::text = r.f[:p_date_pm])
        AND (r.f[:p_date_mes] IS NULL OR r.f[:p_date_mes]::date::text = r.f[:p_date_mes])
        AND r.f[:p_x] !~ '[^0-9.-]'
        AND r.f[:p_y] !~ '[^0-9.-]'
        AND r.f[:p_x]::float8 BETWEEN :xmin AND :xmax
        AND r.f[:p_y]::float8 BETWEEN :ymin AND :ymax
       ) IS TRUE AS canonical
FROM (  -- OFFSET 0: split each line once, before the joins (never once per join probe)
    SELECT l.source_hash, string_to_array(l.line, ';', '') AS f
    FROM ipe_line l WHERE l.changed OFFSET 0
) r
LEFT JOIN commune c ON c.insee = r.f[:p_insee] AND c.territory_code = :t
LEFT JOIN pm ON pm.reference = r.f[:p_pm]
-- ;
-- name: check
SELECT (SELECT count(*) FROM ipe_line) AS rows,
       (SELECT count(DISTINCT identifiant_immeuble COLLATE "C") FROM ipe_line) AS identifiers,
       (SELECT max(octet_length(line)) FROM raw_line) AS longest,
       (SELECT count(*) FROM stage_ipe WHERE NOT canonical) AS outside_canonical_forms,
       (SELECT array_agg(p) FROM (SELECT projection AS p FROM stage_ipe GROUP BY 1) x) AS projections,
       (SELECT array_agg(o) FROM (SELECT code_oi AS o FROM ipe_line WHERE NOT changed
                                  UNION SELECT code_oi FROM stage_ipe) x
        WHERE o IS NOT NULL) AS operators
-- ;
-- name: from_reader
-- The thorough reader's rows, seen as the file's lines (no fingerprint: all compared).
CREATE TEMP TABLE ipe_line ON COMMIT DROP AS
SELECT identifiant_immeuble, NULL::bigint AS source_hash, NULL::bigint AS premise_id,
       true AS changed, NULL::text AS line,
       code_oi, reference_pm, etat_pm, date_installation_pm
FROM stage_ipe
