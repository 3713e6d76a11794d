"""The API at its edges, as a GIS analyst meets them (issue 16, "API edges"): a tile outside its
TileMatrixSet, a CRS the API does not offer, an analysis without a year, a point far from the city, a
pipe named by the id the viewer shows, the digits of the numbers answered. Each through the service's
app, in-process, over the demo Eco-city."""

from __future__ import annotations

import pytest
from pyproj import Transformer
from support import sql

pytestmark = pytest.mark.fast

TILE = "/collections/buildings/tiles/WebMercatorQuad"


def answer(service, path: str, **query: object) -> tuple[int, dict | bytes]:
    response = service.get(path, params=query)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.content


def untimed(summary: dict) -> dict:
    """A summary without the seconds its computation took."""
    return {key: value for key, value in summary.items() if key != "seconds"}


# -- tiles ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("tile", "detail"), [
    ("-1/0/0", "z: -1 is not a zoom level of WebMercatorQuad; give 0 to 24"),
    ("99/0/0", "z: 99 is not a zoom level of WebMercatorQuad; give 0 to 24"),
    ("25/0/0", "z: 25 is not a zoom level of WebMercatorQuad; give 0 to 24"),
    ("2/4/0", "x: 4 is not a column of WebMercatorQuad at zoom 2; give 0 to 3"),
    ("2/-1/0", "x: -1 is not a column of WebMercatorQuad at zoom 2; give 0 to 3"),
    ("2/0/9", "y: 9 is not a row of WebMercatorQuad at zoom 2; give 0 to 3"),
])
def test_a_tile_outside_its_matrix_set_is_a_400_with_the_range(service, tile: str, detail: str) -> None:
    status, body = answer(service, f"{TILE}/{tile}")
    assert status == 400 and body == {"detail": detail}


def test_tiles_at_the_matrix_sets_ends_answer(service) -> None:
    for tile in ("0/0/0", "24/0/0", "2/3/3"):
        status, body = answer(service, f"{TILE}/{tile}")
        assert status == 200 and isinstance(body, bytes), tile
    status, body = answer(service, "/collections/buildings/tiles/WorldCRS84Quad/1/4/0")  # 4 x 2 at zoom 1
    assert status == 400 and body["detail"] == "x: 4 is not a column of WorldCRS84Quad at zoom 1; give 0 to 3"


# -- CRS ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/collections/buildings/items", "/collections/buildings/items/x/versions",
                                  f"{TILE}/15/27101/12506"])
@pytest.mark.parametrize(("parameter", "value"), [
    ("crs", "EPSG:4548"), ("crs", "http://www.opengis.net/def/crs/EPSG/0/4326"),
    ("bbox-crs", "http://www.opengis.net/def/crs/EPSG/0/4548"), ("filter-crs", "EPSG:3857")])
def test_a_crs_not_offered_is_refused_naming_crs84(service, path: str, parameter: str, value: str) -> None:
    status, body = answer(service, path, **{parameter: value})
    assert status == 400, body
    assert body["detail"].startswith(f"{parameter}: '{value}' is not offered") and "CRS84 only" in body["detail"]
    assert "http://www.opengis.net/def/crs/OGC/1.3/CRS84" in body["detail"] and "\n" not in body["detail"]


def test_crs84_by_name_is_what_items_give_anyway(service) -> None:
    plain = service.get("/collections/hospitals/items").json()["features"]
    for name in ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "[OGC:CRS84]"):
        status, body = answer(service, "/collections/hospitals/items", crs=name, **{"bbox-crs": name})
        assert status == 200 and body["features"] == plain


# -- the year an analysis answers for -------------------------------------------------------------------
PIPE = "SELECT id::text FROM layers.water_supply ORDER BY source_id OFFSET 500 LIMIT 1"
WITHOUT_A_YEAR = [("hydrant-coverage", {}), ("pipe-clearance", {"bbox": "117.73,39.13,117.76,39.155"}),
                  ("nearest-resources", {"lon": 117.75, "lat": 39.14}), ("burst-isolation", {"pipe": PIPE}),
                  ("coverage-5g", {})]


@pytest.mark.parametrize(("path", "query"), WITHOUT_A_YEAR)
def test_an_analysis_without_a_year_answers_for_the_datas_last_year_and_says_so(
        service, demo_database: str, path: str, query: dict) -> None:
    """The demo's data ends in 2020 (the generator's last year), not in the calendar's year."""
    if "pipe" in query:
        query = {"pipe": sql(demo_database, query["pipe"])[0][0]}
    last = 2020 if path != "coverage-5g" else "2020"
    status, defaulted = answer(service, f"/analyses/{path}", **query)
    assert status == 200, defaulted
    assert defaulted["defaults"] == {"year": last} and defaulted["parameters"]["year"] == last
    status, given = answer(service, f"/analyses/{path}", **query, year=2020)
    assert status == 200 and given["defaults"] == {}
    assert given["features"] == defaulted["features"] and untimed(given["summary"]) == untimed(defaulted["summary"])


def test_the_openapi_document_says_what_a_missing_year_means(service) -> None:
    document = service.get("/api").json()
    for path in ("hydrant-coverage", "pipe-clearance", "nearest-resources", "burst-isolation", "coverage-5g"):
        year = next(p for p in document["paths"][f"/analyses/{path}"]["get"]["parameters"] if p["name"] == "year")
        assert "Default: the last year of the twin's data" in year["description"], path
        assert "this year" not in year["description"]


# -- a point far from the city --------------------------------------------------------------------------
def extent_wgs84(demo_database: str) -> tuple[float, float, float, float]:
    extent = [float(v) for v in sql(demo_database, "SELECT value FROM twin.meta WHERE key = 'extent'")[0][0].split()]
    return Transformer.from_crs(4548, 4326, always_xy=True).transform_bounds(*extent)


@pytest.mark.parametrize(("query", "detail", "km"), [
    ({"lon": 0, "lat": 0}, "lon: lon/lat 0.0,0.0 lies ", (12_000, 13_500)),  # Tianjin to the Gulf of Guinea
    ({"x": 0, "y": 0}, "x: x/y 0.0,0.0 lies ", (4_000, 5_000)),  # the CRS's origin, on the equator
])
def test_a_point_far_outside_the_city_is_a_400_saying_how_far(service, query: dict, detail: str,
                                                               km: tuple[int, int]) -> None:
    status, body = answer(service, "/analyses/nearest-resources", **query)
    assert status == 400 and body["detail"].startswith(detail), body
    far = float(body["detail"].removeprefix(detail).split(" km")[0].replace(",", ""))
    assert km[0] < far < km[1] and "outside the twin's extent" in body["detail"]
    assert body["detail"].endswith("give a point within 20 km of it")


def test_a_point_just_outside_the_city_is_answered_and_one_beyond_reach_not(service, demo_database: str) -> None:
    west, south, east, north = extent_wgs84(demo_database)
    middle = (south + north) / 2
    near = answer(service, "/analyses/nearest-resources", lon=east + 0.05, lat=middle, year=2020)  # ~4 km out
    assert near[0] == 200 and near[1]["features"][0]["properties"]["road_offset_m"] < 20_000
    status, body = answer(service, "/analyses/nearest-resources", lon=east + 0.5, lat=middle)  # ~43 km out
    assert status == 400 and " lies 4" in body["detail"] and " km outside the twin's extent" in body["detail"]


# -- a pipe by the id the viewer shows ------------------------------------------------------------------
def test_burst_isolation_takes_the_source_id_the_viewer_shows(service, demo_database: str) -> None:
    feature_id, source_id = sql(demo_database, "SELECT id::text, source_id FROM layers.water_supply "
                                               "ORDER BY source_id OFFSET 500 LIMIT 1")[0]
    status, by_id = answer(service, "/analyses/burst-isolation", pipe=feature_id, year=2020)
    assert status == 200, by_id
    status, by_source_id = answer(service, "/analyses/burst-isolation", pipe=source_id, year=2020)
    assert status == 200, by_source_id
    assert by_source_id["features"] == by_id["features"]
    assert untimed(by_source_id["summary"]) == untimed(by_id["summary"])
    assert by_source_id["parameters"]["pipe"] == feature_id and by_source_id["parameters"]["source_id"] == source_id
    status, body = answer(service, "/analyses/burst-isolation", pipe="WA-nowhere")
    assert status == 400 and body["detail"] == "pipe: no water_supply pipe has the feature id or source id 'WA-nowhere'"


# -- the digits of the numbers answered -----------------------------------------------------------------
def long_decimals(value: object, at: str = "") -> list[str]:
    """Where ``value`` (an answer's JSON, geometries left out) holds a float of more than 4 decimals."""
    if isinstance(value, dict):
        return [found for key, item in value.items() if key not in ("geometry", "bbox")
                for found in long_decimals(item, f"{at}.{key}")]
    if isinstance(value, list):
        return [found for item in value for found in long_decimals(item, f"{at}[]")]
    if isinstance(value, float) and "e" not in repr(value) and len(repr(value).partition(".")[2]) > 4:
        return [f"{at} = {value!r}"]
    return []


def test_analyses_answer_numbers_without_binary_noise(service, demo_database: str) -> None:
    """Metres to 0.1, km to the metre, shares to 4 places: no 285.79999999999234 km of roads built."""
    pipe = sql(demo_database, PIPE)[0][0]
    for path, query in [("changes", {"from": 2008, "to": 2020}), ("changes", {"from": 2015, "to": 2016}),
                        ("hydrant-coverage", {"year": 2012}), ("nearest-resources", {"lon": 117.75, "lat": 39.14}),
                        ("pipe-clearance", {"bbox": "117.73,39.13,117.76,39.155"}),
                        ("burst-isolation", {"pipe": pipe}), ("coverage-5g", {"year": "2018/2020"})]:
        status, body = answer(service, f"/analyses/{path}", **query)
        assert status == 200 and long_decimals(body) == [], (path, query)


def test_year_figures_come_to_the_metre(demo_database: str) -> None:
    import psycopg

    from twin.catalog import load_catalog
    from twin.time import figures

    with psycopg.connect(demo_database) as connection:
        by_layer = figures(connection, load_catalog(), 2020, 2020)[2020]
    lengths = [figure.length_km for figure in by_layer.values() if figure.length_km]
    assert lengths and all(length == round(length, 3) for length in lengths)
    assert all(f.floor_area_m2 == round(f.floor_area_m2, 1) for f in by_layer.values() if f.floor_area_m2)


def test_a_ground_height_from_the_dem_comes_to_the_centimetre() -> None:
    """The buildings' ground_z_m, sampled from the DEM where the data has none (2.7878103400329697 before)."""
    import numpy as np
    import pandas as pd
    import shapely

    from importers.heights import apply_heights
    from twin.catalog import load_catalog

    class NoisyDem:
        def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return np.full(len(x), 2.7878103400329697)

    columns: dict[str, pd.Series] = {}
    footprint = np.array([shapely.box(563_000, 4_333_000, 563_010, 4_333_010)], dtype=object)
    apply_heights(footprint, load_catalog()["buildings"], columns, NoisyDem())  # type: ignore[arg-type]
    assert columns["ground_z_m"].tolist() == [2.79]


def test_the_demo_generator_gives_areas_to_a_tenth_of_a_square_metre() -> None:
    import numpy as np

    from twin.ecocity.assets import areas
    from twin.ecocity.plan import make_plan

    places = areas(make_plan(np.random.default_rng(0), 1.0))
    found = [record["area_m2"] for records in places.values() for record in records]
    assert found and all(area == round(area, 1) for area in found)


# -- paging ---------------------------------------------------------------------------------------------
def test_a_page_without_a_limit_holds_100_features(service) -> None:
    status, body = answer(service, "/collections/buildings/items")
    assert status == 200 and body["numberReturned"] == 100 < body["numberMatched"]
    document = service.get("/api").json()
    limit = next(p for p in document["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["default"] == 100 and "100 if not given" in limit["description"]


def test_a_deep_page_makes_the_features_of_that_page_only(service, demo_database: str) -> None:
    """TiPg's query turned every row it skipped into GeoJSON: the buildings' page at offset 19,000 made
    19,010 features to send 10 (96 ms, where the first page took 4), and paging through a layer 10 features
    at a time (GDAL's default) cost the square of its size."""
    import asyncio
    import json

    import asyncpg

    collection = service.app.state.collection_catalog["collections"]["buildings"]
    made: list[int] = []

    def geojson_rows(node: dict) -> list[int]:
        """Rows of the plan's nodes that compute the features' GeoJSON."""
        own = [node["Actual Rows"]] if any("st_asgeojson" in column for column in node.get("Output", [])) else []
        return own + [rows for child in node.get("Plans", []) for rows in geojson_rows(child)]

    class Explained:
        """A connection that runs each items query under EXPLAIN ANALYZE first."""

        def __init__(self, connection: asyncpg.Connection) -> None:
            self.connection = connection

        async def fetchval(self, query: str, *args: object) -> object:
            return await self.connection.fetchval(query, *args)

        async def fetch(self, query: str, *args: object) -> list:
            plan = await self.connection.fetchval(f"EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) {query}", *args)
            made.extend(geojson_rows(json.loads(plan)[0]["Plan"]))
            return await self.connection.fetch(query, *args)

    async def page(offset: int) -> list:
        connection = await asyncpg.connect(demo_database)
        try:
            return (await collection.features(Explained(connection), limit=10, offset=offset))["items"]
        finally:
            await connection.close()

    deep = asyncio.run(page(19_000))
    assert len(deep) == 10 and made and max(made) == 10
    assert [f["id"] for f in deep] == [row[0] for row in sql(
        demo_database, "SELECT id FROM layers.buildings ORDER BY id LIMIT 10 OFFSET 19000")]
