"""The twin's history in the viewer: a picked feature lists its versions, compare and the changes analysis
name what was altered. The browser checks run on one twin built from two handmade building surveys
(2015 and 2020) with the real CLI's ``--as-of``, served once for this module; screenshots are kept in
test-artifacts/history-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import psycopg
import pytest
import pyvista as pv
from browser import ARTIFACTS, blobs, changed, densest_pixels, features_mask, image, redrawn, settled, viewer_page
from conftest import city_database, serve_twin, stop_serving
from pyproj import CRS
from support import run_twin
from test_snapshots import X, Y, square, write
from test_viewer_analyses import bare, run
from test_viewer_analyses import choose as analysis
from test_viewer_time import STOOD, choose, set_year

from twin.analyses.changes import change_between
from twin.catalog import load_catalog
from twin.store import database
from twin.store.meta import twin_crs
from twin.terrain import Terrain
from twin.time import changed_ids
from viewer.panels.analyses_panel import with_changed_ids
from viewer.panels.analysis_results import PURPLE, SHOW
from viewer.panels.overlay import Overlay
from viewer.scene.build import build
from viewer.tools.versions import lines

CATALOG = load_catalog()
BUILDINGS = CATALOG["buildings"]
# Two surveys of one street, 100 m apart: B1 unchanged, B2 heightened 20 -> 30 m, B3 demolished, B4 moved
# 5 m, B5 and B6 built. 2015 draws four buildings, 2020 five.
SURVEYS = {
    "2015-06-30": [(square(X, Y), {"id": "B1", "height_m": 12.0}), (square(X + 100, Y), {"id": "B2", "height_m": 20.0}),
                   (square(X + 200, Y), {"id": "B3", "height_m": 9.0, "name": "Old depot"}),
                   (square(X + 300, Y), {"id": "B4", "height_m": 15.0})],
    "2020-06-30": [(square(X, Y), {"id": "B1", "height_m": 12.0}), (square(X + 100, Y), {"id": "B2", "height_m": 30.0}),
                   (square(X + 305, Y), {"id": "B4", "height_m": 15.0}),
                   (square(X + 400, Y), {"id": "B5", "height_m": 40.0}),
                   (square(X + 500, Y), {"id": "B6", "height_m": 25.0})],
}
JUNE_2015, JUNE_2020 = date(2015, 6, 30), date(2020, 6, 30)


def version(number: int, start: date | None, end: date | None, geometry: dict, **values) -> dict:
    """A row as twin.history.versions gives it."""
    return {"id": f"id-{number}", "source": "survey", "source_id": "B", "version": number, "import_id": 1,
            "name": None, "valid_from": start, "valid_to": end, "height_m": 20.0, "floors": None,
            "geometry": geometry, "recorded": None, **values}


def texts(rows: list[dict], first_survey: date | None = JUNE_2015) -> list[str]:
    return [line.text for line in lines(rows, BUILDINGS, first_survey)]


def test_each_version_says_what_it_changed() -> None:
    heightened = [version(1, JUNE_2015, JUNE_2020, square(X, Y)),
                  version(2, JUNE_2020, None, square(X, Y), height_m=30.0)]
    assert texts(heightened) == ["2015-06-30 – 2020-06-30 · height 20 m", "since 2020-06-30 · height 30 m"]
    [first, second] = lines(heightened, BUILDINGS, JUNE_2015)
    assert (first.version, first.start, first.end) == (True, "2015-06-30", "2020-06-30")
    assert (second.start, second.end) == ("2020-06-30", None)
    moved = [version(1, JUNE_2015, JUNE_2020, square(X, Y)), version(2, JUNE_2020, None, square(X + 3, Y + 4))]
    assert texts(moved) == ["2015-06-30 – 2020-06-30", "since 2020-06-30 · moved 5 m"]
    grown = [version(1, JUNE_2015, JUNE_2020, square(X, Y)),
             version(2, JUNE_2020, None, square(X, Y, 30.0), floors=8, name="Depot")]
    assert texts(grown) == ["2015-06-30 – 2020-06-30 · name unknown · floors unknown",
                            "since 2020-06-30 · name Depot · floors 8 · reshaped"]


def test_built_demolished_and_back() -> None:
    """Built where the feature came after its source's first survey (or the file dates it), demolished
    where its last version closed, and gone between two versions the surveys between missed."""
    day = date(2022, 1, 1)
    rows = [version(1, JUNE_2020, day, square(X, Y)), version(2, day, date(2024, 1, 1), square(X, Y), height_m=25.0)]
    assert texts(rows) == ["built 2020-06-30", "2020-06-30 – 2022-01-01 · height 20 m",
                           "2022-01-01 – 2024-01-01 · height 25 m", "demolished 2024-01-01"]
    assert [line.version for line in lines(rows, BUILDINGS, JUNE_2015)] == [False, True, True, False]
    back = [version(1, JUNE_2015, JUNE_2020, square(X, Y)), version(2, day, None, square(X, Y))]
    assert texts(back) == ["2015-06-30 – 2020-06-30", "demolished 2020-06-30", "since 2022-01-01 · back"]
    # A pipe without a date of its own (open since ever) is laid anew, then removed.
    line = {"type": "LineString", "coordinates": [[X, Y], [X + 50, Y]]}
    pipes = [version(1, None, JUNE_2020, line, diameter_mm=200.0), version(2, JUNE_2020, day, line, diameter_mm=300.0)]
    assert [line.text for line in lines(pipes, CATALOG["water_supply"], JUNE_2015)] == [
        "until 2020-06-30 · diameter 200 mm", "2020-06-30 – 2022-01-01 · diameter 300 mm", "removed 2022-01-01"]



def test_the_history_in_chinese() -> None:
    """The same lines in the page's other language: periods, what changed (the attributes' Chinese titles),
    how the feature came and went."""
    day = date(2022, 1, 1)
    rows = [version(1, JUNE_2020, day, square(X, Y)), version(2, day, None, square(X + 3, Y + 4), height_m=25.0)]
    assert [line.text for line in lines(rows, BUILDINGS, JUNE_2015, "zh-CN")] == [
        "2020-06-30 建成", "2020-06-30 至 2022-01-01 · 高度为 20 m", "2022-01-01 起 · 高度为 25 m · 平移 5 m"]
    line = {"type": "LineString", "coordinates": [[X, Y], [X + 50, Y]]}
    pipes = [version(1, None, JUNE_2020, line, diameter_mm=None), version(2, JUNE_2020, day, line, diameter_mm=300.0)]
    assert [line.text for line in lines(pipes, CATALOG["water_supply"], JUNE_2015, "zh-CN")] == [
        "至 2020-06-30 · 管径不详", "2020-06-30 至 2022-01-01 · 管径为 300 mm", "2022-01-01 移除"]

@dataclass
class Surveyed:
    url: str  # the twin's database
    viewer: str
    started: list = field(default_factory=list)


@pytest.fixture(scope="module")
def surveyed(database_url: str, tmp_path_factory) -> Iterator[Surveyed]:
    """The two surveys imported with the real CLI, oldest first, and the twin served for every check."""
    folder = tmp_path_factory.mktemp("surveys")
    with city_database(database_url) as url:
        env = {"TWIN_DATABASE_URL": url, "TWIN_CRS": None}
        run_twin("init", "Survey street", "--crs", "EPSG:4548", **env)
        for day, features in SURVEYS.items():
            path = write(folder / f"survey_{day[:4]}.geojson", features)
            run_twin("import", str(path), "--layer", "buildings", "--source", "survey", "--as-of", day, **env)
        served = Surveyed(url, "")
        served.viewer = serve_twin(url, served.started, TWIN_CRS=None)[0]
        yield served
        stop_serving(served.started)


def standing(url: str, year: int) -> int:
    with psycopg.connect(url) as connection:
        return connection.execute(f"SELECT count(*) FROM layers.buildings WHERE {STOOD.format(y=year)}").fetchone()[0]


def compared(url: str, a: int = 2015, b: int = 2020) -> tuple[int, int, int]:
    """Buildings standing at the end of year b and not of a, the reverse, and in both in other versions."""
    def stood(year: int) -> str:
        return f"(SELECT source, source_id, id FROM layers.buildings WHERE {STOOD.format(y=year)})"

    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT count(*) FILTER (WHERE a.id IS NULL), count(*) FILTER (WHERE b.id IS NULL), count(*) FILTER "
            f"(WHERE a.id <> b.id) FROM {stood(a)} a FULL JOIN {stood(b)} b USING (source, source_id)").fetchone()


def purple(view: np.ndarray) -> int:
    """Pixels of the changes analysis's purple for altered (#cc79a7) however lit: of its hue (a magenta,
    290-350 degrees), which the grey roofs, the tan ground, the blue sky and the pick's yellow are not."""
    from PIL import Image

    hsv = np.asarray(Image.fromarray(view.astype(np.uint8)).convert("HSV")).astype(float) / 255
    hue, saturation, value = hsv[..., 0] * 360, hsv[..., 1], hsv[..., 2]
    return int(((hue > 290) & (hue < 350) & (saturation > 0.2) & (value > 0.2)).sum())


def drawn(page) -> list:
    """The buildings the view draws, one mask each (they stand 100 m apart)."""
    return blobs(features_mask(page, ["buildings"])[2])


def history(page) -> list[tuple[str, bool]]:
    """The picked feature's history as the card lists it: (text, marked) per line."""
    return [(line.inner_text(), "twin-version-shown" in (line.get_attribute("class") or ""))
            for line in page.locator(".twin-versions .twin-version").all()]


def pick_building(page, parts: list, source_id: str) -> None:
    """Click the drawn buildings, left to right, until the one of ``source_id`` is picked."""
    box = page.locator(".twin-view").bounding_box()
    for part in parts:
        x, y = densest_pixels(part, count=1)[0]
        page.mouse.click(box["x"] + x, box["y"] + y)
        try:
            page.wait_for_function("(id) => { const title = document.querySelector('.twin-picked .v-card-title'); "
                                   "return title && title.innerText.endsWith(': ' + id); }", arg=source_id,
                                   timeout=5_000)
            return
        except Exception:  # Playwright's TimeoutError: another building; try the next
            continue
    raise AssertionError(f"no click on the drawn buildings picked {source_id}")


def test_two_surveys_in_the_browser(surveyed: Surveyed) -> None:
    """The slider spans the surveys' years; each year draws what stood then; B2, picked, lists its two
    versions with the year's marked; compare counts what appeared, disappeared and was altered, and the
    changes analysis draws the altered in purple."""
    with viewer_page(surveyed.viewer) as page:
        thumb = page.locator(".twin-year .v-slider-thumb")
        assert (thumb.get_attribute("aria-valuemin"), thumb.get_attribute("aria-valuemax")) == ("2015", "2020")
        assert page.inner_text(".twin-caption-year") == "2020"
        # Counted before anything is picked: the outline of what is would split its building in two.
        in_2020 = drawn(page)
        assert len(in_2020) == standing(surveyed.url, 2020) == 5
        set_year(page, ".twin-year", "Home")
        page.wait_for_function("document.querySelector('.twin-caption-year').innerText === '2015'", timeout=20_000)
        assert len(drawn(page)) == standing(surveyed.url, 2015) == 4
        set_year(page, ".twin-year", "End")
        page.wait_for_function("document.querySelector('.twin-caption-year').innerText === '2020'", timeout=20_000)
        pick_building(page, in_2020, "B2")
        assert history(page) == [("2015-06-30 – 2020-06-30 · height 20 m", False),
                                 ("since 2020-06-30 · height 30 m", True)]
        page.screenshot(path=str(ARTIFACTS / "history-picked-2020.png"))
        page.click(".twin-language-zh-CN")  # the footer's switch words the history again
        page.wait_for_function("document.querySelector('.twin-versions').innerText.includes('2020-06-30 起')",
                               timeout=20_000)
        assert history(page) == [("2015-06-30 至 2020-06-30 · 高度为 20 m", False), ("2020-06-30 起 · 高度为 30 m", True)]
        page.click(".twin-language-en")
        page.wait_for_function("document.querySelector('.twin-versions').innerText.includes('since 2020-06-30')",
                               timeout=20_000)
        set_year(page, ".twin-year", "Home")  # the panel and the outline follow the version drawn
        page.wait_for_function("document.querySelector('.twin-caption-year').innerText === '2015'", timeout=20_000)
        assert [marked for _, marked in history(page)] == [True, False]
        page.wait_for_function("document.querySelector('.twin-picked tbody').innerText.includes('Until')",
                               timeout=20_000)  # version 1's attributes, closed in 2020
        page.screenshot(path=str(ARTIFACTS / "history-picked-2015.png"))
        choose(page, ".twin-compare", "side by side")
        redrawn(page, lambda: set_year(page, ".twin-year-b", "End"))  # A = 2015, B = 2020
        page.wait_for_function("document.querySelector('.twin-changes') && document.querySelector("
                               "'.twin-changes').innerText.includes('2015 → 2020')", timeout=20_000)
        settled(page, image(page))
        page.screenshot(path=str(ARTIFACTS / "history-compare.png"))
        cells = page.inner_text(".twin-changes tbody").splitlines()[0].split("\t")
        plain = bare(page)
        analysis(page, "Changes between two years")  # of the same two years
        figures = run(page, "Changes 2015 → 2020")
        before, lit = purple(plain), purple(changed(page, plain, 0.01, picture=bare))
        page.screenshot(path=str(ARTIFACTS / "history-analysis.png"))
        assert "Altered 2015 → 2020" in page.inner_text(".twin-legend-analysis >> nth=2")
        assert page.errors == [], f"the browser console reported errors: {page.errors}"
    assert figures["Altered (purple)"] == "2" and figures["Appeared (blue)"] == "2"
    assert before < 50 < 250 < lit, f"purple pixels: {before} before the analysis, {lit} after"
    assert cells == ["Buildings", *(f"{sign}{count}" for sign, count in zip(("+", "-", ""), compared(surveyed.url)))]
    assert cells[1:] == ["+2", "-1", "2"]  # B5 and B6; B3; B2 and B4


def test_the_changes_analysis_draws_altered_buildings_in_purple(surveyed: Surveyed) -> None:
    with database.raw(surveyed.url) as connection:
        meshes, _, origin = build(connection, CATALOG)
        terrain = Terrain.from_store(connection, CRS.from_user_input(twin_crs(connection)))
        answer = with_changed_ids(change_between(connection, CATALOG, 2015, 2020),
                                  changed_ids(connection, CATALOG, 2015, 2020))
        named = dict(connection.execute("SELECT id::text, source_id || ' v' || version FROM layers.buildings"))
    overlay = Overlay(pv.Plotter(off_screen=True), meshes, {layer_id: {feature: row for row, feature in
                                                                       enumerate(mesh.ids)}
                                                            for layer_id, mesh in meshes.items()}, origin, terrain)
    shown = SHOW["changes"](answer, overlay, CATALOG)
    assert dict(shown.rows)["Altered (purple)"] == "2"
    assert [item.detail for item in shown.items] == ["2 appeared, 1 disappeared, 2 altered"]
    assert ("Altered 2015 → 2020", PURPLE) in shown.legend
    chinese = SHOW["changes"](answer, overlay, CATALOG, "zh-CN")
    assert chinese.title == "2015 → 2020 年变化" and dict(chinese.rows)["变更（紫色）"] == "2"
    assert [item.detail for item in chinese.items] == ["新增 2，消失 1，变更 2"]
    buildings = meshes["buildings"]
    for kind, expected in (("appeared", ["B5 v1", "B6 v1"]), ("disappeared", ["B3 v1"]), ("altered", ["B2 v2", "B4 v2"])):
        cells = overlay.drawn[kind].cell_data["row"]
        assert sorted({named[buildings.ids[row]] for row in cells}) == expected, kind
    assert overlay.actors["altered"].GetProperty().GetColor() == pytest.approx(pv.Color(PURPLE).float_rgb)


def test_the_replay_spans_the_surveys(surveyed: Surveyed, tmp_path: Path) -> None:
    """`twin replay` of a twin made of two surveys: one second a year from the first survey's to the
    second's, and the last frame differs from the first (B3 gone, B5 and B6 up)."""
    from PIL import Image, ImageChops

    gif = tmp_path / "surveys.gif"
    said = run_twin("replay", "--out", str(gif), "--fps", "2", "--size", "200x120",
                    TWIN_DATABASE_URL=surveyed.url, TWIN_CRS=None).stderr
    assert "12 frames of 200x120" in said  # 2015-2020: six years at 2 frames a year
    with Image.open(gif) as image:
        image.seek(0)
        first = image.convert("RGB")
        image.seek(image.n_frames - 1)
        last = image.convert("RGB")
        assert image.n_frames == 12
    assert ImageChops.difference(first, last).getbbox() is not None
