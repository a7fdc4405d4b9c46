-- The ANFR import's staging tables and set-based merge (geo_service/ingest/anfr.py).
-- A station belongs to the territory through its supports: anfr_support.insee is the commune
-- holding the support's point (by geometry), so :t scopes every statement.
-- name: create_stage
DROP TABLE IF EXISTS pg_temp.anfr_candidate, pg_temp.stage_anfr_support, pg_temp.stage_anfr_station,
    pg_temp.stage_anfr_link, pg_temp.stage_anfr_emetteur;
CREATE TEMP TABLE anfr_candidate (line integer PRIMARY KEY, lon float8, lat float8,
    geom geometry(Point, 2154), insee text) ON COMMIT DROP;
CREATE TEMP TABLE stage_anfr_support (line integer, sup_id bigint PRIMARY KEY, nature text,
    proprietaire text, hauteur_m numeric(7, 2), adresse text, code_postal text) ON COMMIT DROP;
CREATE TEMP TABLE stage_anfr_station (sta_nm_anfr text PRIMARY KEY, exploitant text,
    date_implantation date, date_modif date, date_en_service date) ON COMMIT DROP;
CREATE TEMP TABLE stage_anfr_link (sta_nm_anfr text, sup_id bigint,
    PRIMARY KEY (sta_nm_anfr, sup_id)) ON COMMIT DROP;
CREATE TEMP TABLE stage_anfr_emetteur (emr_id bigint PRIMARY KEY, sta_nm_anfr text,
    systeme text, technologie text, aer_id bigint, date_service date) ON COMMIT DROP
-- ;
-- name: wgs84_bounds
SELECT ST_XMin(b) AS xmin, ST_YMin(b) AS ymin, ST_XMax(b) AS xmax, ST_YMax(b) AS ymax
FROM (SELECT ST_Transform(ST_Expand(ST_SetSRID(ST_Extent(geom)::geometry, 2154), 2000), 4326)::box2d AS b
      FROM commune WHERE territory_code = :t) e
-- ;
-- name: place_candidates
UPDATE anfr_candidate SET geom = ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 2154)
-- ;
-- name: candidates_inside
-- the commune of each point (the first by code on a shared border), in the territory only
UPDATE anfr_candidate a SET insee = (
    SELECT c.insee FROM commune c
    WHERE c.territory_code = :t AND ST_Intersects(c.geom, a.geom) ORDER BY c.insee LIMIT 1)
RETURNING a.line, a.insee
-- ;
-- name: territory_stations
-- stations of the territory (through a support in it) and those of this export, with the
-- service state that the history follows (station date, first date of each technology);
-- kept as anfr_before, then anfr_after the merge
SELECT st.sta_nm_anfr, jsonb_build_object(
    'exploitant', st.exploitant,
    'date_en_service', st.date_en_service,
    'technologies', COALESCE((
        SELECT jsonb_object_agg(e.technologie, e.first_date) FROM (
            SELECT technologie, min(date_service) AS first_date FROM anfr_emetteur
            WHERE sta_nm_anfr = st.sta_nm_anfr GROUP BY technologie) e), '{}'::jsonb)
) AS state
FROM anfr_station st
WHERE st.sta_nm_anfr IN (
        SELECT l.sta_nm_anfr FROM anfr_station_support l
        JOIN anfr_support s ON s.sup_id = l.sup_id
        JOIN commune c ON c.insee = s.insee AND c.territory_code = :t)
   OR st.sta_nm_anfr IN (SELECT sta_nm_anfr FROM stage_anfr_station)
-- ;
-- name: upsert_supports
INSERT INTO anfr_support AS s
    (sup_id, nature, proprietaire, hauteur_m, adresse, code_postal, insee, import_id, geom)
SELECT x.sup_id, x.nature, x.proprietaire, x.hauteur_m, x.adresse, x.code_postal, a.insee, :j, a.geom
FROM stage_anfr_support x JOIN anfr_candidate a ON a.line = x.line
ON CONFLICT (sup_id) DO UPDATE SET nature = EXCLUDED.nature,
    proprietaire = EXCLUDED.proprietaire, hauteur_m = EXCLUDED.hauteur_m,
    adresse = EXCLUDED.adresse, code_postal = EXCLUDED.code_postal, insee = EXCLUDED.insee,
    import_id = EXCLUDED.import_id, geom = EXCLUDED.geom
WHERE (s.nature, s.proprietaire, s.hauteur_m, s.adresse, s.code_postal, s.insee)
      IS DISTINCT FROM (EXCLUDED.nature, EXCLUDED.proprietaire, EXCLUDED.hauteur_m,
                        EXCLUDED.adresse, EXCLUDED.code_postal, EXCLUDED.insee)
   OR NOT ST_Equals(s.geom, EXCLUDED.geom)
RETURNING (xmax = 0) AS created
-- ;
-- name: upsert_stations
INSERT INTO anfr_station AS s
    (sta_nm_anfr, exploitant, date_implantation, date_modif, date_en_service, import_id)
SELECT sta_nm_anfr, exploitant, date_implantation, date_modif, date_en_service, :j
FROM stage_anfr_station
ON CONFLICT (sta_nm_anfr) DO UPDATE SET exploitant = EXCLUDED.exploitant,
    date_implantation = EXCLUDED.date_implantation, date_modif = EXCLUDED.date_modif,
    date_en_service = EXCLUDED.date_en_service, import_id = EXCLUDED.import_id
WHERE (s.exploitant, s.date_implantation, s.date_modif, s.date_en_service)
      IS DISTINCT FROM (EXCLUDED.exploitant, EXCLUDED.date_implantation, EXCLUDED.date_modif,
                        EXCLUDED.date_en_service)
RETURNING (xmax = 0) AS created
-- ;
-- name: insert_links
INSERT INTO anfr_station_support (sta_nm_anfr, sup_id)
SELECT sta_nm_anfr, sup_id FROM stage_anfr_link ON CONFLICT DO NOTHING
-- ;
-- name: upsert_emitters
INSERT INTO anfr_emetteur AS e
    (emr_id, sta_nm_anfr, systeme, technologie, aer_id, date_service, import_id)
SELECT emr_id, sta_nm_anfr, systeme, technologie, aer_id, date_service, :j
FROM stage_anfr_emetteur
ON CONFLICT (emr_id) DO UPDATE SET sta_nm_anfr = EXCLUDED.sta_nm_anfr,
    systeme = EXCLUDED.systeme, technologie = EXCLUDED.technologie, aer_id = EXCLUDED.aer_id,
    date_service = EXCLUDED.date_service, import_id = EXCLUDED.import_id
WHERE (e.sta_nm_anfr, e.systeme, e.technologie, e.aer_id, e.date_service)
      IS DISTINCT FROM (EXCLUDED.sta_nm_anfr, EXCLUDED.systeme, EXCLUDED.technologie,
                        EXCLUDED.aer_id, EXCLUDED.date_service)
RETURNING (xmax = 0) AS created
-- ;
-- name: gone_emitters
-- emitters of the export's stations that the export no longer lists
DELETE FROM anfr_emetteur e USING stage_anfr_station s
WHERE e.sta_nm_anfr = s.sta_nm_anfr
  AND NOT EXISTS (SELECT 1 FROM stage_anfr_emetteur x WHERE x.emr_id = e.emr_id)
-- ;
-- name: gone_links
DELETE FROM anfr_station_support l USING anfr_support s, commune c
WHERE l.sup_id = s.sup_id AND c.insee = s.insee AND c.territory_code = :t
  AND NOT EXISTS (SELECT 1 FROM stage_anfr_link x
                  WHERE x.sta_nm_anfr = l.sta_nm_anfr AND x.sup_id = l.sup_id)
-- ;
-- name: gone_supports
DELETE FROM anfr_support s USING commune c
WHERE c.insee = s.insee AND c.territory_code = :t
  AND NOT EXISTS (SELECT 1 FROM stage_anfr_support x WHERE x.sup_id = s.sup_id)
-- ;
-- name: gone_stations
-- the territory's stations left without any support (their emitters go with them)
DELETE FROM anfr_station st
WHERE st.sta_nm_anfr IN (SELECT sta_nm_anfr FROM anfr_before)
  AND NOT EXISTS (SELECT 1 FROM anfr_station_support l WHERE l.sta_nm_anfr = st.sta_nm_anfr)
-- ;
-- name: record_history
-- one line of history per station whose service dates changed (created: no before; removed:
-- after = {"retiree": true})
INSERT INTO asset_change (table_name, object_key, valid_from, changed_by, import_id, before, after)
SELECT 'anfr_station', COALESCE(a.sta_nm_anfr, b.sta_nm_anfr), :d, :u, :j, b.state,
       COALESCE(a.state, jsonb_build_object('retiree', true))
FROM anfr_after a FULL JOIN anfr_before b ON b.sta_nm_anfr = a.sta_nm_anfr
WHERE (a.state -> 'date_en_service', a.state -> 'technologies')
      IS DISTINCT FROM (b.state -> 'date_en_service', b.state -> 'technologies')
ORDER BY 2
-- ;
-- name: last_snapshot
SELECT max(snapshot_date) FROM import_journal
WHERE kind = 'anfr' AND status IN ('OK', 'PARTIEL') AND territory_code = :t
