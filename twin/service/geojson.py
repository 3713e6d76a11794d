"""An analysis's :class:`~twin.analyses.results.Result` as the service answers it: a GeoJSON
FeatureCollection in WGS84 (RFC 7946), whose foreign members say which analysis it is, the parameters it
ran with (and, as ``defaults``, those the request left out), and a summary. Heights stay as the twin
holds them (its vertical datum); only the horizontal coordinates are transformed, by PROJ, as PostGIS
transforms the layers' for the collections.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import psycopg
import shapely
from pyproj import CRS, Transformer

from twin.analyses.results import Finding, Result
from twin.crs import horizontal
from twin.store.meta import twin_crs

DIGITS = 8  # decimal places of WGS84 degrees in answers: about a millimetre


class ToWgs84:
    """Geometries of one twin's CRS as WGS84 GeoJSON geometries."""

    def __init__(self, crs: str) -> None:
        self._transformer = _transformer(crs)

    @classmethod
    def of(cls, connection: psycopg.Connection) -> ToWgs84:
        """For the twin ``connection`` reads."""
        return cls(twin_crs(connection))

    def geometry(self, geometry: shapely.Geometry | None) -> dict[str, Any] | None:
        if geometry is None:
            return None

        def degrees(coords: np.ndarray) -> np.ndarray:
            lon, lat = self._transformer.transform(coords[:, 0], coords[:, 1])
            return np.round(np.column_stack([lon, lat, coords[:, 2:]]), DIGITS)

        return shapely.geometry.mapping(shapely.transform(geometry, degrees, include_z=True))

    def feature(self, finding: Finding) -> dict[str, Any]:
        return {"type": "Feature", "geometry": self.geometry(finding.geometry), "properties": finding.properties}


@lru_cache(maxsize=16)
def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs(horizontal(CRS.from_user_input(crs)), "EPSG:4326", always_xy=True)


def collection(result: Result, features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    """``result``'s ``features`` (all or a page, as :class:`ToWgs84` made them) as a FeatureCollection."""
    return {"type": "FeatureCollection", "analysis": result.analysis, "parameters": result.parameters,
            "summary": result.summary, **members, "features": features}
