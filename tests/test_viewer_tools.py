"""The viewer's tools in a real browser, checked against PostGIS: search and fly to a feature, named
viewpoints, measuring (distance, building height, pipe depth), opacity, the section plane, the legend,
and underground mode revealing pipes the ground hides."""

from __future__ import annotations

import re

import numpy as np
import psycopg
import pytest
from browser import ARTIFACTS, changed, image, redrawn, settled, viewer_page
from playwright.sync_api import TimeoutError as PlaywrightTimeout


def find(page, text: str) -> None:
    """Type into the search box and fly to the first hit, once the view is drawn there."""
    page.fill(".twin-search input", text)
    page.wait_for_selector(".twin-search-hit", timeout=20_000)

    def fly() -> None:
        page.click(".twin-search-hit >> nth=0")
        page.wait_for_selector(".twin-search-hit", state="detached", timeout=20_000)

    redrawn(page, fly)


def switch(page, selector: str, on: bool) -> None:
    """Set a switch, whatever it showed before, and wait for the view drawn with it."""
    box = page.locator(f"{selector} input")
    if box.is_checked() != on:
        redrawn(page, box.click)


def click_centre(page) -> None:
    box = page.locator(".twin-view").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def panel(page, selector: str) -> dict[str, str]:
    rows = page.inner_text(f"{selector} tbody").splitlines()
    return dict(line.split("\t", 1) for line in rows if "\t" in line)


def number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text.split(" m")[0]))


def measured(page, title: str) -> dict[str, str]:
    page.wait_for_function(f"document.querySelector('.twin-measure') && "
                           f"document.querySelector('.twin-measure').innerText.startsWith({title!r})", timeout=20_000)
    return panel(page, ".twin-measure")


def two_buildings(url: str) -> tuple[str, str]:
    """Two buildings a block apart, for the distance test."""
    with psycopg.connect(url) as conn:
        return tuple(r[0] for r in conn.execute(
            "SELECT source_id FROM layers.buildings ORDER BY source_id LIMIT 2 OFFSET 10").fetchall())


def test_search_flies_to_a_feature_and_shows_it(served, demo_database: str) -> None:
    url, _ = served
    first, _ = two_buildings(demo_database)
    with viewer_page(url) as page:
        before = image(page)
        find(page, first)
        page.wait_for_selector(".twin-picked", timeout=20_000)
        after = changed(page, before, 2.0)
        page.screenshot(path=str(ARTIFACTS / "viewer-found.png"))
        assert panel(page, ".twin-picked")["Source id"] == first
        assert np.abs(after - before).mean() > 2.0, "flying to the feature did not move the view"


def visible_hits(page) -> list[str]:
    """The search hits shown, each checked to be one a mouse can reach once the menu has opened: inside
    the window, and the point in its middle belonging to it (not to a toolbar over it, nor clipped away)."""
    page.wait_for_function("(() => { const menu = document.querySelector('.twin-search-results'); "
                           "return menu && menu.getAnimations({subtree: true}).length === 0; })()", timeout=10_000)
    hits = page.locator(".twin-search-hit")
    height = page.viewport_size["height"]
    labels = []
    for index in range(hits.count()):
        box = hits.nth(index).bounding_box()
        assert box is not None and box["height"] >= 32 and box["y"] >= 0 and box["y"] + box["height"] <= height, box
        middle = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
        reached = ("([x, y]) => { const e = document.elementFromPoint(x, y); return !!e?.closest('.twin-search-hit') "
                   "&& getComputedStyle(e.closest('.v-overlay__content')).opacity === '1'; }")
        try:
            page.wait_for_function(reached, arg=middle, timeout=5_000)
        except PlaywrightTimeout:
            page.screenshot(path=str(ARTIFACTS / "viewer-search-covered.png"))
            there = page.evaluate("([x, y]) => (document.elementFromPoint(x, y)?.outerHTML || 'nothing').slice(0, 200)",
                                  middle)
            raise AssertionError(f"search hit {index} is covered or clipped at {middle} by {there}") from None
        labels.append(hits.nth(index).inner_text().splitlines()[0])
    return labels


def test_search_by_mouse_by_keys_and_by_layer_name(served, demo_database: str) -> None:
    url, _ = served
    with psycopg.connect(demo_database) as conn:
        hospitals = [row[0] for row in conn.execute("SELECT name FROM layers.hospitals WHERE name LIKE '%医院%'")]
    assert len(hospitals) >= 2
    with viewer_page(url) as page:
        page.fill(".twin-search input", "医院")
        page.wait_for_selector(".twin-search-hit", timeout=20_000)
        labels = visible_hits(page)
        page.screenshot(path=str(ARTIFACTS / "viewer-search-hits.png"))
        assert sorted(labels) == sorted(hospitals)
        before = image(page)
        page.press(".twin-search input", "ArrowDown")  # the first hit is chosen already: the second
        page.press(".twin-search input", "Enter")
        page.wait_for_function(f"document.querySelector('.twin-picked')?.innerText.includes({labels[1]!r})",
                               timeout=20_000)
        page.wait_for_selector(".twin-search-hit", state="detached", timeout=20_000)
        flown = settled(page, changed(page, before, 2.0))
        page.screenshot(path=str(ARTIFACTS / "viewer-search-flown.png"))
        page.fill(".twin-search input", "hospital")  # a layer by (part of) its name
        page.wait_for_selector(".twin-search-hit:has-text('Hospitals')", timeout=20_000)
        assert visible_hits(page)[0] == "Hospitals"
        page.keyboard.press("Escape")
        page.wait_for_selector(".twin-search-hit", state="detached", timeout=20_000)
        page.fill(".twin-search input", "hospitals")
        page.click(".twin-search-hit:has-text('Hospitals') >> nth=0")
        page.wait_for_selector(".twin-search-hit", state="detached", timeout=20_000)
        overview = settled(page, changed(page, flown, 2.0))
        page.screenshot(path=str(ARTIFACTS / "viewer-search-layer.png"))
        page.wait_for_selector(".twin-picked", state="detached", timeout=20_000)  # the layer, not a feature
        assert np.abs(overview - flown).mean() > 2.0, "the layer's hit did not fly the view to it"


def test_cards_close_and_do_not_outlive_what_they_show(served, demo_database: str) -> None:
    """A picked feature's card has a close button, and goes with its layer hidden or a viewpoint chosen;
    the measurement's card closes too; the footer names the city and its CRS, not trame's versions."""
    url, _ = served
    first, _ = two_buildings(demo_database)
    with viewer_page(url) as page:
        assert "EPSG:4548" in page.inner_text(".twin-about") and "Kitware" not in page.inner_text("footer")
        find(page, first)
        page.wait_for_selector(".twin-picked", timeout=20_000)
        page.click(".twin-picked-close")
        page.wait_for_selector(".twin-picked", state="detached", timeout=20_000)
        find(page, first)
        page.wait_for_selector(".twin-picked", timeout=20_000)
        page.click(".twin-layer-buildings input")  # its layer hidden: its card and outline go
        page.wait_for_selector(".twin-picked", state="detached", timeout=20_000)
        page.click(".twin-layer-buildings input")
        find(page, first)
        page.wait_for_selector(".twin-picked", timeout=20_000)
        page.click(".twin-viewpoints")
        page.click(".v-overlay .v-list-item:has-text('City overview')")
        page.wait_for_selector(".twin-picked", state="detached", timeout=20_000)
        page.click(".twin-mode-distance")
        page.wait_for_selector(".twin-measure", timeout=20_000)
        page.click(".twin-measure-close")
        page.wait_for_selector(".twin-measure", state="detached", timeout=20_000)
        page.click(".twin-mode-inspect")


def test_named_viewpoints_move_the_camera(served) -> None:
    url, _ = served
    with viewer_page(url) as page:
        page.click(".twin-viewpoints")
        page.wait_for_selector(".v-overlay .v-list-item:has-text('Utility tunnel')")  # the menu is drawn
        titles = page.locator(".v-overlay .v-list-item").all_inner_texts()
        assert titles[:2] == ["City overview", "Street level, city centre"]
        assert any(t.startswith("Start-up area (built 2008-") for t in titles)
        assert any(t.startswith("Utility tunnel") for t in titles)
        page.keyboard.press("Escape")
        previous = image(page)
        for title in ("Street level", "Start-up area", "Utility tunnel", "City overview"):
            page.click(".twin-viewpoints")
            page.click(f".v-overlay .v-list-item:has-text('{title}')")
            now = settled(page, changed(page, previous, 2.0))
            page.screenshot(path=str(ARTIFACTS / f"viewer-viewpoint-{title.split()[0].lower()}.png"))
            assert np.abs(now - previous).mean() > 2.0, f"viewpoint {title} did not move the view"
            previous = now
        # The tunnel's viewpoint looks underground: it turns underground mode on.
        assert page.locator(".twin-underground input").is_checked()
        switch(page, ".twin-underground", False)


def test_measured_distance_and_height_match_postgis(served, demo_database: str) -> None:
    url, _ = served
    first, second = two_buildings(demo_database)
    with viewer_page(url) as page:
        page.click(".twin-mode-height")
        find(page, first)
        click_centre(page)
        height = measured(page, "Building height")
        page.click(".twin-mode-distance")
        find(page, first)
        click_centre(page)
        measured(page, "Distance: click the second point")
        find(page, second)
        click_centre(page)
        distance = measured(page, "Distance\n")
        page.screenshot(path=str(ARTIFACTS / "viewer-distance.png"))
        page.click(".twin-mode-inspect")
    a = [float(v.replace(",", "")) for v in distance["From"].split(", ")]
    b = [float(v.replace(",", "")) for v in distance["To"].split(", ")]
    with psycopg.connect(demo_database) as conn:
        stored_height = conn.execute("SELECT height_m FROM layers.buildings WHERE source_id = %s", (first,)).fetchone()[0]
        # Each picked point lies on its building (within its footprint, between its ground and roof) ...
        for point, source_id in ((a, first), (b, second)):
            inside, ground, top = conn.execute(
                "SELECT ST_DWithin(geom, ST_SetSRID(ST_MakePoint(%s, %s), ST_SRID(geom)), 0.05), ground_z_m, "
                "ground_z_m + height_m FROM layers.buildings WHERE source_id = %s", (point[0], point[1], source_id)).fetchone()
            assert inside and ground - 0.05 <= point[2] <= top + 0.05, (source_id, point)
        # ... and the distance shown is PostGIS's between those points.
        expected = conn.execute("SELECT ST_3DDistance(ST_MakePoint(%s, %s, %s), ST_MakePoint(%s, %s, %s))",
                                (*a, *b)).fetchone()[0]
    assert height["Feature"] == f"Buildings {first}"
    assert number(height["Height"]) == pytest.approx(stored_height, abs=0.01)
    assert number(distance["Distance"]) == pytest.approx(expected, abs=0.011)


def exaggerate(page, most: bool) -> None:
    """The depth slider at its end (x20) or its start (x1), and the view drawn with it."""
    thumb = page.locator(".twin-exaggeration .v-slider-thumb")
    if thumb.get_attribute("aria-valuenow") != ("20" if most else "1"):
        def move() -> None:
            thumb.focus()
            page.keyboard.press("End" if most else "Home")

        redrawn(page, move)


@pytest.mark.parametrize("most", [False, True], ids=["x1", "x20"])
def test_measured_pipe_depth_matches_postgis(served, demo_database: str, most: bool) -> None:
    """At x1 and at x20 (issue 16: at x20 a click on one pipe picked another, or a lamp pole far off)
    the pipe under the centre of the view is the one measured, its true depth."""
    url, _ = served
    with psycopg.connect(demo_database) as conn:
        pipe = conn.execute("SELECT source_id FROM layers.water_supply ORDER BY source_id LIMIT 1").fetchone()[0]
    with viewer_page(url) as page:
        switch(page, ".twin-underground", True)
        exaggerate(page, most)
        page.click(".twin-mode-depth")
        find(page, pipe)  # framed where it is drawn, x20 as deep
        click_centre(page)
        depth = measured(page, "Depth below ground")
        page.screenshot(path=str(ARTIFACTS / f"viewer-depth{'-x20' if most else ''}.png"))
        page.click(".twin-mode-inspect")
        exaggerate(page, False)
        switch(page, ".twin-underground", False)
    # Whichever pipe lies under the centre of the view: its depth to the top is the one its survey gives.
    title, source_id = depth["Feature"].rsplit(" ", 1)
    with psycopg.connect(demo_database) as conn:
        layer = conn.execute("SELECT c.relname FROM pg_description d JOIN pg_class c ON c.oid = d.objoid "
                             "WHERE d.objsubid = 0 AND d.description = %s", (title,)).fetchone()[0]
        start, end = conn.execute(f"SELECT start_depth_m, end_depth_m FROM layers.{layer} WHERE source_id = %s",
                                  (source_id,)).fetchone()
    assert min(start, end) - 0.02 <= number(depth["Depth to top"]) <= max(start, end) + 0.02


def test_opacity_section_and_legend(served) -> None:
    url, _ = served
    with viewer_page(url) as page:
        legend = page.inner_text(".twin-legend")
        # what the view draws: the land cover's classes, and no pipes while the ground is closed over them
        assert "Buildings" in legend and "Saline-alkali flats" in legend and "Water supply pipes" not in legend
        switch(page, ".twin-underground", True)
        page.wait_for_function("document.querySelector('.twin-legend').innerText.includes('Water supply pipes')",
                               timeout=20_000)
        switch(page, ".twin-underground", False)
        before = image(page)
        page.click(".twin-swatch-buildings")
        page.locator(".twin-opacity-buildings .v-slider-thumb").focus()
        page.keyboard.press("Home")  # opacity 0
        faded = changed(page, before, 1.0)
        page.screenshot(path=str(ARTIFACTS / "viewer-buildings-transparent.png"))
        assert np.abs(faded - before).mean() > 1.0, "buildings' opacity did not change the image"
        page.keyboard.press("End")
        page.keyboard.press("Escape")
        changed(page, faded, 1.0)
        page.click(".twin-layer-buildings input")  # hidden: gone from the legend
        page.wait_for_function("!document.querySelector('.twin-legend').innerText.includes('Buildings')", timeout=20_000)
        page.click(".twin-layer-buildings input")
        page.wait_for_function("document.querySelector('.twin-legend').innerText.includes('Buildings')", timeout=20_000)
        restored = settled(page, image(page))  # drawn again, whole, before the cut
        page.click(".twin-section")
        page.click(".v-overlay .v-list-item:has-text('South-north')")
        cut = changed(page, restored, 2.0)
        page.screenshot(path=str(ARTIFACTS / "viewer-section.png"))
        assert np.abs(cut - restored).mean() > 2.0, "the section plane did not cut the scene"
        page.click(".twin-section")
        page.click(".v-overlay .v-list-item:has-text('Off')")
        changed(page, cut, 2.0)  # the cut gone again


def test_underground_mode_reveals_pipes_the_ground_hides(served, demo_database: str) -> None:
    url, _ = served
    with psycopg.connect(demo_database) as conn:
        pipe = conn.execute("SELECT source_id FROM layers.gas ORDER BY source_id LIMIT 1").fetchone()[0]
    # CJJ 61 gas pink (layers/gas.toml), and the yellow outline of the found pipe.
    colours = [np.array([0xFF, 0x8F, 0xC8]), np.array([0xFF, 0xD4, 0x00])]
    with viewer_page(url) as page:
        find(page, pipe)
        switch(page, ".twin-underground", False)
        # Only the 3D view counts: the cards over it (legend swatches, the picked pipe) hidden.
        page.add_style_tag(content=".twin-cards-left, .twin-cards-right, .twin-legend, .twin-years "
                                   "{ visibility: hidden !important; }")
        above = image(page)
        switch(page, ".twin-underground", True)
        below = changed(page, above, 1.0)
        page.screenshot(path=str(ARTIFACTS / "viewer-underground-pipes.png"))
        switch(page, ".twin-underground", False)

    def pipe_pixels(picture: np.ndarray) -> int:
        return int(sum((np.abs(picture - colour).sum(axis=2) < 90).sum() for colour in colours))

    assert pipe_pixels(below) > 10 * max(pipe_pixels(above), 1) and pipe_pixels(below) > 50


@pytest.mark.parametrize("size", [(1024, 768), (1280, 800), (1366, 768)])
def test_every_tool_in_the_toolbar_is_on_the_page(served, size: tuple[int, int]) -> None:
    """At a laptop's width, each mode button, the search box and "Go to" lie inside the page, none over
    another (at 1280 px "Point" had fallen off the toolbar's end, and "Depth" was cut in half); the year
    slider keeps its length."""
    url, _ = served
    with viewer_page(url, size) as page:
        boxes = {name: page.locator(selector).bounding_box() for name, selector in
                 [("viewpoints", ".twin-viewpoints"), ("search", ".twin-search"),
                  *((f"mode {mode}", f".twin-mode-{mode}") for mode in
                    ("inspect", "distance", "height", "depth", "point"))]}
        page.screenshot(path=str(ARTIFACTS / f"toolbar-{size[0]}.png"))
        for name, box in boxes.items():
            assert box is not None, f"{name} is not on the page"
            assert box["x"] >= 0 and box["x"] + box["width"] <= size[0] + 0.5, f"{name} runs off the page: {box}"
            assert box["width"] >= 24, f"{name} is squeezed to {box['width']:.0f} px"
        ordered = sorted(boxes.items(), key=lambda item: item[1]["x"])
        for (a, box_a), (b, box_b) in zip(ordered, ordered[1:]):
            assert box_a["x"] + box_a["width"] <= box_b["x"] + 0.5, f"{a} overlaps {b}"
        assert page.get_attribute(".twin-mode-point", "title") == "Point"
        # Along the bottom: a year slider long enough to aim at a year, the legend not over the bar.
        slider, bar, legend = (page.locator(selector).bounding_box()
                               for selector in (".twin-year", ".twin-years", ".twin-legend"))
        assert slider["width"] >= 200, f"the year slider is {slider['width']:.0f} px long"
        apart = (legend["y"] + legend["height"] <= bar["y"] + 0.5 or legend["x"] + legend["width"] <= bar["x"] + 0.5)
        assert apart, f"the legend {legend} lies over the year bar {bar}"
