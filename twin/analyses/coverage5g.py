"""5G coverage: the share of buildings, and of floor area, within range of an NR (5G) station, per
management grid and per year.

A station counts in a year when twin.time's rule says it stood then, its radio is NR and its status is not
out of service or planned. Its reach is the layer's ``range_m`` (OpenCelliD's estimate of the cell's
range) where given, else :data:`DEFAULT_RANGE_M`. The grids are the frame the city is managed by (the
catalog does not mark them time-varying): every grid of the level asked for answers for every year, with
null shares where it held no building. The rules for buildings are in ``coverage5g.sql``.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from twin.analyses import params
from twin.analyses.cache import run
from twin.analyses.queries import OUT_OF_SERVICE, compose, existed_on, template
from twin.analyses.results import Analysis, Result, findings
from twin.errors import ParameterError

# A mid-band (3.5 GHz) NR macro cell in a dense city reaches a few hundred metres; OpenCelliD gives a
# range per cell where it has measurements, and this stands in where it has none.
DEFAULT_RANGE_M = 300.0
LEVELS = ("cell", "community", "district")  # management_grids' levels (layers/management_grids.toml)


def coverage_5g(connection: psycopg.Connection, year: str | None = None, level: str = "cell") -> Result:
    """Per grid of ``level`` and per year of ``year`` (``2020`` or ``2018/2020``; default: the last year of
    the twin's data): the grids, one finding a grid and year, with the buildings and floor area standing,
    those within range of an NR station, and their shares (0 to 1)."""
    return run(connection, COVERAGE_5G, year=year, level=level)


def _check(year: str | None, level: str) -> dict[str, Any]:
    first, last = params.years(year)
    if level not in LEVELS:
        raise ParameterError.of("level", "not_a_level", value=level, levels=", ".join(LEVELS))
    return {"first": first, "last": last, "level": level}


def _compute(connection: psycopg.Connection, first: int, last: int, level: str) -> Result:
    started = time.perf_counter()
    longest = connection.execute(compose(
        "SELECT coalesce(max(coalesce(nullif(range_m, 0), %(default_range)s)), 0) FROM {base_stations_5g} "
        "WHERE radio = 'NR'", "base_stations_5g"), {"default_range": DEFAULT_RANGE_M}).fetchone()[0]
    rows = connection.execute(
        template("coverage5g", "base_stations_5g", "buildings", "management_grids",
                 then=existed_on("years.day")),
        {"first": first, "last": last, "level": level, "default_range": DEFAULT_RANGE_M, "longest": longest,
         "out": list(OUT_OF_SERVICE)}).fetchall()
    found = findings(rows, lambda id_, code, name, year_, buildings, covered, area, covered_area: {
        "layer": "management_grids", "id": str(id_), "code": code, "name": name, "year": year_,
        "buildings": buildings, "buildings_covered": covered, "building_share": _share(covered, buildings),
        "floor_area_m2": round(area, 1), "floor_area_covered_m2": round(covered_area, 1),
        "floor_area_share": _share(covered_area, area)})
    totals: dict[int, list[float]] = {}
    for row in rows:
        total = totals.setdefault(row[3], [0, 0, 0.0, 0.0])
        for index, value in enumerate(row[4:8]):
            total[index] += value
    summary = {str(y): {"buildings": b, "buildings_covered": c, "building_share": _share(c, b),
                        "floor_area_m2": round(a, 1), "floor_area_covered_m2": round(ca, 1),
                        "floor_area_share": _share(ca, a)} for y, (b, c, a, ca) in totals.items()}
    return Result(
        "coverage-5g",
        {"year": f"{first}/{last}" if first != last else str(first), "level": level,
         "default_range_m": DEFAULT_RANGE_M},
        {"years": summary, "seconds": round(time.perf_counter() - started, 3)}, found)


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


COVERAGE_5G = Analysis("coverage-5g", ("base_stations_5g", "buildings", "management_grids"), _check, _compute)
