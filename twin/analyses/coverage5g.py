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

import psycopg

from twin.analyses import params
from twin.analyses.queries import OUT_OF_SERVICE, collection, compose, existed_on, feature, template
from twin.errors import ParameterError

# A mid-band (3.5 GHz) NR macro cell in a dense city reaches a few hundred metres; OpenCelliD gives a
# range per cell where it has measurements, and this stands in where it has none.
DEFAULT_RANGE_M = 300.0
LEVELS = ("cell", "community", "district")  # management_grids' levels (layers/management_grids.toml)


def coverage_5g(connection: psycopg.Connection, year: str | None = None, level: str = "cell") -> dict:
    """Per grid of ``level`` and per year of ``year`` (``2020`` or ``2018/2020``; default: this year): a
    GeoJSON FeatureCollection of the grids, one feature a grid and year, with the buildings and floor area
    standing, those within range of an NR station, and their shares (0 to 1)."""
    started = time.perf_counter()
    first, last = params.years(year)
    if level not in LEVELS:
        raise ParameterError(f"level: '{level}' is not a management grid level ({', '.join(LEVELS)})")
    longest = connection.execute(compose(
        "SELECT coalesce(max(coalesce(nullif(range_m, 0), %(default_range)s)), 0) FROM {base_stations_5g} "
        "WHERE radio = 'NR'", "base_stations_5g"), {"default_range": DEFAULT_RANGE_M}).fetchone()[0]
    rows = connection.execute(
        template("coverage5g", "base_stations_5g", "buildings", "management_grids",
                 then=existed_on("years.day")),
        {"first": first, "last": last, "level": level, "default_range": DEFAULT_RANGE_M, "longest": longest,
         "out": list(OUT_OF_SERVICE)}).fetchall()
    features, totals = [], {}
    for id_, code, name, year_, buildings, covered, area, covered_area, geometry in rows:
        features.append(feature(geometry, layer="management_grids", id=str(id_), code=code, name=name,
                                year=year_, buildings=buildings, buildings_covered=covered,
                                building_share=_share(covered, buildings),
                                floor_area_m2=round(area, 1), floor_area_covered_m2=round(covered_area, 1),
                                floor_area_share=_share(covered_area, area)))
        total = totals.setdefault(year_, [0, 0, 0.0, 0.0])
        for index, value in enumerate((buildings, covered, area, covered_area)):
            total[index] += value
    summary = {str(y): {"buildings": b, "buildings_covered": c, "building_share": _share(c, b),
                        "floor_area_m2": round(a, 1), "floor_area_covered_m2": round(ca, 1),
                        "floor_area_share": _share(ca, a)} for y, (b, c, a, ca) in totals.items()}
    return collection(
        features, analysis="coverage-5g",
        parameters={"year": f"{first}/{last}" if first != last else str(first), "level": level,
                    "default_range_m": DEFAULT_RANGE_M},
        summary={"years": summary, "seconds": round(time.perf_counter() - started, 3)})


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None
