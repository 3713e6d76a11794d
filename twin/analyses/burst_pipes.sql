-- The isolated pipes, to answer with.
SELECT id, name, diameter_mm, material, round(ST_3DLength(geom)::numeric, 1)::float,
       ST_AsGeoJSON(ST_Transform(geom, 4326), 8)::json
FROM {water_supply} WHERE id = ANY (%(isolated)s)
ORDER BY id
