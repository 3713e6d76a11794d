-- Buildings standing on %(day)s with no hydrant in service within %(radius)s m of their footprint,
-- each with the distance to its nearest hydrant in service (NULL when there is none at all).
WITH hydrants AS NOT MATERIALIZED (
    SELECT geom FROM {smart_hydrants} WHERE {standing} AND (status IS NULL OR status <> ALL (%(out)s))
)
SELECT b.id, b.source_id, b.name, b.use, b.floor_area_m2,
       round(ST_Distance(b.geom, nearest.geom)::numeric, 1)::float AS nearest_hydrant_m,
       ST_AsBinary(b.geom) AS geometry
FROM (SELECT * FROM {buildings} WHERE {standing}) b
LEFT JOIN LATERAL (SELECT h.geom FROM hydrants h ORDER BY h.geom <-> b.geom LIMIT 1) nearest ON true
WHERE ({box} IS NULL OR b.geom && {box})
  AND NOT EXISTS (SELECT FROM hydrants h WHERE ST_DWithin(h.geom, b.geom, %(radius)s))
ORDER BY nearest_hydrant_m DESC NULLS FIRST, b.id
