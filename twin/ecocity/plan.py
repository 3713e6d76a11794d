"""The city's plan: the frame of 400 m eco-cells, the green eco-valley with Qingjing Lake, the year each
cell was developed (from the southern start-up area in 2008 to the whole city in 2020), and the road
grid with its hierarchy and build years.

Everything is in EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E), metres, as a Chinese survey
delivers it. A seeded numpy Generator drives every random choice, so a seed gives the same city.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

CRS = "EPSG:4548"
CELL = 400.0  # an eco-cell is 400 m x 400 m
FIRST_YEAR, LAST_YEAR = 2008, 2020
# South-west corner of the city: 117.72 E, 39.12 N, so that it spans about 39.12-39.18 N, 117.72-117.78 E.
ORIGIN = (562_265.0, 4_332_070.0)
COLUMNS, ROWS = 13, 15  # 5.2 km x 6.0 km: 31 km2

# Road classes on the grid: (width m, lanes). Arterials every fourth cell line, secondary roads on the
# other cell lines, branch roads through the middle of developed cells.
ROAD_CLASSES = {"arterial": (40.0, 6), "secondary": (24.0, 4), "branch": (14.0, 2)}


@dataclass
class Road:
    id: str
    line: shapely.LineString
    road_class: str
    build_year: int
    start: tuple[int, int]  # grid nodes, in half-cell steps
    end: tuple[int, int]

    @property
    def width(self) -> float:
        return ROAD_CLASSES[self.road_class][0]

    @property
    def lanes(self) -> int:
        return ROAD_CLASSES[self.road_class][1]


@dataclass
class Plan:
    columns: int
    rows: int
    cell_years: np.ndarray  # [row, column] year developed; 0 for the valley's green cells
    valley: shapely.Geometry  # the eco-valley's green band (the lake inside it)
    lake: shapely.Geometry  # Qingjing Lake
    canal: shapely.Geometry  # the old course of the Ji Canal
    roads: list[Road] = field(default_factory=list)

    def cell_box(self, row: int, column: int) -> shapely.Polygon:
        x0, y0 = ORIGIN[0] + column * CELL, ORIGIN[1] + row * CELL
        return shapely.box(x0, y0, x0 + CELL, y0 + CELL)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return ORIGIN[0], ORIGIN[1], ORIGIN[0] + self.columns * CELL, ORIGIN[1] + self.rows * CELL

    def node_xy(self, node: tuple[int, int]) -> tuple[float, float]:
        """A grid node (half-cell steps: column, row) as coordinates."""
        return ORIGIN[0] + node[0] * CELL / 2, ORIGIN[1] + node[1] * CELL / 2


def make_plan(rng: np.random.Generator, scale: float) -> Plan:
    stretch = np.sqrt(max(scale, 0.05))
    columns, rows = max(4, round(COLUMNS * stretch)), max(4, round(ROWS * stretch))
    width, height = columns * CELL, rows * CELL
    x0, y0 = ORIGIN
    # The eco-valley winds north through the middle of the city, 250 m wide.
    ys = np.linspace(y0 - CELL, y0 + height + CELL, 80)
    xs = x0 + width * 0.45 + width * 0.12 * np.sin((ys - y0) / height * 2.4 * np.pi + rng.uniform(0, 0.5))
    spine = shapely.LineString(np.column_stack([xs, ys]))
    valley = spine.buffer(125, quad_segs=4)
    lake_centre = spine.interpolate(0.35, normalized=True)
    lake = shapely.affinity.scale(shapely.Point(lake_centre.x, lake_centre.y).buffer(1, quad_segs=16),
                                  420, 300)
    valley = shapely.union(valley, lake.buffer(80))
    canal_x = x0 + width * 0.8 + 60 * np.sin(ys / 300.0)
    canal = shapely.LineString(np.column_stack([canal_x, ys])).buffer(30, quad_segs=4)
    frame = shapely.box(x0, y0, x0 + width, y0 + height)
    valley, lake, canal = (shapely.intersection(g, frame) for g in (valley, lake, canal))

    # Development: the start-up area in the south first, then outwards and north, by 2020 all of it.
    row_index, column_index = np.mgrid[0:rows, 0:columns]
    start = (columns / 2.0, 1.5)
    distance = np.hypot((column_index + 0.5 - start[0]) * 0.8, row_index + 0.5 - start[1])
    years = FIRST_YEAR + distance / distance.max() * (LAST_YEAR - FIRST_YEAR - 1)
    years = np.clip(np.round(years + rng.normal(0, 0.7, years.shape)), FIRST_YEAR, LAST_YEAR - 1).astype(int)
    plan = Plan(columns, rows, years, valley, lake, canal)
    green = np.array([[shapely.area(shapely.intersection(plan.cell_box(r, c), valley)) > 0.5 * CELL**2
                       for c in range(columns)] for r in range(rows)])
    plan.cell_years = np.where(green, 0, years)
    plan.roads = _roads(plan)
    return plan


def _cell_year(plan: Plan, row: int, column: int) -> int | None:
    if 0 <= row < plan.rows and 0 <= column < plan.columns and plan.cell_years[row, column]:
        return int(plan.cell_years[row, column])
    return None


def _roads(plan: Plan) -> list[Road]:
    """Road segments between grid nodes (every 200 m), each built the year before its first cell."""
    roads: list[Road] = []
    for horizontal in (True, False):
        lines = plan.rows * 2 + 1 if horizontal else plan.columns * 2 + 1
        steps = plan.columns * 2 if horizontal else plan.rows * 2
        for line_index in range(lines):
            on_cell_edge = line_index % 2 == 0
            road_class = ("arterial" if line_index % 8 == 0 else "secondary") if on_cell_edge else "branch"
            for step in range(steps):
                a = (step, line_index) if horizontal else (line_index, step)
                b = (step + 1, line_index) if horizontal else (line_index, step + 1)
                # The cells on either side of this piece of road.
                along, across = step // 2, line_index // 2
                if horizontal:
                    sides = [(across - 1, along), (across, along)] if on_cell_edge else [(across, along)]
                else:
                    sides = [(along, across - 1), (along, across)] if on_cell_edge else [(along, across)]
                years = [y for y in (_cell_year(plan, r, c) for r, c in sides) if y is not None]
                if not years and road_class != "arterial":
                    continue  # no branch or secondary road inside the green valley
                year = max(FIRST_YEAR, min(years) - 1) if years else FIRST_YEAR + 2
                line = shapely.LineString([plan.node_xy(a), plan.node_xy(b)])
                if shapely.intersects(line, plan.lake):
                    continue
                kind = "h" if horizontal else "v"
                roads.append(Road(f"R-{kind}{line_index:03d}-{step:03d}", line, road_class, year, a, b))
    return roads
