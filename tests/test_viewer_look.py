"""The look in a real browser: the buildings coloured by use or by build year as the user picks, the
legend naming the chosen colouring's classes, and the year written large over the view while the
replay plays. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import time

import numpy as np
from browser import ARTIFACTS, changed, image, settled, viewer_page
from support import ROOT

from twin.catalog import load_catalog

BY = {c.attribute: c for c in load_catalog(ROOT / "layers")["buildings"].style.colour_by}
SIZE = (1600, 1000)


def choose(page, title: str) -> None:
    page.click(".twin-colour-by-buildings")
    page.click(f".v-overlay .v-list-item:has-text('{title}')")


def legend_says(page, text: str) -> None:
    page.wait_for_function("text => document.querySelector('.twin-legend').innerText.includes(text)", arg=text,
                           timeout=20_000)


def shades(picture: np.ndarray, colour: str) -> int:
    """Pixels of ``colour`` as the light draws it: a multiple of it from half to a little over its own."""
    rgb = np.array(list(bytes.fromhex(colour[1:])), float)
    pixels = picture.reshape(-1, 3).astype(float)
    share = pixels @ rgb / (rgb @ rgb)
    residue = np.linalg.norm(pixels - share[:, None] * rgb, axis=1)
    return int(np.sum((share >= 0.5) & (share <= 1.15) & (residue < 12)))


def white_rows(picture: np.ndarray) -> np.ndarray:
    """Rows of the view's upper right quarter holding white: the year's figures (the sky is blue there)."""
    height, width = picture.shape[:2]
    return np.flatnonzero((picture[: height // 2, width // 2:].min(axis=2) >= 245).any(axis=1))


def test_buildings_coloured_by_use_and_by_build_year_with_their_legend(served) -> None:
    url, _ = served
    use = {c.label: c.color for c in BY["use"].classes}
    with viewer_page(url, SIZE) as page:
        plain = settled(page, image(page))
        assert "Buildings" in page.inner_text(".twin-legend") and "Housing" not in page.inner_text(".twin-legend")
        choose(page, "By use")
        legend_says(page, "Buildings · By use")
        by_use = settled(page, changed(page, plain, 1.0))
        page.screenshot(path=str(ARTIFACTS / "viewer-by-use.png"))
        legend = page.inner_text(".twin-legend")
        # the demo's uses: housing, offices, shops, schools; every building has one
        for label in ("Housing", "Offices", "Shops and commerce", "Schools, hospitals, public"):
            assert label in legend
        assert "No use recorded" not in legend and "Industry" not in legend
        for label in ("Offices", "Shops and commerce", "Housing"):
            assert shades(by_use, use[label]) > shades(plain, use[label]) + 100, label
        choose(page, "By build year")
        legend_says(page, "Buildings · By build year")
        by_year = settled(page, changed(page, by_use, 1.0))
        assert page.inner_text(".twin-legend").count("–") >= 3  # ranges of years, oldest first
        assert shades(by_year, BY["build_year"].ramp[0]) > shades(plain, BY["build_year"].ramp[0]) + 100
        choose(page, "Plain")
        page.wait_for_function("!document.querySelector('.twin-legend').innerText.includes('By build year')",
                               timeout=20_000)
        again = settled(page, changed(page, by_year, 1.0))
        assert np.abs(again - plain).mean() < 0.5


def test_the_year_is_large_on_the_view_while_the_replay_plays(served) -> None:
    url, _ = served
    with viewer_page(url, SIZE) as page:
        still = image(page)
        assert not len(white_rows(still)), "a year is written over the view before the replay plays"
        page.click(".twin-play")
        deadline = time.monotonic() + 30
        while not len(rows := white_rows(image(page))):
            assert time.monotonic() < deadline, "no year was written over the view in 30 s of the replay"
            time.sleep(0.3)
        page.screenshot(path=str(ARTIFACTS / "viewer-replay-year.png"))
        assert (rows[-1] - rows[0] + 1) / still.shape[0] >= 0.1, "the year is not large"
        page.click(".twin-play")  # paused: the year goes, the caption keeps it
        deadline = time.monotonic() + 30
        while len(white_rows(image(page))):
            assert time.monotonic() < deadline, "the year stayed over the view 30 s after the replay was paused"
            time.sleep(0.3)
