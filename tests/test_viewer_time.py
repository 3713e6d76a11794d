"""The time machine in a real browser, checked against PostGIS: the year slider changes the caption's
figures and the image; the replay runs; compare mode shows two different years; the change panel's
numbers equal SQL counts over the same years."""

from __future__ import annotations

import time
from io import BytesIO

import numpy as np
import psycopg
from browser import ARTIFACTS, changed, image, redrawn, settled, viewer_page

STOOD = ("(valid_from IS NULL OR valid_from <= make_date({y}, 12, 31)) AND "
         "(valid_to IS NULL OR valid_to > make_date({y}, 12, 31))")


def count(url: str, table: str, year: int) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM layers.{table} WHERE {STOOD.format(y=year)}").fetchone()[0]


def figure(page, key: str) -> int:
    return int(page.inner_text(f".twin-figure-{key} b").replace(",", ""))


def set_year(page, selector: str, presses: str) -> None:
    """Press a key on the year slider's thumb until the slider's value moves (a press made while the
    page was still busy could be lost), or three times where it cannot move (End on the last year)."""
    thumb = f"{selector} .v-slider-thumb"
    before = page.get_attribute(thumb, "aria-valuenow")
    for _ in range(3):
        page.locator(thumb).focus()
        page.keyboard.press(presses)
        try:
            page.wait_for_function("([thumb, before]) => document.querySelector(thumb).getAttribute('aria-valuenow') "
                                   "!== before", arg=[thumb, before], timeout=3_000)
            break
        except Exception:  # Playwright's TimeoutError: the value did not move
            continue


def choose(page, selector: str, title: str) -> None:
    page.click(selector)
    page.click(f".v-overlay .v-list-item:has-text('{title}')")


def test_year_slider_changes_caption_and_image(served, demo_database: str) -> None:
    url, _ = served
    with viewer_page(url) as page:
        assert page.inner_text(".twin-caption-year") == "2020"
        assert figure(page, "buildings") == count(demo_database, "buildings", 2020)
        before = image(page)
        set_year(page, ".twin-year", "Home")
        page.wait_for_function("document.querySelector('.twin-caption-year').innerText === '2008'", timeout=20_000)
        after = changed(page, before, 1.0)
        page.screenshot(path=str(ARTIFACTS / "viewer-2008.png"))
        assert np.abs(after - before).mean() > 1.0, "going back to 2008 did not change the image"
        for key, table in (("buildings", "buildings"), ("cameras", "cameras"), ("base_stations_5g", "base_stations_5g")):
            assert figure(page, key) == count(demo_database, table, 2008), key
        set_year(page, ".twin-year", "PageUp")  # a few years on
        page.wait_for_function("document.querySelector('.twin-caption-year').innerText !== '2008'", timeout=20_000)
        shown = int(page.inner_text(".twin-caption-year"))
        assert 2008 < shown <= 2020 and figure(page, "buildings") == count(demo_database, "buildings", shown)
        set_year(page, ".twin-year", "End")


def test_replay_plays_the_years(served) -> None:
    url, _ = served
    with viewer_page(url) as page:
        set_year(page, ".twin-year", "Home")
        page.click(".twin-play")
        seen = set()
        deadline = time.monotonic() + 30
        while len(seen) < 4 and time.monotonic() < deadline:
            seen.add(page.inner_text(".twin-caption-year"))
            time.sleep(0.3)
        page.click(".twin-play")
        page.screenshot(path=str(ARTIFACTS / "viewer-replay.png"))
        assert len(seen) >= 4, f"the replay showed only {sorted(seen)}"
        set_year(page, ".twin-year", "End")


def test_compare_shows_two_years_and_the_changes_equal_sql(served, demo_database: str) -> None:
    url, _ = served
    with viewer_page(url) as page:
        choose(page, ".twin-compare", "side by side")
        page.wait_for_selector(".twin-changes", timeout=20_000)
        redrawn(page, lambda: set_year(page, ".twin-year-b", "Home"))  # B = 2008, A = 2020
        # Forward in time whichever of the two is year B (test_viewer_compare.py: the views' order, labels).
        page.wait_for_function("document.querySelector('.twin-changes').innerText.includes('2008 → 2020')",
                               timeout=20_000)
        settled(page, image(page))
        page.screenshot(path=str(ARTIFACTS / "viewer-compare.png"))
        views = [page.locator(selector).screenshot() for selector in (".twin-view-a", ".twin-view-b")]
        rows = {row.split("\t")[0]: row.split("\t")[1:] for row in page.inner_text(".twin-changes tbody").splitlines()}
        redrawn(page, lambda: choose(page, ".twin-compare", "Swipe"))
        page.screenshot(path=str(ARTIFACTS / "viewer-swipe.png"))
        choose(page, ".twin-compare", "One year")
    from PIL import Image

    left, right = (np.asarray(Image.open(BytesIO(shot)).convert("L"), dtype=np.int16) for shot in views)
    assert left.shape == right.shape  # side by side: two views of one size
    assert np.abs(left - right).mean() > 2.0, "the two years look the same"
    with psycopg.connect(demo_database) as conn:
        built = conn.execute(f"SELECT count(*) FROM layers.buildings WHERE {STOOD.format(y=2020)} AND NOT "
                             f"({STOOD.format(y=2008)})").fetchone()[0]
        km = conn.execute(f"SELECT sum(ST_Length(geom)) / 1000 FROM layers.water_supply WHERE {STOOD.format(y=2020)} "
                          f"AND NOT ({STOOD.format(y=2008)})").fetchone()[0]
    # From 2008 on to 2020, what was built in between appears.
    assert rows["Buildings"][1] == "0" and rows["Buildings"][0].startswith(f"+{built:,} ")  # none is 0, not -0
    pipes = count(demo_database, "water_supply", 2020) - count(demo_database, "water_supply", 2008)
    assert rows["Water supply pipes"][0] == f"+{pipes:,} ({km:,.1f} km)"
