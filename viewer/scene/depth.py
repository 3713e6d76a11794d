"""Underground mode's depth exaggeration: what lies under the ground drawn ``k`` times as deep below it,
and nothing else changed.

Why not scale the actors in z, as the viewer did: a scale stretches everything about 0 m by the same
factor. At x20 buildings stood twenty times their height (the camera ended up inside them, and the
burst analysis's purple "cut off" buildings filled the view), point symbols stretched into needles, and
the ground's own relief rose twenty-fold (issue 16, point 5). Here a pipe, duct or tunnel keeps each of
its points' height above the ground, its depth below it stretched; a point symbol under the ground (a
valve, a manhole) moves down as its feature's depth is stretched and keeps its shape; whatever stands on
the ground or above it is left where it is.

Each point's true height and the depth the exaggeration stretches travel with it as point data, so that
any copy of a layer's cells (an outline, an analysis's highlight) is drawn at any exaggeration as the
layer is, and a picked position is brought back to true metres.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
import vtk

Z_TRUE = "z_true"  # the point's height, unexaggerated (scene coordinates)
Z_BELOW = "z_below"  # how far below the ground the exaggeration stretches it: <= 0; 0 on or above the ground


def exaggerable(mesh: pv.PolyData, anchor_z: np.ndarray, ground_z: np.ndarray) -> None:
    """Let :func:`exaggerate` draw ``mesh`` deeper: each point moves as its anchor (``anchor_z``, one per
    point) lies below the ground there (``ground_z``). A pipe's points are their own anchors (its depth is
    stretched); a point symbol's points all take its feature's point (the symbol moves whole)."""
    # set, not made the active scalars: a mapper left to colour by them would paint depths
    mesh.point_data.set_array(np.array(mesh.points[:, 2], dtype=float), Z_TRUE)
    mesh.point_data.set_array(np.minimum(np.asarray(anchor_z, float) - np.asarray(ground_z, float), 0.0), Z_BELOW)


def exaggerate(mesh: pv.DataSet, k: float) -> None:
    """Draw ``mesh`` with depths below the ground ``k`` times as deep (1: as they are); a mesh that
    :func:`exaggerable` did not prepare stays as it is. Copies that share its points follow."""
    if not isinstance(mesh, pv.PolyData) or Z_BELOW not in mesh.point_data or mesh.n_points == 0:
        return
    points = mesh.points  # a view of the mesh's own points
    drawn = mesh.point_data[Z_TRUE] + (float(k) - 1.0) * mesh.point_data[Z_BELOW]
    if np.array_equal(points[:, 2], drawn):
        return  # as drawn already: left unwritten, a forked session's pages stay shared with the zygote's
    points[:, 2] = drawn
    mesh.GetPoints().Modified()
    mesh.Modified()


def alike(pieces: list[pv.PolyData]) -> None:
    """Give pieces about to be merged the same point data: merging keeps only the arrays all of them
    have, so a building's cells (never exaggerated) would take a pipe's depths away from it."""
    if not any(Z_BELOW in piece.point_data for piece in pieces):
        return
    for piece in pieces:
        if Z_BELOW not in piece.point_data:
            exaggerable(piece, piece.points[:, 2], piece.points[:, 2])


def true_z(mesh: pv.DataSet, cell: int, position: tuple[float, float, float]) -> float:
    """The true height of a point drawn at ``position`` on cell ``cell`` of ``mesh``: its true corners'
    heights, weighed as the point lies between the drawn ones (the same place on the undrawn cell)."""
    if Z_TRUE not in mesh.point_data or not 0 <= cell < mesh.n_cells:
        return float(position[2])
    shape = mesh.GetCell(cell)
    ids = [shape.GetPointId(i) for i in range(shape.GetNumberOfPoints())]
    weights = [0.0] * max(len(ids), 1)
    closest, pcoords = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    sub, distance = vtk.reference(0), vtk.reference(0.0)
    placed = shape.EvaluatePosition(list(position), closest, sub, pcoords, distance, weights)
    heights = np.asarray(mesh.point_data[Z_TRUE])[ids]
    if placed < 0 or not np.isclose(sum(weights), 1.0, atol=1e-3):  # not placed on it: its nearest corner's
        corners = np.asarray(mesh.points)[ids]
        return float(heights[int(np.argmin(np.linalg.norm(corners - np.asarray(position), axis=1)))])
    return float(np.dot(weights[:len(ids)], heights))


def drawn_z(z: float, ground_z: float, k: float) -> float:
    """Where a point at true height ``z`` over ground at ``ground_z`` is drawn at exaggeration ``k``."""
    return float(z + (k - 1.0) * min(z - ground_z, 0.0))
