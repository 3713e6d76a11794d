"""GCJ-02 and BD-09, the shifted coordinates of Chinese web maps, back to WGS84.

GCJ-02 ("Mars coordinates", AMap, Tencent, Google China) is WGS84 moved by a published-by-leak
non-linear offset of up to ~500 m; BD-09 (Baidu) is GCJ-02 moved again by a small rotation and scaling.

How: BD-09 -> GCJ-02 inverts Baidu's formula in closed form. GCJ-02 -> WGS84 has no closed form: we
solve forward(w) = g by fixed-point iteration (w <- w - (forward(w) - g)), which converges because the
offset changes slowly (its derivative is ~1e-5); we stop when the step is under 1e-9 degrees.

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
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(30):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        step_lon, step_lat = glon - lon, glat - lat
        wlon, wlat = wlon - step_lon, wlat - step_lat
        if np.all(np.abs(step_lon) < tolerance) and np.all(np.abs(step_lat) < tolerance):
            break
    return wlon, wlat


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(lon, float) - 0.0065, np.asarray(lat, float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def to_wgs84(kind: str, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitudes and latitudes of points given in ``kind`` ('gcj02' or 'bd09')."""
    if kind == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)
