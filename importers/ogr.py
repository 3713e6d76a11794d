"""Reading a layer through GDAL (pyogrio, Arrow) so that one geometry GEOS cannot build becomes that
row's reject rather than the whole file's traceback: pyogrio turns a whole column of WKB into shapely
geometries at once, and one ring of two points (real OSM extracts have them) fails all of it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from importers.geometry import build_geometries
from twin.errors import SourceError


@dataclass
class OgrLayer:
    attributes: pd.DataFrame  # index 0..n-1
    geometry: np.ndarray  # None where a row has none or GEOS cannot build it
    problems: dict[int, str]  # row -> why its geometry cannot be built
    crs: CRS | None
    fids: np.ndarray | None


def read_layer(path: Path, layer: str | None, what: str, encoding: str | None = None,
               fids: bool = False) -> OgrLayer:
    """One OGR layer of ``path``; ``what`` names the format in errors. Raises SourceError when the file
    cannot be read or has no geometry column; UnicodeDecodeError is left to the caller, which knows
    which encoding to suggest."""
    try:
        with warnings.catch_warnings():
            # GDAL's chatter (laundered names, columns left as text) is not the user's business here:
            # problems with values show up as rejects.
            warnings.simplefilter("ignore")
            meta, table = pyogrio.read_arrow(path, layer=layer, encoding=encoding, return_fids=fids)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError, pyogrio.errors.GeometryError) as exc:
        raise _unreadable(path, what, exc) from None
    name = meta["geometry_name"] or "wkb_geometry"
    if name not in table.column_names:
        raise SourceError(f"{path}: has no geometry column; twin imports features with geometry")
    wkb = table.column(name).to_numpy(zero_copy_only=False)
    frame = table.drop_columns([name]).to_pandas()
    del table
    fid_column = meta["fid_column"] if fids else None
    ids = frame.pop(fid_column).to_numpy() if fid_column in frame.columns else None
    geometry, problems = build_geometries(np.asarray(wkb, dtype=object), "wkb")
    crs = CRS.from_user_input(meta["crs"]) if meta["crs"] else None
    return OgrLayer(frame.reset_index(drop=True), geometry, problems, crs, ids)


def _unreadable(path: Path, what: str, exc: Exception) -> SourceError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SourceError(f"{path}: cannot be read as {what} ({first}); the file may be truncated or of another format")
