"""What an analysis answers: a :class:`Result`, its :class:`Finding`\\ s' geometries in the twin's CRS
(shapely, heights kept where the data has them), with the parameters it ran with and a summary.

The viewer draws results as they are; the service turns them into WGS84 GeoJSON
(:mod:`twin.service.geojson`); :mod:`twin.analyses.cache` keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely


@dataclass(frozen=True)
class Finding:
    """One thing found: where (None for a finding without a place, as a layer's counts) and what."""

    geometry: shapely.Geometry | None
    properties: dict[str, Any]


@dataclass(frozen=True)
class Result:
    """An analysis's answer. ``cached``: it came from the results cache rather than being computed."""

    analysis: str
    parameters: dict[str, Any]
    summary: dict[str, Any]
    findings: list[Finding]
    cached: bool = field(default=False, compare=False)

    def of(self, key: str, *values: Any) -> list[Finding]:
        """The findings whose property ``key`` is one of ``values``."""
        return [finding for finding in self.findings if finding.properties.get(key) in values]


@dataclass(frozen=True)
class Analysis:
    """An analysis the twin runs: its name (the service's path), the layers it reads (an import of one
    of them makes its cached answers stale), ``check`` (the caller's arguments -> the parameters it runs
    with, JSON values, raising :class:`twin.errors.ParameterError`) and ``compute`` (a psycopg connection
    and those parameters -> the :class:`Result`)."""

    name: str
    layers: tuple[str, ...]
    check: Callable[..., dict[str, Any]]
    compute: Callable[..., Result]


def findings(rows: Sequence[Sequence[Any]], make: Callable[..., dict[str, Any]]) -> list[Finding]:
    """Findings of query rows whose last column is a geometry as WKB (``ST_AsBinary``, NULL for none):
    ``make(*the other columns)`` gives each one's properties."""
    shapes = shapely.from_wkb([row[-1] for row in rows]) if rows else []
    return [Finding(shape, make(*row[:-1])) for row, shape in zip(rows, shapes)]

