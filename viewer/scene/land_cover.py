"""The land cover (one classified GeoTIFF per year, ``twin.rasters``) as textures over the DEM's
footprint: each class in its colour from the layer's style, resampled (nearest: classes do not blend)
onto the footprint in the DEM's CRS. A year's texture is made when first asked for and kept, so a year
slider swaps textures on the ground's actor at no cost after the first time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
import pyvista as pv

from twin.catalog import Catalog
from twin.terrain import Terrain
from viewer.scene.ground_textures import Registered, dressing, plain_colour, registered, texel_grid, texture


class LandCover:
    """Land-cover textures for a terrain, by year."""

    def __init__(self, rasters: list[Registered], terrain: Terrain, colours: dict[int, str], plain: str) -> None:
        """``rasters`` in the order they were imported (of one year, a later one wins where two overlap); ``colours``:
        class value -> colour; ``plain``: the colour where no class is known."""
        self.rasters = rasters
        self.terrain = terrain
        self.values = np.array(sorted(colours), dtype=np.int64)
        # Catalog colours are '#rrggbb' (checked when the layer file is read).
        self.palette = np.array([list(bytes.fromhex(c[1:])) for c in [*(colours[v] for v in self.values), plain]],
                                dtype=np.uint8)
        self._made: dict[tuple[Path, ...], pv.Texture] = {}

    @property
    def years(self) -> list[int]:
        return sorted({raster.year for raster in self.rasters if raster.year is not None})

    def shown(self, year: int | None = None) -> list[Registered]:
        """What the land cover in ``year`` is made of: every raster of the latest year up to it (None:
        the latest year), over any raster of no year (which holds for every year)."""
        dated = [r.year for r in self.rasters if r.year is not None and (year is None or r.year <= year)]
        chosen = max(dated, default=None)
        return ([r for r in self.rasters if r.year is None] +
                [r for r in self.rasters if r.year is not None and r.year == chosen])

    def texture(self, year: int | None = None) -> pv.Texture:
        """The land cover in ``year`` (default: the latest) as a texture; before its first year, the
        plain colour (so a year slider always has a texture to set)."""
        shown = self.shown(year)
        key = tuple(raster.path for raster in shown)
        if key not in self._made:  # before the first year nothing is known: one texel of the plain colour
            self._made[key] = texture(self.colours(self.classes(shown)) if shown else self.palette[None, -1:])
        return self._made[key]

    def make_every_year(self) -> None:
        """Every year's texture made now (the viewer's zygote does, before forking its sessions): at ten
        times the Eco-city each cost a year switch 150 ms the first time (scripts/bench_cameras.py)."""
        for year in sorted({raster.year for raster in self.rasters if raster.year is not None}) or [None]:
            self.texture(year)

    def classes(self, rasters: list[Registered]) -> np.ndarray:
        """The class of each texel (-1: none), rows north to south, over the DEM's footprint."""
        import rasterio
        from rasterio.crs import CRS as RasterCRS
        from rasterio.warp import Resampling, reproject

        target_crs = RasterCRS.from_wkt(self.terrain.crs.to_wkt())
        out: np.ndarray | None = None
        for raster in rasters:
            with rasterio.open(raster.path) as dataset:
                if out is None:  # texels as fine as the first raster's pixels, within the size limit
                    transform, shape = texel_grid(self.terrain, dataset, raster.crs)
                    out = np.full(shape, -1, dtype=np.int64)
                layer = np.full(out.shape, -1, dtype=np.int64)
                reproject(rasterio.band(dataset, 1), layer, src_crs=RasterCRS.from_wkt(raster.crs),
                          src_nodata=dataset.nodata, dst_transform=transform, dst_crs=target_crs, dst_nodata=-1,
                          resampling=Resampling.nearest)
                out = np.where(layer >= 0, layer, out)
        assert out is not None
        return out

    def colours(self, classes: np.ndarray) -> np.ndarray:
        """RGB per texel: the class's colour, the plain one for no or an unknown class."""
        index = np.searchsorted(self.values, classes)
        known = (index < len(self.values)) & (self.values[np.minimum(index, len(self.values) - 1)] == classes)
        return self.palette[np.where(known, index, len(self.values))]


def land_cover(connection: psycopg.Connection, catalog: Catalog, terrain: Terrain) -> LandCover | None:
    """The registered land cover, to drape on ``terrain``; None when the twin has none."""
    layer = dressing(catalog, "classes")
    rasters = registered(connection, layer) if layer is not None else []
    if layer is None or not rasters:
        return None
    colours = {int(c.value): c.color for c in layer.style.classes if isinstance(c.value, int)}
    return LandCover(rasters, terrain, colours, plain_colour(catalog, layer))
