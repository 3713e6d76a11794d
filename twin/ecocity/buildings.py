"""Buildings block by block: each developed eco-cell is four blocks between its roads, and each block
is laid out by its type (tall residential towers, mid-rise flats, low villas, schools, offices, shops),
the centre of the city busier than its edges."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from twin.ecocity.plan import CELL, LAST_YEAR, Plan

STOREY = 3.0

# Block type -> (plots across, plots down, footprint width m, depth m, floors low-high, use)
BLOCKS = {
    "towers": (4, 4, 22.0, 18.0, (18, 33), "residential"),
    "midrise": (4, 6, 40.0, 12.0, (6, 11), "residential"),
    "villas": (8, 7, 13.0, 11.0, (2, 3), "villa"),
    "offices": (3, 3, 35.0, 30.0, (10, 30), "office"),
    "shops": (5, 4, 25.0, 20.0, (2, 5), "commercial"),
    "school": (2, 2, 60.0, 25.0, (3, 5), "school"),
}


@dataclass
class Building:
    id: str
    footprint: shapely.Polygon
    floors: int
    height: float
    use: str
    build_year: int
    name: str | None = None

    @property
    def floor_area(self) -> float:
        return self.footprint.area * self.floors


def make_buildings(plan: Plan, rng: np.random.Generator) -> list[Building]:
    buildings: list[Building] = []
    centre = np.array([plan.columns / 2.0, plan.rows / 2.0])
    for row in range(plan.rows):
        for column in range(plan.columns):
            year = int(plan.cell_years[row, column])
            if not year:
                continue
            box = plan.cell_box(row, column)
            near_centre = np.hypot(*(np.array([column + 0.5, row + 0.5]) - centre)) / np.hypot(*centre)
            for quarter in range(4):
                block = _block(box, quarter)
                kind = _block_kind(rng, near_centre)
                buildings += _lay_out(block, kind, year, rng, f"B{row:02d}{column:02d}{quarter}", plan)
    return buildings


def _block(cell: shapely.Polygon, quarter: int) -> tuple[float, float, float, float]:
    """One of the four blocks of a cell, inside its roads (half a secondary and half a branch road)."""
    x0, y0, x1, y1 = cell.bounds
    half = CELL / 2
    bx = x0 + (quarter % 2) * half
    by = y0 + (quarter // 2) * half
    return bx + 16, by + 16, bx + half - 16, by + half - 16


def _block_kind(rng: np.random.Generator, near_centre: float) -> str:
    if near_centre < 0.3:
        weights = {"offices": 0.3, "shops": 0.2, "towers": 0.3, "midrise": 0.15, "school": 0.05}
    elif near_centre < 0.7:
        weights = {"towers": 0.35, "midrise": 0.3, "villas": 0.2, "shops": 0.08, "school": 0.05, "offices": 0.02}
    else:
        weights = {"villas": 0.45, "midrise": 0.3, "towers": 0.15, "shops": 0.05, "school": 0.05}
    kinds = list(weights)
    return kinds[rng.choice(len(kinds), p=np.array(list(weights.values())) / sum(weights.values()))]


def _lay_out(block: tuple[float, float, float, float], kind: str, cell_year: int, rng: np.random.Generator,
             prefix: str, plan: Plan) -> list[Building]:
    across, down, width, depth, (low, high), use = BLOCKS[kind]
    x0, y0, x1, y1 = block
    pitch_x, pitch_y = (x1 - x0) / across, (y1 - y0) / down
    out: list[Building] = []
    for i in range(across):
        for j in range(down):
            cx = x0 + (i + 0.5) * pitch_x + rng.uniform(-0.1, 0.1) * (pitch_x - width)
            cy = y0 + (j + 0.5) * pitch_y + rng.uniform(-0.1, 0.1) * (pitch_y - depth)
            w, d = width * rng.uniform(0.85, 1.0), depth * rng.uniform(0.85, 1.0)
            footprint = shapely.box(cx - w / 2, cy - d / 2, cx + w / 2, cy + d / 2)
            if shapely.intersects(footprint, plan.valley) or shapely.intersects(footprint, plan.canal):
                continue
            floors = int(rng.integers(low, high + 1))
            year = min(LAST_YEAR, cell_year + int(rng.integers(0, 3)))
            out.append(Building(f"{prefix}-{i}{j}", footprint, floors, floors * STOREY + rng.uniform(0.5, 2.5),
                                use, year))
    return out
