"""The ground: the DEM as a surface with texture coordinates over the DEM's footprint, so the land cover
of any year can be draped on it as a texture, swapped without touching the surface."""

from __future__ import annotations

import math

import numpy as np
import pyvista as pv

from twin.terrain import Terrain
from viewer.land_cover import LandCover

# The surface is drawn this far below the DEM: what lies on the ground (areas, roads, glyphs) takes the
# DEM's own heights, and a coarser surface bulging between its samples must not cover it.
GROUND_DROP_M = 0.3
# About the Eco-city's DEM at every second cell: a light surface whatever the DEM's size.
GROUND_CELLS = 100_000


class Ground(pv.StructuredGrid):
    """The terrain surface, and the land cover it can be dressed in."""

    land_cover: LandCover | None = None
    cell: float = 0.0  # metres between the surface's samples

    def texture(self, year: int | None = None) -> pv.Texture | None:
        """The land cover in ``year`` (default: the latest registered) for this surface's texture
        coordinates; None when the twin has none (then the ground keeps its plain colour)."""
        return self.land_cover.texture(year) if self.land_cover is not None else None


def surface(terrain: Terrain, origin: np.ndarray, land_cover: LandCover | None = None) -> Ground:
    """The DEM sampled at cell centres (every ``step``-th cell), relative to ``origin``; voids at 0 m."""
    rows, cols = terrain.heights.shape
    step = max(1, math.ceil(math.sqrt(rows * cols / GROUND_CELLS)))
    heights = terrain.heights[::step, ::step]
    row, col = np.mgrid[0:heights.shape[0], 0:heights.shape[1]] * step + 0.5
    forward = ~terrain.inverse
    x, y = forward * (col, row)
    ground = Ground(x - origin[0], y - origin[1], np.nan_to_num(heights) - GROUND_DROP_M - origin[2])
    # Where each point lies on the DEM's footprint, 0..1 west to east and south to north (a texture's
    # first row is its bottom).
    u, v = terrain.inverse * (ground.points[:, 0] + origin[0], ground.points[:, 1] + origin[1])
    ground.active_texture_coordinates = np.column_stack([np.asarray(u) / cols, 1.0 - np.asarray(v) / rows])
    ground.land_cover = land_cover
    ground.cell = step * math.hypot(forward.a, forward.d)
    return ground
