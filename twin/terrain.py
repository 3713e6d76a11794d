"""Ground height from the twin's DEM (the ``terrain`` raster layer), sampled where features stand.

Importers give features without Z their ground height (and pipes their depth below it); the viewer and
the analyses read the same DEM. Heights are bilinear between cell centres; outside the DEM they are NaN.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
from pyproj import CRS, Transformer

from twin.store.meta import terrain


class Terrain:
    """A DEM held in memory, answering heights at points given in the twin's CRS."""

    def __init__(self, path: Path, crs: CRS, twin_crs: CRS) -> None:
        """``crs``: the raster's, as registered (the file may declare none)."""
        import rasterio

        with rasterio.open(path) as dataset:
            heights = dataset.read(1, masked=True).astype("float64")
            self.heights = heights.filled(np.nan)
            self.inverse = ~dataset.transform
        self.crs = crs
        self.path: Path | None = path
        self.flat = False  # a DEM of the twin's own, not a level stand-in (see flat())
        self._to_dem = None if self.crs.equals(twin_crs) else Transformer.from_crs(twin_crs, self.crs, always_xy=True)

    @classmethod
    def flat(cls, height: float, bounds: tuple[float, float, float, float], twin_crs: CRS) -> Terrain:
        """Level ground at ``height`` over ``bounds`` (twin CRS), for a twin without a DEM: what stands on
        the ground stands at the data's own base height (a city at 400 m stays at 400 m)."""
        from affine import Affine

        xmin, ymin, xmax, ymax = bounds
        width, depth = max(xmax - xmin, 1.0), max(ymax - ymin, 1.0)
        level = cls.__new__(cls)
        # Two by two cells centred on the corners of ``bounds``: a surface through the cell centres spans it.
        level.heights = np.full((2, 2), float(height))
        level.inverse = ~(Affine.translation(xmin - width / 2, ymax + depth / 2) * Affine.scale(width, -depth))
        level.crs, level.path, level.flat, level._to_dem = twin_crs, None, True, None
        return level

    @classmethod
    def from_store(cls, connection: psycopg.Connection, twin_crs: CRS) -> Terrain | None:
        """The most recently registered terrain raster, or None when the twin has none."""
        found = terrain(connection)
        if found is None or not found[0].is_file():
            return None
        return cls(found[0], CRS.from_user_input(found[1]), twin_crs)

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Ground height at each point (twin CRS), NaN where the DEM has none."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        if self._to_dem is not None:
            x, y = self._to_dem.transform(x, y)
        col, row = self.inverse * (x, y)
        # Pixel (0, 0)'s centre is at (0.5, 0.5): shift so integer positions are cell centres.
        col, row = np.asarray(col) - 0.5, np.asarray(row) - 0.5
        rows, cols = self.heights.shape
        c0 = np.clip(np.floor(col).astype(int), 0, cols - 1)
        r0 = np.clip(np.floor(row).astype(int), 0, rows - 1)
        c1, r1 = np.clip(c0 + 1, 0, cols - 1), np.clip(r0 + 1, 0, rows - 1)
        fc, fr = np.clip(col - c0, 0, 1), np.clip(row - r0, 0, 1)
        # Weigh only cells with a height: a void (NaN) beside the point would otherwise poison it even at
        # weight 0. Next to a void the other cells share its weight, as in GDAL's bilinear (which, unlike
        # this, gives none where the point's own cell is the void).
        total, weight = np.zeros(np.shape(col)), np.zeros(np.shape(col))
        for r, c, w in ((r0, c0, (1 - fr) * (1 - fc)), (r0, c1, (1 - fr) * fc),
                        (r1, c0, fr * (1 - fc)), (r1, c1, fr * fc)):
            value = self.heights[r, c]
            use = ~np.isnan(value) & (w > 0)
            total += np.where(use, value * w, 0.0)
            weight += np.where(use, w, 0.0)
        z = np.divide(total, weight, out=np.full(np.shape(col), np.nan), where=weight > 0)
        inside = (col >= -0.5) & (col <= cols - 0.5) & (row >= -0.5) & (row <= rows - 0.5)
        return np.where(inside, z, np.nan)
