"""The screenshot comparison of tests/test_visual.py (tests/visual.py) on images made here and on the
baselines themselves: what a user would call broken fails (a search list clipped to a sliver, a building's
outline gone, a card missing), while what the eye does not see passes (JPEG-like noise of a level or two,
the same image through the baseline's palette)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import visual

pytestmark = pytest.mark.fast

# Sand, a pale roof, the pick's yellow.
GROUND, ROOF, OUTLINE = (201, 178, 143), (200, 196, 180), (255, 212, 0)


def scene() -> np.ndarray:
    """A 640x400 view: ground, one building, no cards."""
    picture = np.zeros((400, 640, 3), np.uint8)
    picture[:] = GROUND
    picture[120:260, 200:420] = ROOF
    return picture


def outlined(picture: np.ndarray, width: int = 1) -> np.ndarray:
    """The building's outline, ``width`` px, as a pick draws it."""
    shown = picture.copy()
    for edge in (np.s_[120:120 + width, 200:420], np.s_[260 - width:260, 200:420],
                 np.s_[120:260, 200:200 + width], np.s_[120:260, 420 - width:420]):
        shown[edge] = OUTLINE
    return shown


def card(picture: np.ndarray) -> np.ndarray:
    """A white card with a title and rows of grey text, at the right."""
    shown = picture.copy()
    shown[20:300, 420:620] = 255
    for row in range(40, 290, 24):
        shown[row:row + 8, 436:436 + 60 + row % 90] = 90
    return shown


def test_noise_the_eye_does_not_see_passes() -> None:
    base = card(outlined(scene()))
    noisy = np.clip(base + np.random.default_rng(1).integers(-2, 3, base.shape), 0, 255)
    difference = visual.compare(noisy, base)
    assert difference.passes, difference.summary()
    assert visual.compare(base, base).worst_block == 0.0


def test_a_lost_outline_fails_where_it_was() -> None:
    base = card(outlined(scene()))
    difference = visual.compare(card(scene()), base)
    assert not difference.passes
    x, y = difference.worst_at
    assert 200 - visual.BLOCK < x <= 420 and 120 - visual.BLOCK < y <= 260, difference.worst_at


def test_a_missing_card_fails() -> None:
    difference = visual.compare(outlined(scene()), card(outlined(scene())))
    assert not difference.passes and 420 - visual.BLOCK < difference.worst_at[0] < 620


def test_a_search_list_clipped_to_a_sliver_fails() -> None:
    """The search baseline is the overview with the hits' menu open: the menu (where the two differ)
    cut to its first 8 px, as issue 16 found it inside the toolbar."""
    overview, search = (np.asarray(visual.load(visual.BASELINES / f"{name}.png").convert("RGB"))
                        for name in ("overview-page", "search-page"))
    rows, columns = np.nonzero(np.abs(search.astype(int) - overview).sum(axis=2) > 30)
    top, bottom, left, right = rows.min(), rows.max() + 1, columns.min(), columns.max() + 1
    assert bottom - top > 100, "the search baseline shows no menu of hits"
    clipped = overview.copy()
    clipped[top:top + 8, left:right] = search[top:top + 8, left:right]
    difference = visual.compare(clipped, search)
    assert not difference.passes
    assert top <= difference.worst_at[1] < bottom and left - visual.BLOCK < difference.worst_at[0] < right


def test_a_baseline_keeps_its_palette_and_the_same_page_matches_it(tmp_path: Path) -> None:
    picture = card(outlined(scene()))
    picture[300:, :] = np.linspace(0, 255, 640, dtype=np.uint8)[None, :, None]  # more colours than a palette
    visual.save(tmp_path / "view.png", picture, palette=True)
    baseline = visual.load(tmp_path / "view.png")
    assert baseline.mode == "P"
    expected = np.asarray(baseline.convert("RGB"))
    assert visual.compare(visual.in_colours_of(picture, baseline), expected).worst_block == 0.0
    assert not visual.compare(visual.in_colours_of(card(scene()), baseline), expected).passes


def test_the_diff_image_frames_the_worst_block() -> None:
    difference = visual.compare(card(scene()), card(outlined(scene())))
    shown = visual.diff_image(card(scene()), difference)
    x, y = difference.worst_at
    assert tuple(shown[y - visual.FRAME, x]) == (255, 0, 255) and tuple(shown[y + 2, x + 2]) != (255, 0, 255)
    assert shown.shape == (400, 640, 3)


def test_a_stack_that_differs_is_named_both_ways() -> None:
    recorded = {"chromium": "156", "viewport": "1280x800", "vtk": "9.7.2", "opengl_renderer": "llvmpipe",
                "opengl_version": "Mesa 22.3.6"}
    current = {**recorded, "opengl_version": "Mesa 24.0.1"}
    assert visual.differs(recorded, current, visual.PAGE_KEYS) == ""
    named = visual.differs(recorded, current, visual.VIEW_KEYS)
    assert named == "opengl_version 'Mesa 22.3.6' -> 'Mesa 24.0.1'"
