"""The analyses' highlights stay apart for red-green colour-blind eyes: each analysis's colours, seen as
protanopes and deuteranopes see them (Machado, Oliveira and Fernandes 2009, full severity), differ by a
CIELAB distance a person tells at a glance. The red and green the changes once used came to 8.9. So do the
land cover's classes and the buildings' colourings (by use, by build year) in the layer files."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support import ROOT

from twin.catalog import load_catalog
from viewer.panels.analysis_results import (
    BLUE, CHANGE_COLORS, GREEN, GREY, PURPLE, RESOURCE_COLORS, SKY, VERMILLION, YELLOW)
from viewer.panels.overlay import NO_SHARE, RAMP

pytestmark = pytest.mark.fast
SEEN = {"protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                                [-0.003882, -0.048116, 1.051998]]),
        "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                                  [-0.011820, 0.042940, 0.968881]])}
APART = 15.0  # CIELAB distance: 2.3 is just noticeable; 15 apart at a glance, even on a busy map
PALETTES = {
    "hydrants": (VERMILLION, SKY),
    "nearest": (PURPLE, *(colour for colour, _ in RESOURCE_COLORS.values())),
    "clearance": (VERMILLION, YELLOW),
    "burst": (VERMILLION, YELLOW, PURPLE, GREEN, GREY),
    "changes": tuple(colour for colour, _ in CHANGE_COLORS),
}


def linear(colour: str | tuple[int, int, int]) -> np.ndarray:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)] if isinstance(colour, str) else colour) / 255
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def lab(rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(rgb, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest(colours: tuple) -> tuple[float, str]:
    """The least distance between two of ``colours`` as any of the eyes sees them, and which."""
    found = []
    for eye, matrix in {"normal": np.eye(3), **SEEN}.items():
        for a, b in itertools.combinations(colours, 2):
            found.append((float(np.linalg.norm(lab(matrix @ linear(a)) - lab(matrix @ linear(b)))), f"{a} {b} ({eye})"))
    return min(found)


@pytest.mark.parametrize("analysis", sorted(PALETTES))
def test_each_analysis_colours_stay_apart(analysis: str) -> None:
    distance, pair = closest(PALETTES[analysis])
    assert distance >= APART, f"{analysis}: {pair} only {distance:.1f} apart"


def test_the_old_red_and_green_would_fail() -> None:
    assert closest(("#e6194b", "#3cb44b"))[0] < APART


def test_the_share_ramp_runs_light_and_differs_from_no_share() -> None:
    ends = [colour for _, colour in RAMP]
    lightness = [lab(matrix @ linear(colour))[0] for matrix in SEEN.values() for colour in ends]
    assert lightness[0] < lightness[1] < lightness[2] and lightness[3] < lightness[4] < lightness[5]
    assert closest((*ends, NO_SHARE))[0] >= APART


# The layer files' own palettes: the land cover's classes, and each colouring of the buildings (its
# classes, the "other" class and the one for features without a value).
LAYERS = load_catalog(ROOT / "layers")


def test_land_cover_classes_stay_apart() -> None:
    classes = LAYERS["land_cover"].style.classes
    assert {c.label for c in classes} >= {"Saline-alkali flats", "Wastewater pond", "Water", "Green space", "Roads",
                                          "Built-up"}
    distance, pair = closest(tuple(c.color for c in classes))
    assert distance >= APART, f"land cover: {pair} only {distance:.1f} apart"


@pytest.mark.parametrize("attribute", ["use", "build_year"])
def test_building_colourings_stay_apart(attribute: str) -> None:
    colouring = next(c for c in LAYERS["buildings"].style.colour_by if c.attribute == attribute)
    colours = [c.color for c in colouring.classes] + colouring.ramp + [colouring.missing.color]
    colours += [colouring.other.color] if colouring.other else []
    distance, pair = closest(tuple(dict.fromkeys(colours)))  # classes may share a colour
    assert distance >= APART, f"buildings by {attribute}: {pair} only {distance:.1f} apart"
    if colouring.ramp:  # older to newer, lighter to every eye
        for matrix in (np.eye(3), *SEEN.values()):
            lightness = [lab(matrix @ linear(colour))[0] for colour in colouring.ramp]
            assert lightness == sorted(lightness)
