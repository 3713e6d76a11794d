"""CSV tables with a point per row (longitude/latitude or x/y columns) or a WKT geometry column.

Longitude/latitude columns mean WGS84 unless --crs says otherwise (GCJ-02 and BD-09 included); x/y and
WKT columns carry no CRS, so the user gives it. Text is UTF-8 (with or without BOM) or, failing that,
GB18030, unless --encoding says.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from importers.base import Importer, ImportOptions, Records
from importers.geometry import build_geometries
from twin.errors import SourceError

LONGITUDE = ("lon", "lng", "long", "longitude", "经度", "jd")
LATITUDE = ("lat", "latitude", "纬度", "wd")
X = ("x", "easting", "x坐标", "xzb")
Y = ("y", "northing", "y坐标", "yzb")
WKT = ("wkt", "geometry", "geom", "the_geom", "shape")


def decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was read in."""
    candidates = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for candidate in candidates:
        try:
            return data.decode(candidate), candidate
        except LookupError:
            raise SourceError(f"--encoding {candidate}: unknown encoding; try UTF-8, GBK or GB18030") from None
        except UnicodeDecodeError as exc:
            if encoding:
                raise SourceError(f"{path}: text is not {encoding} (byte {exc.start}); "
                                  "give the right --encoding") from None
    raise SourceError(f"{path}: text is neither UTF-8 nor GB18030; give its encoding with --encoding")


def read_table(path: Path, encoding: str | None) -> tuple[pd.DataFrame, str]:
    """A delimited text file as a table of strings (blank cells missing), and the encoding it was read in."""
    text, used = decode(path, path.read_bytes(), encoding)
    return parse_table(path, text), used


def parse_table(path: Path, text: str, delimiter: str | None = None) -> pd.DataFrame:
    """Delimited text as a table of strings; the delimiter, unless given, is sniffed (comma, semicolon, tab
    or bar)."""
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        return pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                           na_values=[""], skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{path}: not a readable CSV table ({str(exc).strip().splitlines()[0]})") from None


class CsvTable(Importer):
    format = "CSV"

    def read(self, path: Path, options: ImportOptions) -> Records:
        frame, encoding = read_table(path, options.encoding)
        columns = {str(column).strip().lower(): column for column in frame.columns}
        (geometry, problems), crs, used = _geometry(path, frame, columns)
        notes = [] if encoding.startswith("utf-8") else [f"text read as {encoding}"]
        return Records(geometry=geometry, attributes=frame.drop(columns=used), crs=crs,
                       row_numbers=np.arange(2, len(frame) + 2), notes=notes, problems=problems)


def _find(columns: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((columns[name] for name in names if name in columns), None)


def _geometry(path: Path, frame: pd.DataFrame,
              columns: dict[str, str]) -> tuple[tuple[np.ndarray, dict[int, str]], CRS | None, list[str]]:
    """(the rows' geometries, why GEOS could not build some), their CRS, and the columns they came from."""
    lon, lat = _find(columns, LONGITUDE), _find(columns, LATITUDE)
    x, y = _find(columns, X), _find(columns, Y)
    wkt = _find(columns, WKT)
    if lon and lat:
        return (_points(frame, lon, lat), {}), CRS.from_epsg(4326), [lon, lat]
    if x and y:
        return (_points(frame, x, y), {}), None, [x, y]
    if wkt:
        return build_geometries(frame[wkt].fillna("").to_numpy(object), "wkt"), None, [wkt]
    raise SourceError(f"{path}: no geometry columns; give lon/lat (or longitude/latitude, x/y) or a WKT column")


def _points(frame: pd.DataFrame, xname: str, yname: str) -> np.ndarray:
    x = pd.to_numeric(frame[xname], errors="coerce").to_numpy(float)
    y = pd.to_numeric(frame[yname], errors="coerce").to_numpy(float)
    points = np.asarray(shapely.points(x, y), dtype=object)
    points[np.isnan(x) | np.isnan(y)] = None
    return points
