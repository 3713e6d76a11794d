"""The OGC API over the twin, through real clients: OWSLib lists the collections and reads items by bbox and
year (counts equal SQL with twin.time's rule), GDAL's OAPIF driver reads whole layers, GDAL's MVT driver
decodes a vector tile, output is WGS84 whatever the twin's CRS; the API reads as a role that cannot
write; bad parameters are 400s (unknown collections and features 404s), never 500s. The real clients read
the API served as `twin serve` serves it (uvicorn, in a process of its own); the tests marked fast ask the
service's app in-process (the ``service`` fixture)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import morecantile
import psycopg
import pyogrio
import pytest
from browser import free_port
from owslib.ogcapi.features import Features
from pyproj import Transformer
from support import ROOT, refused, run_twin, sql, twin_env

from twin.catalog import load_catalog
from twin.service import READER_ROLE
from twin.time import EXISTED, figures, year_end

CATALOG = load_catalog(ROOT / "layers")
CENTRE = [117.73, 39.13, 117.76, 39.155]  # a WGS84 box in the middle of the demo Eco-city
YEARS = (2010, 2015, 2020)


def start_api(**env: str) -> tuple[str, subprocess.Popen]:
    """The API as `twin serve` makes it (``create_app()``: the read-only role, the settings), on uvicorn."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "twin.service.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=twin_env(**env), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return f"http://127.0.0.1:{port}", process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"the API did not start: {process.communicate()[1]}")
            time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=20)


@pytest.fixture(scope="module")
def api(demo_database: str) -> Iterator[str]:
    """The API over the demo Eco-city: its base URL."""
    base, process = start_api(TWIN_DATABASE_URL=demo_database)
    yield base
    stop(process)


def answer(service, path: str) -> tuple[int, dict | bytes]:
    """The in-process service's answer to ``path``: its status and its JSON (or bytes, where not JSON)."""
    response = service.get(path)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.content


def get(url: str) -> tuple[int, dict | bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def twin_srid(url: str) -> int:
    return int(sql(url, "SELECT split_part(value, ':', 2) FROM twin.meta WHERE key = 'crs'")[0][0])


def bbox_sql(url: str, bbox: list[float]) -> str:
    """What a WGS84 bbox selects on data in the twin's CRS: its bounds there (as TiPg transforms them)."""
    srid = twin_srid(url)
    west, south, east, north = Transformer.from_crs(4326, srid, always_xy=True).transform_bounds(*bbox)
    return f"ST_Intersects(geom, ST_MakeEnvelope({west}, {south}, {east}, {north}, {srid}))"


def existed_in(year: int) -> str:
    day = f"'{year_end(year).isoformat()}'::date"
    return EXISTED.format(start=day, end=day)


# -- OWSLib ---------------------------------------------------------------------------------------------
def test_owslib_lists_every_vector_layer_with_its_catalog_title(api: str) -> None:
    listed = {c["id"]: c for c in Features(api).collections()["collections"]}
    assert set(listed) == {layer.id for layer in CATALOG.vector_layers}
    for layer in CATALOG.vector_layers:
        assert listed[layer.id]["title"] == layer.title
        assert listed[layer.id]["description"] == (layer.description or layer.title)
    assert Features(api).collection("buildings")["title"] == "Buildings"
    # the extent is the layer's, in WGS84 (not the world, as an empty second geometry column would make it)
    west, south, east, north = listed["buildings"]["extent"]["spatial"]["bbox"][0]
    assert 117.6 < west < east < 117.9 and 39.0 < south < north < 39.3


def test_owslib_items_by_bbox_and_year_count_as_sql_with_the_time_rule(api: str, demo_database: str) -> None:
    features = Features(api)
    with psycopg.connect(demo_database) as connection:
        by_year = figures(connection, CATALOG, min(YEARS), max(YEARS))
    for year in YEARS:
        everywhere = features.collection_items("buildings", datetime_=str(year), limit=1)
        assert everywhere["numberMatched"] == by_year[year]["buildings"].count, year
        page = features.collection_items("buildings", bbox=CENTRE, datetime_=str(year), limit=1000)
        expected = sql(demo_database, f"SELECT count(*) FROM layers.buildings WHERE {existed_in(year)} "
                                      f"AND {bbox_sql(demo_database, CENTRE)}")[0][0]
        assert page["numberMatched"] == expected, year
        assert page["numberReturned"] == len(page["features"]) == min(expected, 1000)
    assert by_year[2010]["buildings"].count < by_year[2015]["buildings"].count < by_year[2020]["buildings"].count
    # a date, not a year: the day itself
    mid_2015 = features.collection_items("roads", datetime_="2015-06-30", limit=1)["numberMatched"]
    day = "'2015-06-30'::date"
    assert mid_2015 == sql(demo_database, "SELECT count(*) FROM layers.roads WHERE "
                                          + EXISTED.format(start=day, end=day))[0][0]


def test_owslib_items_are_wgs84_geojson(api: str, demo_database: str) -> None:
    item = Features(api).collection_items("hospitals", limit=1)["features"][0]
    lon, lat = item["geometry"]["coordinates"][:2]
    link = next(link["href"] for link in item["links"] if link["rel"] == "item")
    assert link == f"{api}/collections/hospitals/items/{item['id']}" and get(link)[1]["id"] == item["id"]
    assert sql(demo_database, "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(geom, 4326) g "
                              "FROM layers.hospitals WHERE id = %s) x", item["id"])[0] == pytest.approx((lon, lat))


def test_property_filters_and_cql2_count_as_sql(api: str, demo_database: str) -> None:
    features = Features(api)
    use = sql(demo_database, "SELECT use FROM layers.buildings WHERE use IS NOT NULL LIMIT 1")[0][0]
    by_property = features.collection_items("buildings", use=use, limit=1)["numberMatched"]
    assert by_property == sql(demo_database, "SELECT count(*) FROM layers.buildings WHERE use = %s", use)[0][0] > 0
    cql = features.collection_items("buildings", filter=f"floors > 10 AND use = '{use}'", limit=1)["numberMatched"]
    assert cql == sql(demo_database, "SELECT count(*) FROM layers.buildings WHERE floors > 10 AND use = %s", use)[0][0]


# -- GDAL -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", ["roads", "hospitals"])
def test_gdal_oapif_reads_a_whole_layer(api: str, demo_database: str, layer: str) -> None:
    frame = pyogrio.read_dataframe(f"OAPIF:{api}", layer=layer)  # roads: more than one page of 1000
    assert len(frame) == sql(demo_database, f"SELECT count(*) FROM layers.{layer}")[0][0] > 0
    assert frame.crs.to_epsg() == 4326
    extent = sql(demo_database, f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                f"(SELECT ST_Extent(ST_Transform(geom, 4326)) e FROM layers.{layer}) x")[0]
    assert list(frame.total_bounds) == pytest.approx(extent, abs=1e-6)


@pytest.mark.fast
def test_a_vector_tile_of_the_city_decodes(service, demo_database: str, tmp_path: Path) -> None:
    tms = morecantile.tms.get("WebMercatorQuad")
    tile = tms.tile(117.745, 39.145, 15)
    counts = {}
    for year in (2012, 2015):  # the centre is half built in 2012
        status, body = answer(service, f"/collections/buildings/tiles/WebMercatorQuad/{tile.z}/{tile.x}/"
                                       f"{tile.y}?datetime={year}")
        assert status == 200 and isinstance(body, bytes)
        path = tmp_path / str(year) / str(tile.z) / str(tile.x) / f"{tile.y}.pbf"  # GDAL's MVT reads z/x/y
        path.parent.mkdir(parents=True)
        path.write_bytes(body)
        assert pyogrio.list_layers(path)[:, 0].tolist() == ["buildings"]
        frame = pyogrio.read_dataframe(path, layer="buildings")
        assert frame.crs.to_epsg() == 3857
        west, south, east, north = tms.xy_bounds(tile)
        buffer = (east - west) * 256 / 4096  # TiPg's tile buffer, in pixels of 4096
        assert (frame.total_bounds >= [west - buffer, south - buffer, west, south]).all()
        assert (frame.total_bounds <= [east, north, east + buffer, north + buffer]).all()
        in_tile = {row[0] for row in sql(demo_database, f"SELECT id::text FROM layers.buildings WHERE {existed_in(year)} "
                                         f"AND {bbox_sql(demo_database, list(tms.bounds(tile)))}")}
        assert set(frame["id"]) <= in_tile and len(frame) > 0.9 * len(in_tile)
        counts[year] = len(frame)
    assert 0 < counts[2012] < counts[2015]


# -- the service's own guarantees ----------------------------------------------------------------------
@pytest.mark.fast
def test_the_api_reads_as_a_role_that_cannot_write(service, demo_database: str) -> None:
    connected = sql(demo_database, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND usename = %s", READER_ROLE)[0][0]
    assert connected > 0  # the service's pool
    reader = demo_database.replace("postgres@", f"{READER_ROLE}@", 1)
    before = sql(demo_database, "SELECT count(*) FROM layers.hospitals")[0][0]
    assert sql(reader, "SELECT count(*) FROM layers.hospitals")[0][0] == before
    for statement in (("INSERT INTO layers.hospitals (source, source_id, geom) "
                       "SELECT source, source_id || 'x', geom FROM layers.hospitals LIMIT 1"),
                      "UPDATE layers.hospitals SET name = 'x'",
                      "DELETE FROM layers.hospitals",
                      "UPDATE twin.meta SET value = 'EPSG:4326'",
                      "CREATE TABLE layers.mine (id int)"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql(reader, statement)
    assert sql(demo_database, "SELECT count(*) FROM layers.hospitals")[0][0] == before


@pytest.mark.parametrize(("query", "status", "names"), [
    ("collections/nope/items", 404, "no collection 'nope'"),
    ("collections/buildings/items/not-a-uuid", 404, "no feature 'not-a-uuid'"),
    ("collections/buildings/items/00000000-0000-0000-0000-000000000000", 404, "no feature"),
    ("collections/buildings/items?bbox=1,2,3", 400, "bbox:"),
    ("collections/buildings/items?bbox=a,b,c,d", 400, "bbox:"),
    ("collections/buildings/items?bbox=117.8,39.1,117.7,39.2", 400, "bbox:"),
    ("collections/buildings/items?bbox=190,0,191,1", 400, "bbox:"),
    ("collections/buildings/items?datetime=20x5", 400, "datetime:"),
    ("collections/buildings/items?datetime=2015-13-01", 400, "datetime:"),
    ("collections/buildings/items?datetime=2020/2010", 400, "datetime:"),
    ("collections/buildings/items?limit=1001", 400, "limit:"),
    ("collections/buildings/items?limit=many", 400, "limit:"),
    ("collections/buildings/items?offset=-1", 400, "offset:"),
    ("collections/buildings/items?ids=7", 400, "ids:"),
    ("collections/buildings/items?floors=ten", 400, "floors:"),
    ("collections/buildings/items?sortby=nope", 400, "sortby:"),
    ("collections/buildings/items?filter=floors%20%3E", 400, "filter:"),
    ("collections/buildings/items?filter=nope%20%3D%201", 400, "filter:"),
    ("collections/buildings/items?filter=pg_sleep(5)%20%3D%201", 400, "filter:"),
    ("collections/buildings/items?filter=name%20%3E%205", 400, "filter:"),
    ("collections/buildings/tiles/WebMercatorQuad/x/1/1", 400, "z:"),
    ("collections/buildings/tiles/WebMercatorQuad/15/27101/12506?limit=-5", 400, "limit:"),
    ("collections/buildings/tiles/WebMercatorQuad/15/27101/12506?datetime=soon", 400, "datetime:"),
])
@pytest.mark.fast
def test_bad_parameters_are_answered_in_one_line(service, query: str, status: int, names: str) -> None:
    got, body = answer(service, f"/{query}")
    assert got == status, body
    assert names in body["detail"] and "\n" not in body["detail"], body


@pytest.mark.fast
def test_the_openapi_document_states_the_page_cap(service) -> None:
    status, document = answer(service, "/api")
    assert status == 200
    parameters = {p["name"]: p for p in document["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
    assert parameters["limit"]["schema"]["maximum"] == 1000 and "at most 1000" in parameters["limit"]["description"]
    assert "valid_from/valid_to" in parameters["datetime"]["description"]
    assert {"bbox", "filter", "offset"} <= set(parameters)


def test_geojson_is_wgs84_in_any_twin_crs(make_twin, tmp_path: Path) -> None:
    twin = make_twin("EPSG:31984")  # SIRGAS 2000 / UTM 24S (Fortaleza), far from the Eco-city's CRS
    places = {"a": (-38.5267, -3.7319), "b": (-38.4891, -3.7722)}
    source = tmp_path / "hospitals.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": key, "name": key}, "geometry": {"type": "Point", "coordinates": xy}}
        for key, xy in places.items()]}))
    twin.run("import", str(source), "--layer", "hospitals")
    base, process = start_api(TWIN_DATABASE_URL=twin.url, TWIN_CRS=twin.crs)
    try:
        items = Features(base).collection_items("hospitals", bbox=[-38.6, -3.8, -38.4, -3.7])["features"]
        # an analysis, answered in the twin's CRS, is turned into WGS84 by the service as the layers are
        lon, lat = places["a"]
        with urllib.request.urlopen(f"{base}/analyses/nearest-resources?lon={lon}&lat={lat}&n=2") as response:
            nearest = json.load(response)["features"]
    finally:
        stop(process)
    got = {item["properties"]["name"]: item["geometry"]["coordinates"] for item in items}
    assert got.keys() == places.keys()
    for name, (lon, lat) in places.items():
        assert got[name] == pytest.approx([lon, lat], abs=1e-9)
    assert nearest[0]["properties"]["role"] == "origin"
    assert nearest[0]["geometry"]["coordinates"] == pytest.approx(list(places["a"]), abs=1e-8)
    for feature in nearest[1:]:
        assert feature["geometry"]["coordinates"][:2] == pytest.approx(got[feature["properties"]["name"]][:2], abs=1e-8)


def test_serve_refuses_a_reader_that_cannot_connect(demo_database: str) -> None:
    stranger = demo_database.replace("postgres@", "nobody_here@", 1)
    result = run_twin("serve", "--viewer-port", str(free_port()), "--api-port", str(free_port()),
                      TWIN_DATABASE_URL=demo_database,
                      TWIN_SERVICE_DATABASE_URL=stranger, check=False)
    assert "nobody_here" in refused(result, "the API cannot connect")
