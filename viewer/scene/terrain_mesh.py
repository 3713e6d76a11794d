"""The ground: the DEM as a surface with texture coordinates over the DEM's footprint, so the land cover
of any year, or an orthophoto, can be draped on it as a texture, swapped without touching the surface."""

from __future__ import annotations

import math

import numpy as np
import pyvista as pv

from twin.terrain import Terrain
from viewer.scene.land_cover import LandCover
from viewer.scene.orthophoto import Orthophoto

# The surface is drawn this far below the DEM: what lies on the ground (areas, roads, glyphs) takes the
# DEM's own heights, and a coarser surface bulging between its samples must not cover it.
GROUND_DROP_M = 0.3
# The surface takes as few of the DEM's samples as keep it within GROUND_DROP_M of the DEM, between
# these bounds: a flat city (the Eco-city lies 1-4 m above the sea) needs few, hills more. Fewer cells
# make every frame cheaper, and the areas and roads cut along the surface's cells lighter too (at
# 22,000 cells instead of 89,000 a software-rendered frame of the Eco-city took 13 ms less, measured).
GROUND_CELLS = 100_000
FEWEST_GROUND_CELLS = 20_000
# A surface coarser than the DEM spans what is narrower than its cells (a canal's banks): it may cover
# the DEM there, on no more than this share of it.
COVERED_SHARE = 0.002


class Ground(pv.StructuredGrid):
    """The terrain surface, and the land cover or orthophoto it can be dressed in."""

    land_cover: LandCover | None = None
    orthophoto: Orthophoto | None = None
    cell: float = 0.0  # metres between the surface's samples
    terrain: Terrain | None = None  # the DEM it was made from, or the level stand-in of a twin without one

    def texture(self, year: int | None = None) -> pv.Texture | None:
        """For this surface's texture coordinates: the orthophoto where the twin has one (a photo in every
        year: it takes precedence), else the land cover in ``year`` (default: the latest registered); None
        when the twin has neither (then the ground keeps its plain colour)."""
        dress = self.orthophoto or self.land_cover
        return dress.texture(year) if dress is not None else None


def surface(terrain: Terrain, origin: np.ndarray, land_cover: LandCover | None = None,
            orthophoto: Orthophoto | None = None) -> Ground:
    """The DEM sampled at cell centres (every ``step``-th cell), relative to ``origin``; voids at 0 m."""
    step = _step(np.nan_to_num(terrain.heights))
    heights = terrain.heights[::step, ::step]
    rows, cols = terrain.heights.shape
    row, col = np.mgrid[0:heights.shape[0], 0:heights.shape[1]] * step + 0.5
    forward = ~terrain.inverse
    x, y = forward * (col, row)
    ground = Ground(x - origin[0], y - origin[1], np.nan_to_num(heights) - GROUND_DROP_M - origin[2])
    # Where each point lies on the DEM's footprint, 0..1 west to east and south to north (a texture's
    # first row is its bottom).
    u, v = terrain.inverse * (ground.points[:, 0] + origin[0], ground.points[:, 1] + origin[1])
    ground.active_texture_coordinates = np.column_stack([np.asarray(u) / cols, 1.0 - np.asarray(v) / rows])
    ground.land_cover, ground.orthophoto = land_cover, orthophoto
    ground.terrain = terrain
    ground.cell = step * math.hypot(forward.a, forward.d)
    return ground


def _step(heights: np.ndarray) -> int:
    """Every how many DEM samples the surface takes one: the coarsest step within the bounds whose
    surface rises above the DEM by more than the drop beneath it on no more than COVERED_SHARE of it."""
    size = heights.size
    finest = max(1, math.ceil(math.sqrt(size / GROUND_CELLS)))
    coarsest = max(finest, math.ceil(math.sqrt(size / FEWEST_GROUND_CELLS)))
    for step in range(coarsest, finest, -1):
        if np.mean(_bulge(heights, step) > GROUND_DROP_M) <= COVERED_SHARE:
            return step
    return finest


def _bulge(heights: np.ndarray, step: int) -> np.ndarray:
    """How far the surface through every ``step``-th sample rises above the DEM at each sample it spans
    (bilinear between its samples, as near as its triangles come)."""
    coarse = heights[::step, ::step]
    if min(coarse.shape) < 2:
        return np.full(1, np.inf)

    def between(values: np.ndarray, count: int) -> np.ndarray:  # along the first axis
        at = np.arange((count - 1) * step + 1) / step
        lower = np.minimum(at.astype(int), count - 2)
        weight = (at - lower)[:, None]
        return values[lower] * (1 - weight) + values[lower + 1] * weight

    across = between(coarse, coarse.shape[0])
    surface = between(across.T, coarse.shape[1]).T
    return surface - heights[: surface.shape[0], : surface.shape[1]]
