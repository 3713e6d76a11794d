-- The water-supply network in service on %(day)s (abandoned and planned pipes carry no water), each pipe
-- with the valves within %(snap)s m of it made vertices of its line (ST_Snap: a valve near a pipe's end
-- moves the end onto it, one along the pipe splits it), in plan.
WITH valves AS NOT MATERIALIZED (
    SELECT geom FROM {valves} WHERE {standing} AND utility = 'water_supply'
)
SELECT p.id,
       ST_AsBinary(ST_Force2D(coalesce(
           ST_Snap(p.geom, (SELECT ST_Collect(v.geom) FROM valves v WHERE ST_DWithin(v.geom, p.geom, %(snap)s)),
                   %(snap)s),
           p.geom)))
FROM (SELECT id, geom, status FROM {water_supply} WHERE {standing}) p
WHERE p.status IS NULL OR p.status <> ALL (%(out)s)
