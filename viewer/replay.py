"""``twin replay``: the city's growth rendered off-screen into a video for visitors' screens, the same
scene, look (viewer.look) and year rule as the viewer: one second a year at ``fps`` frames, buildings
rising through the year before they are completed, the year large and its figures written on each
frame, the buildings coloured plainly or by one of their colourings (by use, by build year).

MP4 goes through the ffmpeg that imageio-ffmpeg ships (H.264, so any player plays it); GIF through Pillow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvista as pv
from tqdm import tqdm

from twin.catalog import load_catalog
from twin.errors import TwinError
from twin.store import database
from twin.time import figures, year_range
from viewer.look import Dots, YearTitle, dress
from viewer.panels.years import caption, held
from viewer.render import BURIED, add_layers, place_camera, show_land_cover
from viewer.scene.build import build
from viewer.scene.colouring import paint
from viewer.scene.timeline import Timeline
from viewer.tools import viewpoints

FORMATS = (".mp4", ".gif")


@dataclass(frozen=True)
class Replay:
    path: Path
    frames: int
    size: tuple[int, int]
    seconds: float  # spent rendering and writing


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` with even sides (H.264 needs them) of at least 64 pixels."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise TwinError(f"--size {text}: write it as WIDTHxHEIGHT, e.g. 1920x1080")
    size = int(width), int(height)
    if min(size) < 64 or size[0] % 2 or size[1] % 2:
        raise TwinError(f"--size {text}: both sides must be even and at least 64 pixels, e.g. 1280x720")
    return size


def moments(first: int, last: int, fps: int) -> np.ndarray:
    """The replay's moments: from the empty start of ``first`` to the end of ``last``, ``fps`` a year."""
    count = (last - first + 1) * fps
    return first - 1 + np.arange(1, count + 1) / fps


def export(out: Path, first: int | None, last: int | None, fps: int, size: tuple[int, int],
           show_progress: bool | None = None, colour_by: str | None = None) -> Replay:
    """``colour_by``: the attribute of a colouring in the layer files (``use``) to colour by; None: plain."""
    import time

    import imageio.v2 as imageio

    if out.suffix.lower() not in FORMATS:
        raise TwinError(f"{out}: give a file ending in .mp4 or .gif")
    if not out.parent.is_dir():
        raise TwinError(f"{out}: the folder {out.parent} does not exist")
    if not 1 <= fps <= 60:
        raise TwinError(f"--fps {fps}: give 1 to 60 frames per second")
    started = time.perf_counter()
    catalog = load_catalog()
    offered = sorted({colouring.attribute for layer in catalog for colouring in layer.style.colour_by})
    if colour_by is not None and colour_by not in offered:
        raise TwinError(f"--colour-by {colour_by}: no layer is coloured by it; the layer files offer: "
                        f"{', '.join(offered) or 'none'} (or plain)")
    with database.raw() as connection:
        span = year_range(connection, catalog)
        if span is None:
            raise TwinError("the twin holds no features with years (valid_from); import some first")
        first, last = first or span[0], last or span[1]
        if first > last:
            raise TwinError(f"--from {first} is after --to {last}")
        meshes, ground, origin = build(connection, catalog)
        by_year = figures(connection, catalog, first, last)
        layers = held(by_year)
        plotter = pv.Plotter(off_screen=True, window_size=size)
        dress(plotter)
        timeline = Timeline(meshes)
        actors = add_layers(plotter, meshes, ground, timeline)
        _colour(meshes, actors, colour_by)
        # Above ground, as the viewer shows it, unless the twin holds nothing else: drawn, what lies under
        # the ground showed through it from afar (pipes as lines along every road at the overview).
        buried = [layer_id for layer_id, made in meshes.items() if made.layer.draw.mode in BURIED]
        if len(buried) < len(meshes):
            for layer_id in buried:
                actors[layer_id].SetVisibility(False)
        Dots(plotter.renderer, meshes, timeline)
        overview = viewpoints.named(connection, catalog, origin, plotter.bounds)[0]
    place_camera(plotter, overview.focal_point, overview.position)
    title = YearTitle(plotter)
    line = plotter.add_text("", position="lower_left", font_size=11, color="#1b2a38")
    steps = moments(first, last, fps)
    if out.suffix.lower() == ".gif":
        writer = imageio.get_writer(out, mode="I", duration=1000.0 / fps, loop=0)
    else:
        writer = imageio.get_writer(out, fps=fps, codec="libx264", quality=7, macro_block_size=2,
                                    pixelformat="yuv420p")
    try:
        disable = None if show_progress is None else not show_progress  # None: a bar on terminals only
        with writer, tqdm(total=len(steps), desc=f"rendering {out.name}", unit=" frames", disable=disable,
                          leave=False) as progress:
            for t in steps:
                timeline.show(float(t))
                year = min(max(math.ceil(t), first), last)
                show_land_cover(actors, ground, year)
                items = [f"{item['label']} {item['value']}" for item in caption(catalog, by_year[year], layers)]
                title.show(year)
                line.SetText(0, "   ".join(items[:6]) + "\n" + "   ".join(items[6:]))
                plotter.camera.Azimuth(12.0 / fps)  # a slow turn, so the growth is seen from all sides
                plotter.render()
                writer.append_data(plotter.screenshot(return_img=True))
                progress.update(1)
    finally:
        plotter.close()
    return Replay(out, len(steps), size, time.perf_counter() - started)


def _colour(meshes: dict, actors: dict, colour_by: str | None) -> None:
    """Each layer that has a colouring by ``colour_by`` painted in it."""
    for layer_id, made in meshes.items():
        for colouring in made.colourings:
            if colouring.key == colour_by:
                paint(actors[layer_id], colouring)
