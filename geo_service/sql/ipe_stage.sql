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

-- name: file_lines
-- The file's lines (raw_line) unquoted as said below, each with its identifier and fingerprint:
-- the part of `lines` and `first_lines` (ipe_stage.py puts it in their braces).
SELECT NULLIF(split_part(u.line, ';', :p_id), '') AS identifiant_immeuble,
       hashtextextended(u.line, :seed) AS source_hash, u.line
FROM (SELECT CASE WHEN strpos(line, '"') = 0 THEN line
                  WHEN line ~ :simply_quoted THEN replace(line, '"', '')
                  ELSE line END AS line
      FROM raw_line OFFSET 0) u
-- ;
-- name: has_premises
-- Whether the territory holds premises already (else a first load: `first_lines`).
SELECT EXISTS (SELECT 1 FROM premise p JOIN commune c ON c.insee = p.insee
               WHERE c.territory_code = :t)
-- ;
-- name: lines
-- Each line, unquoted first: when every quote of the line opens or closes a cell wholly between
-- quotes that holds neither quote nor ';' (:simply_quoted), the quotes go, as every CSV reader
-- reads them; any other line keeps its quotes and goes to the reader (checked below). The
-- fingerprint is that of the unquoted line, so that the same content quoted or not is the same
-- line. One pass joins the lines with every premise (a full join) and keeps, by kind:
--   changed    a line to split (new, changed or back from removed), with its premise if any
--              (premise_id, so that the merge never looks a premise up by identifier);
--   unchanged  the lines whose fingerprint is the one stored on their premise, counted (n) per
--              PM columns, operator and commune of their premise: the PMs' states, the operators
--              and the départements of the file without a row per line (writing 2.5 M rows
--              cost more than the join itself);
--   absent     a premise of the territory, not removed, that no line names (removal candidate);
--   other      the other premises (other territories, removed ones), counted;
--   total      every premise, counted: premises named by lines = total - absent - other, so
--              that duplicate identifiers are found without a row per line (see check).
-- Identical lines make one row with n > 1 (a duplicate the check sees).
CREATE TEMP TABLE ipe_line ON COMMIT DROP AS
SELECT j.kind, j.identifiant_immeuble, j.source_hash, j.premise_id, j.kind = 'changed' AS changed,
       j.line, j.code_oi, j.reference_pm, j.etat_pm,
       max(j.date_installation_pm) AS date_installation_pm, j.insee, count(*)::bigint AS n
FROM (
    -- each kind's columns only (OFFSET 0 keeps x apart: its kind is computed once per row)
    SELECT x.kind,
           CASE WHEN x.kind = 'changed' THEN x.identifiant_immeuble END AS identifiant_immeuble,
           CASE WHEN x.kind = 'changed' THEN x.source_hash END AS source_hash,
           CASE WHEN x.kind IN ('changed', 'absent') THEN x.premise_id END AS premise_id,
           CASE WHEN x.kind = 'changed' THEN x.line END AS line,
           CASE WHEN x.kind IN ('unchanged', 'absent') THEN x.code_oi END AS code_oi,
           CASE WHEN x.kind = 'unchanged' THEN x.reference_pm END AS reference_pm,
           CASE WHEN x.kind = 'unchanged' THEN x.etat_pm END AS etat_pm,
           CASE WHEN x.kind = 'unchanged' THEN x.date_installation_pm END AS date_installation_pm,
           CASE WHEN x.kind IN ('unchanged', 'absent') THEN x.insee END AS insee
    FROM (
        SELECT CASE WHEN k.source_hash IS NULL
                    THEN CASE WHEN p.removed_on IS NULL
                                   AND p.insee IN (SELECT insee FROM commune
                                                   WHERE territory_code = :t)
                              THEN 'absent' ELSE 'other' END
                    WHEN p.id IS NULL OR p.removed_on IS NOT NULL
                         OR p.source_hash IS DISTINCT FROM k.source_hash THEN 'changed'
                    ELSE 'unchanged' END AS kind,
               k.identifiant_immeuble, k.source_hash, p.id AS premise_id, k.line, p.code_oi,
               p.pm_reference AS reference_pm, p.etat_pm, p.date_installation_pm, p.insee
        FROM (
            {file_lines}
            OFFSET 0
        ) k
        FULL JOIN premise p ON p.identifiant_immeuble = k.identifiant_immeuble
        OFFSET 0
    ) x
) j
GROUP BY j.kind, j.identifiant_immeuble, j.source_hash, j.premise_id, j.line, j.code_oi,
         j.reference_pm, j.etat_pm, j.insee
UNION ALL
SELECT 'total', NULL, NULL, NULL, false, NULL, NULL, NULL, NULL, NULL, NULL, count(*)
FROM premise
-- ;
-- name: first_lines
-- The same for a territory holding no premise yet (a first load): every line is to split, none
-- to count; each with the premise of its identifier if another territory has it. No premise of
-- the territory to remove; no premise counts needed (the check counts identifiers directly).
CREATE TEMP TABLE ipe_line ON COMMIT DROP AS
SELECT 'changed'::text AS kind, k.identifiant_immeuble, k.source_hash, p.id AS premise_id,
       true AS changed, k.line, NULL::varchar AS code_oi, NULL::varchar AS reference_pm,
       NULL::varchar AS etat_pm, NULL::date AS date_installation_pm, NULL::varchar AS insee,
       1::bigint AS n
FROM ({file_lines}) k
LEFT JOIN premise p ON p.identifiant_immeuble = k.identifiant_immeuble
-- ;
-- name: typed
-- (geo_service.ingest.ipe_stage appends ORDER BY r.premise_id, but for a first load)
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
-- ones were checked above, and only their length is looked at here. Distinct identifiers: those
-- of the changed lines without a premise, plus the premises some line names (each has its own);
-- after first_lines (:first), those of all lines.
SELECT (SELECT COALESCE(sum(n), 0) FROM ipe_line WHERE kind IN ('changed', 'unchanged')) AS rows,
       (SELECT count(DISTINCT identifiant_immeuble COLLATE "C") FROM ipe_line
        WHERE kind = 'changed' AND (premise_id IS NULL OR :first))
       + (SELECT COALESCE(sum(CASE WHEN kind = 'total' THEN n ELSE -n END), 0) FROM ipe_line
          WHERE kind IN ('total', 'absent', 'other')) AS identifiers,
       (SELECT max(octet_length(line)) FROM ipe_line WHERE changed) AS longest,
       (SELECT count(*) FROM stage_ipe WHERE NOT canonical) AS outside_canonical_forms,
       (SELECT array_agg(p) FROM (SELECT projection AS p FROM stage_ipe GROUP BY 1) x) AS projections,
       (SELECT array_agg(o) FROM (SELECT code_oi AS o FROM ipe_line WHERE kind = 'unchanged'
                                  UNION SELECT code_oi FROM stage_ipe) x
        WHERE o IS NOT NULL) AS operators
-- ;
-- name: from_reader
-- The thorough reader's rows, seen as the file's lines (no fingerprint: all compared), with their
-- premise if any; and the premises of the territory, not removed, that no row names.
UPDATE stage_ipe s SET premise_id = p.id FROM premise p
WHERE p.identifiant_immeuble = s.identifiant_immeuble
-- ;
-- name: from_reader_lines
CREATE TEMP TABLE ipe_line ON COMMIT DROP AS
SELECT 'changed'::text AS kind, identifiant_immeuble, NULL::bigint AS source_hash, premise_id,
       true AS changed, NULL::text AS line,
       code_oi, reference_pm, etat_pm, date_installation_pm, insee, 1::bigint AS n
FROM stage_ipe
UNION ALL
SELECT 'absent', NULL, NULL, p.id, false, NULL, p.code_oi, NULL, NULL, NULL, p.insee, 1
FROM premise p
WHERE p.removed_on IS NULL
  AND p.insee IN (SELECT insee FROM commune WHERE territory_code = :t)
  AND NOT EXISTS (SELECT 1 FROM stage_ipe s WHERE s.premise_id = p.id)
