"""GCJ-02 and BD-09, the shifted coordinates of Chinese web maps, back to WGS84.

GCJ-02 ("Mars coordinates", AMap, Tencent, Google China) is WGS84 moved by a published-by-leak
non-linear offset of up to ~500 m; BD-09 (Baidu) is GCJ-02 moved again by a small rotation and scaling.

How: neither shift has an exact closed-form inverse (Baidu's published inverse is off by up to ~0.1 m),
so both are undone by fixed-point iteration on the forward formula, x <- x - (forward(x) - given), which
converges because the shifts change slowly with position (derivative ~1e-5); we stop when the step is
under 1e-9 degrees (0.1 mm).

How accurate: the iteration inverts the formula to well under 1 mm. The formula is the widely used
reconstruction of the official GCJ-02 shift; it is reported to agree with the official conversion
within about 1 m, so expect metre-level, not survey-grade, positions. Outside mainland China GCJ-02
equals WGS84 and points are left as they are.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses it
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

ALIASES = {"GCJ-02": "gcj02", "GCJ02": "gcj02", "BD-09": "bd09", "BD09": "bd09"}


def shift_name(crs: str | None) -> str | None:
    """'gcj02' or 'bd09' when the user's --crs names one of the Chinese shifted systems."""
    return ALIASES.get((crs or "").strip().upper())


def _outside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 shift (degrees) at WGS84 ``lon, lat``."""
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _outside_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray, tolerance: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    return _invert(wgs84_to_gcj02, np.asarray(lon, float), np.asarray(lat, float), tolerance)


def _invert(forward, lon: np.ndarray, lat: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration: the shifts change slowly with position."""
    xlon, xlat = lon.copy(), lat.copy()
    for _ in range(30):
        flon, flat = forward(xlon, xlat)
        step_lon, step_lat = flon - lon, flat - lat
        xlon, xlat = xlon - step_lon, xlat - step_lat
        if np.all(np.abs(step_lon) < tolerance) and np.all(np.abs(step_lat) < tolerance):
            break
    return xlon, xlat


def bd09_from_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Baidu's forward shift (for tests and round trips)."""
    x, y = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray, tolerance: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Baidu's closed-form inverse is off by up to ~0.1 m, so iterate on its forward shift instead."""
    return _invert(bd09_from_gcj02, np.asarray(lon, float), np.asarray(lat, float), tolerance)


def to_wgs84(kind: str, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitudes and latitudes of points given in ``kind`` ('gcj02' or 'bd09')."""
    if kind == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)
