"""What the rasters that dress the ground (land cover, orthophotos: the catalog's ``draw.texture``) share:
their registrations, the texel grid over the ground's footprint they are resampled onto, the texture."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import psycopg
from psycopg import sql
import pyvista as pv

from twin.catalog import Catalog, Layer
from twin.store import core_table
from twin.terrain import Terrain

if TYPE_CHECKING:
    from affine import Affine
    from rasterio.io import DatasetReader

# Per side: what the OpenGL implementations VTK runs on all accept.
MAX_TEXTURE_PX = 4096


@dataclass(frozen=True)
class Registered:
    """One raster of a layer: the year it shows (None: any), its file, its CRS as registered (WKT: the
    file itself may declare none)."""

    year: int | None
    path: Path
    crs: str


def dressing(catalog: Catalog, texture: str) -> Layer | None:
    """The catalog's raster layer that dresses the ground in ``texture`` ('classes', 'rgb'), if any."""
    return next((layer for layer in catalog if layer.is_raster and layer.draw.texture == texture), None)


def registered(connection: psycopg.Connection, layer: Layer) -> list[Registered]:
    """The layer's rasters whose copies are there, in the order they were imported."""
    rows = connection.execute(
        sql.SQL("SELECT year, path, crs FROM {} WHERE layer = %s ORDER BY imported_at, id").format(core_table("rasters")),
        (layer.id,)).fetchall()
    return [Registered(year, Path(path), crs) for year, path, crs in rows if Path(path).is_file()]


def plain_colour(catalog: Catalog, layer: Layer) -> str:
    """The colour of ground no raster covers: the terrain's, else the layer's own."""
    return catalog["terrain"].style.color if "terrain" in catalog else layer.style.color


def texel_grid(terrain: Terrain, dataset: DatasetReader, crs: str) -> tuple[Affine, tuple[int, int]]:
    """The transform (in the terrain's CRS) and shape (rows, columns) of texels over the terrain's
    footprint as fine as ``dataset``'s pixels (its CRS ``crs``, WKT), within MAX_TEXTURE_PX a side."""
    from affine import Affine
    from rasterio.crs import CRS as RasterCRS
    from rasterio.warp import calculate_default_transform

    rows, cols = terrain.heights.shape
    footprint = ~terrain.inverse
    fitted, _, _ = calculate_default_transform(RasterCRS.from_wkt(crs), RasterCRS.from_wkt(terrain.crs.to_wkt()),
                                               dataset.width, dataset.height, *dataset.bounds)
    texel = min(abs(fitted.a), abs(fitted.e))
    width = min(MAX_TEXTURE_PX, max(1, math.ceil(cols * math.hypot(footprint.a, footprint.d) / texel)))
    height = min(MAX_TEXTURE_PX, max(1, math.ceil(rows * math.hypot(footprint.b, footprint.e) / texel)))
    return footprint * Affine.scale(cols / width, rows / height), (height, width)


def texture(rgb: np.ndarray) -> pv.Texture:
    """A texture of RGB rows north to south, as the ground's texture coordinates expect."""
    made = pv.Texture(rgb)
    made.repeat = False
    made.edge_clamp = True  # the footprint's edge texels do not bleed into the opposite edge
    return made
