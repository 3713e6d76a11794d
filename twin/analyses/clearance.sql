-- Pipes of {a} and of {b} standing on %(day)s (planned ones are not in the ground yet) whose walls come
-- closer in 3D than the clearance for the two utilities: where they cross in plan the vertical clearance,
-- elsewhere the horizontal one (NULL: none to check). The wall distance is the centre lines' 3D distance
-- less both radii: half the diameter, or for a duct half its height where the pipes cross and half its
-- width where they run side by side. ST_3DDWithin at %(reach)s (the larger clearance plus the largest radii
-- of both layers) finds the candidates through the GiST index. Each pipe's ends in plan (its boundary) tell
-- which findings lie along the same two networks one after the other, for grouping them. Two pipes that
-- run in one utility tunnel (the same one, or two tunnels that meet: one gallery) are laid to GB 50838,
-- not to GB 50289's clearances between buried pipes, and are not checked here.
SELECT a.id, a.name, b.id, b.name, c.crossing, round(w.wall::numeric, 3)::float AS wall_m, w.required,
       ST_AsBinary(ST_Boundary(ST_Force2D(a.geom))), ST_AsBinary(ST_Boundary(ST_Force2D(b.geom))),
       ST_AsBinary(ST_3DLineInterpolatePoint(ST_3DShortestLine(a.geom, b.geom), 0.5))
FROM (SELECT * FROM {a} WHERE {standing} AND status IS DISTINCT FROM 'planned' AND ({box} IS NULL OR geom && {box})) a
JOIN (SELECT * FROM {b} WHERE {standing} AND status IS DISTINCT FROM 'planned' AND ({box} IS NULL OR geom && {box})) b
  ON ST_3DDWithin(a.geom, b.geom, %(reach)s)
CROSS JOIN LATERAL (SELECT ST_Intersects(ST_Force2D(a.geom), ST_Force2D(b.geom)) AS crossing) c
CROSS JOIN LATERAL (
    SELECT ST_3DDistance(a.geom, b.geom)
           - coalesce(a.diameter_mm, CASE WHEN c.crossing THEN a.section_height_mm ELSE a.section_width_mm END, 0) / 2000.0
           - coalesce(b.diameter_mm, CASE WHEN c.crossing THEN b.section_height_mm ELSE b.section_width_mm END, 0) / 2000.0
           AS wall,
           CASE WHEN c.crossing THEN %(vertical)s::float ELSE %(horizontal)s::float END AS required
) w
WHERE w.wall < w.required - %(tolerance)s
  AND NOT (a.tunnel IS NOT NULL AND b.tunnel IS NOT NULL AND (a.tunnel = b.tunnel OR EXISTS (
      SELECT 1 FROM {tunnels} ta JOIN {tunnels} tb ON ST_Intersects(ta.geom, tb.geom)
      WHERE a.tunnel IN (ta.source_id, ta.name) AND b.tunnel IN (tb.source_id, tb.name))))
