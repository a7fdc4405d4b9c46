-- Merge one IPE snapshot (staged in stage_ipe) into premise / premise_history / pm / pm_history.
-- Parameters: :d snapshot date, :j import journal id, :u user, :ois operator codes of the file.
-- Statements are separated by a line holding only a dash-dash-semicolon marker.

-- name: insert_new_premises
INSERT INTO premise (
    identifiant_immeuble, code_oi, code_adresse, insee, code_postal, commune_nom, numero,
    complement, type_voie, nom_voie, batiment, logements, locaux_pro, etat, pm_reference,
    date_signature, date_mes_commerciale, type_pbo, type_racco, raccordement_long, amii,
    removed_on, etat_pm, date_installation_pm, source_hash, first_import_id, last_import_id,
    geom)
SELECT s.identifiant_immeuble, s.code_oi, s.code_adresse, s.insee, s.code_postal, s.commune,
       s.numero, s.complement, s.type_voie, s.nom_voie, s.batiment, s.logements, s.locaux_pro,
       s.etat, s.reference_pm, s.date_signature, s.date_mes_commerciale, s.type_pbo, s.type_racco,
       s.raccordement_long, c.amii, NULL, s.etat_pm, s.date_installation_pm, s.source_hash,
       :j, :j,
       ST_SetSRID(ST_MakePoint(s.x, s.y), 2154)
FROM stage_ipe s JOIN commune c ON c.insee = s.insee
WHERE s.premise_id IS NULL
-- ;
-- name: update_changed_premises
UPDATE premise p SET
    code_oi = s.code_oi, code_adresse = s.code_adresse, insee = s.insee,
    code_postal = s.code_postal, commune_nom = s.commune, numero = s.numero,
    complement = s.complement, type_voie = s.type_voie, nom_voie = s.nom_voie,
    batiment = s.batiment, logements = s.logements, locaux_pro = s.locaux_pro, etat = s.etat,
    pm_reference = s.reference_pm, date_signature = s.date_signature,
    date_mes_commerciale = s.date_mes_commerciale, type_pbo = s.type_pbo,
    type_racco = s.type_racco, raccordement_long = s.raccordement_long, amii = c.amii,
    removed_on = NULL, etat_pm = s.etat_pm, date_installation_pm = s.date_installation_pm,
    source_hash = s.source_hash, last_import_id = :j,
    geom = ST_SetSRID(ST_MakePoint(s.x, s.y), 2154)
FROM stage_ipe s JOIN commune c ON c.insee = s.insee
WHERE p.id = s.premise_id
  AND ((p.code_oi, p.code_adresse, p.insee, p.code_postal, p.commune_nom, p.numero, p.complement,
        p.type_voie, p.nom_voie, p.batiment, p.logements, p.locaux_pro, p.etat, p.pm_reference,
        p.date_signature, p.date_mes_commerciale, p.type_pbo, p.type_racco, p.raccordement_long,
        p.amii, p.removed_on, p.etat_pm, p.date_installation_pm, ST_X(p.geom), ST_Y(p.geom))
       IS DISTINCT FROM
       (s.code_oi, s.code_adresse, s.insee, s.code_postal, s.commune, s.numero, s.complement,
        s.type_voie, s.nom_voie, s.batiment, s.logements, s.locaux_pro, s.etat, s.reference_pm,
        s.date_signature, s.date_mes_commerciale, s.type_pbo, s.type_racco, s.raccordement_long,
        c.amii, NULL::date, s.etat_pm, s.date_installation_pm, s.x, s.y)
       -- a fingerprint to record even when no stored value changed (an unread column did)
       OR (s.source_hash IS NOT NULL AND p.source_hash IS DISTINCT FROM s.source_hash))
-- ;
-- name: changed_premises
CREATE TEMP TABLE changed_premise ON COMMIT DROP AS
SELECT p.id AS premise_id, s.etat, s.logements, s.locaux_pro, s.reference_pm,
       (h.id IS NULL) AS is_new
FROM stage_ipe s
JOIN premise p ON p.identifiant_immeuble = s.identifiant_immeuble
LEFT JOIN premise_history h ON h.premise_id = p.id AND h.valid_to IS NULL
WHERE h.id IS NULL OR h.removed
   OR (h.etat, h.logements, h.locaux_pro, h.pm_reference)
      IS DISTINCT FROM (s.etat, s.logements, s.locaux_pro, s.reference_pm)
-- the history written below in the order of its premise_id indexes, page after page, not at
-- random (at 10 % of France: 10.2 → 5.3–7.0 s for 112 000 periods chosen, closed and opened)
ORDER BY p.id
-- ;
-- name: drop_same_day_periods
DELETE FROM premise_history h USING changed_premise c
WHERE h.premise_id = c.premise_id AND h.valid_to IS NULL AND h.valid_from = :d
-- ;
-- name: close_periods
UPDATE premise_history h SET valid_to = :d FROM changed_premise c
WHERE h.premise_id = c.premise_id AND h.valid_to IS NULL
-- ;
-- name: open_periods
INSERT INTO premise_history
    (premise_id, etat, logements, locaux_pro, pm_reference, removed, valid_from, import_id, changed_by)
SELECT premise_id, etat, logements, locaux_pro, reference_pm, false, :d, :j, :u FROM changed_premise
-- ;
-- name: stage_pm
-- Per PM: the most frequent state of its lines (ties: the first in alphabetical order, as
-- mode() would say, counted with a hash instead of a sort) and the latest installation date.
CREATE TEMP TABLE stage_pm ON COMMIT DROP AS
WITH counted AS (
    SELECT reference_pm, etat_pm, sum(n) AS n, max(date_installation_pm) AS installed
    FROM (SELECT reference_pm, etat_pm, date_installation_pm, n FROM ipe_line
          WHERE kind = 'unchanged'  -- their lines counted per PM columns
          UNION ALL
          SELECT reference_pm, etat_pm, date_installation_pm, 1 FROM stage_ipe) f
    WHERE reference_pm IS NOT NULL
    GROUP BY reference_pm, etat_pm
)
SELECT DISTINCT ON (reference_pm) reference_pm AS reference, etat_pm AS etat,
       max(installed) OVER (PARTITION BY reference_pm) AS date_installation
FROM counted
ORDER BY reference_pm, etat_pm IS NULL, n DESC, etat_pm
-- ;
-- name: later_pm
-- PMs of the file whose history already holds a period after the snapshot: periods from another
-- source (a GraceTHD delivery dated later; the IPE's own order was checked before the merge).
CREATE TEMP TABLE later_pm ON COMMIT DROP AS
SELECT s.reference, s.etat, s.date_installation, min(h.valid_from) AS next_from
FROM stage_pm s JOIN pm_history h ON h.pm_reference = s.reference AND h.valid_from > :d
GROUP BY s.reference, s.etat, s.date_installation
-- ;
-- name: unstage_later_pm
-- Their current state stays the later one: they leave the ordinary merge below.
DELETE FROM stage_pm s USING later_pm l WHERE s.reference = l.reference
-- ;
-- name: unchanged_later_pm
DELETE FROM later_pm l USING pm_history h
WHERE h.pm_reference = l.reference AND h.valid_from <= :d AND h.valid_to > :d
  AND (h.etat, h.date_installation) IS NOT DISTINCT FROM (l.etat, l.date_installation)
-- ;
-- name: drop_same_day_later_pm_periods
DELETE FROM pm_history h USING later_pm l
WHERE h.pm_reference = l.reference AND h.valid_from = :d
-- ;
-- name: close_covering_pm_periods
UPDATE pm_history h SET valid_to = :d FROM later_pm l
WHERE h.pm_reference = l.reference AND h.valid_from < :d AND h.valid_to > :d
-- ;
-- name: insert_earlier_pm_periods
INSERT INTO pm_history (pm_reference, etat, date_installation, valid_from, valid_to, import_id, changed_by)
SELECT reference, etat, date_installation, :d, next_from, :j, :u FROM later_pm
-- ;
-- name: update_pm
UPDATE pm SET etat = s.etat, date_installation = s.date_installation, import_id = :j
FROM stage_pm s
WHERE pm.reference = s.reference
  AND (pm.etat, pm.date_installation) IS DISTINCT FROM (s.etat, s.date_installation)
-- ;
-- name: changed_pm
CREATE TEMP TABLE changed_pm ON COMMIT DROP AS
SELECT s.reference, s.etat, s.date_installation
FROM stage_pm s LEFT JOIN pm_history h ON h.pm_reference = s.reference AND h.valid_to IS NULL
WHERE h.id IS NULL
   OR (h.etat, h.date_installation) IS DISTINCT FROM (s.etat, s.date_installation)
-- ;
-- name: drop_same_day_pm_periods
DELETE FROM pm_history h USING changed_pm c
WHERE h.pm_reference = c.reference AND h.valid_to IS NULL AND h.valid_from = :d
-- ;
-- name: close_pm_periods
UPDATE pm_history h SET valid_to = :d FROM changed_pm c
WHERE h.pm_reference = c.reference AND h.valid_to IS NULL
-- ;
-- name: open_pm_periods
INSERT INTO pm_history (pm_reference, etat, date_installation, valid_from, import_id, changed_by)
SELECT reference, etat, date_installation, :d, :j, :u FROM changed_pm
