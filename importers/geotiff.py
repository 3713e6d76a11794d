"""GeoTIFF rasters (rasterio): a DEM for the terrain layer, land cover by year.

A raster is registered, not loaded row by row: the file is copied under ``TWIN_HOME/rasters/`` (so the
twin stays whole if the input goes away) and recorded in ``twin.rasters`` with its CRS and its extent in
the twin's CRS. A file that fails a check is never copied.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pyproj import CRS, Transformer

from importers.base import Importer, ImportOptions, parse_crs
from importers.geometry import extent_of
from twin.errors import SourceError
from twin.settings import get_settings
from twin.store import CORE_SCHEMA
from twin.store.meta import twin_crs

if TYPE_CHECKING:
    from sqlalchemy import Connection

_YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d|2100)(?!\d)")


class GeoTIFF(Importer):
    format = "GeoTIFF"
    suffixes = (".tif", ".tiff", ".gtiff")
    raster = True

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        return path.suffix.lower() in cls.suffixes or head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

    def register(self, path: Path, options: ImportOptions, connection: Connection) -> int:
        import rasterio
        from rasterio.errors import RasterioError
        from sqlalchemy import text

        layer = options.layer
        year = self._year(path, options)
        try:
            with rasterio.open(path) as dataset:
                if dataset.driver != "GTiff":
                    raise SourceError(f"{path}: is a {dataset.driver} raster, not a GeoTIFF; convert it with "
                                      "gdal_translate -of GTiff")
                _check_bands(path, layer.id, dataset.count, dataset.dtypes[0])
                source_crs = self._crs(path, dataset.crs, options)
                bounds, width, height = dataset.bounds, dataset.width, dataset.height
                dataset.read(1, window=((0, min(height, 64)), (0, min(width, 64))))  # a damaged file fails here
        except RasterioError as exc:
            raise SourceError(f"{path}: cannot be read as a GeoTIFF ({str(exc).strip().splitlines()[0]}); "
                              "the file may be truncated or of another format") from None
        crs = CRS.from_user_input(twin_crs(connection.connection.driver_connection))
        outline = _outline(bounds, source_crs, crs)
        extent = extent_of(crs)
        if extent is not None:
            xmin, ymin, xmax, ymax = extent
            xs, ys = outline[:, 0], outline[:, 1]
            if xs.max() < xmin or xs.min() > xmax or ys.max() < ymin or ys.min() > ymax:
                raise SourceError(f"{path}: lies outside the twin's extent (the area of use of "
                                  f"{crs.to_string()}); check the raster's CRS or give --crs")
        name = f"{options.source}-{year}.tif" if year else f"{options.source}.tif"
        target = get_settings().home / "rasters" / _database_folder(connection) / layer.id / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(path, partial)
        try:
            connection.execute(
                text(f"DELETE FROM {CORE_SCHEMA}.rasters WHERE layer = :layer AND source = :source "
                     "AND year IS NOT DISTINCT FROM :year"),
                {"layer": layer.id, "source": options.source, "year": year},
            )
            connection.execute(
                text(f"INSERT INTO {CORE_SCHEMA}.rasters (layer, source, year, path, crs, width, height, bounds) "
                     "VALUES (:layer, :source, :year, :path, :crs, :width, :height, ST_GeomFromText(:bounds, :srid))"),
                {"layer": layer.id, "source": options.source, "year": year, "path": str(target),
                 "crs": source_crs.to_wkt(), "width": width, "height": height, "bounds": shapely.Polygon(outline).wkt,
                 "srid": crs.to_epsg()},
            )
            # Renamed over an earlier copy only once its row is written; the commit follows at once, and
            # a failed commit would leave the old row (same path) pointing at the new copy.
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return 1

    @staticmethod
    def _year(path: Path, options: ImportOptions) -> int | None:
        if not options.layer.time_varying:
            if options.year is not None:
                raise SourceError(f"--year {options.year}: layer '{options.layer.id}' does not change by year; "
                                  "drop --year")
            return None
        if options.year is not None:
            return options.year
        found = _YEAR.findall(path.stem)
        if len(found) == 1:
            return int(found[0])
        raise SourceError(f"{path}: which year does it show? give it with --year (layer '{options.layer.id}' "
                          "has one raster per year)")

    @staticmethod
    def _crs(path: Path, file_crs: object, options: ImportOptions) -> CRS:
        if options.crs:
            return parse_crs(options.crs, "--crs")
        if not file_crs:
            raise SourceError(f"{path}: the raster declares no CRS; give it with --crs (e.g. --crs EPSG:4326)")
        return CRS.from_user_input(file_crs)


def _database_folder(connection: "Connection") -> str:
    """A folder name per database, so that twins sharing a TWIN_HOME keep their rasters apart."""
    url = connection.engine.url
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{url.host or 'local'}-{url.port or 5432}-{url.database}")


def _check_bands(path: Path, layer_id: str, count: int, dtype: str) -> None:
    if count != 1:
        raise SourceError(f"{path}: has {count} bands; layer '{layer_id}' takes a single-band raster "
                          "(gdal_translate -b 1 picks one)")
    if layer_id == "land_cover" and not np.issubdtype(np.dtype(dtype), np.integer):
        raise SourceError(f"{path}: land cover must hold whole-number classes, not {dtype} values")
    if not np.issubdtype(np.dtype(dtype), np.number):
        raise SourceError(f"{path}: holds {dtype} values; a terrain raster holds heights in metres")


def _outline(bounds: object, source: CRS, target: CRS, points: int = 21) -> np.ndarray:
    """The raster's edge, densified, in the twin's CRS (a straight edge bends after reprojection)."""
    left, bottom, right, top = bounds  # type: ignore[misc]
    t = np.linspace(0.0, 1.0, points)
    xs = np.concatenate([left + (right - left) * t, np.full(points, right), right - (right - left) * t,
                         np.full(points, left)])
    ys = np.concatenate([np.full(points, bottom), bottom + (top - bottom) * t, np.full(points, top),
                         top - (top - bottom) * t])
    x, y = Transformer.from_crs(source, target, always_xy=True).transform(xs, ys)
    return np.column_stack([x, y])
