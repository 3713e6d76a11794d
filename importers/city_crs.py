"""The first import into a twin made without a CRS chooses the twin's CRS from the file (see
:func:`twin.crs.for_data`), fixes it in the store before the rows are written, and, should writing them
fail, takes it back, so that a failed first import leaves the twin as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer

from importers.base import ImportOptions, Records
from importers.geometry import source_crs
from twin import crs as crs_rules
from twin.errors import SourceError


def choose(records: Records, options: ImportOptions, path: Path) -> tuple[CRS, str]:
    """The CRS for a twin whose first data ``records`` are, and a note saying which and why."""
    read_crs, _ = source_crs(records.crs, options.crs, path)
    return for_bounds(tuple(shapely.total_bounds(records.geometry)), read_crs, path)


def for_bounds(bounds: tuple[float, float, float, float], read_crs: CRS, path: Path) -> tuple[CRS, str]:
    """The CRS for a twin whose first data cover ``bounds`` in ``read_crs``, and a note saying which."""
    xmin, ymin, xmax, ymax = bounds
    if np.isnan(xmin):
        raise SourceError(f"{path}: no feature has a position, so the twin's CRS cannot be chosen from it; "
                          "give it with `twin init NAME --crs CRS`")
    lon, lat = Transformer.from_crs(read_crs, CRS.from_epsg(4326), always_xy=True).transform((xmin + xmax) / 2,
                                                                                            (ymin + ymax) / 2)
    chosen, why = crs_rules.for_data(read_crs, lon, lat)
    return chosen, (f"the twin had no CRS: it is now {crs_rules.name(chosen)}, {why} "
                    "(`twin init NAME --crs CRS` chooses another for a new twin)")


@contextmanager
def fixed(crs: CRS) -> Iterator[None]:
    """The twin in ``crs`` (its layer tables made) while the block runs; back without a CRS if it fails."""
    from twin.store import database  # SQLAlchemy: schema work, once per twin
    from twin.store.migrate import fix_crs, unfix_crs

    with database.connect() as connection:
        fix_crs(connection, crs)
    try:
        yield
    except BaseException:
        with database.connect() as connection:
            unfix_crs(connection)
        raise
