"""Colourings of a layer's features by one of their attributes (the layer file's ``style.colour_by``): each
feature's colour kept as cell data of the layer's mesh, so the viewer switches colourings by naming
another array to its mapper, and the legend of the classes the features fall in.

Coded values take their class's colour; numbers (build years) a ramp's, over equal shares of the features
(a real city's years run from centuries ago, the Eco-city's over 13). Features without a value are drawn
and named as such: real data often records no use or year."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql
import vtk

from twin import i18n
from twin.catalog import ColourBy
from twin.store import layer_table
from viewer.scene.layer_mesh import LayerMesh


Swatches = Callable[[ColourBy], list[tuple[str, str]]]  # a colouring's (label, colour)s, in its words


@dataclass(frozen=True)
class Colouring:
    key: str  # the attribute it colours by
    titles: dict[str, str]  # language -> its title
    array: str  # the cell data holding each cell's colour (RGB, 0-255)
    legends: dict[str, list[tuple[str, str]]]  # language -> (label, '#rrggbb') of the classes some feature falls in


def colourings(connection: psycopg.Connection, layer_mesh: LayerMesh) -> list[Colouring]:
    """The layer's colourings, each cell's colour written into its mesh."""
    layer = layer_mesh.layer
    worded = {language: layer.colour_by_in(language) for language in i18n.LANGUAGES}
    made = []
    for index, colour_by in enumerate(layer.style.colour_by):
        rows = connection.execute(sql.SQL("SELECT id::text, {} FROM {}").format(
            sql.Identifier(colour_by.attribute), layer_table(layer.id))).fetchall()
        value_of = dict(rows)
        values = [value_of.get(feature_id) for feature_id in layer_mesh.ids]
        swatches, which = (_classes if colour_by.classes else _ramp)(colour_by, values)
        palette = np.array([rgb(colour) for _, colour in swatches(colour_by)], np.uint8)
        array = f"colour_by_{colour_by.attribute}"
        colour_of_row = palette[which] if len(which) else np.zeros((0, 3), np.uint8)
        layer_mesh.mesh.cell_data[array] = colour_of_row[layer_mesh.mesh.cell_data["row"]]
        made.append(Colouring(colour_by.attribute, {language: words[index].title for language, words in worded.items()},
                              array, {language: _legend(swatches(words[index]), which)
                                      for language, words in worded.items()}))
    return made


def paint(actor: vtk.vtkActor, colouring: Colouring | None) -> None:
    """The actor drawn in the colouring's colours, or (None) in its own plain colour."""
    mapper = actor.GetMapper()
    if colouring is None:
        mapper.ScalarVisibilityOff()
        return
    mapper.SetScalarModeToUseCellFieldData()
    mapper.SelectColorArray(colouring.array)
    mapper.SetColorModeToDirectScalars()
    mapper.ScalarVisibilityOn()


def rgb(colour: str) -> list[int]:
    return list(bytes.fromhex(colour[1:]))  # '#rrggbb', checked when the layer file is read


def _classes(colour_by: ColourBy, values: list) -> tuple[Swatches, np.ndarray]:
    """The colouring's swatches, and each row's of them."""
    def swatches(words: ColourBy) -> list[tuple[str, str]]:
        # a value no class names: the file's "other" class, or as good as none recorded where it names none
        unnamed = words.other or words.missing
        return [(c.label, c.color) for c in words.classes] + [
            (unnamed.label, unnamed.color), (words.missing.label, words.missing.color)]

    index = {value: i for i, c in enumerate(colour_by.classes) for value in c.values}
    other, missing = len(colour_by.classes), len(colour_by.classes) + 1
    return swatches, np.array([missing if v is None or v == "" else index.get(str(v), other) for v in values],
                              np.int64)


def _ramp(colour_by: ColourBy, values: list) -> tuple[Swatches, np.ndarray]:
    numbers = np.array([np.nan if v is None else float(v) for v in values])
    known = numbers[~np.isnan(numbers)]
    ranges: list[tuple[str, str]] = []  # (years, colour): the same in every language
    which = np.full(len(values), 0, np.int64)
    if len(known):
        # Whole numbers as edges (years): the share's edges, each range from its edge to the next one's less one.
        edges = np.unique(np.round(np.quantile(known, np.linspace(0, 1, len(colour_by.ramp) + 1))))
        count = max(len(edges) - 1, 1)
        picks = np.round(np.linspace(0, len(colour_by.ramp) - 1, count)).astype(int)
        for i in range(count):
            low, high = int(edges[i]), int(edges[min(i + 1, len(edges) - 1)]) - (i < count - 1)
            label = f"{low}" if high <= low else f"{low}–{high}"
            ranges.append((label, colour_by.ramp[picks[i]]))
        which = np.clip(np.searchsorted(edges, np.nan_to_num(numbers), side="right") - 1, 0, count - 1)
    which[np.isnan(numbers)] = len(ranges)
    return lambda words: [*ranges, (words.missing.label, words.missing.color)], which


def _legend(swatches: list[tuple[str, str]], which: np.ndarray) -> list[tuple[str, str]]:
    """The classes (by label: classes may share one) that rows fall in."""
    used = set(which.tolist())
    legend: list[tuple[str, str]] = []
    for i, swatch in enumerate(swatches):
        if i in used and swatch not in legend:
            legend.append(swatch)
    return legend
