"""Driving the viewer in a real browser (Playwright with Debian's chromium, never a downloaded one):
open a page once the scene is in, read the 3D view back as pixels, wait for the server's next image.
Every wait here waits for something the page shows (an image of the server's, a view that changed or
stopped changing) and fails, saying what it waited for, when that does not come in time; none waits a
fixed time. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from support import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHADOW = 6  # pixels a Vuetify card's shadow reaches beyond its box
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def open_viewer(chromium, url: str, size: tuple[int, int] = (1400, 900), locale: str | None = None,
                ignore_https_errors: bool = False, http_credentials: dict | None = None):
    """A page of ``size`` (width, height) on the viewer, once its layer panel is up and the first image at
    the page's size is in, in a browser set to ``locale`` (navigator.languages; default Chromium's, en-US).
    ``page.errors`` collects what the browser console reports as errors, and uncaught exceptions."""
    page = chromium.new_page(viewport={"width": size[0], "height": size[1]}, locale=locale,
                             ignore_https_errors=ignore_https_errors,  # a test's self-signed certificate
                             http_credentials=http_credentials)
    page.errors = []
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector(".twin-layers", timeout=90_000)
    # A fresh viewer process first sends images at its window's default size; until it has drawn at the
    # page's size, clicks would be picked through a window of another shape.
    page.wait_for_function("""() => { const img = document.querySelector('.twin-view img');
        return img && img.naturalWidth > 0 && Math.abs(img.naturalWidth - img.clientWidth) <= 1
            && Math.abs(img.naturalHeight - img.clientHeight) <= 1; }""", timeout=60_000)
    deadline = time.monotonic() + 60  # the first image comes once the server has rendered the scene
    while image(page).std() <= 10:
        if time.monotonic() > deadline:
            raise AssertionError(f"the 3D view of {url} was still blank 60 s after the page loaded")
        time.sleep(0.5)
    settled(page, image(page))  # and whatever images follow the first
    return page


@contextmanager
def viewer_page(url: str, size: tuple[int, int] = (1400, 900), locale: str | None = None) -> Iterator:
    """A headless Chromium page on the viewer (see :func:`open_viewer`)."""
    with browser() as chromium:
        yield open_viewer(chromium, url, size, locale)


def changed(page, before: np.ndarray, threshold: float, seconds: float = 30,
            picture: Callable[[object], np.ndarray] | None = None) -> np.ndarray:
    """The view's image (or ``picture(page)``) once it differs from ``before`` by more than ``threshold``
    on average: the server renders after the state change reaches it. Fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        now = (picture or image)(page)
        difference = np.abs(now - before).mean()
        if difference > threshold:
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"the view did not change in {seconds:g} s: it differs from before by "
                                 f"{difference:.3f} on average, where more than {threshold:g} was awaited")
        time.sleep(0.2)


def settled(page, now: np.ndarray, seconds: float = 20, tolerance: float = 0.5,
            picture: Callable[[object], np.ndarray] | None = None) -> np.ndarray:
    """The view's image once it has stopped changing: no new image from the server between two
    screenshots in a row, and the two differing by less than ``tolerance`` on average (one change of view
    can reach the page in several images: underground mode turning on, then the camera moving; a small
    change, a few features, differs by little on average). Fails when the view still changes after
    ``seconds``. ``picture``: how to take the image (default :func:`image`)."""
    deadline = time.monotonic() + seconds
    shown = frames(page)
    while True:
        time.sleep(0.5)
        later, latest = (picture or image)(page), frames(page)
        difference = np.abs(later - now).mean()
        if difference < tolerance and latest == shown:
            return later
        if time.monotonic() > deadline:
            raise AssertionError(f"the view was still changing after {seconds:g} s (by {difference:.3f} on "
                                 f"average between two screenshots, where less than {tolerance:g} was awaited"
                                 f"{'' if latest == shown else ', and the server sent another image'})")
        now, shown = later, latest


def frames(page) -> str:
    """The images the views show now, by their URLs: trame-vtk gives each image the server sends one of
    its own, so a new URL is a new image from the server."""
    return page.eval_on_selector_all(".twin-view img", "images => images.map(image => image.src).join(' ')")


def redrawn(page, action: Callable[[], object], seconds: float = 30) -> np.ndarray:
    """Do ``action`` (a click, a key), then wait for the server's next image of a view and for the view
    to settle: the image then. The server redraws once the state change has reached it (so what the page
    does next meets the changed state), whether or not the image looks different."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    shown = frames(page)
    action()
    try:
        page.wait_for_function("shown => [...document.querySelectorAll('.twin-view img')]"
                               ".map(image => image.src).join(' ') !== shown", arg=shown, timeout=seconds * 1000)
    except PlaywrightTimeout:
        raise AssertionError(f"the server sent no new image of the view in {seconds:g} s") from None
    return settled(page, image(page))


def image(page) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.locator(".twin-view").screenshot())).convert("RGB"), dtype=np.int16)


def data_layers(page) -> list[str]:
    """The ids of the layers the panel lists with features (their checkbox enabled), the terrain aside."""
    ids = page.eval_on_selector_all(".twin-layer", """rows => rows
        .filter(row => !row.querySelector('input').disabled)
        .map(row => [...row.classList].find(c => c.startsWith('twin-layer-')).slice('twin-layer-'.length))""")
    return [layer_id for layer_id in ids if layer_id != "terrain"]


def features_mask(page, layer_ids: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the view shows features: its image with every layer of ``layer_ids`` shown, with them all
    hidden (the empty scene: sky and ground), and the mask of pixels that differ. Leaves them shown."""
    shown = settled(page, image(page))
    legend = page.inner_text(".twin-legend") if page.locator(".twin-legend").count() else ""
    titles = [page.inner_text(f".twin-layer-{layer_id} label").rsplit(" (", 1)[0] for layer_id in layer_ids]

    def toggle(done: str, arg: object) -> np.ndarray:
        """Toggle every layer, wait until the legend (which the server writes after drawing each
        toggle) says ``done``, then for the view to settle."""
        for layer_id in layer_ids:
            page.click(f".twin-layer-{layer_id} input")
        page.wait_for_function(done, arg=arg, timeout=60_000)
        return settled(page, image(page))

    legend_now = "(document.querySelector('.twin-legend') ? document.querySelector('.twin-legend').innerText : '')"
    empty = toggle(f"titles => !{legend_now}.split('\\n').some(line => titles.includes(line.trim()))", titles)
    toggle(f"legend => {legend_now} === legend", legend)
    mask = np.abs(shown - empty).sum(axis=2) > 40
    # Not what changed on the cards over the view (the legend lists only the layers shown), nor their
    # shadows, a few pixels beyond their boxes.
    view = page.locator(".twin-view").bounding_box()
    for card in page.locator(".twin-view .v-card").all():
        box = card.bounding_box()
        if box is not None:
            left, top = int(box["x"] - view["x"]) - SHADOW, int(box["y"] - view["y"]) - SHADOW
            bottom, right = top + int(box["height"]) + 1 + 2 * SHADOW, left + int(box["width"]) + 1 + 2 * SHADOW
            mask[max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)] = False
    return shown, empty, mask


def densest_pixels(mask: np.ndarray, count: int = 8, apart: int = 12) -> list[tuple[int, int]]:
    """(x, y) of up to ``count`` pixels of the mask, at least ``apart`` pixels from one another, where the
    mask is densest around them (in a 7x7 window): the middles of drawn features, not their edges."""
    padded = np.pad(mask.astype(np.int32), 3)
    window = sum(padded[dy:dy + mask.shape[0], dx:dx + mask.shape[1]] for dy in range(7) for dx in range(7))
    window = np.where(mask, window, 0)
    chosen: list[tuple[int, int]] = []
    for flat in np.argsort(window, axis=None)[::-1]:
        y, x = np.unravel_index(flat, mask.shape)
        if window[y, x] == 0 or len(chosen) == count:
            break
        if all(abs(x - cx) >= apart or abs(y - cy) >= apart for cx, cy in chosen):
            chosen.append((int(x), int(y)))
    return chosen


def click_a_feature(page, mask: np.ndarray, shows: str = ".twin-picked") -> bool:
    """Click the view where ``mask`` says features are drawn until one is picked (its card, or what
    ``shows`` names, shows)."""
    box = page.locator(".twin-view").bounding_box()
    for x, y in densest_pixels(mask):
        print(f"clicking the view at {x}, {y}")  # shown with the test's output when it fails
        page.mouse.click(box["x"] + x, box["y"] + y)
        try:
            page.wait_for_selector(shows, timeout=5_000)
            return True
        except Exception:  # Playwright's TimeoutError: nothing picked there, try the next place
            continue
    return False


def blobs(mask: np.ndarray, least: int = 100) -> list[np.ndarray]:
    """The mask's connected parts (4-neighbours) of at least ``least`` pixels, as boolean masks, left to
    right by their middles: one drawn feature each where features stand apart (a handful of buildings)."""
    seen = np.zeros_like(mask, dtype=bool)
    parts: list[np.ndarray] = []
    height, width = mask.shape
    for start in zip(*np.nonzero(mask)):
        if seen[start]:
            continue
        seen[start] = True
        stack, pixels = [start], []
        while stack:
            y, x = stack.pop()
            pixels.append((y, x))
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        if len(pixels) >= least:
            part = np.zeros_like(mask, dtype=bool)
            part[tuple(np.array(pixels).T)] = True
            parts.append(part)
    return sorted(parts, key=lambda part: np.nonzero(part)[1].mean())
