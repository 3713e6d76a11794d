"""A vector tile's address, checked against its TileMatrixSet before TiPg reads it.

TiPg hands ``z/x/y`` to morecantile as they come: a zoom below the set's first matrix makes morecantile
extrapolate to an infinite matrix (a 500), one beyond its last an ever smaller one until PostGIS refuses a
zero-sized tile (a 500), and a column or row outside the matrix an empty tile somewhere off the world (a
200 that hides the client's mistake). OGC API - Tiles names the tile matrices a set has, and a tile
outside them is the client's error, so each is a 400 that names the parameter and its range.
"""

from __future__ import annotations

from morecantile import TileMatrixSet
from morecantile import tms as default_tms  # the sets TiPg's tile routes offer (its factories' default)

from twin.service.problems import Problem


def _whole(text: str) -> int | None:
    """A path part as an integer, or None (FastAPI's own check then answers that it is not one)."""
    try:
        return int(text)
    except ValueError:
        return None


def check_tile(path: dict[str, str]) -> None:
    """A 400 unless ``z``, ``x`` and ``y`` of a tile route's ``path`` parameters lie in the matrices of
    its ``tileMatrixSetId`` (an unknown set is left to the route's own check)."""
    name = path.get("tileMatrixSetId", "")
    if name not in default_tms.list():
        return
    z, x, y = (_whole(path.get(key, "")) for key in ("z", "x", "y"))
    if z is None or x is None or y is None:
        return
    tms: TileMatrixSet = default_tms.get(name)
    if not tms.minzoom <= z <= tms.maxzoom:
        raise Problem(400, "tile_zoom", "z", z=z, name=name, low=tms.minzoom, high=tms.maxzoom)
    matrix = tms.matrix(z)
    if not 0 <= x < matrix.matrixWidth:
        raise Problem(400, "tile_column", "x", x=x, name=name, z=z, high=matrix.matrixWidth - 1)
    if not 0 <= y < matrix.matrixHeight:
        raise Problem(400, "tile_row", "y", y=y, name=name, z=z, high=matrix.matrixHeight - 1)
