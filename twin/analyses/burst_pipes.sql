-- The isolated pipes, to answer with.
SELECT id, name, diameter_mm, material, round(ST_3DLength(geom)::numeric, 1)::float,
       ST_AsBinary(geom)
FROM {water_supply} WHERE id = ANY (%(isolated)s)
ORDER BY id
