"""The viewer's main views as screenshots, compared with reviewed baselines (issue 16): the overview, a
search's hits, a picked building, underground at the tunnel, a section, compare side by side and swipe.
Each view is reached through the page as a user would (typing, clicks, the menus), in a page of its own
(a viewer process of its own) at 1280x800, on the session's served demo city; a clipped list, a lost
outline or a missing card fails, naming the view and where it differs.

Two screenshots a view, each with its baseline in tests/baselines/:

- ``<view>.png``, the whole page;
- ``<view>-page.png``, the same with the 3D view's images hidden: only the page's parts (toolbar, drawer,
  cards, menus, year labels), which Chromium alone draws.

The bounds (tests/visual.py): no 8x8 block may differ by more than ΔE 4 (CIELAB) on average, and no more
than 0.3 % of the pixels by more than ΔE 12. Blocks of 8 px, because a pick's outline is 1 px wide: in a
block of 8 it moves the mean by ΔE 7 or more (measured on the picked view with only the outline taken
away: ΔE 31 in its worst block), in one of 32 by under 2. On one machine the same stack draws the same
pixels run after run (measured: ΔE 0.08 in the worst block of 78 comparisons, no pixel over ΔE 12;
README, "Visual tests"), so the bounds are far above the noise and still well under a clipped list (ΔE
69), a missing card (ΔE 69) or a lost outline. What moves on its own is stilled first: CSS transitions,
animations, the caret and the busy sign (hidden), and the mouse rests on the footer, away from anything
with a hover look.

A baseline is a PNG of 256 colours (a quarter of a true-colour one's size: the 3D view's JPEG noise is
most of what it holds); the screenshot is drawn in the baseline's palette before comparing, so the same
page gives the same pixels.

The rendering stack the baselines were made with is in tests/baselines/stack.json (Chromium, the
viewport, VTK and the OpenGL renderer and version: Mesa llvmpipe here). Where it differs:

- another Chromium (or viewport): text and widgets rasterise differently: the test skips, naming both;
- another VTK or Mesa, the same Chromium: the page's parts are still compared strictly (``-page.png``),
  then the test skips the 3D view's pixels, naming both stacks.

Reviewing and updating. A failure writes ``test-artifacts/visual/<name>.actual.png``, ``.expected.png``
and ``.diff.png`` (the actual page faded to grey, what differs in red, the worst block framed in
magenta). Where the change is meant (a new look, a new string), re-record every baseline and the stack
record with one command::

    make baselines        # = TWIN_UPDATE_BASELINES=1 make test PYTEST_ARGS=tests/test_visual.py

then look at each new PNG (``git diff --stat tests/baselines``; an image viewer on the changed ones, or
the previous run's diffs in test-artifacts/visual) and commit them with the change that made them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from functools import partial

import numpy as np
import pytest
from browser import ARTIFACTS, browser, image, open_viewer, redrawn, settled
from support import UPDATE_BASELINES as UPDATE
from test_viewer_time import choose
from test_viewer_tools import find, two_buildings, visible_hits

import visual

SIZE = (1280, 800)
OUT = ARTIFACTS / "visual"
UPDATE_COMMAND = "make baselines (TWIN_UPDATE_BASELINES=1 make test PYTEST_ARGS=tests/test_visual.py)"
# What would differ between two runs of one view: Vuetify's transitions and ripples (a screenshot could
# catch them half-way), the text caret, the footer's busy sign (it spins while the server works).
STILL = ("*, *::before, *::after { transition: none !important; animation: none !important; "
         "caret-color: transparent !important; } .v-ripple__container, .v-progress-circular "
         "{ visibility: hidden !important; }")
CUT_AT = 5  # % of the scene's width: a west-east cut through the demo city's tunnel viewpoint
NO_VIEW = ".twin-view img { visibility: hidden !important; }"


def overview(page) -> None:
    """As the page opens."""


def search(page) -> None:
    page.fill(".twin-search input", "医院")
    page.wait_for_selector(".twin-search-hit", timeout=20_000)
    visible_hits(page)  # each hit open to the mouse, the menu done opening


def picked(page, building: str) -> None:
    find(page, building)  # typed, its hit clicked: flown to, picked, outlined
    page.wait_for_function(f"document.querySelector('.twin-picked')?.innerText.includes({building!r})",
                           timeout=20_000)


def tunnel(page) -> None:
    def go() -> None:
        page.click(".twin-viewpoints")
        page.click(".v-overlay .v-list-item:has-text('Utility tunnel')")

    redrawn(page, go)
    page.wait_for_function("document.querySelector('.twin-underground input').checked", timeout=20_000)


def section(page) -> None:
    """At the tunnel, cut across it: the cut face, the pipes ending at it, the cut's place labelled."""
    tunnel(page)
    redrawn(page, lambda: choose(page, ".twin-section", "West-east"))
    thumb = page.locator(".twin-section-at .v-slider-thumb")
    for key in ("Home", *["ArrowRight"] * CUT_AT):
        redrawn(page, lambda: (thumb.focus(), page.keyboard.press(key)))
    thumb.blur()  # its value's label shows only while it has the focus


def compare(page) -> None:
    """The change panel folded to its title, as one does to see the later year's pane it covers."""
    choose(page, ".twin-compare", "side by side")
    page.wait_for_selector(".twin-changes", timeout=30_000)
    page.wait_for_selector(".twin-year-label-earlier", timeout=20_000)
    page.click(".twin-changes-fold")
    page.wait_for_selector(".twin-changes tbody", state="hidden", timeout=10_000)


def swipe(page) -> None:
    redrawn(page, lambda: choose(page, ".twin-compare", "Swipe"))
    page.wait_for_selector(".twin-swipe-knob", state="visible", timeout=20_000)


VIEWS: dict[str, Callable] = {"overview": overview, "search": search, "picked": picked, "tunnel": tunnel,
                              "section": section, "compare": compare, "swipe": swipe}


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    with browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def stack(chromium) -> Iterator[dict[str, str]]:
    """The rendering stack now; with TWIN_UPDATE_BASELINES=1 written beside the baselines afterwards."""
    current = visual.rendering_stack(chromium.version, SIZE)
    yield current
    if UPDATE:
        made = {**current, "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        visual.STACK.write_text(json.dumps(made, indent=2, ensure_ascii=False) + "\n")


def shoot(page) -> tuple[np.ndarray, np.ndarray]:
    """(the whole page, the page with the 3D view hidden) once neither changes any more."""
    from io import BytesIO

    from PIL import Image

    footer = page.locator("footer").bounding_box()
    page.mouse.move(footer["x"] + footer["width"] / 2, footer["y"] + footer["height"] / 2)

    def whole(page) -> np.ndarray:
        shot = page.screenshot(animations="disabled", caret="hide")
        return np.asarray(Image.open(BytesIO(shot)).convert("RGB"), dtype=np.int16)

    # The 3D view first (the server's last image), then the page around it (a card or a count that the
    # server's state fills in after drawing).
    settled(page, image(page))
    full = settled(page, whole(page), tolerance=0.05, picture=whole)
    hidden = page.add_style_tag(content=NO_VIEW)
    try:
        bare = whole(page)
    finally:
        hidden.evaluate("tag => tag.remove()")
    return full.astype(np.uint8), bare.astype(np.uint8)


def check(name: str, actual: np.ndarray) -> None:
    """Compare with tests/baselines/<name>.png (or write it, updating); on a difference, write the
    three images to look at and fail saying where."""
    baseline = visual.BASELINES / f"{name}.png"
    if UPDATE:
        visual.save(baseline, actual, palette=True)
        return
    if not baseline.is_file():
        pytest.fail(f"{name}: no baseline {baseline.relative_to(visual.BASELINES.parent.parent)}: record the "
                    f"baselines with {UPDATE_COMMAND}, look at them and commit them", pytrace=False)
    recorded = visual.load(baseline)
    expected = np.asarray(recorded.convert("RGB"))
    difference = visual.compare(visual.in_colours_of(actual, recorded), expected)
    print(f"{name}: {difference.summary()}")  # the margin, with the test's output
    if not difference.passes:
        for suffix, picture in (("actual", actual), ("expected", expected),
                                ("diff", visual.diff_image(actual, difference))):
            visual.save(OUT / f"{name}.{suffix}.png", picture)
        pytest.fail(f"{name} differs from its baseline: {difference.summary()}. Look at "
                    f"test-artifacts/visual/{name}.diff.png (red: what differs; magenta: the worst block) "
                    f"beside {name}.actual.png and {name}.expected.png. A breakage: mend it; a change meant: "
                    f"re-record with {UPDATE_COMMAND}, review the new PNGs and commit them", pytrace=False)


@pytest.mark.browser
@pytest.mark.parametrize("view", VIEWS)
def test_view_matches_its_baseline(view: str, served, demo_database: str, chromium,
                                   stack: dict[str, str]) -> None:
    recorded = visual.recorded_stack()
    other_page = visual.differs(recorded, stack, visual.PAGE_KEYS)
    if recorded and other_page and not UPDATE:
        pytest.skip(f"baselines made on another page stack ({other_page}): re-record with {UPDATE_COMMAND}")
    url, _ = served
    page = open_viewer(chromium, url, SIZE)
    try:
        page.add_style_tag(content=STILL)
        reach = partial(picked, building=two_buildings(demo_database)[0]) if view == "picked" else VIEWS[view]
        reach(page)
        full, bare = shoot(page)
    finally:
        page.close()
    check(f"{view}-page", bare)
    other_view = visual.differs(recorded, stack, visual.VIEW_KEYS)
    if recorded and other_view and not UPDATE:
        pytest.skip(f"{view}: the page's parts match; the 3D view's pixels not compared, the baselines were "
                    f"made with another 3D stack ({other_view}): re-record with {UPDATE_COMMAND}")
    check(view, full)
