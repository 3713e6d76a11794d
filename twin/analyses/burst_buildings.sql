-- Buildings standing on %(day)s that the isolated pipes serve: a building is served by the water-supply
-- pipe in service nearest its footprint, if that lies within %(service)s m.
WITH pipes AS NOT MATERIALIZED (
    SELECT id, geom FROM {water_supply} WHERE {standing} AND (status IS NULL OR status <> ALL (%(out)s))
)
SELECT b.id, b.name, b.use, b.floor_area_m2, served.id, round(served.distance::numeric, 1)::float,
       ST_AsBinary(b.geom)
FROM (SELECT * FROM {buildings} WHERE {standing}) b
CROSS JOIN LATERAL (
    SELECT p.id, ST_Distance(p.geom, b.geom) AS distance FROM pipes p ORDER BY p.geom <-> b.geom LIMIT 1
) served
WHERE ST_DWithin(b.geom, (SELECT ST_Collect(geom) FROM pipes WHERE id = ANY (%(isolated)s)), %(service)s)
  AND served.id = ANY (%(isolated)s) AND served.distance <= %(service)s
ORDER BY b.id
