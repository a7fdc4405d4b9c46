-- Premises of the file's operator(s) in the file's territory absent from this snapshot:
-- marked removed, never deleted. Another territory's premises of the same operator stay, and
-- so do, in a territory of several départements, those of a département the file has no line
-- of (:deps, NULL for a one-département territory): operators deliver one file per département.
-- name: gone
-- The candidates are the premises no line named (kind 'absent' of ipe_line, see ipe_stage.sql).
CREATE TEMP TABLE gone_premise ON COMMIT DROP AS
SELECT p.id AS premise_id FROM ipe_line g JOIN premise p ON p.id = g.premise_id
WHERE g.kind = 'absent' AND p.code_oi = ANY(:ois) AND p.removed_on IS NULL
  AND p.insee IN (SELECT insee FROM commune WHERE territory_code = :t
                  AND (CAST(:deps AS text[]) IS NULL OR departement = ANY(CAST(:deps AS text[]))))
  AND p.last_import_id IS DISTINCT FROM :j  -- not inserted by this import
-- ;
-- name: mark_removed
UPDATE premise p SET removed_on = :d, last_import_id = :j FROM gone_premise g
WHERE p.id = g.premise_id
-- ;
-- name: drop_same_day_periods
DELETE FROM premise_history h USING gone_premise g
WHERE h.premise_id = g.premise_id AND h.valid_to IS NULL AND h.valid_from = :d
-- ;
-- name: close_and_record
WITH closed AS (
    UPDATE premise_history h SET valid_to = :d FROM gone_premise g
    WHERE h.premise_id = g.premise_id AND h.valid_to IS NULL
    RETURNING h.premise_id, h.etat, h.logements, h.locaux_pro, h.pm_reference
)
INSERT INTO premise_history
    (premise_id, etat, logements, locaux_pro, pm_reference, removed, valid_from, import_id, changed_by)
SELECT premise_id, etat, logements, locaux_pro, pm_reference, true, :d, :j, :u FROM closed

-- ;
-- name: file_departements
-- The départements the snapshot has lines in: its staged lines' communes and those of its
-- unchanged lines (their premise's, counted per commune in ipe_line), no join with premise.
SELECT DISTINCT c.departement FROM (
    SELECT s.insee FROM stage_ipe s
    UNION
    SELECT l.insee FROM ipe_line l WHERE l.kind = 'unchanged'
) f JOIN commune c ON c.insee = f.insee AND c.territory_code = :t
