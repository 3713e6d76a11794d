"""What every layer's merged mesh carries: the feature behind each cell (``row``, an index into ``ids``)
and that feature's years, so picking and the year filter work on any layer the same way."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pyvista as pv
import shapely

from twin.catalog import Layer

if TYPE_CHECKING:
    from viewer.scene.colouring import Colouring
    from viewer.scene.tiles import Tile

# Each layer's rows in one order whatever the table's physical order: the same data draws the same picture
# (which of a layer's dots are thinned from afar, which of two coincident faces wins), as a fresh import
# of the same files does (tests/test_visual.py compares pictures across fresh twins).
SCENE_ORDER = "ORDER BY source, source_id, valid_from NULLS FIRST, id"
SAMPLE = 2_000  # features whose nearest neighbours give a point layer's spacing


@dataclass
class LayerMesh:
    layer: Layer
    mesh: pv.PolyData | pv.StructuredGrid
    ids: list[str] = field(default_factory=list)  # feature id per row index (cell data "row")
    colourings: list[Colouring] = field(default_factory=list)  # by the layer file's style.colour_by
    tiles: list[Tile] | None = None  # a large layer's, drawn tile by tile (viewer.scene.tiles); None: whole

    @cached_property
    def row_of(self) -> dict[str, int]:
        """Each feature's row, by its id."""
        return {feature: row for row, feature in enumerate(self.ids)}

    @cached_property
    def spacing(self) -> float:
        """How far a point layer's features typically stand from their nearest neighbour (the median, over
        a sample), in metres; infinite for a layer of one feature (or of none)."""
        mesh = self.mesh
        ids = mesh.verts.reshape(-1, 2)[:, 1] if mesh.GetVerts().GetNumberOfCells() else np.zeros(0, np.int64)
        points = shapely.points(np.asarray(mesh.points)[ids, :2])
        if len(points) < 2:
            return math.inf
        sample = points[np.random.default_rng(0).choice(len(points), min(SAMPLE, len(points)), replace=False)]
        _, distance = shapely.STRtree(points).query_nearest(sample, exclusive=True, return_distance=True,
                                                            all_matches=False)
        return float(np.median(distance)) if len(distance) else math.inf


def years(values: list) -> np.ndarray:
    """Dates as years; 0 for an open end."""
    return np.array([v.year if v is not None else 0 for v in values], dtype=np.int32)


def tag_cells(mesh: pv.PolyData, row_of_cell: np.ndarray, valid_from: list, valid_to: list) -> None:
    """Give each cell its feature's row and years (``valid_from``/``valid_to``: one date per row)."""
    row_of_cell = np.asarray(row_of_cell, dtype=np.int64)
    mesh.cell_data["row"] = row_of_cell.astype(np.int32)
    mesh.cell_data["valid_from"] = years(valid_from)[row_of_cell]
    mesh.cell_data["valid_to"] = years(valid_to)[row_of_cell]


def faces(block: np.ndarray) -> np.ndarray:
    """VTK's flat face layout (each face's vertex count, then its point ids) for an (n, k) block of faces."""
    block = np.asarray(block, dtype=np.int64)
    return np.column_stack([np.full(len(block), block.shape[1]), block]).ravel()


def ragged(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """VTK's flat cell layout for cells of consecutive point ids: ``counts[i]`` of them from ``starts[i]``."""
    starts, counts = np.asarray(starts, dtype=np.int64), np.asarray(counts, dtype=np.int64)
    flat = np.empty(int(counts.sum() + len(counts)), dtype=np.int64)
    header = np.cumsum(counts + 1) - (counts + 1)
    flat[header] = counts
    body = np.ones(len(flat), bool)
    body[header] = False
    flat[body] = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    return flat
