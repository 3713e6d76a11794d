-- Stretches of road standing on %(day)s longer than %(spacing)s m without a hydrant in service. A hydrant
-- belongs to a road when it stands within half the road's width plus %(kerb)s m of its centre line; where it
-- lies along the road is its projection on the line. Each part of a road is walked from its start to its
-- end: its two ends and its hydrants in order, and a step longer than the spacing is a gap.
WITH parts AS MATERIALIZED (
    SELECT r.id, r.source_id, r.name, r.road_class, d.path[1] AS part, d.geom AS line, ST_Length(d.geom) AS length,
           coalesce(r.width_m, 0) / 2 + %(kerb)s AS reach
    FROM (SELECT * FROM {roads} WHERE {standing}) r, ST_Dump(r.geom) d
    WHERE ({box} IS NULL OR r.geom && {box}) AND ST_Length(d.geom) > 0
),
marks AS (
    SELECT p.id, p.part, ST_LineLocatePoint(p.line, h.geom) * p.length AS at
    FROM parts p
    JOIN (SELECT geom, status FROM {smart_hydrants} WHERE {standing}) h
      ON ST_DWithin(h.geom, p.line, p.reach) AND (h.status IS NULL OR h.status <> ALL (%(out)s))
    UNION ALL SELECT id, part, 0 FROM parts
    UNION ALL SELECT id, part, length FROM parts
),
steps AS (
    SELECT id, part, at AS from_m, lead(at) OVER (PARTITION BY id, part ORDER BY at) AS to_m FROM marks
)
SELECT p.id, p.source_id, p.name, p.road_class, round(s.from_m::numeric, 1)::float AS from_m,
       round(s.to_m::numeric, 1)::float AS to_m, round((s.to_m - s.from_m)::numeric, 1)::float AS gap_m,
       ST_AsBinary(ST_LineSubstring(p.line, s.from_m / p.length, s.to_m / p.length)) AS geometry
FROM steps s JOIN parts p USING (id, part)
WHERE s.to_m - s.from_m > %(spacing)s
ORDER BY gap_m DESC, p.id, s.from_m
