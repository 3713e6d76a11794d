"""The section plane: a vertical plane that cuts the scene away east or north of it, given to every
actor's mapper (the layers' in both views and the analyses' highlights alike)."""

from __future__ import annotations

from collections.abc import Iterable

import vtk


def plane(section: str, at_percent: float, bounds: tuple[float, ...]) -> vtk.vtkPlane | None:
    """The plane of ``section`` ("x": west-east, "y": south-north, else none) ``at_percent`` of the way
    across ``bounds`` (the scene's, as VTK gives them)."""
    if section not in ("x", "y"):
        return None
    axis = 0 if section == "x" else 1
    low, high = bounds[2 * axis], bounds[2 * axis + 1]
    at = [0.0, 0.0, 0.0]
    at[axis] = low + (high - low) * float(at_percent) / 100.0
    normal = [0.0, 0.0, 0.0]
    normal[axis] = -1.0  # keep what lies before the cut (west or south of it)
    cut = vtk.vtkPlane()
    cut.SetOrigin(at)
    cut.SetNormal(normal)
    return cut


def clip(actors: Iterable[vtk.vtkActor], cut: vtk.vtkPlane | None) -> None:
    """Each actor cut by ``cut`` alone, or by nothing."""
    for actor in actors:
        mapper = actor.GetMapper()
        mapper.RemoveAllClippingPlanes()
        if cut is not None:
            mapper.AddClippingPlane(cut)
