"""Text in the 3D view at points of the scene: a fixed size at any distance, drawn over the scene, each
label on a box of its own so that it reads over pipes and ground alike (the depth scale's, the section's)."""

from __future__ import annotations

import numpy as np
import pyvista as pv
import vtk


def label_actor(plotter: pv.Plotter, points: pv.PolyData, font_px: int, ink: str, paper: str,
                paper_opacity: float = 0.8, bold: bool = False, align: str = "left") -> vtk.vtkActor2D:
    """An actor writing each of ``points``' ``label`` strings at its point (``align``: "left" starts the text
    there, "right" ends it there, "centre" centres it above the point)."""
    mapper = vtk.vtkLabeledDataMapper()
    mapper.SetInputData(points)
    mapper.SetLabelModeToLabelFieldData()
    mapper.SetFieldDataName("label")
    text = mapper.GetLabelTextProperty()
    text.SetFontSize(font_px)
    text.SetColor(pv.Color(ink).float_rgb)
    text.SetBold(bold)
    text.SetShadow(False)
    text.SetBackgroundColor(pv.Color(paper).float_rgb)
    text.SetBackgroundOpacity(paper_opacity)
    if align == "centre":
        text.SetJustificationToCentered()
        text.SetVerticalJustificationToBottom()
    else:
        text.SetJustificationToRight() if align == "right" else text.SetJustificationToLeft()
        text.SetVerticalJustificationToCentered()
    actor = vtk.vtkActor2D()
    actor.SetMapper(mapper)
    actor.SetPickable(False)
    plotter.renderer.AddViewProp(actor)
    return actor


def write(points: pv.PolyData, at: np.ndarray, texts: list[str]) -> None:
    """``points`` become ``at`` (n x 3, scene coordinates as drawn), labelled ``texts``."""
    fresh = pv.PolyData(np.asarray(at, float).reshape(-1, 3)) if texts else pv.PolyData()
    labels = vtk.vtkStringArray()
    labels.SetName("label")
    for text in texts:
        labels.InsertNextValue(text)
    fresh.GetPointData().AddArray(labels)
    points.copy_from(fresh)
