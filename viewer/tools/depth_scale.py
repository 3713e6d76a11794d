"""Underground mode's depth probe at the view's focal point: a ruler standing from the ground down, its
ticks labelled in true metres below ground wherever the exaggeration draws them, and a label on each
pipe, duct or tunnel near it naming the utility and the depth to its top there (issue 16: "no depth
scale, grid or labels").

Labels are 2D text at their anchors' places in the view, a fixed size at any distance, drawn over the
scene; those that would overlap a nearer one are left out. Everything is worked out again before each
render (numpy over the buried layers' segments, a few milliseconds), from the camera's focal point, the
exaggeration, the year, the layers shown and the section plane, so the probe follows whatever moves.
Depths are read off the stored 3D centre lines and sizes as the Depth tool reads them
(viewer.tools.measure.pipe_depth): a tube's line is its axis, a tunnel's the centre of its roof.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import psycopg
import pyvista as pv
import shapely
import vtk
from psycopg import sql

from twin.catalog import Catalog
from twin.store import LAYER_SCHEMA, layer_table
from twin.terrain import Terrain
from viewer.tools.labels import label_actor, write
from viewer.scene.build import ground_height
from viewer.scene.depth import drawn_z
from viewer.scene.layer_mesh import years
from viewer.scene.timeline import standing_years
from viewer.tools.measure import size_sql

# What each layer's survey measures its depth to (the catalog's depth_to), as the label says it.
_TOLD = {"top": ("top", "top"), "invert": ("invert", "bottom"), "centre": ("roof", "top")}
REACH_M = 12.0  # pipes this near the ruler in plan get a label: a street's width either side
LABELS = 8  # at most
STEPS_M = (0.5, 1.0, 2.0, 5.0, 10.0)  # tick spacings, the finest that keeps labels apart
TICK_GAP_PX = 16
LABELS_FROM_PX_PER_M = 1.0  # farther away, a metre under a pixel, only the ruler
FONT_PX = 13
INK, PAPER = "#1d2733", "#ffffff"


class DepthScale:
    """The ruler and labels of one view; nothing is drawn above ground (``below()`` false)."""

    def __init__(self, segments: dict, plotter: pv.Plotter, actors: dict[str, vtk.vtkActor], origin: np.ndarray,
                 terrain: Terrain | None, below: Callable[[], bool], exaggeration: Callable[[], float],
                 year: Callable[[], float | None]) -> None:
        """``segments``: the buried layers' pieces (:func:`segments`), read once for every session."""
        self.plotter, self.actors, self.origin, self.terrain = plotter, actors, origin, terrain
        self.below, self.exaggeration, self.year = below, exaggeration, year
        self.segments = segments
        self.ruler = pv.PolyData()
        self.ruler_actor = _ruler(plotter, self.ruler)
        self.ticks, self.tick_actor = _labels(plotter, bold=False, left_of=True)  # the ruler's, left of it
        self.readout, self.readout_actor = _labels(plotter, bold=True, left_of=False)  # the pipes', right of them
        self.shown: list[str] = []  # the labels' texts, pipes first, for the tests
        plotter.renderer.AddObserver("StartEvent", lambda *args: self.refresh())

    def refresh(self) -> None:
        below = bool(self.below()) and len(self.segments["a"]) > 0
        for actor in (self.ruler_actor, self.tick_actor, self.readout_actor):
            actor.SetVisibility(below)
        if not below:
            self.shown = []
            return
        draw = self._drawing()
        fx, fy = self.plotter.renderer.GetActiveCamera().GetFocalPoint()[:2]
        ground = self._ground(fx, fy)
        foot = np.array([fx, fy, draw(ground, ground)])
        per_m = self._pixels(foot, np.array([fx, fy, draw(ground - 1.0, ground)]))
        across = self._pixels(foot, foot + np.array([1.0, 0.0, 0.0]))
        near = self._near(fx, fy) if across >= LABELS_FROM_PX_PER_M else []
        deepest = max([depth for _, depth, _, _ in near] + [4.0])
        step = next((s for s in STEPS_M if s * per_m >= TICK_GAP_PX), STEPS_M[-1])
        length = step * math.ceil((deepest + 1.0) / step)
        depths = np.arange(0.0, length + step / 2, step)
        ticks = np.array([[fx, fy, draw(ground - d, ground)] for d in depths])
        bottom = [fx, fy, draw(ground - length, ground)]
        kept = self._apart([(text, np.array([x, y, draw(z, here)])) for text, _, (x, y, z), here in near])
        anchors = np.array([at for _, at in kept]).reshape(-1, 3)
        dots = np.vstack([ticks, anchors])  # each tick, and a dot on each labelled pipe where its label is
        self.ruler.copy_from(pv.PolyData(np.vstack([foot, bottom, dots]), lines=[2, 0, 1],
                                         verts=np.column_stack([np.ones(len(dots), int), 2 + np.arange(len(dots))]).ravel()))
        write(self.ticks, ticks, [f"{d:g} m  " for d in depths])
        write(self.readout, anchors, [f"  {text}" for text, _ in kept])
        self.shown = [text for text, _ in kept] + [f"{d:g} m" for d in depths]

    def _drawing(self) -> Callable[[float, float], float]:
        """Where the view draws a true height ``z`` over ground at ``ground`` (scene coordinates): depths
        below the ground stretched by the exaggeration, as the buried layers' meshes are (viewer.scene.depth)."""
        k = float(self.exaggeration())
        return lambda z, ground: drawn_z(z, ground, k)

    def _ground(self, x: float, y: float) -> float:
        """The ground's height at a scene position (the DEM's; 0 m without one), in scene coordinates."""
        return float(ground_height(self.terrain, np.array([x + self.origin[0]]),
                                   np.array([y + self.origin[1]]))[0]) - float(self.origin[2])

    def _near(self, fx: float, fy: float) -> list[tuple[str, float, tuple[float, float, float], float]]:
        """(label, depth to the bottom, the top's place, the ground's height there) of the shown buried
        features nearest the ruler, one each, nearest first."""
        s = self.segments
        year = self.year()
        keep = np.array([self.actors[layer].GetVisibility() for layer in s["layers"]], bool)[s["layer"]]
        if year is not None:
            keep &= standing_years(s["born"], s["gone"], math.ceil(year))
        a, b = s["a"], s["b"]
        along = b[:, :2] - a[:, :2]
        length2 = np.maximum((along ** 2).sum(axis=1), 1e-12)
        t = np.clip(((np.array([fx, fy]) - a[:, :2]) * along).sum(axis=1) / length2, 0.0, 1.0)
        at = a + (b - a) * t[:, None]
        distance = np.hypot(at[:, 0] - fx, at[:, 1] - fy)
        keep &= distance <= REACH_M
        for plane in self._planes():  # what a clipping plane keeps: its normal's side
            keep &= (at - np.array(plane.GetOrigin())) @ np.array(plane.GetNormal()) >= 0
        out, seen = [], set()
        for i in np.flatnonzero(keep)[np.argsort(distance[keep])]:
            feature = (s["layer"][i], s["row"][i])
            if feature in seen:
                continue
            seen.add(feature)
            top = at[i, 2] + s["above_line"][i]
            here = self._ground(at[i, 0], at[i, 1])
            depth, bottom = here - top, here - top + s["size"][i]
            word, told = _TOLD[s["depth_to"][s["layer"][i]]]
            value = bottom if told == "bottom" else depth
            out.append((f"{s['titles'][s['layer'][i]]}{s['tunnel'][i]} · {word} {value:.2f} m", bottom,
                        (at[i, 0], at[i, 1], top), here))
            if len(out) == LABELS:
                break
        return out

    def _planes(self) -> list[vtk.vtkPlane]:
        """The section plane, as the layers' actors have it (viewer.tools.section gives it to each)."""
        for layer_id in self.segments["layers"]:
            planes = self.actors[layer_id].GetMapper().GetClippingPlanes()
            if planes is not None:
                return [planes.GetItem(i) for i in range(planes.GetNumberOfItems())]
        return []

    def _pixels(self, a: np.ndarray, b: np.ndarray) -> float:
        return float(np.hypot(*(self._display(a) - self._display(b))))

    def _display(self, point: np.ndarray) -> np.ndarray:
        renderer = self.plotter.renderer
        renderer.SetWorldPoint(*point, 1.0)
        renderer.WorldToDisplay()
        return np.array(renderer.GetDisplayPoint()[:2])

    def _apart(self, labels: list[tuple[str, np.ndarray]]) -> list[tuple[str, np.ndarray]]:
        """The labels, nearest first, less those whose text would overlap one already kept."""
        boxes: list[tuple[float, float, float, float]] = []
        kept = []
        for text, at in labels:
            x, y = self._display(at)
            box = (x, y - FONT_PX * 0.7, x + 0.6 * FONT_PX * (len(text) + 2), y + FONT_PX * 0.7)
            if any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in boxes):
                continue
            boxes.append(box)
            kept.append((text, at))
        return kept


def segments(connection: psycopg.Connection, catalog: Catalog, layer_ids: Iterable[str], origin: np.ndarray) -> dict:
    """Every straight piece of the stored centre lines of those of ``layer_ids`` that are buried (tubes and
    tunnels; scene coordinates, true heights), with its layer, feature row, years, how far its top lies
    above its line, and its tunnel."""
    layers = [catalog[layer_id] for layer_id in layer_ids
              if layer_id in catalog and catalog[layer_id].draw.mode in ("tube", "box")]
    parts: dict[str, list] = {key: [] for key in ("a", "b", "layer", "row", "born", "gone", "above_line", "size",
                                                  "tunnel")}
    # a twin not migrated since pipes had a tunnel (twin db migrate adds it) still shows its depths
    with_tunnel = {row[0] for row in connection.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = %s AND column_name = 'tunnel'",
        (LAYER_SCHEMA,))}
    for index, layer in enumerate(layers):
        # a pipe's tunnel, or a tunnel's own id: what the label names it by beside its layer's title
        tunnel = sql.SQL("'in ' || tunnel" if layer.id in with_tunnel else
                         "source_id" if layer.draw.mode == "box" else "NULL")
        rows = connection.execute(sql.SQL(
            "SELECT ST_AsBinary(ST_Force3D(geom)), {size}, {tunnel}, valid_from, valid_to FROM {table}").format(
            size=size_sql(layer), tunnel=tunnel, table=layer_table(layer.id))).fetchall()
        if not rows:
            continue
        pieces, owner = shapely.get_parts(shapely.from_wkb([r[0] for r in rows]), return_index=True)
        # Consecutive points of one part make a segment; a part's last point starts none.
        part_coords, part_of = shapely.get_coordinates(pieces, include_z=True, return_index=True)
        same = part_of[1:] == part_of[:-1]
        row = owner[part_of[:-1][same]]
        parts["a"].append(part_coords[:-1][same] - origin)
        parts["b"].append(part_coords[1:][same] - origin)
        parts["layer"].append(np.full(len(row), index))
        parts["row"].append(row)
        parts["born"].append(years([r[3] for r in rows])[row])
        parts["gone"].append(years([r[4] for r in rows])[row])
        size = np.array([float(r[1] or 0.0) for r in rows])[row]
        parts["above_line"].append(np.zeros(len(row)) if layer.draw.mode == "box" else size / 2)
        parts["size"].append(size)
        parts["tunnel"].append(np.array([f" {r[2]}" if r[2] else "" for r in rows], dtype=object)[row])
    out = {key: np.concatenate(value) if value else np.zeros((0, 3) if key in "ab" else 0) for key, value in parts.items()}
    out["layers"] = [layer.id for layer in layers]
    out["titles"] = [layer.title for layer in layers]
    out["depth_to"] = [layer.depth_to for layer in layers]
    return out


def _ruler(plotter: pv.Plotter, mesh: pv.PolyData) -> vtk.vtkActor:
    """The ruler's line and tick dots, a fixed width at any distance, in ink."""
    mapper = vtk.vtkPolyDataMapper()
    mapper.SetInputData(mesh)
    mapper.ScalarVisibilityOff()
    actor = vtk.vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.SetColor(pv.Color(INK).float_rgb)
    prop.SetLineWidth(2)
    prop.SetPointSize(7)
    prop.LightingOff()
    actor.SetPickable(False)
    plotter.renderer.AddActor(actor)
    return actor


def _labels(plotter: pv.Plotter, bold: bool, left_of: bool) -> tuple[pv.PolyData, vtk.vtkActor2D]:
    """Labels ending at their points (the ruler's, left of it) or starting there (the pipes')."""
    points = pv.PolyData()
    return points, label_actor(plotter, points, FONT_PX, INK, PAPER, bold=bold, align="right" if left_of else "left")
