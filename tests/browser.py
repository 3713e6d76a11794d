"""Driving the viewer in a real browser (Playwright with Debian's chromium, never a downloaded one):
open a page once the scene is in, read the 3D view back as pixels, wait for the server's next image.
Screenshots go to test-artifacts/."""

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


def open_viewer(chromium, url: str):
    """A page on the viewer, once its layer panel is up and the first image at the page's size is in."""
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    page.goto(url)
    page.wait_for_selector(".twin-layer-buildings", timeout=90_000)
    # A fresh viewer process first sends images at its window's default size; until it has drawn at the
    # page's size, clicks would be picked through a window of another shape.
    page.wait_for_function("""() => { const img = document.querySelector('.twin-view img');
        return img && img.naturalWidth > 0 && Math.abs(img.naturalWidth - img.clientWidth) <= 1
            && Math.abs(img.naturalHeight - img.clientHeight) <= 1; }""", timeout=60_000)
    deadline = time.monotonic() + 60  # the first image comes once the server has rendered the scene
    while image(page).std() <= 10 and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(1)
    return page


@contextmanager
def viewer_page(url: str) -> Iterator:
    """A headless Chromium page on the viewer (see :func:`open_viewer`)."""
    with browser() as chromium:
        yield open_viewer(chromium, url)


def changed(page, before: np.ndarray, threshold: float, seconds: float = 30,
            picture: Callable[[object], np.ndarray] | None = None) -> np.ndarray:
    """The view's image (or ``picture(page)``) once it differs from ``before`` by more than ``threshold``
    on average (or at the deadline): the server renders after the state change reaches it."""
    deadline = time.monotonic() + seconds
    while True:
        now = (picture or image)(page)
        if np.abs(now - before).mean() > threshold or time.monotonic() > deadline:
            return now
        time.sleep(0.5)


def settled(page, now: np.ndarray, seconds: float = 15) -> np.ndarray:
    """The view's image once it has stopped changing: one change of view can reach the page in several
    images (underground mode turning on, then the camera moving)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.7)
        later = image(page)
        if np.abs(later - now).mean() < 0.5:
            return later
        now = later
    return now


def image(page) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.locator(".twin-view").screenshot())).convert("RGB"), dtype=np.int16)
