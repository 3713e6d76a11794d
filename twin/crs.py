"""A twin's coordinate reference system: what a person may give (anything PROJ takes), the SRID its
geometry columns carry, and the CRS chosen for a city whose twin was made without one.

A twin's CRS is projected (metres), so that the viewer, the analyses and PostGIS measure in metres. It may
be compound (``EPSG:4548+5737``: Gauss-Kruger with Yellow Sea 1985 heights); the geometry columns then
carry the horizontal part's SRID and the whole CRS is recorded beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyproj
from pyproj import CRS
from pyproj.exceptions import CRSError

from twin.errors import SettingsError

# Debian's proj-data keeps its grids here (EGM96's geoid among them); pyproj's wheel brings a PROJ data
# folder of its own, without grids, and PROJ then looks nowhere else unless told.
SYSTEM_GRIDS = Path("/usr/share/proj")

# CGCS2000 / 3-degree Gauss-Kruger CM 75E is EPSG:4534, ..., CM 135E is EPSG:4554 (without zone prefix).
_GK_FIRST_CODE, _GK_FIRST_CM, _GK_LAST_CM = 4534, 75, 135

# China's outline, coarsely (lon, lat): enough to tell a Chinese city from one in a neighbouring country
# when choosing between the national Gauss-Kruger grid and UTM. Hong Kong and Macao lie inside.
_CHINA = ((73.5, 39.5), (80.0, 45.0), (82.5, 47.2), (87.8, 49.2), (91.0, 45.5), (96.3, 42.8), (105.0, 41.6),
          (111.5, 43.7), (115.5, 47.8), (117.8, 49.6), (119.8, 53.4), (123.5, 53.6), (127.5, 49.8),
          (131.0, 47.7), (134.8, 48.3), (131.0, 43.0), (128.0, 42.0), (124.3, 39.8), (122.0, 38.5),
          (123.0, 31.5), (122.3, 29.0), (120.0, 25.5), (117.0, 23.0), (114.0, 22.1), (110.5, 20.2),
          (109.5, 18.1), (108.0, 21.5), (106.5, 22.5), (103.0, 22.6), (100.0, 21.2), (97.5, 24.0),
          (98.5, 27.5), (97.0, 28.3), (92.0, 27.8), (88.8, 27.3), (86.0, 27.9), (81.0, 30.2), (78.8, 31.5),
          (78.0, 35.5), (74.8, 37.2))


def use_system_grids() -> None:
    """Let PROJ find the grids Debian's proj-data installs, after pyproj's own data (whose proj.db wins)."""
    if SYSTEM_GRIDS.is_dir() and str(SYSTEM_GRIDS) not in pyproj.datadir.get_data_dir().split(os.pathsep):
        pyproj.datadir.append_data_dir(str(SYSTEM_GRIDS))


# Before any transformer is made, so that every one in the process (horizontal ones too) sees the same grids.
use_system_grids()


def parse(text: str, where: str) -> CRS:
    """The CRS a person wrote (an EPSG code, WKT, a PROJ string or pipeline); ``where`` names the flag or
    setting for the error."""
    try:
        return CRS.from_user_input(text.strip())
    except (CRSError, TypeError, ValueError):
        raise SettingsError(f"{where}: unknown CRS '{text}'; give an EPSG code such as EPSG:4548, WKT or a PROJ "
                            "string") from None


def horizontal(crs: CRS) -> CRS:
    """The horizontal part of a compound CRS; the CRS itself otherwise."""
    if crs.is_compound:
        return next(part for part in crs.sub_crs_list if not part.is_vertical)
    return crs


def in_metres(crs: CRS) -> bool:
    """Whether the CRS is projected with metres along its axes, as a twin's must be."""
    flat = horizontal(crs)
    return flat.is_projected and all(axis.unit_name in ("metre", "meter") for axis in flat.axis_info)


def check_projected(crs: CRS, where: str) -> None:
    """A twin measures in metres (the viewer, the analyses, the diameters in mm)."""
    if not in_metres(crs):
        units = {axis.unit_name for axis in horizontal(crs).axis_info}
        what = "not projected" if not horizontal(crs).is_projected else f"in {', '.join(sorted(units))}"
        raise SettingsError(f"{where}: {name(crs)} is {what}, not metres; give a projected CRS in metres such as "
                            "a UTM zone or a CGCS2000 Gauss-Kruger zone (EPSG:4534-4554)")


def name(crs: CRS) -> str:
    """``EPSG:4548`` where the CRS has a code (``EPSG:4548+5737`` for a compound one), else its name."""
    code = crs.to_epsg()
    if code:
        return f"EPSG:{code}"
    if crs.is_compound:
        codes = [part.to_epsg() for part in crs.sub_crs_list]
        if all(codes):
            return "EPSG:" + "+".join(str(code) for code in codes)
    return crs.name


def inside_china(lon: float, lat: float) -> bool:
    """Whether a WGS84 point lies inside China's (coarse) outline."""
    inside = False
    for (x1, y1), (x2, y2) in zip(_CHINA, _CHINA[1:] + _CHINA[:1]):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def for_place(lon: float, lat: float) -> tuple[CRS, str]:
    """The projected CRS for a city centred at (lon, lat) in WGS84, and why: inside China the CGCS2000
    3-degree Gauss-Kruger zone of that longitude (what Chinese surveys deliver), elsewhere its WGS84 UTM zone."""
    if inside_china(lon, lat):
        meridian = min(max(3 * round(lon / 3), _GK_FIRST_CM), _GK_LAST_CM)
        code = _GK_FIRST_CODE + (meridian - _GK_FIRST_CM) // 3
        return CRS.from_epsg(code), f"the CGCS2000 3-degree Gauss-Kruger zone of central meridian {meridian}E"
    zone = min(int((lon + 180) // 6) + 1, 60)
    code = (32600 if lat >= 0 else 32700) + zone
    return CRS.from_epsg(code), f"the WGS84 UTM zone {zone}{'N' if lat >= 0 else 'S'} of the data's centre"


def for_data(file_crs: CRS, lon: float, lat: float) -> tuple[CRS, str]:
    """The CRS the first import gives a twin made without one: the file's own where it is projected in
    metres, else :func:`for_place` of the data's centre (a US state plane in feet becomes its UTM zone);
    and why, for the import's summary."""
    if in_metres(file_crs):
        return file_crs, "the file's own projected CRS"
    return for_place(lon, lat)
