"""Hydrant coverage (GB 50974-2014 §7.2.5 and §7.3.3, restated in GB 55036-2022): outdoor hydrants stand at
most 120 m apart along a road and protect what lies within 150 m of them.

For a year: the buildings standing then that lie farther than 150 m from every hydrant in service (the
distance is to the footprint: the standard's radius reaches the building, not its centre), and the
stretches of road standing then that run more than 120 m without a hydrant. A hydrant is in service in
year Y when twin.time's rule says it stood at the end of Y and its status is not out of service or
planned (the status a record has now: a hydrant marked so serves no year). A hydrant belongs to a road
when it stands within half the road's width plus :data:`KERB_M` of its centre line (at the kerb or on the
pavement), so a hydrant at a junction counts for every road that meets there; a road's ends count as
steps of the walk, so a road with none of its own hydrants for more than 120 m from an end is a gap too.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from twin.analyses import params
from twin.analyses.cache import run
from twin.analyses.queries import OUT_OF_SERVICE, envelope, template
from twin.analyses.results import Analysis, Result, findings
from twin.time import year_end

COVER_RADIUS_M = 150.0  # GB 50974-2014 §7.3.3: an outdoor hydrant's protection radius
SPACING_M = 120.0  # GB 50974-2014 §7.2.5: outdoor hydrants along a road at most this far apart
KERB_M = 10.0  # beyond the road's half width, how far from its centre line a hydrant still belongs to it


def hydrant_coverage(connection: psycopg.Connection, year: int | None = None, bbox: str | None = None,
                     box: tuple[float, float, float, float] | None = None) -> Result:
    """Buildings beyond reach of a hydrant and road stretches short of hydrants in ``year`` (default: the
    last year of the twin's data), within ``bbox`` (WGS84 ``minLon,minLat,maxLon,maxLat``) or ``box`` (the
    twin's CRS) if given: buildings (``finding: "uncovered_building"``), farthest first, then road stretches
    (``finding: "hydrant_gap"``), longest first."""
    return run(connection, HYDRANT_COVERAGE, year=year, bbox=bbox, box=box)


def _check(year: int | None, bbox: str | None, box: tuple[float, float, float, float] | None) -> dict[str, Any]:
    return {"year": params.year(year), **params.area(bbox, box)}


def _compute(connection: psycopg.Connection, year: int, bbox: list[float] | None, box: list[float] | None
             ) -> Result:
    started = time.perf_counter()
    area = envelope(connection, bbox, box)
    values = {"day": year_end(year), "out": list(OUT_OF_SERVICE), "radius": COVER_RADIUS_M,
              "spacing": SPACING_M, "kerb": KERB_M}
    buildings = findings(
        connection.execute(template("hydrants_buildings", "buildings", "smart_hydrants", box=area), values).fetchall(),
        lambda id_, source_id, name, use, area_m2, distance: {
            "finding": "uncovered_building", "layer": "buildings", "id": str(id_), "source_id": source_id,
            "name": name, "use": use, "floor_area_m2": area_m2, "nearest_hydrant_m": distance})
    gaps = findings(
        connection.execute(template("hydrants_gaps", "roads", "smart_hydrants", box=area), values).fetchall(),
        lambda id_, source_id, name, road_class, start, end, gap: {
            "finding": "hydrant_gap", "layer": "roads", "id": str(id_), "source_id": source_id, "name": name,
            "road_class": road_class, "from_m": start, "to_m": end, "gap_m": gap})
    return Result(
        "hydrant-coverage",
        {"year": year, "bbox": bbox, "box": box, "cover_radius_m": COVER_RADIUS_M, "spacing_m": SPACING_M,
         "kerb_m": KERB_M},
        {"uncovered_buildings": len(buildings), "hydrant_gaps": len(gaps),
         "gap_length_m": round(sum(gap.properties["gap_m"] for gap in gaps), 1),
         "seconds": round(time.perf_counter() - started, 3)},
        buildings + gaps)


HYDRANT_COVERAGE = Analysis("hydrant-coverage", ("buildings", "smart_hydrants", "roads"), _check, _compute)
