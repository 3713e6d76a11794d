-- Per management grid of level %(level)s and per year from %(first)s to %(last)s: the buildings standing at
-- the end of the year and those of them within range of an NR station in service then, by count and by
-- floor area. A station reaches its range_m, else %(default_range)s m; a building is within range when its
-- footprint is; it belongs to the grid that holds a point on its surface; its floor area is floor_area_m2,
-- else its footprint times its floors (one where unknown). The time rule is twin.time's, for years.day.
WITH years AS (
    SELECT y AS year, make_date(y, 12, 31) AS day FROM generate_series(%(first)s::int, %(last)s::int) y
),
grids AS (
    SELECT id, code, name, ST_AsBinary(geom) AS geometry FROM {management_grids} WHERE level = %(level)s
),
placed AS (
    SELECT b.id, g.id AS grid, b.valid_from, b.valid_to,
           coalesce(b.floor_area_m2, ST_Area(b.geom) * greatest(coalesce(b.floors, 1), 1)) AS area
    FROM {buildings} b
    JOIN {management_grids} g ON g.level = %(level)s AND ST_Intersects(g.geom, ST_PointOnSurface(b.geom))
),
reach AS (  -- each building's NR stations in range, whatever their years
    SELECT b.id, s.valid_from, s.valid_to
    FROM {buildings} b
    JOIN (SELECT geom, valid_from, valid_to, coalesce(nullif(range_m, 0), %(default_range)s) AS range
          FROM {base_stations_5g} WHERE radio = 'NR' AND (status IS NULL OR status <> ALL (%(out)s))) s
      ON ST_DWithin(b.geom, s.geom, %(longest)s) AND ST_DWithin(b.geom, s.geom, s.range)
),
standing AS (SELECT years.year, placed.id, placed.grid, placed.area FROM years JOIN placed ON {then}),
covered AS (SELECT DISTINCT years.year, reach.id FROM years JOIN reach ON {then}),
figures AS (
    SELECT s.grid, s.year, count(*) AS buildings, count(c.id) AS covered, sum(s.area) AS area,
           coalesce(sum(s.area) FILTER (WHERE c.id IS NOT NULL), 0) AS covered_area
    FROM standing s LEFT JOIN covered c ON c.year = s.year AND c.id = s.id
    GROUP BY s.grid, s.year
)
SELECT g.id, g.code, g.name, years.year, coalesce(f.buildings, 0), coalesce(f.covered, 0),
       coalesce(f.area, 0), coalesce(f.covered_area, 0), g.geometry
FROM grids g CROSS JOIN years
LEFT JOIN figures f ON f.grid = g.id AND f.year = years.year
ORDER BY years.year, g.code
