"""Memory of N sessions of the viewer at once (N = 1, 4, 8), each a browser page on its own viewer
process, as proportional set size (PSS: each shared page counted once, split between its sharers) summed
over the zygote that holds the scene and the viewers forked from it (viewer.zygote), beside what N
viewers started on their own (``python -m viewer.app``, the scene read by each: one measured in the same
run, times N) would take, and the first image's wait of a session's page.

Usage: .venv/bin/python scripts/bench_sessions.py [--scale S]
Runs on twin's own PostGIS, on the scale-S Eco-city (default 1) in scripts/bench_cameras.py's database
for that scale (twin_bench_viewer at scale 1, twin_bench_viewer_xS otherwise), made on the first run.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "scripts")]
TWIN = [sys.executable, "-m", "twin"]
COUNTS = (1, 4, 8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    scale = parser.parse_args().scale
    url = prepare(scale)
    load = os.getloadavg()[0]
    alone = standalone_pss(url)
    rows = [sessions(url, count) for count in COUNTS]
    print(f"\nViewer sessions on the scale-{scale:g} Eco-city; {os.cpu_count()} CPUs, load average {load:.1f} before "
          f"and {os.getloadavg()[0]:.1f} after; one viewer started on its own (the scene read by it): "
          f"{alone:,.0f} MB PSS\n")
    print("| sessions | PSS, zygote + viewers (+ the spare) | N viewers on their own | ratio | first image, slowest page |")
    print("|---:|---:|---:|---:|---:|")
    for count, total, first in rows:
        print(f"| {count} | {total:,.0f} MB | {alone * count:,.0f} MB | {total / (alone * count):.2f}x | {first:.1f} s |")
    return 0


def prepare(scale: float) -> str:
    """The benchmark's database for ``scale``, the city imported: bench_cameras' (the same per scale)."""
    from bench_cameras import database
    from bench_cameras import prepare as import_city

    url = database(scale)
    os.environ["TWIN_DATABASE_URL"] = url  # before twin reads its settings
    import_city(scale)
    return url


def standalone_pss(url: str) -> float:
    """PSS of one viewer started on its own, once it answers (no browser)."""
    from browser import free_port

    port = free_port()
    viewer = subprocess.Popen([sys.executable, "-m", "viewer.app", "--server", "--host", "127.0.0.1", "--port",
                               str(port), "--timeout", "60"], cwd=ROOT, env=dict(os.environ, TWIN_DATABASE_URL=url),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/index.html", 300)
        return pss_mb([viewer.pid])
    finally:
        viewer.terminate()
        viewer.wait(timeout=30)


def sessions(url: str, count: int) -> tuple[int, float, float]:
    """``count`` pages on one ``twin serve``: the PSS of its viewer processes, and the slowest first image."""
    from browser import browser, free_port

    viewer_port, api_port = free_port(), free_port()
    env = dict(os.environ, TWIN_DATABASE_URL=url, TWIN_VIEWER_SESSIONS=str(count))
    serve = subprocess.Popen([*TWIN, "serve", "--viewer-port", str(viewer_port), "--api-port", str(api_port)],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{api_port}/healthz", 300)
        slowest = 0.0
        with browser() as chromium:
            pages = []
            for _ in range(count):
                page, waited = first_image(chromium, f"http://127.0.0.1:{viewer_port}/")
                pages.append(page)
                slowest = max(slowest, waited)
            time.sleep(3)  # the spare after the last page is built, or not (at the cap)
            total = pss_mb(descendants(serve.pid))
        return count, total, slowest
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)


# The view's first image: at the page's size (a fresh viewer first draws at its window's default) and not
# blank (its pixels' spread, on a thumbnail drawn in the page, as tests/browser.py judges a screenshot).
FIRST_IMAGE = """() => { const img = document.querySelector('.twin-view img');
    if (!document.querySelector('.twin-layers') || !img || !img.complete || img.naturalWidth === 0
        || Math.abs(img.naturalWidth - img.clientWidth) > 1 || Math.abs(img.naturalHeight - img.clientHeight) > 1)
        return false;
    const canvas = document.createElement('canvas'); canvas.width = 64; canvas.height = 40;
    const context = canvas.getContext('2d'); context.drawImage(img, 0, 0, 64, 40);
    const pixels = context.getImageData(0, 0, 64, 40).data; let sum = 0, squares = 0;
    for (let i = 1; i < pixels.length; i += 4) { sum += pixels[i]; squares += pixels[i] * pixels[i]; }
    const mean = sum / (pixels.length / 4);
    return Math.sqrt(squares / (pixels.length / 4) - mean * mean) > 10; }"""


def first_image(chromium, url: str) -> tuple[object, float]:
    """A page of 1280x800 on the viewer, and the seconds from asking for it to its layer panel and its
    view's first image; then left to settle (tests/browser.py), not counted, before the next page."""
    from browser import image, settled

    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function(FIRST_IMAGE, timeout=120_000)
    waited = time.perf_counter() - started
    settled(page, image(page))
    return page, waited


def descendants(pid: int) -> list[int]:
    """The viewer processes under ``twin serve``: the zygote and its forks."""
    def children(of: int) -> list[int]:
        return [int(child) for task in Path(f"/proc/{of}/task").iterdir()
                for child in (task / "children").read_text().split()]

    found = []
    for child in children(pid):
        if b"viewer." in Path(f"/proc/{child}/cmdline").read_bytes():
            found += [child, *children(child)]
    return found


def pss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total / 1024


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"bench_sessions: {url} did not answer within {seconds:.0f} s")
            time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
