"""Any city: a twin made from a real city's own files, served and opened in a real browser. Each twin is
built once and served once for all its checks: the view is not blank (its features differ from the
empty scene), the city's name is in the title, the console shows no error, and a click on a feature
picks a feature of that twin. Screenshots are kept in test-artifacts/cities-*.png.

The real samples sit in ../shared/data/real (see its PROVENANCE.md); without them those twins skip.
Made-up twins cover what no sample shows alone: no dates, a single point, nothing at all, an orthophoto.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from browser import ARTIFACTS, click_a_feature, data_layers, features_mask, image, viewer_page
from conftest import city_database, serve_twin, stop_serving
from support import QUADRANTS, REAL_DATA, ROOT, photo, run_twin, sql


SHIPPED = ROOT / "data" / "cities"  # real cities in the box: no ../shared needed


@dataclass(frozen=True)
class City:
    name: str
    imports: list[tuple[str, ...]]  # (file, twin import's flags...): under the real data, data/cities or made here
    crs: str | None = None  # for twin init; None: the first import chooses
    where: str = "real"  # "real" (../shared/data/real), "shipped" (data/cities) or "made" (by _made_up)
    expect_crs: str | None = None  # the CRS the twin should end up in
    expect_layers: dict[str, int] = field(default_factory=dict)  # layer -> at least this many pixels of it in view


CITIES = {
    # The README's walkthrough: the shipped extract, in one pass, every layer OSM feeds.
    "monaco": City("Monaco", [("monaco.osm.pbf",)], where="shipped", expect_crs="EPSG:32632",
                   # Monaco's water bodies are nine ponds and pools (2,400 m² in all; the sea is no polygon in
                   # OSM): a few pixels in a view of the whole extract.
                   expect_layers={"buildings": 5000, "roads": 2000, "parks": 5000, "water_bodies": 1}),
    "delft": City("Delft", [("buildings/delft.city.json",)], expect_crs="EPSG:7415"),
    "zurich": City("Zurich", [("buildings/zurich_lod2.city.json",), ("citygml/zurich_lod2_citygml1.gml",)],
                   expect_crs="EPSG:2056"),
    "delft-citygml": City("Delft (CityGML)", [("citygml/delft_lod1_citygml2.gml",)], expect_crs="EPSG:7415"),
    "kentucky": City("Kentucky ky4", [("water/ky4.inp", "--crs", "EPSG:3089")], expect_crs="EPSG:32616"),
    "montpelier": City("Montpelier", [("sewer/montpelier_lines.geojson", "--layer", "sewage"),
                                      ("sewer/montpelier_points.geojson", "--layer", "manholes")],
                       expect_crs="EPSG:32618"),
    "calgary": City("Calgary", [("cells/opencellid_calgary.csv",)], expect_crs="EPSG:32612"),
    "one-point": City("One hydrant", [("one_point.geojson", "--layer", "smart_hydrants")], where="made"),
    # As the issue found it: a GeoPackage of buildings and streets in the Czech national grid.
    "prague": City("Prague", [("prague.gpkg", "--layer", "buildings"),
                              ("prague.gpkg", "--layer", "roads", "--source-layer", "streets")],
                   where="made", expect_crs="EPSG:5514", expect_layers={"buildings": 2000, "roads": 200}),
    # 50 km across, some of it dated and some not: hydrants along a corridor, a building at each end.
    "wide": City("Corridor", [("corridor_hydrants.geojson", "--layer", "smart_hydrants"),
                              ("corridor_buildings.geojson", "--layer", "buildings")], where="made",
                 expect_crs="EPSG:4548"),
    "undated": City("Undated town", [("undated.geojson", "--layer", "buildings")], crs="EPSG:32650", where="made"),
}


def _made_up(folder: Path) -> None:
    """The files of the made-up twins: one hydrant; a few buildings without any date."""
    def collection(features: list[dict]) -> str:
        return json.dumps({"type": "FeatureCollection", "features": features})

    (folder / "one_point.geojson").write_text(collection([{"type": "Feature", "properties": {"name": "H-1"},
                                                            "geometry": {"type": "Point", "coordinates": [2.35, 48.86]}}]))
    squares = []
    for i in range(6):
        x, y = 117.0 + 0.0004 * i, 39.0
        ring = [[x, y], [x + 0.0002, y], [x + 0.0002, y + 0.0002], [x, y + 0.0002], [x, y]]
        squares.append({"type": "Feature", "properties": {"name": f"B{i}", "height_m": 6 + 4 * i},
                        "geometry": {"type": "Polygon", "coordinates": [ring]}})
    (folder / "undated.geojson").write_text(collection(squares))
    hydrants = [{"type": "Feature", "properties": {"name": f"H{i}", "valid_from": "2015-01-01" if i % 2 else None},
                 "geometry": {"type": "Point", "coordinates": [117.0 + 0.03 * i, 39.0]}} for i in range(20)]
    (folder / "corridor_hydrants.geojson").write_text(collection(hydrants))
    ends = [{"type": "Feature", "properties": {"name": name, "height_m": 30, "valid_from": date},
             "geometry": {"type": "Polygon", "coordinates": [[[x, 39.0005], [x + 0.0005, 39.0005], [x + 0.0005, 39.001],
                                                              [x, 39.001], [x, 39.0005]]]}}
            for name, x, date in (("West", 117.0, "2012-06-01"), ("East", 117.57, None))]
    (folder / "corridor_buildings.geojson").write_text(collection(ends))
    _prague(folder / "prague.gpkg")


def _prague(path: Path) -> None:
    """144 buildings in blocks along 35 streets, in S-JTSK / Krovak East North (EPSG:5514), in one GeoPackage."""
    import geopandas as gpd
    import shapely

    x0, y0 = -743_500.0, -1_043_500.0  # the Old Town
    blocks = [(x0 + 60 * (i % 12), y0 + 60 * (i // 12)) for i in range(144)]
    buildings = gpd.GeoDataFrame({"name": [f"č.p. {100 + i}" for i in range(144)],
                                  "height_m": [12.0 + (i % 5) * 3 for i in range(144)]},
                                 geometry=[shapely.box(x, y, x + 40, y + 40) for x, y in blocks], crs="EPSG:5514")
    lines = [shapely.LineString([(x0 - 10, y0 + 50 + 60 * k), (x0 + 720, y0 + 50 + 60 * k)]) for k in range(12)]
    lines += [shapely.LineString([(x0 + 50 + 60 * k, y0 - 10), (x0 + 50 + 60 * k, y0 + 720)]) for k in range(23)]
    streets = gpd.GeoDataFrame({"name": [f"ulice {k}" for k in range(35)], "width_m": [8.0] * 35},
                               geometry=lines[:35], crs="EPSG:5514")
    buildings.to_file(path, layer="buildings", driver="GPKG")
    streets.to_file(path, layer="streets", driver="GPKG")


@dataclass
class Served:
    key: str
    city: City
    url: str  # the twin's database
    viewer: str
    started: list = field(default_factory=list)


@pytest.fixture(scope="module", params=list(CITIES))
def served_city(request, database_url: str, tmp_path_factory) -> Iterator[Served]:
    """One twin per city, built from its files with the real CLI, served for all of its checks."""
    city = CITIES[request.param]
    if city.where == "real" and not REAL_DATA.is_dir():
        pytest.skip(f"real-data samples not found at {REAL_DATA}: they sit beside the project in ../shared/data/real")
    folder = tmp_path_factory.mktemp(request.param)
    _made_up(folder)
    with city_database(database_url) as url:
        env = {"TWIN_DATABASE_URL": url, "TWIN_CRS": None}
        run_twin("init", city.name, *(("--crs", city.crs) if city.crs else ()), **env)
        for file, *flags in city.imports:
            source = {"real": REAL_DATA, "shipped": SHIPPED, "made": folder}[city.where] / file
            copy = folder / Path(file).name  # reject reports are written beside the input
            if source != copy:
                shutil.copy(source, copy)
                copy.chmod(0o644)
            run_twin("import", str(copy), *flags, **env)
        served = Served(request.param, city, url, "")
        served.viewer = serve_twin(url, served.started, TWIN_CRS=None)[0]
        yield served
        stop_serving(served.started)


def _the_twin_in_the_browser(viewer: str, url: str, key: str, city: City) -> None:
    """The checks every twin passes: its name in the title, no Eco-city where it is not the Eco-city,
    features drawn, none of the console's errors, and a click on a feature that picks one of this twin's."""
    with viewer_page(viewer) as page:
        assert city.name in page.title() and city.name in page.inner_text("header")
        if "Eco-city" not in city.name:
            assert "Eco-city" not in page.title() + page.inner_text("header")
        layers = data_layers(page)
        assert layers, "the panel lists no layer with features"
        shown, empty, mask = features_mask(page, layers)
        page.screenshot(path=str(ARTIFACTS / f"cities-{key}.png"))
        assert empty.std() > 5, "not even the ground and sky are drawn"
        # Zurich's 161 sample buildings spread over 9 km come to about 45 pixels in the first view.
        assert mask.sum() >= 25, f"the view shows no features: {mask.sum()} pixels differ from the empty scene"
        for layer_id, least in city.expect_layers.items():
            assert layer_id in layers, f"no {layer_id} in the twin"
            alone = features_mask(page, [layer_id])[2]
            assert alone.sum() >= least, f"{layer_id}: {alone.sum()} pixels of it in the view"

        assert click_a_feature(page, mask), "no click on the drawn features picked one"
        page.screenshot(path=str(ARTIFACTS / f"cities-{key}-picked.png"))
        title = page.inner_text(".twin-picked .v-card-title")
        # All of the title in the card, and its ✕ (a building's UUID for a name is long).
        assert page.evaluate("""() => { const title = document.querySelector('.twin-picked .v-card-title');
            return title.scrollWidth <= title.clientWidth; }"""), f"the picked card cuts its title: {title}"
        rows = dict(line.split("\t", 1) for line in page.inner_text(".twin-picked tbody").splitlines() if "\t" in line)
        assert page.errors == [], f"the browser console reported errors: {page.errors}"
    titles = {row["title"]: row["id"] for row in json.loads(
        run_twin("layers", "--json", TWIN_DATABASE_URL=url, TWIN_CRS=None).stdout)}
    layer_id = titles[title.split(":", 1)[0]]
    assert layer_id in layers
    assert sql(url, f'SELECT count(*) FROM layers."{layer_id}" WHERE id = %s', rows["Feature id"]) == [(1,)]
    status = json.loads(run_twin("db", "status", "--json", TWIN_DATABASE_URL=url, TWIN_CRS=None).stdout)
    assert status["city"] == city.name
    if city.expect_crs:
        assert status["crs"] == city.expect_crs


def test_the_city_in_the_browser(served_city: Served) -> None:
    _the_twin_in_the_browser(served_city.viewer, served_city.url, served_city.key, served_city.city)


def test_the_demo_city_passes_the_same_checks(served, demo_database: str) -> None:
    """The Eco-city demo, served once for the other browser tests, holds to what every twin does."""
    from twin.demo import CITY, CRS

    _the_twin_in_the_browser(served[0], demo_database, "ecocity", City(
        CITY, [], crs=CRS, where="made", expect_crs=CRS,
        # Its roads and lake lie under the management grids' translucent fills, its parks on the land cover's green:
        # toggled, they change less.
        expect_layers={"buildings": 5000, "water_bodies": 100, "parks": 100}))


def test_dates_decide_the_year_slider(served_city: Served) -> None:
    """A twin without dates has no year slider and claims no year; one with dates has both."""
    dated = sql(served_city.url, " UNION ALL ".join(
        f'SELECT count(*) FROM layers."{t}" WHERE valid_from IS NOT NULL OR valid_to IS NOT NULL'
        for (t,) in sql(served_city.url, "SELECT table_name FROM information_schema.tables "
                                         "WHERE table_schema = 'layers'")))
    with viewer_page(served_city.viewer) as page:
        assert page.locator(".twin-years").count() == (1 if any(n for (n,) in dated) else 0)
        if not any(n for (n,) in dated):
            assert page.locator(".twin-caption").count() == 0
        assert page.errors == []


def test_an_empty_twin_says_so(database_url: str) -> None:
    started: list[subprocess.Popen] = []
    with city_database(database_url) as url:
        try:
            run_twin("init", "Nowhere yet", TWIN_DATABASE_URL=url, TWIN_CRS=None)
            viewer = serve_twin(url, started, TWIN_CRS=None)[0]
            with viewer_page(viewer) as page:
                page.wait_for_selector(".twin-empty", timeout=20_000)
                assert "no data yet" in page.inner_text(".twin-empty")
                assert "Nowhere yet" in page.title()
                page.screenshot(path=str(ARTIFACTS / "cities-empty.png"))
                assert page.errors == []
        finally:
            stop_serving(started)


def test_an_orthophoto_dresses_the_ground(database_url: str, tmp_path: Path) -> None:
    """A few buildings on a photo (no DEM: level ground): the view around them shows each of the photo's
    four quadrant colours (as lit: a colour's hue, whatever its brightness)."""
    from pyproj import Transformer

    started: list[subprocess.Popen] = []
    with city_database(database_url) as url:
        env = {"TWIN_DATABASE_URL": url, "TWIN_CRS": None}
        try:
            _made_up(tmp_path)
            run_twin("init", "Photo town", "--crs", "EPSG:32650", **env)
            run_twin("import", str(tmp_path / "undated.geojson"), "--layer", "buildings", **env)
            x, y = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True).transform(117.0011, 39.0001)
            run_twin("import", str(photo(tmp_path / "photo.tif", (x - 300, y - 300), 3.0, (200, 200),
                                         crs="EPSG:32650")), **env)  # an RGB GeoTIFF: the orthophoto
            viewer = serve_twin(url, started, TWIN_CRS=None)[0]
            with viewer_page(viewer) as page:
                page.screenshot(path=str(ARTIFACTS / "cities-orthophoto.png"))
                view = image(page).reshape(-1, 3).astype(float)
                assert page.errors == []
        finally:
            stop_serving(started)
    hue = view / np.maximum(np.linalg.norm(view, axis=1, keepdims=True), 1.0)
    for colour in QUADRANTS:
        share = np.mean(hue @ (np.array(colour) / np.linalg.norm(colour)) > 0.99)
        assert share > 0.02, f"{colour}: {share:.1%} of the view"
