"""The ground and what covers it: a 10 m DEM (flat coastal land 1-4 m above sea level, the lake bed
lower) and one land-cover raster per year, from saline-alkali flats and the wastewater pond in 2008 to
the built city, its roads, green valley and cleaned lake in 2020."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin

from twin.ecocity.buildings import Building
from twin.ecocity.plan import FIRST_YEAR, LAST_YEAR, Plan

RESOLUTION = 10.0
MARGIN = 200.0
# Land-cover classes, as layers/land_cover.toml styles them.
SALINE, POND, WATER, GREEN, ROAD, BUILT = 1, 2, 3, 4, 5, 6
LAKE_CLEANED = 2011  # Qingjing Lake: the wastewater pond, cleaned up in the first years


def grid(plan: Plan) -> tuple[object, int, int]:
    """The raster frame around the city: (affine transform, width, height)."""
    x0, y0, x1, y1 = plan.bounds
    width = int(np.ceil((x1 - x0 + 2 * MARGIN) / RESOLUTION))
    height = int(np.ceil((y1 - y0 + 2 * MARGIN) / RESOLUTION))
    return from_origin(x0 - MARGIN, y1 + MARGIN, RESOLUTION, RESOLUTION), width, height


def ground_height(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ground height (m, 1985 datum): a gentle rise inland with low swells, between 1 and 4 m."""
    u, v = (x - 560_000.0) / 1000.0, (y - 4_330_000.0) / 1000.0
    return 2.4 + 0.08 * v - 0.05 * u + 0.35 * np.sin(u * 1.3) * np.cos(v * 0.9) + 0.2 * np.sin(v * 2.1 + u * 0.4)


def dem(plan: Plan) -> np.ndarray:
    transform, width, height = grid(plan)
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    x = transform.c + cols * transform.a
    y = transform.f + rows * transform.e
    heights = np.clip(ground_height(x, y), 1.0, 4.0)
    lake = rasterize([(plan.lake, 1)], out_shape=(height, width), transform=transform, fill=0).astype(bool)
    heights[lake] = 0.2  # the lake bed
    return heights.astype("float32")


def land_cover(plan: Plan, buildings: list[Building]) -> Iterator[tuple[int, np.ndarray]]:
    """(year, classes) for every year: each year draws only what was built in it over the year before."""
    transform, width, height = grid(plan)
    cover = np.full((height, width), SALINE, dtype="uint8")
    plots = shapely.buffer(np.array([b.footprint for b in buildings], dtype=object), 8)
    built_in = np.array([b.build_year for b in buildings])
    road_areas = {road.id: shapely.buffer(road.line, road.width / 2, cap_style="flat") for road in plan.roads}

    def draw(shapes: list[tuple[shapely.Geometry, int]]) -> None:
        if shapes:
            rasterize(shapes, out=cover, transform=transform)

    for year in years():
        roads = [(road_areas[road.id], ROAD) for road in plan.roads if road.build_year == year]
        draw([(plot, BUILT) for plot in plots[built_in == year]] + roads)
        if year == LAKE_CLEANED:  # the valley is planted, and the roads already across it stay roads
            draw([(plan.valley, GREEN)] + [(road_areas[road.id], ROAD) for road in plan.roads
                                           if road.build_year <= year and road.line.intersects(plan.valley)])
        draw([(plan.canal, WATER), (plan.lake, WATER if year >= LAKE_CLEANED else POND)])
        yield year, cover.copy()


def years() -> range:
    return range(FIRST_YEAR, LAST_YEAR + 1)
