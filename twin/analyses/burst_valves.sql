-- The water-supply network's valves standing on %(day)s: where they are in the twin's CRS (to find their
-- node) and as WKB (to answer with).
SELECT id, name, valve_type, diameter_mm, normally_open, ST_X(geom), ST_Y(geom), source_id,
       ST_AsBinary(geom)
FROM {valves} WHERE {standing} AND utility = 'water_supply'
