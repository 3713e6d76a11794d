"""Comparing two years in a real browser, at the size a user measured it (1600x1000): the story reads
forward in time whichever of A (the slider's year) and B is the earlier, in the change panel and in the
order of the views; each view carries a large year label; each half-width pane frames the whole city,
both through one camera; the swipe line is dragged by its handle, and moved by the arrow keys, without
turning the camera."""

from __future__ import annotations

import re
from io import BytesIO

import numpy as np
import psycopg
import pytest
from browser import ARTIFACTS, SHADOW, image, redrawn, settled, viewer_page
from test_viewer_time import STOOD, choose, set_year

from viewer.tools.compare import PANE_SHARE, pane_angle

SIZE = (1600, 1000)
FIRST, LAST = 2008, 2020  # the demo's years: the slider opens on the last, year B on the first
# What lies over the views (cards, year bars, the year labels and the line): taken away to look at the city
# (not hidden: a slider's parts would still show).
OVER = (".twin-cards-left, .twin-cards-right, .twin-legend, .twin-years, .twin-years-b, "
        ".twin-compare-overlay { display: none !important; }")
EDGE = 0.02  # of a pane's width: the strips along its sides that must show no city


def bare(page, selector: str) -> np.ndarray:
    """The element's image with what lies over the views hidden."""
    from PIL import Image

    hidden = page.add_style_tag(content=OVER)
    try:
        shot = page.locator(selector).screenshot()
    finally:
        hidden.evaluate("tag => tag.remove()")
    return np.asarray(Image.open(BytesIO(shot)).convert("RGB"), dtype=np.int16)


def city(picture: np.ndarray) -> np.ndarray:
    """Where the image shows the city rather than the sky: the sky's gradient is blue over red by 16 or
    more everywhere; the ground and what stands on it are not (nor the toolbar's shadow over the view's
    top and the page's grey under its last rows, which callers leave out)."""
    return picture[..., 2] - picture[..., 0] <= 10


def box(page, selector: str) -> dict[str, float]:
    return page.locator(selector).bounding_box()


def changes(page) -> dict[str, list[str]]:
    lines = page.inner_text(".twin-changes tbody").splitlines()
    return {line.split("\t")[0]: line.split("\t")[1:] for line in lines}


def label(page, which: str) -> str:
    return page.inner_text(f".twin-year-label-{which}").replace("\n", " ")


def test_side_by_side_reads_forward_labels_and_frames_the_city(served, demo_database: str) -> None:
    url, _ = served
    with psycopg.connect(demo_database) as conn:
        built, gone = (conn.execute(f"SELECT count(*) FROM layers.buildings WHERE {STOOD.format(y=later)} "
                                    f"AND NOT ({STOOD.format(y=earlier)})").fetchone()[0]
                       for earlier, later in ((FIRST, LAST), (LAST, FIRST)))
    with viewer_page(url, SIZE) as page:
        choose(page, ".twin-compare", "side by side")
        page.wait_for_selector(".twin-changes", timeout=20_000)
        settled(page, image(page))
        page.screenshot(path=str(ARTIFACTS / "viewer-compare-side.png"))
        # A is 2020 and B 2008: the panel reads from 2008 on, the buildings put up since appear.
        assert page.inner_text(".twin-changes .v-card-title") == f"Changes {FIRST} → {LAST}"
        rows = changes(page)
        assert built > 15_000 and rows["Buildings"][0].startswith(f"+{built:,} (")
        assert rows["Buildings"][1] == (f"-{gone:,}" if gone else "0")
        # The earlier year on the left, each pane labelled large in the band above the cards.
        page.wait_for_selector(".twin-year-label-earlier", timeout=10_000)
        pane_b, pane_a = box(page, ".twin-view-b"), box(page, ".twin-view-a")
        assert pane_b["x"] < pane_a["x"], "year B (2008, the earlier) is not the left pane"
        assert label(page, "earlier") == f"{FIRST} year B" and label(page, "later") == f"{LAST} slider"
        for which, pane in (("earlier", pane_b), ("later", pane_a)):
            shown = box(page, f".twin-year-label-{which}")
            assert pane["x"] < shown["x"] and shown["x"] + shown["width"] < pane["x"] + pane["width"], which
            assert shown["y"] + shown["height"] <= box(page, ".twin-changes")["y"], f"{which}: under a card"
        size = page.eval_on_selector(".twin-year-label-earlier .twin-year-label-year",
                                     "element => parseFloat(getComputedStyle(element).fontSize)")
        assert size >= 30, f"the year labels are {size} px high"
        # Each half-width pane shows the whole city, off both of its sides; one camera: in the same place.
        extents = []
        for selector in (".twin-view-b", ".twin-view-a"):
            mask = city(bare(page, selector))[SHADOW:-SHADOW]
            width = mask.shape[1]
            edge = max(int(width * EDGE), 1)
            assert not mask[:, :edge].any() and not mask[:, -edge:].any(), f"{selector}: the city is cut off"
            columns = np.flatnonzero(mask.any(axis=0))
            extents.append((columns[0], columns[-1]))
            assert columns[-1] - columns[0] > 0.5 * width, f"{selector}: the city fills little of the pane"
        (left_b, right_b), (left_a, right_a) = extents
        assert abs(left_a - left_b) < 0.03 * width and abs(right_a - right_b) < 0.03 * width, extents
        # The change panel folds to its title, leaving the later year's pane open; the main view picks
        # on the right as it does on the left.
        page.click(".twin-changes-fold")
        page.wait_for_selector(".twin-changes tbody", state="hidden", timeout=10_000)
        assert box(page, ".twin-changes")["height"] < 80
        page.mouse.click(pane_a["x"] + pane_a["width"] * 0.5, pane_a["y"] + pane_a["height"] * 0.5)
        page.wait_for_selector(".twin-picked", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "viewer-compare-side-picked.png"))
        page.click(".twin-changes-fold")

        # The other way round (A 2008, B 2020): the same story, A's pane now on the left.
        set_year(page, ".twin-year", "Home")
        page.wait_for_selector(".twin-changes", state="detached", timeout=20_000)  # one year twice: no change
        set_year(page, ".twin-year-b", "End")
        page.wait_for_selector(".twin-changes", timeout=20_000)
        assert page.inner_text(".twin-changes .v-card-title") == f"Changes {FIRST} → {LAST}"
        assert changes(page) == rows
        assert label(page, "earlier") == f"{FIRST} slider" and label(page, "later") == f"{LAST} year B"
        assert box(page, ".twin-view-a")["x"] < box(page, ".twin-view-b")["x"]
        page.screenshot(path=str(ARTIFACTS / "viewer-compare-side-a-first.png"))
        assert page.errors == [], f"the browser console reported errors: {page.errors}"


def test_swipe_line_drags_and_keys_without_turning_the_camera(served) -> None:
    url, _ = served
    with viewer_page(url, SIZE) as page:
        redrawn(page, lambda: choose(page, ".twin-compare", "Swipe"))
        page.wait_for_selector(".twin-swipe-knob", state="visible", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "viewer-compare-swipe.png"))
        view = box(page, ".twin-view")
        line = box(page, ".twin-swipe-handle")
        at = line["x"] + line["width"] / 2
        assert abs(at - (view["x"] + view["width"] / 2)) < 2, "the line does not start in the middle"
        # 2008 (year B) left of the line, 2020 right of it, each labelled beside it.
        earlier, later = box(page, ".twin-year-label-earlier"), box(page, ".twin-year-label-later")
        assert earlier["x"] + earlier["width"] < at < later["x"]
        assert label(page, "earlier").startswith(str(FIRST)) and label(page, "later").startswith(str(LAST))
        before = bare(page, ".twin-view")

        knob = box(page, ".twin-swipe-knob")
        x, y = knob["x"] + knob["width"] / 2, knob["y"] + knob["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 260, y + 40, steps=12)  # a hand drifts down a little as it drags
        page.mouse.up()
        moved = float(page.get_attribute(".twin-swipe-handle", "aria-valuenow"))
        grabbed = page.evaluate("document.activeElement.classList.contains('twin-swipe-handle')")
        assert abs(moved - (50 + 100 * 260 / view["width"])) < 0.5, moved
        # Year B, the earlier, shown left of the line: its view cut off right of it.
        clipped = page.eval_on_selector(".twin-view-b", "view => view.style.clipPath")
        clip = re.fullmatch(r"inset\(0px ([\d.]+)% 0px 0px\)", clipped)
        assert clip and abs(float(clip[1]) - (100 - moved)) < 0.01, clip
        after = settled(page, bare(page, ".twin-view"), picture=lambda page: bare(page, ".twin-view"))
        page.screenshot(path=str(ARTIFACTS / "viewer-compare-swipe-dragged.png"))
        middle = before.shape[1] // 2
        # Left of where the line was, 2008 as before: the camera did not turn. Between the two places of
        # the line, 2008 now where 2020 was.
        kept = slice(0, middle - 4)
        assert np.abs(after[:, kept] - before[:, kept]).mean() < 1.0, "the drag turned the camera"
        band = slice(middle + 4, middle + 200)
        assert np.abs(after[:, band] - before[:, band]).mean() > 5.0, "the view did not follow the line"

        assert grabbed, "the grabbed handle did not take the focus, for the keys"
        page.focus(".twin-swipe-handle")  # again: taking the labels and the line away to look blurred it
        page.keyboard.press("ArrowLeft")
        valuenow = "+document.querySelector('.twin-swipe-handle').getAttribute('aria-valuenow')"
        page.wait_for_function(f"at => {valuenow} === at", arg=round(moved) - 2, timeout=10_000)
        page.keyboard.press("Home")
        page.wait_for_function(f"{valuenow} === 0", timeout=10_000)
        assert page.errors == [], f"the browser console reported errors: {page.errors}"


@pytest.mark.fast
def test_a_pane_is_as_wide_in_the_scene_as_the_whole_view() -> None:
    """Half as wide a window at the pane's view angle spans what the whole one did at its own."""
    for angle, aspect in ((30.0, 1.44), (30.0, 0.8), (45.0, 2.0)):
        whole = np.tan(np.radians(angle) / 2) * aspect
        pane = np.tan(np.radians(pane_angle(angle, PANE_SHARE)) / 2) * aspect * PANE_SHARE
        assert pane == pytest.approx(whole)
    assert pane_angle(30.0, 1.0) == pytest.approx(30.0)
