"""The viewer's frame at city scale: the Eco-city at each scale asked (``--scale 1 --scale 10``), seen from
three cameras (the city overview, a street, a tunnel underground), each figure at scale 10 beside its
ratio to scale 1 (target: within 1.3x), with a fixed reference scene's frame measured in the same run.

Measured server side, in a process of its own per scale (what a viewer process does): the scene build
from PostGIS (target under 20 s), then at each camera the frame of the full scene at 1280x800, the frame
while the camera moves (640x400, as the page is sent then; its inverse bounds the images a second while
dragging), a year switch through the slider (the filter and a frame), and the largest screen-space error
of what was drawn (the bound is viewer.scene.tiles.SSE_PX). Then through ``twin serve`` in headless
Chromium: at each camera, chosen in the page's "Go to" menu, the images a second while the mouse drags.

Usage: .venv/bin/python scripts/bench_cameras.py --scale 1 --scale 10   (or scripts/bench_viewer.py --scale ...)
Runs on twin's own PostGIS (started if it is down). Each scale's city is generated and imported once, into
a database of its own (twin_bench_viewer for scale 1, twin_bench_viewer_x10 for 10), kept for the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]
TWIN = [sys.executable, "-m", "twin"]
CAMERAS = ("overview", "street", "tunnel")
TARGET_RATIO = 1.3


def database(scale: float) -> str:
    """The URL of the benchmark's database for ``scale`` (created, the city imported, where missing)."""
    import psycopg

    up = subprocess.run([*TWIN, "db", "up"], capture_output=True, text=True, cwd=ROOT)
    if up.returncode != 0:
        sys.exit(f"bench_cameras: twin's database does not start: {up.stderr.strip()}")
    url = subprocess.run([*TWIN, "db", "url"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    name = "twin_bench_viewer" if scale == 1 else f"twin_bench_viewer_x{scale:g}"
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def prepare(scale: float) -> None:
    """The Eco-city at ``scale`` in this process's database (TWIN_DATABASE_URL), generated into a folder of
    its own beside the demo's (the demo's is the scale-1 city)."""
    from twin.demo import CITY, CITY_NAMES, CRS, demo_folder, ensure_generated, import_all

    names = [flag for name in CITY_NAMES for flag in ("--name-in", name)]
    subprocess.run([*TWIN, "init", CITY, "--crs", CRS, *names], check=True, capture_output=True, cwd=ROOT)
    folder = demo_folder() if scale == 1 else demo_folder().with_name(f"ecocity-x{scale:g}")
    print(f"scale {scale:g}: the Eco-city generated and imported (first run only)...", file=sys.stderr)
    import_all(folder, ensure_generated(folder, scale))


def measure(scale: float) -> dict:
    """In this process: the scene build, and each camera's frames and year switch."""
    from trame.app import get_server

    from viewer.app import Scene, create_app
    from viewer.scene.tiles import drawing_of

    prepare(scale)
    started = time.perf_counter()
    scene = Scene.read()
    built = time.perf_counter() - started
    server = create_app(get_server(f"bench-{scale:g}", client_type="vue3"), scene=scene)
    server.state.ready()
    window = server.vtk_interactor.GetRenderWindow()
    renderer = window.GetRenderers().GetFirstRenderer()
    camera = renderer.GetActiveCamera()
    style = server.vtk_interactor.GetInteractorStyle().GetCurrentStyle()
    state = server.state
    cells = sum(layer_mesh.mesh.n_cells for layer_mesh in scene.meshes.values())

    def frame_ms(size: tuple[int, int]) -> float:
        window.SetSize(*size)
        times = []
        for _ in range(9):
            camera.Azimuth(0.5)
            begun = time.perf_counter()
            window.Render()
            times.append(time.perf_counter() - begun)
        return statistics.median(times) * 1000

    def go(name: str) -> None:  # as the "Go to" menu does (the tunnel's view turns underground mode on)
        state.underground = False
        state.viewpoint = None
        state.flush()
        state.viewpoint = name
        state.flush()

    results = {}
    for name in CAMERAS:
        go(name)
        frame = frame_ms((1280, 800))
        style.InvokeEvent("StartInteractionEvent")
        moving = frame_ms((640, 400))
        style.InvokeEvent("EndInteractionEvent")
        window.SetSize(1280, 800)
        switches = []
        for year in list(range(int(state.year_first), int(state.year_last) + 1)):
            begun = time.perf_counter()
            state.year = year
            state.flush()
            window.Render()
            switches.append(time.perf_counter() - begun)
        drawing = drawing_of(renderer)
        results[name] = {"frame_ms": frame, "moving_ms": moving, "year_ms": statistics.median(switches) * 1000,
                         "sse_px": drawing.worst_px if drawing is not None else 0.0}
    return {"scale": scale, "build_s": built, "cells": cells, "cameras": results}


def dragged(scale: float) -> dict[str, float]:
    """Through ``twin serve`` and headless Chromium at 1280x800: at each camera, chosen in the "Go to" menu,
    the images a second reaching the page while the mouse turns the view for 5 s (bench_viewer.drag)."""
    from bench_viewer import drag, image_times, start_serve, wait_for_spare
    from browser import browser

    launcher, serve = start_serve(database(scale), seconds=300)
    try:
        with browser() as chromium:
            page = chromium.new_page(viewport={"width": 1280, "height": 800})
            images = image_times(page)
            page.goto(launcher)
            page.wait_for_selector(".twin-layers", timeout=120_000)
            wait_for_spare(page, launcher)
            rates = {}
            for name, title in zip(CAMERAS, ("City overview", "Street level", "Utility tunnel")):
                page.click(".twin-viewpoints")
                page.click(f".v-overlay .v-list-item:has-text('{title}')")
                page.wait_for_timeout(4000)  # there, and the full image in
                rates[name] = drag(page, images)[0]
        return rates
    finally:
        serve.terminate()
        serve.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, action="append", help="a scale of the Eco-city (repeat)")
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)  # a child process measuring one scale
    options = parser.parse_args()
    if options.one is not None:
        print(json.dumps(measure(options.one)))
        return 0
    from bench_viewer import reference_ms  # the same yardstick as the viewer's other figures

    scales = options.scale or [1.0, 10.0]
    load_before = os.getloadavg()[0]
    reference = reference_ms()
    measured = []
    for scale in scales:
        env = dict(os.environ, TWIN_DATABASE_URL=database(scale))
        child = subprocess.run([sys.executable, __file__, "--one", str(scale)], capture_output=True, text=True,
                               env=env, cwd=ROOT)
        if child.returncode != 0:
            sys.exit(f"bench_cameras: scale {scale:g} failed: {child.stderr.strip().splitlines()[-1:]}")
        measured.append(json.loads(child.stdout.strip().splitlines()[-1]))
        measured[-1]["dragged"] = dragged(scale)
    load_after = os.getloadavg()[0]
    print(f"\nViewer frames by camera; {os.cpu_count()} CPUs, load average {load_before:.1f} before and "
          f"{load_after:.1f} after; the reference scene's frame (500,000 triangles at 1280x800) {reference:.0f} ms\n")
    base = measured[0]
    print("| scale | cells | scene build | camera | frame 1280x800 | moving frame 640x400 | year switch | "
          "largest SSE drawn | images/s dragging, in Chromium |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for run in measured:
        for name in CAMERAS:
            got, first = run["cameras"][name], base["cameras"][name]

            def cell(key: str) -> str:
                ratio = got[key] / first[key] if first[key] else float("nan")
                mark = "" if run is base else f" ({ratio:.2f}x{'' if ratio <= TARGET_RATIO else ', missed'})"
                return f"{got[key]:.0f} ms{mark}"

            rate, rate_first = run["dragged"][name], base["dragged"][name]
            fewer = rate_first / rate if rate else float("inf")  # how many times fewer than at scale 1
            told = "" if run is base else f" ({fewer:.2f}x fewer{'' if fewer <= TARGET_RATIO else ', missed'})"
            print(f"| {run['scale']:g} | {run['cells']:,} | {run['build_s']:.1f} s | {name} | {cell('frame_ms')} | "
                  f"{cell('moving_ms')} | {cell('year_ms')} | {got['sse_px']:.1f} px | {rate:.1f}{told} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
