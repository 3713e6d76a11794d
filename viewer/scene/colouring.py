"""Colourings of a layer's features by one of their attributes (the layer file's ``style.colour_by``): each
feature's colour kept as cell data of the layer's mesh, so the viewer switches colourings by naming
another array to its mapper, and the legend of the classes the features fall in.

Coded values take their class's colour; numbers (build years) a ramp's, over equal shares of the features
(a real city's years run from centuries ago, the Eco-city's over 13). Features without a value are drawn
and named as such: real data often records no use or year."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql
import vtk

from twin.catalog import ColourBy
from twin.store import layer_table
from viewer.scene.layer_mesh import LayerMesh


@dataclass(frozen=True)
class Colouring:
    key: str  # the attribute it colours by
    title: str
    array: str  # the cell data holding each cell's colour (RGB, 0-255)
    legend: list[tuple[str, str]]  # (label, '#rrggbb') of the classes some feature falls in


def colourings(connection: psycopg.Connection, layer_mesh: LayerMesh) -> list[Colouring]:
    """The layer's colourings, each cell's colour written into its mesh."""
    layer = layer_mesh.layer
    made = []
    for colour_by in layer.style.colour_by:
        rows = connection.execute(sql.SQL("SELECT id::text, {} FROM {}").format(
            sql.Identifier(colour_by.attribute), layer_table(layer.id))).fetchall()
        value_of = dict(rows)
        values = [value_of.get(feature_id) for feature_id in layer_mesh.ids]
        colour_of_row, legend = (_classes if colour_by.classes else _ramp)(colour_by, values)
        array = f"colour_by_{colour_by.attribute}"
        layer_mesh.mesh.cell_data[array] = colour_of_row[layer_mesh.mesh.cell_data["row"]]
        made.append(Colouring(colour_by.attribute, colour_by.title, array, legend))
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


def _classes(colour_by: ColourBy, values: list) -> tuple[np.ndarray, list[tuple[str, str]]]:
    index = {value: i for i, c in enumerate(colour_by.classes) for value in c.values}
    # a value no class names: the file's "other" class, or as good as none recorded where it names none
    unnamed = colour_by.other or colour_by.missing
    swatches = [(c.label, c.color) for c in colour_by.classes] + [
        (unnamed.label, unnamed.color), (colour_by.missing.label, colour_by.missing.color)]
    other, missing = len(swatches) - 2, len(swatches) - 1
    which = np.array([missing if v is None or v == "" else index.get(str(v), other) for v in values], np.int64)
    return _coloured(swatches, which)


def _ramp(colour_by: ColourBy, values: list) -> tuple[np.ndarray, list[tuple[str, str]]]:
    numbers = np.array([np.nan if v is None else float(v) for v in values])
    known = numbers[~np.isnan(numbers)]
    swatches: list[tuple[str, str]] = []
    which = np.full(len(values), 0, np.int64)
    if len(known):
        # Whole numbers as edges (years): the share's edges, each range from its edge to the next one's less one.
        edges = np.unique(np.round(np.quantile(known, np.linspace(0, 1, len(colour_by.ramp) + 1))))
        count = max(len(edges) - 1, 1)
        picks = np.round(np.linspace(0, len(colour_by.ramp) - 1, count)).astype(int)
        for i in range(count):
            low, high = int(edges[i]), int(edges[min(i + 1, len(edges) - 1)]) - (i < count - 1)
            label = f"{low}" if high <= low else f"{low}–{high}"
            swatches.append((label, colour_by.ramp[picks[i]]))
        which = np.clip(np.searchsorted(edges, np.nan_to_num(numbers), side="right") - 1, 0, count - 1)
    which[np.isnan(numbers)] = len(swatches)
    swatches.append((colour_by.missing.label, colour_by.missing.color))
    return _coloured(swatches, which)


def _coloured(swatches: list[tuple[str, str]], which: np.ndarray) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Each row's colour, and the legend of the classes (by label: classes may share one) that rows fall in."""
    palette = np.array([rgb(colour) for _, colour in swatches], np.uint8)
    used = set(which.tolist())
    legend: list[tuple[str, str]] = []
    for i, swatch in enumerate(swatches):
        if i in used and swatch not in legend:
            legend.append(swatch)
    return palette[which] if len(which) else np.zeros((0, 3), np.uint8), legend
