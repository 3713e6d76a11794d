-- The water-supply network's valves standing on %(day)s: where they are in the twin's CRS (to find their
-- node) and in WGS84 (to answer with).
SELECT id, name, valve_type, diameter_mm, normally_open, ST_X(geom), ST_Y(geom),
       ST_AsGeoJSON(ST_Transform(geom, 4326), 8)::json
FROM {valves} WHERE {standing} AND utility = 'water_supply'
