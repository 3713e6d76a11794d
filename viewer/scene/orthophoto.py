"""The orthophoto (RGB or RGBA GeoTIFFs, ``twin.rasters``) as the ground's texture over the DEM's footprint:
resampled (bilinear: a photo's colours blend) onto the footprint in the DEM's CRS, several in the order
they were imported (a later one wins where two overlap), the plain ground colour where none covers it.
A photo is of one moment: it dresses the ground in every year, over the land cover (README, The viewer)."""

from __future__ import annotations

import numpy as np
import psycopg
import pyvista as pv

from twin.catalog import Catalog
from twin.terrain import Terrain
from viewer.scene.ground_textures import Registered, dressing, plain_colour, registered, texel_grid, texture

# An RGBA photo's pixels at least this opaque show; the rest is ground the photo does not cover.
OPAQUE = 128


class Orthophoto:
    """The orthophoto's texture for a terrain, made when first asked for."""

    def __init__(self, rasters: list[Registered], terrain: Terrain, plain: str) -> None:
        """``rasters`` in the order they were imported; ``plain``: the colour where no photo covers the ground."""
        self.rasters = rasters
        self.terrain = terrain
        self.plain = np.array(list(bytes.fromhex(plain[1:])), dtype=np.uint8)  # '#rrggbb', checked by the catalog
        self._made: pv.Texture | None = None

    def texture(self, year: int | None = None) -> pv.Texture:
        """The photo, the same in every ``year``."""
        if self._made is None:
            self._made = texture(self.colours())
        return self._made

    def colours(self) -> np.ndarray:
        """RGB per texel (rows north to south) over the DEM's footprint, as fine as the first photo's pixels
        within the texture size limit."""
        import rasterio
        from rasterio.crs import CRS as RasterCRS
        from rasterio.warp import Resampling, reproject

        target_crs = RasterCRS.from_wkt(self.terrain.crs.to_wkt())
        out: np.ndarray | None = None
        for raster in self.rasters:
            with rasterio.open(raster.path) as dataset:
                if out is None:
                    transform, shape = texel_grid(self.terrain, dataset, raster.crs)
                    out = np.broadcast_to(self.plain, (*shape, 3)).copy()
                # One band at a time through one float buffer (NaN: outside the photo or its no-data), not
                # all four at once: a 4096-px texture's buffer is 64 MiB a band.
                band = np.empty(out.shape[:2], dtype=np.float32)
                bands = np.empty((dataset.count, *out.shape[:2]), dtype=np.uint8)
                for index in range(dataset.count):
                    band.fill(np.nan)
                    reproject(rasterio.band(dataset, index + 1), band, src_crs=RasterCRS.from_wkt(raster.crs),
                              src_nodata=dataset.nodata, dst_transform=transform, dst_crs=target_crs,
                              dst_nodata=np.nan, resampling=Resampling.bilinear)
                    if index == 0:
                        covered = ~np.isnan(band)
                    bands[index] = np.nan_to_num(band).round()
                if dataset.count == 4:  # RGBA: the alpha band says where the photo is
                    covered &= bands[3] >= OPAQUE
                out[covered] = np.moveaxis(bands[:3], 0, -1)[covered]
        assert out is not None
        return out


def orthophoto(connection: psycopg.Connection, catalog: Catalog, terrain: Terrain) -> Orthophoto | None:
    """The registered orthophoto, to drape on ``terrain``; None when the twin has none."""
    layer = dressing(catalog, "rgb")
    rasters = registered(connection, layer) if layer is not None else []
    if layer is None or not rasters:
        return None
    return Orthophoto(rasters, terrain, plain_colour(catalog, layer))
