"""Heights between vertical datums. A file's Z is in the datum ``--heights`` names, or the one its own CRS
carries (CityJSON's EPSG:7415 is RD New + NAP heights, EPSG:4979 ellipsoidal heights); where the twin's
CRS is compound, Z is converted into its vertical datum with PROJ together with x and y. PROJ converts
with a grid (a geoid model) or not at all: its ballpark vertical transformations leave Z as it is, and a
missing grid gives infinity, so a height is converted only where a probe of the data's extent shows PROJ
really moves it, and otherwise kept, with a note saying which grid would convert it.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.crs import CompoundCRS
from pyproj.transformer import TransformerGroup

from importers import chinese_crs
from importers.base import parse_crs
from twin import crs as crs_rules
from twin.errors import SourceError


def parse(given: str | None) -> CRS | None:
    """The datum ``--heights`` names: a vertical CRS, or a geographic 3D one for ellipsoidal heights."""
    if given is None:
        return None
    datum = parse_crs(given, "--heights")
    if not (datum.is_vertical or _ellipsoidal(datum)):
        raise SourceError(f"--heights: {crs_rules.name(datum)} is not a vertical CRS; give the datum of the "
                          "file's heights, e.g. EPSG:5773 (EGM96), EPSG:5737 (Yellow Sea 1985), EPSG:5709 (NAP) "
                          "or EPSG:4979 (ellipsoidal, WGS 84)")
    return datum


def _ellipsoidal(crs: CRS) -> bool:
    """A geographic or projected CRS with a third axis: heights above its ellipsoid."""
    return not crs.is_compound and not crs.is_vertical and len(crs.axis_info) == 3


def _vertical(crs: CRS) -> CRS | None:
    """The vertical part of a compound CRS, the CRS itself where it is 3D, else None (no datum of heights)."""
    if crs.is_compound:
        return next(part for part in crs.sub_crs_list if part.is_vertical)
    return crs if crs.is_vertical or _ellipsoidal(crs) else None


def _datum_name(datum: CRS) -> str:
    if datum.is_vertical:
        return f"{datum.name} ({crs_rules.name(datum)})"
    return f"ellipsoidal heights ({crs_rules.horizontal(datum).geodetic_crs.name})"


def plan(read_crs: CRS, given: str | None, twin: CRS,
         bounds: tuple[float, float, float, float]) -> tuple[CRS | None, list[str]]:
    """The CRS to convert the file's Z from into the twin's (its horizontal part and heights' datum), or
    None where Z is kept as it is; and the notes for the summary. ``bounds``: the data's extent in
    ``read_crs``, where PROJ is probed."""
    datum = parse(given)
    source = datum if datum is not None else _vertical(read_crs)
    if source is None:
        return None, []  # the file says nothing of its heights: they are taken to be the twin's
    target = _vertical(twin) if twin.is_compound else None
    if target is None:
        if datum is None:
            return None, []  # the file's own datum, into a twin that has none: as every import before
        return None, [f"heights kept in {_datum_name(source)} as given: the twin's CRS "
                      f"{crs_rules.name(twin)} has no vertical datum (`twin init NAME --crs` takes a compound one "
                      "such as EPSG:4548+5737)"]
    if source.equals(target):
        return None, []
    if source.is_vertical:
        flat = crs_rules.horizontal(read_crs)
        with_heights = CompoundCRS(f"{flat.name} + {source.name}", [flat, source])
    else:
        with_heights = crs_rules.horizontal(read_crs).to_3d()
    if _converts(with_heights, twin, bounds):
        return with_heights, []
    return None, [f"heights kept in {_datum_name(source)}: PROJ has no grid to convert them to "
                  f"{_datum_name(target)} ({_missing_grid(with_heights, twin)})"]


def _converts(source: CRS, twin: CRS, bounds: tuple[float, float, float, float]) -> bool:
    """Whether PROJ moves heights at the corners and centre of ``bounds``: a ballpark transformation
    leaves them as they are, a missing grid makes them infinite."""
    xmin, ymin, xmax, ymax = bounds
    if not np.isfinite(bounds).all():
        return False
    x = np.array([xmin, xmin, xmax, xmax, (xmin + xmax) / 2])
    y = np.array([ymin, ymax, ymin, ymax, (ymin + ymax) / 2])
    z = np.zeros(len(x))
    moved = Transformer.from_crs(source, twin, always_xy=True).transform(x, y, z)[2]
    return bool(np.isfinite(moved).all() and (moved != z).all())


def _missing_grid(source: CRS, twin: CRS) -> str:
    """What to install so that PROJ converts: the grids of its best transformation it could not find."""
    unavailable = TransformerGroup(source, twin, always_xy=True).unavailable_operations
    needs = [[grid for grid in operation.grids if not grid.available] for operation in unavailable]
    needs = [grids for grids in needs if grids]
    if not needs:
        return "PROJ knows no transformation between them but a ballpark one, which leaves heights as they are"
    grids = min(needs, key=len)
    names = ", ".join(f"{grid.short_name} from {grid.url}" if grid.url else grid.short_name for grid in grids)
    return f"install {names} into {crs_rules.SYSTEM_GRIDS}, where Debian's proj-data keeps its grids"


def offsets(geometry: np.ndarray, source: CRS, twin: CRS, shift: str | None) -> np.ndarray:
    """How far each row's heights move (at its representative point; NaN where it has no geometry): for
    a height given as an attribute, such as the ground a building stands on, beside its converted surfaces."""
    points = shapely.point_on_surface(geometry)
    x, y = shapely.get_x(points), shapely.get_y(points)
    if shift:
        x, y = chinese_crs.to_wgs84(shift, x, y)
    return Transformer.from_crs(source, twin, always_xy=True).transform(x, y, np.zeros(len(x)))[2]
