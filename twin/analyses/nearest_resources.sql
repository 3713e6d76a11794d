-- The emergency resources in service on %(day)s: where they are in the twin's CRS (to snap them to the
-- roads) and as WKB (to answer with).
SELECT layer, id, name, phone, address, ST_X(geom) AS x, ST_Y(geom) AS y,
       ST_AsBinary(geom) AS geometry
FROM (
    SELECT 'police_stations' AS layer, id, name, phone, address, status, geom FROM {police_stations} WHERE {standing}
    UNION ALL
    SELECT 'fire_brigades', id, name, phone, address, status, geom FROM {fire_brigades} WHERE {standing}
    UNION ALL
    SELECT 'hospitals', id, name, phone, address, status, geom FROM {hospitals} WHERE {standing}
) resources
WHERE status IS NULL OR status <> ALL (%(out)s)
