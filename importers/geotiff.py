"""GeoTIFF rasters (rasterio): a DEM for the terrain layer, land cover by year, an orthophoto.

A raster is registered, not loaded row by row: the file is copied under ``TWIN_HOME/rasters/`` (so the
twin stays whole if the input goes away) and recorded in ``twin.rasters`` with its CRS and its outline in
the twin's CRS. A file that fails a check is never copied.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pyproj import CRS, Transformer

from importers.base import Importer, ImportOptions, parse_crs
from importers.geometry import extent_of
from twin.errors import SourceError
from twin.store import CORE_SCHEMA, database
from twin.store.meta import twin_crs, twin_srid
from twin.store.rasters import raster_folder

if TYPE_CHECKING:
    from affine import Affine
    from rasterio.io import DatasetReader
    from sqlalchemy import Connection

    from twin.catalog import Catalog, Layer

_YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d|2100)(?!\d)")
_EDGE_POINTS = 21  # per side: a straight edge bends after reprojection
_PHOTO_BANDS = (3, 4)  # RGB, RGBA


_RASTER_COLUMNS = ("layer", "source", "year", "path", "crs", "width", "height", "bounds")


@dataclass(frozen=True)
class _Raster:
    """What the store records about a raster, read from the file."""

    crs: CRS
    transform: Affine
    width: int
    height: int


class GeoTIFF(Importer):
    """Any file the table (importers.formats) says may be one: by its suffix, or its TIFF byte-order mark."""

    format = "GeoTIFF"
    raster = True

    def feeds(self, path: Path, catalog: Catalog) -> list[str]:
        """An RGB(A) photo of 8-bit bands feeds the layers dressed in photos; anything else may be a DEM or
        land cover alike, so it needs --layer (as does a file that cannot be opened: its import says why)."""
        import rasterio
        from rasterio.errors import RasterioError

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the import itself reports what is wrong with the file
                with rasterio.open(path) as dataset:
                    photo = dataset.count in _PHOTO_BANDS and set(dataset.dtypes) == {"uint8"}
        except RasterioError:
            return []
        return [layer.id for layer in catalog if layer.is_raster and layer.draw.texture == "rgb"] if photo else []

    def extent(self, path: Path, options: ImportOptions) -> tuple[tuple[float, float, float, float], CRS | None]:
        raster = _inspect(path, options)
        xs, ys = zip(*(raster.transform * corner for corner in ((0, 0), (raster.width, raster.height))))
        return (min(xs), min(ys), max(xs), max(ys)), raster.crs

    def register(self, path: Path, options: ImportOptions, connection: Connection) -> int:
        from sqlalchemy import column, delete, func, insert, table
        from sqlalchemy.exc import DBAPIError

        layer = options.layer
        year = _year(path, options)
        raster = _inspect(path, options)
        crs = CRS.from_user_input(twin_crs(database.psycopg_of(connection)))
        outline = _outline(path, raster, crs)
        name = f"{options.source}-{year}.tif" if year else f"{options.source}.tif"
        target = raster_folder(connection.engine.url.render_as_string(hide_password=True)) / layer.id / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(path, partial)
        try:
            rasters = table("rasters", *(column(name) for name in _RASTER_COLUMNS), schema=CORE_SCHEMA)
            connection.execute(delete(rasters).where(rasters.c.layer == layer.id, rasters.c.source == options.source,
                                                     rasters.c.year.is_not_distinct_from(year)))
            connection.execute(insert(rasters).values(
                layer=layer.id, source=options.source, year=year, path=str(target), crs=raster.crs.to_wkt(),
                width=raster.width, height=raster.height, bounds=func.ST_GeomFromText(outline.wkt, twin_srid(database.psycopg_of(connection)))))
            # Renamed over an earlier copy only once its row is written; the commit follows at once, and
            # a failed commit would leave the old row (same path) pointing at the new copy.
            os.replace(partial, target)
        except DBAPIError as exc:
            first = str(exc.orig).strip().splitlines()[0]
            raise SourceError(f"{path}: the database refused the raster ({first}); nothing was registered") from None
        finally:
            partial.unlink(missing_ok=True)
        return 1


def _year(path: Path, options: ImportOptions) -> int | None:
    """The year a time-varying layer's raster shows: --year, else the one year in the file's name."""
    if not options.layer.time_varying:
        if options.year is not None:
            raise SourceError(f"{path}: --year {options.year} given, but layer '{options.layer.id}' does not "
                              "change by year; drop --year")
        return None
    if options.year is not None:
        return options.year
    found = _YEAR.findall(path.stem)
    if len(found) == 1:
        return int(found[0])
    raise SourceError(f"{path}: which year does it show? give it with --year (layer '{options.layer.id}' "
                      "has one raster per year)")


def _inspect(path: Path, options: ImportOptions) -> _Raster:
    """The raster's facts, refusing what the twin cannot use as this layer."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError

    try:
        with warnings.catch_warnings():
            # A missing geotransform is refused below in one line; rasterio's warning would be a second.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as dataset:
                if dataset.driver != "GTiff":
                    raise SourceError(f"{path}: is a {dataset.driver} raster, not a GeoTIFF; convert it with "
                                      "gdal_translate -of GTiff")
                _check_bands(path, options.layer, dataset.count, set(dataset.dtypes))
                if dataset.transform.is_identity and not dataset.gcps[0]:
                    raise SourceError(f"{path}: the raster has no georeferencing (no geotransform); "
                                      "georeference it first (gdal_translate -a_ullr, or a world file)")
                _check_complete(path, dataset)
                # Decoding a first window catches a damaged header or compression the file length cannot.
                dataset.read(1, window=((0, min(dataset.height, 64)), (0, min(dataset.width, 64))))
                return _Raster(_crs(path, dataset.crs, options), dataset.transform, dataset.width, dataset.height)
    except RasterioError as exc:
        raise SourceError(f"{path}: cannot be read as a GeoTIFF ({str(exc).strip().splitlines()[0]}); "
                          "the file may be truncated or of another format") from None


def _check_bands(path: Path, layer: Layer, count: int, dtypes: set[str]) -> None:
    if layer.draw.texture == "rgb":
        if count not in _PHOTO_BANDS:
            raise SourceError(f"{path}: has {count} band{'s' * (count != 1)}; layer '{layer.id}' takes an RGB or "
                              "RGBA photo (3 or 4 bands); a DEM goes to --layer terrain, land cover to --layer land_cover")
        if dtypes != {"uint8"}:
            raise SourceError(f"{path}: holds {'/'.join(sorted(dtypes))} bands; layer '{layer.id}' takes 8-bit bands "
                              "(gdal_translate -ot Byte -scale makes them)")
        return
    if count != 1:
        raise SourceError(f"{path}: has {count} bands; layer '{layer.id}' takes a single-band raster "
                          "(gdal_translate -b 1 picks one)")
    kind = np.dtype(next(iter(dtypes)))
    if layer.draw.texture == "classes" and not np.issubdtype(kind, np.integer):
        raise SourceError(f"{path}: land cover must hold whole-number classes, not {kind} values")
    if not (np.issubdtype(kind, np.integer) or np.issubdtype(kind, np.floating)):
        raise SourceError(f"{path}: holds {kind} values; layer '{layer.id}' takes real numbers "
                          "(heights in metres for terrain)")


def _check_complete(path: Path, dataset: DatasetReader) -> None:
    """Refuse a file cut short: its header (often at the start) is whole, so it opens and its first blocks
    read, and only the blocks past the end would fail, later, in whatever reads them."""
    size = path.stat().st_size
    block_rows, block_cols = dataset.block_shapes[0]
    rows, cols = math.ceil(dataset.height / block_rows), math.ceil(dataset.width / block_cols)
    for index in range(rows * cols - 1, -1, -1):  # the last blocks are the likeliest to be missing
        row, col = divmod(index, cols)
        offset = dataset.get_tag_item(f"BLOCK_OFFSET_{col}_{row}", "TIFF", bidx=1)
        if not offset:  # a sparse file leaves empty blocks unwritten
            continue
        length = dataset.get_tag_item(f"BLOCK_SIZE_{col}_{row}", "TIFF", bidx=1) or 0
        if int(offset) + int(length) > size:
            raise SourceError(f"{path}: the file is cut short ({size:,} bytes; its data runs to "
                              f"{int(offset) + int(length):,}); copy it again")


def _crs(path: Path, file_crs: object, options: ImportOptions) -> CRS:
    """--crs, else the file's."""
    if options.crs:
        return parse_crs(options.crs, "--crs")
    if not file_crs:
        raise SourceError(f"{path}: the raster declares no CRS; give it with --crs (e.g. --crs EPSG:4326)")
    return parse_crs(file_crs.to_wkt(), str(path))  # type: ignore[attr-defined]


def _outline(path: Path, raster: _Raster, crs: CRS) -> shapely.Polygon:
    """The raster's edge in the twin's CRS, refusing a raster wholly outside the twin's extent.

    The edge follows the geotransform (rotated rasters too), densified. Where the raster reaches beyond
    the area the twin's CRS can project (a world raster in a UTM twin), only the part inside that area is
    outlined."""
    t = np.linspace(0.0, 1.0, _EDGE_POINTS)
    w, h = raster.width, raster.height
    cols = np.concatenate([w * t, np.full(_EDGE_POINTS, w), w * t[::-1], np.zeros(_EDGE_POINTS)])
    rows = np.concatenate([np.zeros(_EDGE_POINTS), h * t, np.full(_EDGE_POINTS, h), h * t[::-1]])
    xs, ys = raster.transform * (cols, rows)
    x, y = Transformer.from_crs(raster.crs, crs, always_xy=True).transform(xs, ys)
    outline = shapely.Polygon(np.column_stack([x, y]))
    if not (np.isfinite(x).all() and np.isfinite(y).all() and outline.is_valid):
        outline = _clipped_outline(path, xs, ys, raster.crs, crs)
    extent = extent_of(crs)
    if extent is not None:  # the pipeline's test for features, so rasters and features agree
        xmin, ymin, xmax, ymax = extent
        left, bottom, right, top = outline.bounds
        if right < xmin or left > xmax or top < ymin or bottom > ymax:
            raise SourceError(f"{path}: lies outside the twin's extent (the area of use of "
                              f"{crs.to_string()}); check the raster's CRS or give --crs")
    return outline


def _clipped_outline(path: Path, xs: np.ndarray, ys: np.ndarray, source: CRS, crs: CRS) -> shapely.Polygon:
    """The part of the raster's edge (``xs``, ``ys`` in ``source``) inside the area of use of ``crs``,
    clipped in longitude and latitude, where the twin's projection holds."""
    area = crs.area_of_use
    cannot = SourceError(f"{path}: the raster's outline cannot be placed in the twin's CRS ({crs.to_string()}); "
                         "clip the raster to the twin's area (gdalwarp -te) or check its CRS")
    if area is None or area.west > area.east:  # no area, or one across the antimeridian
        raise cannot
    lon, lat = Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True).transform(xs, ys)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise cannot
    footprint = shapely.make_valid(shapely.Polygon(np.column_stack([lon, lat])))
    inside = footprint.intersection(shapely.box(area.west, area.south, area.east, area.north))
    if inside.is_empty:
        raise SourceError(f"{path}: lies outside the twin's extent (the area of use of "
                          f"{crs.to_string()}); check the raster's CRS or give --crs")
    inside = shapely.convex_hull(inside) if inside.geom_type != "Polygon" else inside
    left, bottom, right, top = inside.bounds
    step = max(right - left, top - bottom) / (_EDGE_POINTS - 1)
    edge = shapely.get_coordinates(shapely.segmentize(inside.exterior, step))
    x, y = Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True).transform(edge[:, 0], edge[:, 1])
    outline = shapely.Polygon(np.column_stack([x, y]))
    if not (np.isfinite(x).all() and np.isfinite(y).all() and outline.is_valid):
        raise cannot
    return outline
