"""The analyses answer in WGS84 (GeoJSON); the scene is drawn in the twin's CRS relative to its origin.
This turns one into the other: GeoJSON geometries into the twin's CRS (with heights from the DEM where
they lie on the ground), and a box of the twin's CRS into the WGS84 bbox the analyses take."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Transformer

from twin.terrain import Terrain
from viewer.scene.build import ground_height

WGS84 = "EPSG:4326"


class Wgs84:
    """Conversions between the analyses' WGS84 and the twin's CRS, for one scene."""

    def __init__(self, crs: CRS, origin: np.ndarray, terrain: Terrain | None) -> None:
        self.origin, self.terrain = origin, terrain
        self._to_twin = Transformer.from_crs(WGS84, crs, always_xy=True)
        self._to_wgs84 = Transformer.from_crs(crs, WGS84, always_xy=True)

    def geometry(self, geojson: dict) -> shapely.Geometry:
        """A GeoJSON geometry (WGS84, heights kept) in the twin's CRS."""
        def transform(coords: np.ndarray) -> np.ndarray:
            x, y = self._to_twin.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y, coords[:, 2:]])

        return shapely.transform(shapely.geometry.shape(geojson), transform, include_z=True)

    def ground(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The DEM's height at points of the twin's CRS (0 m without one), as the scene stands things."""
        return ground_height(self.terrain, np.asarray(x, float), np.asarray(y, float))

    def place(self, geojson: dict) -> np.ndarray:
        """Where to fly to for a GeoJSON geometry: its centre in the twin's CRS, on the ground unless the
        geometry has heights of its own (pipes, valves, clearance places lie below it)."""
        geometry = self.geometry(geojson)
        coords = shapely.get_coordinates(geometry, include_z=True)
        centre = shapely.get_coordinates(shapely.centroid(geometry))[0]
        own = coords[:, 2][np.isfinite(coords[:, 2])]
        z = float(own.mean()) if len(own) else float(self.ground(centre[:1], centre[1:])[0])
        return np.array([centre[0], centre[1], z])

    def bbox(self, low: np.ndarray, high: np.ndarray) -> str:
        """The analyses' ``minLon,minLat,maxLon,maxLat`` around a box of the twin's CRS (its four corners
        taken: a projected box is no box in degrees)."""
        xs = np.array([low[0], high[0], high[0], low[0]])
        ys = np.array([low[1], low[1], high[1], high[1]])
        lon, lat = self._to_wgs84.transform(xs, ys)
        return ",".join(f"{value:.7f}" for value in (min(lon), min(lat), max(lon), max(lat)))
