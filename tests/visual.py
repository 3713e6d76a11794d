"""Comparing a screenshot with its reviewed baseline (tests/baselines/), and the rendering stack both were
made with. Used by tests/test_visual.py; unit-tested on synthetic images in tests/test_visual_compare.py.

The comparison works in CIELAB (ΔE 1976 per pixel: about 2.3 is a just-noticeable difference), so a grey
shift the eye does not see counts little and a yellow outline on grey counts much. It fails when

- any block of ``BLOCK`` x ``BLOCK`` pixels differs by more than ``BLOCK_DELTA_E`` on average (a local
  breakage: a thin outline gone, a clipped list, a card missing), or
- more than ``CHANGED_SHARE`` of all pixels differ by more than ``PIXEL_DELTA_E`` (a small change spread
  over the whole page: every label moved by a pixel, the lighting off everywhere).

See tests/test_visual.py for why the bounds are where they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

BASELINES = Path(__file__).resolve().parent / "baselines"
STACK = BASELINES / "stack.json"
BLOCK = 8
BLOCK_DELTA_E = 4.0
PIXEL_DELTA_E = 12.0
CHANGED_SHARE = 0.003
FRAME = 6  # px between the worst block and its frame in the diff image
# The D65 white point (sRGB's), for XYZ -> Lab.
WHITE = np.array([0.95047, 1.0, 1.08883])
RGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])


def lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0-255, height x width x 3) to CIELAB."""
    linear = rgb[..., :3].astype(np.float64) / 255.0
    linear = np.where(linear <= 0.04045, linear / 12.92, ((linear + 0.055) / 1.055) ** 2.4)
    xyz = linear @ RGB_TO_XYZ.T / WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    x, y, z = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([116 * y - 16, 500 * (x - y), 200 * (y - z)], axis=-1)


@dataclass(frozen=True)
class Difference:
    delta_e: np.ndarray  # per pixel
    worst_block: float  # the largest mean ΔE of a block
    worst_at: tuple[int, int]  # (x, y) of that block's top-left corner, in pixels
    changed_share: float  # of pixels differing by more than PIXEL_DELTA_E

    @property
    def passes(self) -> bool:
        return self.worst_block <= BLOCK_DELTA_E and self.changed_share <= CHANGED_SHARE

    def summary(self) -> str:
        x, y = self.worst_at
        return (f"worst {BLOCK}x{BLOCK} block at x={x}..{x + BLOCK - 1}, y={y}..{y + BLOCK - 1} px differs "
                f"by ΔE {self.worst_block:.2f} on average (bound {BLOCK_DELTA_E}); "
                f"{100 * self.changed_share:.3f} % of pixels differ by more than ΔE {PIXEL_DELTA_E} "
                f"(bound {100 * CHANGED_SHARE:.1f} %)")


def compare(actual: np.ndarray, expected: np.ndarray) -> Difference:
    """How ``actual`` differs from ``expected`` (RGB arrays of one size)."""
    if actual.shape[:2] != expected.shape[:2]:
        raise ValueError(f"the image is {actual.shape[1]}x{actual.shape[0]} px, its baseline "
                         f"{expected.shape[1]}x{expected.shape[0]} px")
    delta = np.linalg.norm(lab(actual) - lab(expected), axis=-1)
    height, width = delta.shape
    # Blocks cut the image from its top-left corner; a last, narrower row or column of blocks counts as well.
    rows, columns = -(-height // BLOCK), -(-width // BLOCK)
    padded = np.full((rows * BLOCK, columns * BLOCK), np.nan)
    padded[:height, :width] = delta
    means = np.nanmean(padded.reshape(rows, BLOCK, columns, BLOCK), axis=(1, 3))
    row, column = np.unravel_index(int(np.argmax(means)), means.shape)
    return Difference(delta, float(means[row, column]), (int(column * BLOCK), int(row * BLOCK)),
                      float((delta > PIXEL_DELTA_E).mean()))


def diff_image(actual: np.ndarray, difference: Difference) -> np.ndarray:
    """The actual image faded to grey, the pixels that differ in red (the more, the redder), and the
    worst block framed in magenta: where to look."""
    grey = actual[..., :3].astype(np.float64).mean(axis=-1, keepdims=True) * 0.35 + 150
    shown = np.repeat(grey, 3, axis=-1)
    weight = np.clip(difference.delta_e / (2 * PIXEL_DELTA_E), 0, 1)[..., None]
    shown = shown * (1 - weight) + np.array([255.0, 0, 0]) * weight
    # A frame a few pixels out from the block, 2 px thick: a block of 8 px alone is lost in a page.
    x, y = difference.worst_at
    height, width = shown.shape[:2]
    top, left = max(y - FRAME, 0), max(x - FRAME, 0)
    bottom, right = min(y + BLOCK + FRAME, height), min(x + BLOCK + FRAME, width)
    for edge in (np.s_[top:top + 2, left:right], np.s_[bottom - 2:bottom, left:right],
                 np.s_[top:bottom, left:left + 2], np.s_[top:bottom, right - 2:right]):
        shown[edge] = (255, 0, 255)
    return shown.astype(np.uint8)


def load(path: Path) -> Image.Image:
    return Image.open(path)


def save(path: Path, picture: np.ndarray, palette: bool = False) -> None:
    """A PNG; ``palette``: of 256 colours (a baseline: a quarter the size of a true-colour one, the 3D
    view's JPEG noise being most of what a PNG of it holds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    made = Image.fromarray(np.asarray(picture, dtype=np.uint8))
    if palette:
        # Each pixel then its nearest colour of the palette, as in_colours_of maps the pixels it compares
        # (the octree's own mapping is not the nearest colour's).
        colours = made.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        made = made.quantize(palette=colours, dither=Image.Dither.NONE)
    made.save(path, optimize=True)


def in_colours_of(actual: np.ndarray, baseline: Image.Image) -> np.ndarray:
    """``actual`` drawn in the baseline's colours (each pixel its nearest of the baseline's palette), as
    the baseline was made: the same page gives the same pixels, and what differs still differs (a colour
    gone or come is its own palette entry, or the nearest other)."""
    picture = Image.fromarray(np.asarray(actual, dtype=np.uint8))
    if baseline.mode == "P":
        picture = picture.quantize(palette=baseline, dither=Image.Dither.NONE)
    return np.asarray(picture.convert("RGB"))


def rendering_stack(browser_version: str, viewport: tuple[int, int]) -> dict[str, str]:
    """What draws the page: Chromium (the page's parts), VTK and the OpenGL it renders with (the 3D view:
    the viewer process runs the same VTK and Mesa as this one, off-screen)."""
    import vtk

    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(True)
    window.AddRenderer(vtk.vtkRenderer())
    window.SetSize(8, 8)
    window.Render()
    report = window.ReportCapabilities().splitlines()
    capabilities = dict(line.split(":", 1) for line in report if ":" in line)
    window.Finalize()
    return {"chromium": browser_version, "viewport": f"{viewport[0]}x{viewport[1]}",
            "vtk": vtk.vtkVersion.GetVTKVersion(),
            "opengl_renderer": capabilities.get("OpenGL renderer string", "?").strip(),
            "opengl_version": capabilities.get("OpenGL version string", "?").strip()}


def recorded_stack() -> dict[str, str]:
    return json.loads(STACK.read_text()) if STACK.is_file() else {}


# Of the stack: what the page's parts (toolbar, cards, lists) depend on, and what the 3D view's pixels do.
PAGE_KEYS = ("chromium", "viewport")
VIEW_KEYS = ("vtk", "opengl_renderer", "opengl_version")


def differs(recorded: dict[str, str], current: dict[str, str], keys: tuple[str, ...]) -> str:
    """The parts of the stack that differ, each as recorded -> now; empty when none does."""
    return "; ".join(f"{key} {recorded.get(key, '(none)')!r} -> {current[key]!r}"
                     for key in keys if recorded.get(key) != current[key])
